import type { PresenceEnvironment } from './types';

/** Fills the environment from the globals. Called on start, never at import or render. */
export function resolveEnvironment(custom: Partial<PresenceEnvironment> = {}): PresenceEnvironment {
  const scope = globalThis as typeof globalThis & Partial<Window>;
  let storage: PresenceEnvironment['localStorage'] = null;
  try {
    storage = scope.localStorage ?? null;
  } catch {
    // Reading localStorage throws a SecurityError where storage is blocked.
  }

  return {
    window: (scope.window ?? scope) as EventTarget,
    document: scope.document as Document,
    navigator: scope.navigator,
    localStorage: storage,
    BroadcastChannel: scope.BroadcastChannel ?? null,
    // Looked up on each call, so that a fetch replaced after start (a test mock) is used.
    fetch: (input, init) => scope.fetch(input, init),
    now: () => Date.now(),
    random: () => Math.random(),
    ...custom,
  };
}
