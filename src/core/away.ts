export interface AwayInput {
  now: number;
  lastInputAt: number;
  /** Time since which every tab is hidden, or `null` while one is visible. */
  hiddenSince: number | null;
  idleTimeout: number | false;
  hiddenTimeout: number | false;
}

export interface AwayCheck {
  /** Cause of the away now, or `null` when neither deadline has passed. */
  reason: 'idle' | 'hidden' | null;
  /** Wall-clock time of the next deadline still ahead, or `Infinity`. */
  nextCheckAt: number;
}

/** Compares the wall clock with the idle and hidden deadlines. */
export function checkAway(input: AwayInput): AwayCheck {
  const { now, lastInputAt, hiddenSince, idleTimeout, hiddenTimeout } = input;
  const idleAt = idleTimeout === false ? Infinity : lastInputAt + idleTimeout;
  const hiddenAt = hiddenTimeout === false || hiddenSince === null ? Infinity : hiddenSince + hiddenTimeout;
  const firstAt = Math.min(idleAt, hiddenAt);

  if (firstAt <= now) {
    // The later deadline still matters while it is ahead: it turns `isIdle` on during a hidden away.
    const laterAt = Math.max(idleAt, hiddenAt);
    return { reason: idleAt <= hiddenAt ? 'idle' : 'hidden', nextCheckAt: laterAt > now ? laterAt : Infinity };
  }
  return { reason: null, nextCheckAt: firstAt };
}
