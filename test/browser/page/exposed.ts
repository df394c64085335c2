import type { PresenceState } from '@minbil/react-presence';

/** `usePresence()` state as the test page exposes it on `window`: JSON-safe for CDP. */
export interface ExposedState extends Omit<PresenceState, 'error'> {
  error: { name: string; message: string; isAuthError: boolean } | null;
}

/** A browser event the test page saw, so tests can report what Chromium fires on a tab switch. */
export interface PageEvent {
  type: string;
  target: 'window' | 'document' | 'element';
  visibilityState: DocumentVisibilityState;
  hasFocus: boolean;
  /** Wall-clock time of the event, in ms since the epoch. */
  at: number;
}
