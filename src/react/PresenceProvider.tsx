'use client';

import { QueryClient, QueryClientContext } from '@tanstack/react-query';
import { type ReactNode, useContext, useEffect, useLayoutEffect, useMemo, useState } from 'react';
import { validateOptions } from '../core/options';
import { createPresence } from '../core/presence';
import type { PresenceOptions } from '../core/types';
import { PresenceContext } from './context';

export interface PresenceProviderProps extends PresenceOptions {
  /**
   * Client for `useSetPresence`, used when no `QueryClientProvider` is above. Without both, the
   * provider creates a private one.
   */
  queryClient?: QueryClient;
  /** `false` (before sign-in) adds no listeners and sends nothing. @default true */
  enabled?: boolean;
  children?: ReactNode;
}

// Runs before the start effect on the client, and does not warn when rendered on a server.
const useIsomorphicLayoutEffect = typeof document === 'undefined' ? useEffect : useLayoutEffect;

/** Keeps the user's presence on the chat backend in step with what they do in every open tab. */
export function PresenceProvider({
  queryClient,
  enabled = true,
  children,
  ...options
}: PresenceProviderProps): ReactNode {
  validateOptions(options);
  const { baseUrl, channelName, environment } = options;

  const nearestClient = useContext(QueryClientContext);
  const [privateClient] = useState(() => (nearestClient || queryClient ? null : new QueryClient()));
  const client = (nearestClient ?? queryClient ?? privateClient) as QueryClient;

  // A new backend or channel needs a new engine. The other options reach it through configure.
  /* eslint-disable react-hooks/exhaustive-deps -- the other options apply through configure below. */
  // biome-ignore lint/correctness/useExhaustiveDependencies: the other options apply through configure below.
  const presence = useMemo(() => createPresence(options), [baseUrl, channelName, environment]);
  /* eslint-enable react-hooks/exhaustive-deps */

  useIsomorphicLayoutEffect(() => {
    presence.configure(options);
  });

  useEffect(() => {
    if (!enabled) return;
    presence.start();
    return presence.stop;
  }, [presence, enabled]);

  const value = useMemo(() => ({ presence, queryClient: client }), [presence, client]);
  return <PresenceContext.Provider value={value}>{children}</PresenceContext.Provider>;
}
