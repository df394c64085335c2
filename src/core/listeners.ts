import type { PresenceEnvironment } from './types';

const LISTENER_OPTIONS = { capture: true, passive: true };

export interface PageHandlers {
  /** User input: one of the activity events. */
  onInput(): void;
  /** A moment to re-check deadlines and the heartbeat: focus, online, offline, or pageshow. */
  onWake(): void;
  onVisibilityChange(): void;
  onPageShow(persisted: boolean): void;
  onPageHide(persisted: boolean): void;
}

export interface PageListeners {
  /** Replaces the activity events, keeping the other listeners. */
  setActivityEvents(types: readonly string[]): void;
  removeAll(): void;
}

/** Adds the page listeners the engine needs. `unload` and `beforeunload` are never used. */
export function addPageListeners(
  environment: PresenceEnvironment,
  activityEvents: readonly string[],
  handlers: PageHandlers,
): PageListeners {
  const { window, document } = environment;
  let removeActivity = () => {};
  const removers: (() => void)[] = [];

  function listen(target: EventTarget, type: string, handler: (event: Event) => void): () => void {
    target.addEventListener(type, handler, LISTENER_OPTIONS);
    return () => target.removeEventListener(type, handler, LISTENER_OPTIONS);
  }

  // Capture on the window also receives the `focus` of every element, which is not the user returning.
  const isElementFocus = (event: Event) =>
    event.type === 'focus' && typeof (event.target as Partial<Node> | null)?.nodeType === 'number';
  const handleInput = (event: Event) => {
    if (!isElementFocus(event)) handlers.onInput();
  };
  const handleWake = (event: Event) => {
    if (!isElementFocus(event)) handlers.onWake();
  };
  const pageTransition = (handler: (persisted: boolean) => void) => (event: Event) =>
    handler((event as PageTransitionEvent).persisted === true);

  for (const type of ['focus', 'online', 'offline']) removers.push(listen(window, type, handleWake));
  removers.push(listen(document, 'visibilitychange', handlers.onVisibilityChange));
  removers.push(listen(window, 'pageshow', pageTransition(handlers.onPageShow)));
  removers.push(listen(window, 'pagehide', pageTransition(handlers.onPageHide)));

  const listeners: PageListeners = {
    setActivityEvents(types) {
      removeActivity();
      const removeEach = types.map((type) => listen(window, type, handleInput));
      removeActivity = () => {
        for (const remove of removeEach) remove();
      };
    },
    removeAll() {
      removeActivity();
      for (const remove of removers) remove();
    },
  };
  listeners.setActivityEvents(activityEvents);
  return listeners;
}
