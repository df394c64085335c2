import { act, fireEvent } from '@testing-library/react';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { type PresenceReason, type PresenceState, type PresenceStatus, usePresence } from '../../src';
import {
  advance,
  advanceTo,
  advanceUntil,
  countBy,
  expectStatuses,
  renderActivity,
  resetVisibility,
  settle,
  setVisibility,
  trackListeners,
  unmountAll,
} from './activity-helpers';
import { renderWithPresence } from './render';
import { mockPresence, statusesOf } from './server';

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const IDLE_TIMEOUT = 5 * MINUTE;
const HIDDEN_TIMEOUT = MINUTE;
const DEFAULT_INPUT_EVENTS = ['pointerdown', 'pointermove', 'keydown', 'wheel', 'touchstart', 'scroll'];

/** Picks the fields of the presence state that automatic away decides. */
function awayFields(state: PresenceState) {
  const { status, reason, isIdle, isHidden, lastActiveAt } = state;
  return { status, reason, isIdle, isHidden, lastActiveAt };
}

/** Mounts a provider with the mock server and waits until the server has the first `online`. */
async function mountSettled(props: Parameters<typeof renderActivity>[1] = {}) {
  const seen = mockPresence();
  const view = renderActivity(seen, props);
  await settle(view);
  expectStatuses(seen, ['online']);
  return { seen, view, mountedAt: view.state().lastActiveAt };
}

beforeEach(() => {
  vi.useFakeTimers({ shouldAdvanceTime: true });
});

afterEach(async () => {
  await unmountAll();
  resetVisibility();
});

describe('idle timeout', () => {
  it('sends away at 5 minutes exactly', async () => {
    const { seen, view, mountedAt } = await mountSettled();
    expect(mountedAt).toBeGreaterThan(0);

    await advanceTo(mountedAt + IDLE_TIMEOUT - 1);
    // pageshow re-checks the deadlines without counting as input, so the check runs at this instant.
    act(() => {
      window.dispatchEvent(new Event('pageshow'));
    });
    expect(awayFields(view.state())).toEqual({
      status: 'online',
      reason: 'active',
      isIdle: false,
      isHidden: false,
      lastActiveAt: mountedAt,
    });
    expect(view.transitions).toEqual([]);

    await advanceTo(mountedAt + IDLE_TIMEOUT);
    expect(awayFields(view.state())).toEqual({
      status: 'away',
      reason: 'idle',
      isIdle: true,
      isHidden: false,
      lastActiveAt: mountedAt,
    });
    expect(view.transitions).toEqual([{ status: 'away', reason: 'idle', at: mountedAt + IDLE_TIMEOUT }]);

    await settle(view);
    await advance(10 * MINUTE);
    expectStatuses(seen, ['online', 'away']);
    expect(view.state().syncedStatus).toBe('away');
  });

  it('input at 4:59 moves the deadline', async () => {
    const { seen, view, mountedAt } = await mountSettled();

    await advanceTo(mountedAt + IDLE_TIMEOUT - 1000);
    const inputAt = Date.now();
    fireEvent.pointerDown(document.body);

    await advanceTo(mountedAt + IDLE_TIMEOUT);
    expect(view.state().status).toBe('online');
    expect(view.state().isIdle).toBe(false);

    await advanceTo(inputAt + IDLE_TIMEOUT - 1);
    expect(view.state().status).toBe('online');
    expectStatuses(seen, ['online']);

    await advanceTo(inputAt + IDLE_TIMEOUT);
    expect(awayFields(view.state())).toEqual({
      status: 'away',
      reason: 'idle',
      isIdle: true,
      isHidden: false,
      lastActiveAt: inputAt,
    });
    expect(view.transitions).toEqual([{ status: 'away', reason: 'idle', at: inputAt + IDLE_TIMEOUT }]);
    await settle(view);
    expectStatuses(seen, ['online', 'away']);
  });
});

describe('laptop sleep', () => {
  it('visibilitychange after sleep sends away', async () => {
    const { seen, view, mountedAt } = await mountSettled();
    setVisibility('hidden');

    // The wall clock moves 30 minutes while no timer runs, as during laptop sleep.
    vi.setSystemTime(Date.now() + 30 * MINUTE);
    expect(view.state().status).toBe('online');
    expect(view.transitions).toEqual([]);

    const wakeAt = Date.now();
    setVisibility('visible');
    expect(awayFields(view.state())).toEqual({
      status: 'away',
      reason: 'idle',
      isIdle: true,
      isHidden: false,
      lastActiveAt: mountedAt,
    });
    expect(view.transitions).toEqual([{ status: 'away', reason: 'idle', at: wakeAt }]);

    // Becoming visible is not input, so the user stays away.
    await settle(view);
    await advance(MINUTE);
    expectStatuses(seen, ['online', 'away']);
    expect(view.state().status).toBe('away');
  });

  it('focus after sleep sends away then online', async () => {
    const { seen, view } = await mountSettled();

    vi.setSystemTime(Date.now() + 30 * MINUTE);
    expect(view.state().status).toBe('online');

    // Focus is input. The away that fell due during the sleep is sent first, then the input
    // ends it, so the server learns that the user was away meanwhile.
    const wakeAt = Date.now();
    fireEvent.focus(window);
    expect(view.transitions).toEqual([
      { status: 'away', reason: 'idle', at: wakeAt },
      { status: 'online', reason: 'active', at: wakeAt },
    ]);
    expect(awayFields(view.state())).toEqual({
      status: 'online',
      reason: 'active',
      isIdle: false,
      isHidden: false,
      lastActiveAt: wakeAt,
    });

    await settle(view);
    expectStatuses(seen, ['online', 'away', 'online']);
    expect(view.state().syncedStatus).toBe('online');
  });
});

describe('hidden timeout', () => {
  it('visible after 10 minutes stays away', async () => {
    const { seen, view, mountedAt } = await mountSettled();
    const hiddenAt = Date.now();
    setVisibility('hidden');

    await advanceTo(hiddenAt + HIDDEN_TIMEOUT - 1);
    expect(view.state().status).toBe('online');
    expect(view.state().isHidden).toBe(true);

    await advanceTo(hiddenAt + HIDDEN_TIMEOUT);
    expect(awayFields(view.state())).toEqual({
      status: 'away',
      reason: 'hidden',
      isIdle: false,
      isHidden: true,
      lastActiveAt: mountedAt,
    });

    await advanceTo(hiddenAt + 10 * MINUTE);
    setVisibility('visible');
    await settle(view);
    await advance(MINUTE);
    // Showing the page is not input, so the status and the reason that caused the away stay.
    expect(awayFields(view.state())).toEqual({
      status: 'away',
      reason: 'hidden',
      isIdle: true,
      isHidden: false,
      lastActiveAt: mountedAt,
    });
    expectStatuses(seen, ['online', 'away']);

    const inputAt = Date.now();
    fireEvent.pointerDown(document.body);
    expect(awayFields(view.state())).toEqual({
      status: 'online',
      reason: 'active',
      isIdle: false,
      isHidden: false,
      lastActiveAt: inputAt,
    });
    await settle(view);
    expectStatuses(seen, ['online', 'away', 'online']);
    expect(view.transitions).toEqual([
      { status: 'away', reason: 'hidden', at: hiddenAt + HIDDEN_TIMEOUT },
      { status: 'online', reason: 'active', at: inputAt },
    ]);
  });

  it('hidden away stays after showing', async () => {
    const { seen, view } = await mountSettled();
    const hiddenAt = Date.now();
    setVisibility('hidden');
    await advanceTo(hiddenAt + 2 * MINUTE);
    expect(view.state().status).toBe('away');

    // Idle time is only 2 minutes here, so only the latched hidden away keeps the user away.
    setVisibility('visible');
    await advance(MINUTE);
    expect(view.state().status).toBe('away');
    expect(view.state().reason).toBe('hidden');
    expect(view.state().isIdle).toBe(false);
    expect(view.state().isHidden).toBe(false);

    fireEvent.pointerDown(document.body);
    expect(view.state().status).toBe('online');
    await settle(view);
    expectStatuses(seen, ['online', 'away', 'online']);
  });

  it('schedules no timer once both deadlines passed', async () => {
    const { seen, view, mountedAt } = await mountSettled();
    setVisibility('hidden');
    await advanceTo(mountedAt + IDLE_TIMEOUT);
    expect(view.state().status).toBe('away');
    expect(view.state().isIdle).toBe(true);
    expect(view.state().isHidden).toBe(true);

    // Only input or a visibility change can change anything now, so quiet seconds must not
    // schedule a timer. A timer that re-arms itself for a deadline in the past is a busy loop.
    const timeouts = vi.spyOn(globalThis, 'setTimeout');
    await advanceTo(Date.now() + 10_000, { maxTimeouts: Number.POSITIVE_INFINITY });
    expect(timeouts).toHaveBeenCalledTimes(0);
    expectStatuses(seen, ['online', 'away']);
  });

  it('short hidden period sends nothing', async () => {
    const { seen, view, mountedAt } = await mountSettled();
    const hiddenAt = Date.now();
    setVisibility('hidden');

    await advanceTo(hiddenAt + HIDDEN_TIMEOUT - 1);
    setVisibility('visible');
    await advanceTo(hiddenAt + 2 * MINUTE);

    expectStatuses(seen, ['online']);
    expect(view.transitions).toEqual([]);
    expect(awayFields(view.state())).toEqual({
      status: 'online',
      reason: 'active',
      isIdle: false,
      isHidden: false,
      lastActiveAt: mountedAt,
    });
  });

  it('hiddenTimeout 0 sends away on hide', async () => {
    const { seen, view, mountedAt } = await mountSettled({ hiddenTimeout: 0 });

    const hiddenAt = Date.now();
    setVisibility('hidden');
    expect(awayFields(view.state())).toEqual({
      status: 'away',
      reason: 'hidden',
      isIdle: false,
      isHidden: true,
      lastActiveAt: mountedAt,
    });
    expect(view.transitions).toEqual([{ status: 'away', reason: 'hidden', at: hiddenAt }]);

    await settle(view);
    expectStatuses(seen, ['online', 'away']);
  });

  it('hiddenTimeout false keeps only the idle rule', async () => {
    const { seen, view, mountedAt } = await mountSettled({ hiddenTimeout: false });
    setVisibility('hidden');

    await advanceTo(mountedAt + IDLE_TIMEOUT - 1);
    expect(view.state().status).toBe('online');
    expect(view.state().isHidden).toBe(true);
    expectStatuses(seen, ['online']);

    await advanceTo(mountedAt + IDLE_TIMEOUT);
    expect(view.state().status).toBe('away');
    expect(view.state().reason).toBe('idle');
    await settle(view);
    expectStatuses(seen, ['online', 'away']);
  });

  it('idleTimeout false keeps only the hidden rule', async () => {
    const { seen, view, mountedAt } = await mountSettled({ idleTimeout: false });

    await advanceTo(mountedAt + 60 * MINUTE);
    expect(awayFields(view.state()).status).toBe('online');
    expect(view.state().isIdle).toBe(false);
    expectStatuses(seen, ['online']);

    const hiddenAt = Date.now();
    setVisibility('hidden');
    await advanceTo(hiddenAt + HIDDEN_TIMEOUT);
    expect(view.state().status).toBe('away');
    expect(view.state().reason).toBe('hidden');
    await settle(view);
    expectStatuses(seen, ['online', 'away']);
  });

  it('both rules off keep online', async () => {
    const { seen, view, mountedAt } = await mountSettled({ idleTimeout: false, hiddenTimeout: false });
    setVisibility('hidden');

    await advanceTo(mountedAt + 60 * MINUTE);
    expect(awayFields(view.state())).toEqual({
      status: 'online',
      reason: 'active',
      isIdle: false,
      isHidden: true,
      lastActiveAt: mountedAt,
    });
    expect(view.transitions).toEqual([]);
    expectStatuses(seen, ['online']);
  });
});

describe('chosen status', () => {
  it('manual away is sticky until online', async () => {
    const { seen, view } = await mountSettled();

    await act(() => view.setPresence().mutateAsync('away'));
    expect(view.state().status).toBe('away');
    expect(view.state().reason).toBe('manual');

    await advance(MINUTE);
    const firstInputAt = Date.now();
    fireEvent.pointerDown(document.body);
    fireEvent.keyDown(document.body);
    await settle(view);
    expect(view.state().status).toBe('away');

    // The idle deadline passes during the manual away, and the status and its reason stay.
    await advanceTo(firstInputAt + IDLE_TIMEOUT + MINUTE);
    expect(view.state().status).toBe('away');
    expect(view.state().chosenStatus).toBe('away');
    expect(view.state().reason).toBe('manual');

    const lastInputAt = Date.now();
    fireEvent.pointerDown(document.body);
    await settle(view);
    expect(view.state().status).toBe('away');
    expect(view.state().reason).toBe('manual');
    expectStatuses(seen, ['online', 'away']);

    await advanceTo(lastInputAt + MINUTE);
    await act(() => view.setPresence().mutateAsync('online'));
    expect(view.state().status).toBe('online');
    expect(view.state().reason).toBe('manual');
    expectStatuses(seen, ['online', 'away', 'online']);

    // Automatic again: idle counts from the last input, which came during the manual away.
    await advanceTo(lastInputAt + IDLE_TIMEOUT - 1);
    expect(view.state().status).toBe('online');
    await advanceTo(lastInputAt + IDLE_TIMEOUT);
    expect(awayFields(view.state())).toEqual({
      status: 'away',
      reason: 'idle',
      isIdle: true,
      isHidden: false,
      lastActiveAt: lastInputAt,
    });
    await settle(view);
    expectStatuses(seen, ['online', 'away', 'online', 'away']);
  });

  it('stored offline survives a reload', async () => {
    const seen = mockPresence();
    const props = { token: 'reload-token-7', channelName: 'team-42' };
    const first = renderActivity(seen, props);
    await settle(first);
    await act(() => first.setPresence().mutateAsync('offline'));
    expectStatuses(seen, ['online', 'offline']);

    const keys = Object.keys(localStorage);
    expect(keys).toHaveLength(1);
    expect(keys[0]).toContain('team-42');
    for (const key of keys) {
      expect(key).not.toContain('reload-token-7');
      expect(localStorage.getItem(key)).not.toContain('reload-token-7');
    }

    // A reload unmounts the provider and mounts a new one on the same channel.
    await first.unmount();
    expectStatuses(seen, ['online', 'offline']);
    const second = renderActivity(seen, props);
    await settle(second);
    expect(second.state().status).toBe('offline');
    expect(second.state().chosenStatus).toBe('offline');
    expect(second.state().reason).toBe('manual');
    expectStatuses(seen, ['online', 'offline', 'offline']);

    // The stored choice belongs to its channel, so a provider on another channel mounts online.
    await second.unmount();
    const other = renderActivity(seen, { ...props, channelName: 'team-43' });
    await settle(other);
    expect(other.state().status).toBe('online');
    expectStatuses(seen, ['online', 'offline', 'offline', 'online']);
  });
});

describe('activity events', () => {
  it('touchstart resets the deadline', async () => {
    const { seen, view, mountedAt } = await mountSettled();

    await advanceTo(mountedAt + 4 * MINUTE);
    const touchAt = Date.now();
    fireEvent.touchStart(document.body);

    await advanceTo(touchAt + IDLE_TIMEOUT - 1);
    expect(view.state().status).toBe('online');
    await advanceTo(touchAt + IDLE_TIMEOUT);
    expect(view.state().status).toBe('away');
    expect(view.state().lastActiveAt).toBe(touchAt);

    const secondTouchAt = Date.now();
    fireEvent.touchStart(document.body);
    expect(view.state().status).toBe('online');
    expect(view.state().lastActiveAt).toBe(secondTouchAt);
    await settle(view);
    expectStatuses(seen, ['online', 'away', 'online']);
  });

  it('custom activityEvents replace the defaults', async () => {
    const { seen, view, mountedAt } = await mountSettled({ activityEvents: ['mousedown'] });

    await advanceTo(mountedAt + 4 * MINUTE);
    fireEvent.pointerDown(document.body);
    fireEvent.pointerMove(document.body);
    fireEvent.keyDown(document.body);
    fireEvent.wheel(document.body);
    fireEvent.touchStart(document.body);
    fireEvent.scroll(document.body);

    await advanceTo(mountedAt + IDLE_TIMEOUT);
    expect(view.state().status).toBe('away');
    expect(view.transitions).toEqual([{ status: 'away', reason: 'idle', at: mountedAt + IDLE_TIMEOUT }]);

    // Window focus is input only while it is in the list, so here it only re-checks the deadlines.
    fireEvent.pointerDown(document.body);
    fireEvent.focus(window);
    expect(view.state().status).toBe('away');

    const inputAt = Date.now();
    fireEvent.mouseDown(document.body);
    expect(view.state().status).toBe('online');
    expect(view.state().lastActiveAt).toBe(inputAt);
    await settle(view);
    expectStatuses(seen, ['online', 'away', 'online']);
  });

  it('activityEvents change applies at once', async () => {
    const { seen, view, mountedAt } = await mountSettled();
    view.rerenderWith({ activityEvents: ['keydown'] });

    await advanceTo(mountedAt + 4 * MINUTE);
    fireEvent.pointerDown(document.body);
    await advanceTo(mountedAt + IDLE_TIMEOUT);
    expect(view.state().status).toBe('away');
    expect(view.state().reason).toBe('idle');

    fireEvent.pointerDown(document.body);
    expect(view.state().status).toBe('away');

    const keyAt = Date.now();
    fireEvent.keyDown(document.body);
    expect(view.state().status).toBe('online');
    expect(view.state().lastActiveAt).toBe(keyAt);
    await settle(view);
    expectStatuses(seen, ['online', 'away', 'online']);
  });

  it('element focus is not input', async () => {
    const { seen, view, mountedAt } = await mountSettled();
    await advanceTo(mountedAt + IDLE_TIMEOUT);
    await settle(view);
    expect(view.state().status).toBe('away');

    // A focus event does not bubble, but a capture listener on the window still receives it.
    const field = document.createElement('input');
    document.body.append(field);
    try {
      act(() => {
        field.dispatchEvent(new FocusEvent('focus', { bubbles: false }));
      });
      expect(awayFields(view.state())).toEqual({
        status: 'away',
        reason: 'idle',
        isIdle: true,
        isHidden: false,
        lastActiveAt: mountedAt,
      });
      await settle(view);
      expectStatuses(seen, ['online', 'away']);

      const focusAt = Date.now();
      fireEvent.focus(window);
      expect(awayFields(view.state())).toEqual({
        status: 'online',
        reason: 'active',
        isIdle: false,
        isHidden: false,
        lastActiveAt: focusAt,
      });
      await settle(view);
      expectStatuses(seen, ['online', 'away', 'online']);
    } finally {
      field.remove();
    }
  });

  it('reportActivity resets the deadline', async () => {
    const { seen, view, mountedAt } = await mountSettled();

    await advanceTo(mountedAt + 4 * MINUTE);
    const reportedAt = Date.now();
    act(() => view.reportActivity());

    await advanceTo(mountedAt + IDLE_TIMEOUT);
    expect(view.state().status).toBe('online');
    await advanceTo(reportedAt + IDLE_TIMEOUT - 1);
    expect(view.state().status).toBe('online');
    await advanceTo(reportedAt + IDLE_TIMEOUT);
    expect(view.state().status).toBe('away');
    expect(view.state().lastActiveAt).toBe(reportedAt);

    act(() => view.reportActivity());
    expect(view.state().status).toBe('online');
    expect(view.state().reason).toBe('active');
    await settle(view);
    expectStatuses(seen, ['online', 'away', 'online']);
  });

  it('reportActivity is stable across renders', async () => {
    const { view, mountedAt } = await mountSettled();
    view.rerenderWith({ idleTimeout: 2 * MINUTE });
    await advanceTo(mountedAt + 2 * MINUTE);
    await settle(view);
    expect(view.state().status).toBe('away');

    expect(view.reportFunctions.length).toBeGreaterThanOrEqual(3);
    expect(new Set(view.reportFunctions).size).toBe(1);
  });
});

describe('onStatusChange', () => {
  it('receives each transition with the newest prop', async () => {
    const seen = mockPresence();
    const first = vi.fn<(status: PresenceStatus, reason: PresenceReason) => void>();
    const second = vi.fn<(status: PresenceStatus, reason: PresenceReason) => void>();
    const third = vi.fn<(status: PresenceStatus, reason: PresenceReason) => void>();
    const view = renderActivity(seen, { onStatusChange: first });
    await settle(view);
    const mountedAt = view.state().lastActiveAt;

    await advanceTo(mountedAt + IDLE_TIMEOUT);
    view.rerenderWith({ onStatusChange: second });
    fireEvent.pointerDown(document.body);

    const hiddenAt = Date.now();
    setVisibility('hidden');
    await advanceTo(hiddenAt + HIDDEN_TIMEOUT);
    expect(view.state().reason).toBe('hidden');
    setVisibility('visible');
    fireEvent.pointerDown(document.body);
    await act(() => view.setPresence().mutateAsync('offline'));

    view.rerenderWith({ onStatusChange: third });
    await act(() => view.setPresence().mutateAsync('online'));
    await view.unmount();

    expect(first.mock.calls).toEqual([['away', 'idle']]);
    expect(second.mock.calls).toEqual([
      ['online', 'active'],
      ['away', 'hidden'],
      ['online', 'active'],
      ['offline', 'manual'],
    ]);
    expect(third.mock.calls).toEqual([
      ['online', 'manual'],
      ['offline', 'unmount'],
    ]);
    expectStatuses(seen, ['online', 'away', 'online', 'away', 'online', 'offline', 'online', 'offline']);
  });
});

describe('idleTimeout at runtime', () => {
  it('shorter value moves the deadline earlier', async () => {
    const { seen, view, mountedAt } = await mountSettled();

    await advanceTo(mountedAt + MINUTE);
    view.rerenderWith({ idleTimeout: 2 * MINUTE });
    await advanceTo(mountedAt + 2 * MINUTE - 1);
    expect(view.state().status).toBe('online');
    await advanceTo(mountedAt + 2 * MINUTE);
    expect(view.state().status).toBe('away');
    expect(view.transitions).toEqual([{ status: 'away', reason: 'idle', at: mountedAt + 2 * MINUTE }]);
    await settle(view);
    expectStatuses(seen, ['online', 'away']);
  });

  it('longer value moves the deadline later', async () => {
    const { seen, view, mountedAt } = await mountSettled();

    await advanceTo(mountedAt + 4 * MINUTE);
    view.rerenderWith({ idleTimeout: 10 * MINUTE });
    await advanceTo(mountedAt + 10 * MINUTE - 1);
    expect(view.state().status).toBe('online');
    expectStatuses(seen, ['online']);
    await advanceTo(mountedAt + 10 * MINUTE);
    expect(view.state().status).toBe('away');
    expect(view.transitions).toEqual([{ status: 'away', reason: 'idle', at: mountedAt + 10 * MINUTE }]);
    await settle(view);
    expectStatuses(seen, ['online', 'away']);
  });

  it('value below the idle time sends away at once', async () => {
    const { seen, view, mountedAt } = await mountSettled();

    await advanceTo(mountedAt + 3 * MINUTE);
    view.rerenderWith({ idleTimeout: MINUTE });
    expect(view.state().status).toBe('away');
    expect(view.state().reason).toBe('idle');
    expect(view.transitions).toEqual([{ status: 'away', reason: 'idle', at: mountedAt + 3 * MINUTE }]);
    await settle(view);
    expectStatuses(seen, ['online', 'away']);
  });
});

describe('clock changes', () => {
  it('idle deadline after clock moves back', async () => {
    const { seen, view, mountedAt } = await mountSettled();
    await advanceTo(mountedAt + MINUTE);

    vi.setSystemTime(Date.now() - HOUR);
    const inputAt = Date.now();
    fireEvent.pointerDown(document.body);

    await advanceTo(inputAt + IDLE_TIMEOUT - 1);
    expect(view.state().status).toBe('online');
    await advanceTo(inputAt + IDLE_TIMEOUT);
    expect(awayFields(view.state())).toEqual({
      status: 'away',
      reason: 'idle',
      isIdle: true,
      isHidden: false,
      lastActiveAt: inputAt,
    });
    await settle(view);
    expectStatuses(seen, ['online', 'away']);
  });
});

describe('timing validation', () => {
  const props = ['idleTimeout', 'hiddenTimeout', 'heartbeatInterval', 'requestTimeout'] as const;
  const values: unknown[] = [-1, Number.NaN, 1.5, 2_147_483_648, 'soon'];
  const cases = props.flatMap((prop) => values.map((value) => [prop, value] as const));

  it.each(cases)('%s %s throws a RangeError or TypeError', (prop, value) => {
    const seen = mockPresence();
    vi.spyOn(console, 'error').mockImplementation(() => {});

    let caught: unknown;
    try {
      renderWithPresence(null, { [prop]: value });
    } catch (error) {
      caught = error;
    }

    // A number out of range is a RangeError; a value of another type is a TypeError.
    expect(caught).toBeInstanceOf(typeof value === 'number' ? RangeError : TypeError);
    const message = (caught as Error).message;
    expect(message).toContain(prop);
    expect(message).toContain(String(value));
    expect(seen).toHaveLength(0);
  });

  it('accepts the largest timer delay', async () => {
    const { view } = await mountSettled({ idleTimeout: 2_147_483_647, hiddenTimeout: 0 });
    expect(view.state().status).toBe('online');
  });
});

describe('input flood', () => {
  it('10,000 pointermoves cause no render', async () => {
    const seen = mockPresence();
    let renders = 0;
    let state: PresenceState | undefined;
    function Consumer() {
      state = usePresence();
      renders++;
      return null;
    }
    const result = renderWithPresence(<Consumer />);
    await advance(1);
    await advanceUntil(() => state?.syncedStatus === 'online' && !state.isSyncing, 'the first online is acknowledged');
    const rendersBefore = renders;

    for (let batch = 0; batch < 100; batch++) {
      for (let event = 0; event < 100; event++) fireEvent.pointerMove(document.body);
      await advance(1000);
    }

    expect(renders).toBe(rendersBefore);
    expect(statusesOf(seen)).toEqual(['online']);
    expect(state?.status).toBe('online');

    // Wait for the offline of the unmount, so that it cannot reach the next test's server.
    result.unmount();
    await advanceUntil(() => seen.length === 2, 'the offline sent on unmount arrives');
    expect(statusesOf(seen)).toEqual(['online', 'offline']);
  });
});

describe('listeners and timers', () => {
  it('unmount removes every listener and timer', async () => {
    const seen = mockPresence();
    const appPointerDown = vi.fn();
    const appVisibilityChange = vi.fn();
    window.addEventListener('pointerdown', appPointerDown, { capture: true, passive: true });
    document.addEventListener('visibilitychange', appVisibilityChange, { capture: true, passive: true });

    try {
      const timersBefore = vi.getTimerCount();
      const tracker = trackListeners();

      for (let cycle = 0; cycle < 50; cycle++) {
        const view = renderActivity(seen, { heartbeatInterval: MINUTE });
        await advance(1);
        await view.unmount();
      }
      await advanceUntil(() => seen.length === 100, 'every online and offline arrives');

      const expected = Array.from({ length: 50 }, () => ['online', 'offline']).flat();
      expect(statusesOf(seen)).toEqual(expected);
      expect(tracker.addedTypes()).toContain('window:pointerdown');
      expect(tracker.addedTypes()).toContain('document:visibilitychange');
      expect(tracker.active()).toEqual([]);
      expect(vi.getTimerCount()).toBe(timersBefore);

      fireEvent.pointerDown(document.body);
      setVisibility('hidden');
      expect(appPointerDown).toHaveBeenCalledTimes(1);
      expect(appVisibilityChange).toHaveBeenCalledTimes(1);
    } finally {
      window.removeEventListener('pointerdown', appPointerDown, { capture: true });
      document.removeEventListener('visibilitychange', appVisibilityChange, { capture: true });
    }
  });

  it('StrictMode adds one set of listeners', async () => {
    const seen = mockPresence();

    const strictTracker = trackListeners();
    const strict = renderActivity(seen, { strict: true });
    await settle(strict);
    const strictListeners = countBy(strictTracker.active());
    await strict.unmount();
    vi.restoreAllMocks();

    const plainTracker = trackListeners();
    const plain = renderActivity(seen, {});
    await settle(plain);
    const plainListeners = countBy(plainTracker.active());
    await plain.unmount();

    for (const type of DEFAULT_INPUT_EVENTS) expect(plainListeners[`window:${type}`]).toBe(1);
    expect(plainListeners['document:visibilitychange']).toBe(1);
    expect(strictListeners).toEqual(plainListeners);
    expect(statusesOf(seen)).toEqual(['online', 'offline', 'online', 'offline']);
  });
});

describe('browser features', () => {
  afterEach(() => {
    vi.unstubAllGlobals();
  });

  it('uses no Worker, blob URL or setInterval', async () => {
    const worker = vi.fn();
    const sharedWorker = vi.fn();
    vi.stubGlobal('Worker', worker);
    vi.stubGlobal('SharedWorker', sharedWorker);
    const createObjectURL = vi.spyOn(URL, 'createObjectURL');
    const setIntervalSpy = vi.spyOn(globalThis, 'setInterval');

    const { seen, view, mountedAt } = await mountSettled({ heartbeatInterval: 2 * IDLE_TIMEOUT });
    setVisibility('hidden');
    await advanceTo(mountedAt + HIDDEN_TIMEOUT / 2);
    setVisibility('visible');
    await advanceTo(mountedAt + IDLE_TIMEOUT);
    await settle(view);
    fireEvent.focus(window);
    act(() => view.reportActivity());
    await settle(view);
    await view.unmount();

    expectStatuses(seen, ['online', 'away', 'online', 'offline']);
    expect(worker).not.toHaveBeenCalled();
    expect(sharedWorker).not.toHaveBeenCalled();
    expect(createObjectURL).not.toHaveBeenCalled();
    expect(setIntervalSpy).not.toHaveBeenCalled();
  });
});

describe('wake events after sleep', () => {
  it.each(['online', 'pageshow'])('%s after sleep sends away', async (type) => {
    const { seen, view, mountedAt } = await mountSettled();

    // The wall clock moves 30 minutes while no timer runs, as during laptop sleep.
    vi.setSystemTime(Date.now() + 30 * MINUTE);
    expect(view.state().status).toBe('online');

    const wakeAt = Date.now();
    act(() => {
      window.dispatchEvent(new Event(type));
    });
    expect(awayFields(view.state())).toEqual({
      status: 'away',
      reason: 'idle',
      isIdle: true,
      isHidden: false,
      lastActiveAt: mountedAt,
    });
    expect(view.transitions).toEqual([{ status: 'away', reason: 'idle', at: wakeAt }]);

    // The event re-checks the deadlines without counting as input, so the user stays away.
    await settle(view);
    await advance(MINUTE);
    expectStatuses(seen, ['online', 'away']);
    expect(view.state().status).toBe('away');
  });
});

describe('listener options', () => {
  it('activity listeners are capture and passive', async () => {
    const addListener = vi.spyOn(window, 'addEventListener');
    await mountSettled();

    for (const type of [...DEFAULT_INPUT_EVENTS, 'focus']) {
      const calls = addListener.mock.calls.filter(([added]) => added === type);
      expect(calls.length, `listeners for ${type}`).toBeGreaterThan(0);
      for (const [, , options] of calls)
        expect(options, `options of ${type}`).toEqual({ capture: true, passive: true });
    }
  });

  it('disabled provider adds no listeners', async () => {
    const seen = mockPresence();
    const tracker = trackListeners();
    const packageListeners = [
      ...DEFAULT_INPUT_EVENTS.map((type) => `window:${type}`),
      'window:focus',
      'window:pagehide',
      'window:pageshow',
      'document:visibilitychange',
    ];
    const result = renderWithPresence(null, { enabled: false });
    await advance(1000);

    expect(seen).toHaveLength(0);
    for (const key of packageListeners) expect(tracker.addedTypes()).not.toContain(key);

    // Enabling it adds them, which shows that the tracker counts the package's listeners.
    result.rerenderWith({ enabled: true });
    await advanceUntil(() => seen.length === 1, 'the first online arrives');
    for (const key of packageListeners) expect(tracker.addedTypes()).toContain(key);

    result.unmount();
    await advanceUntil(() => seen.length === 2, 'the offline sent on unmount arrives');
    expect(statusesOf(seen)).toEqual(['online', 'offline']);
  });
});
