import { useEffect, useRef, useState } from 'react';

// The package's default activity events. The package keeps its own timestamps and does not expose
// them on every input, so the demo tracks the same events to estimate the time left.
const ACTIVITY_EVENTS = ['pointerdown', 'pointermove', 'keydown', 'wheel', 'touchstart', 'scroll', 'focus'];
const LISTENER_OPTIONS = { capture: true, passive: true };
const TICK_MS = 200;

export interface AwayCountdown {
  /** Milliseconds until the package switches to away, or `null` when no deadline applies. */
  msLeft: number | null;
  /** Deadline that comes first: no input for `idleTimeout`, or hidden for `hiddenTimeout`. */
  cause: 'idle' | 'hidden' | null;
}

function computeCountdown(
  now: number,
  lastInputAt: number,
  hiddenSince: number | null,
  idleTimeout: number | false,
  hiddenTimeout: number | false,
): AwayCountdown {
  const idleDeadline = idleTimeout === false ? Infinity : lastInputAt + idleTimeout;
  const hiddenDeadline = hiddenTimeout === false || hiddenSince === null ? Infinity : hiddenSince + hiddenTimeout;
  const deadline = Math.min(idleDeadline, hiddenDeadline);

  if (deadline === Infinity) return { msLeft: null, cause: null };
  return { msLeft: Math.max(0, deadline - now), cause: hiddenDeadline < idleDeadline ? 'hidden' : 'idle' };
}

/**
 * Estimates when automatic away starts, from this tab's input and visibility. The result changes
 * every 200 ms, which re-renders the caller: fine for a demo, and what the package itself avoids.
 * NOTE: input in other tabs of the same story also delays away, but this estimate does not see it.
 */
export function useAwayCountdown(idleTimeout: number | false, hiddenTimeout: number | false): AwayCountdown {
  const [countdown, setCountdown] = useState<AwayCountdown>({ msLeft: null, cause: null });
  const lastInputAt = useRef(0);
  const hiddenSince = useRef<number | null>(null);

  useEffect(() => {
    const handleInput = () => {
      lastInputAt.current = Date.now();
    };
    const handleVisibility = () => {
      const hidden = document.visibilityState === 'hidden';
      hiddenSince.current = hidden ? (hiddenSince.current ?? Date.now()) : null;
    };

    handleInput();
    handleVisibility();
    for (const type of ACTIVITY_EVENTS) window.addEventListener(type, handleInput, LISTENER_OPTIONS);
    document.addEventListener('visibilitychange', handleVisibility);

    return () => {
      for (const type of ACTIVITY_EVENTS) window.removeEventListener(type, handleInput, LISTENER_OPTIONS);
      document.removeEventListener('visibilitychange', handleVisibility);
    };
  }, []);

  useEffect(() => {
    const update = () => {
      setCountdown(computeCountdown(Date.now(), lastInputAt.current, hiddenSince.current, idleTimeout, hiddenTimeout));
    };
    update();
    const timer = setInterval(update, TICK_MS);
    return () => clearInterval(timer);
  }, [idleTimeout, hiddenTimeout]);

  return countdown;
}
