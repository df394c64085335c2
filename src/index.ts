export {
  PresenceAuthError,
  PresenceError,
  PresenceHttpError,
  PresenceNetworkError,
  PresenceResponseError,
  PresenceTokenError,
} from './core/errors';
export type { Presence } from './core/presence';
export { createPresence } from './core/presence';
export type {
  PresenceEnvironment,
  PresenceOptions,
  PresenceReason,
  PresenceState,
  PresenceStatus,
  PresenceToken,
} from './core/types';
export {
  SET_PRESENCE_MUTATION_KEY,
  type UseSetPresenceOptions,
  type UseSetPresenceResult,
  usePresence,
  useReportActivity,
  useSetPresence,
} from './react/hooks';
export { PresenceProvider, type PresenceProviderProps } from './react/PresenceProvider';
