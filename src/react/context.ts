import type { QueryClient } from '@tanstack/react-query';
import { createContext, useContext } from 'react';
import type { Presence } from '../core/presence';

export interface PresenceContextValue {
  presence: Presence;
  queryClient: QueryClient;
}

export const PresenceContext = createContext<PresenceContextValue | null>(null);

/** Reads the nearest provider, or throws an Error that names the hook and the missing provider. */
export function usePresenceContext(hook: string): PresenceContextValue {
  const value = useContext(PresenceContext);
  if (!value) {
    throw new Error(
      `${hook} must be used inside <PresenceProvider>. Wrap your app, or the part that shows presence, in it.`,
    );
  }
  return value;
}
