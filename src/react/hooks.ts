'use client';

import { type UseMutationOptions, type UseMutationResult, useMutation } from '@tanstack/react-query';
import { useSyncExternalStore } from 'react';
import type { PresenceState, PresenceStatus } from '../core/types';
import { usePresenceContext } from './context';

export type UseSetPresenceOptions = Omit<
  UseMutationOptions<PresenceStatus, Error, PresenceStatus>,
  'mutationFn' | 'mutationKey'
>;

export type UseSetPresenceResult = UseMutationResult<PresenceStatus, Error, PresenceStatus>;

/** Mutation key of `useSetPresence`, for `useMutationState` and the devtools. */
export const SET_PRESENCE_MUTATION_KEY = ['presence', 'set'] as const;

const selectAll = (state: PresenceState) => state;

/**
 * Reads the presence state. A selector limits renders to changes of what it returns, which must
 * be a primitive or a value taken from the state, not a new object.
 */
export function usePresence(): PresenceState;
export function usePresence<T>(selector: (state: PresenceState) => T): T;
export function usePresence<T>(selector: (state: PresenceState) => T = selectAll as never): T {
  const { presence } = usePresenceContext('usePresence');
  const select = () => selector(presence.getState());
  return useSyncExternalStore(presence.subscribe, select, select);
}

/**
 * Sets the chosen status: `mutate("away")`. The mutation resolves with the effective status once
 * the server has it, and fails with the request's error. A status that is not `"online"`,
 * `"away"` or `"offline"` fails with a TypeError and sends nothing.
 */
export function useSetPresence(options?: UseSetPresenceOptions): UseSetPresenceResult {
  const { presence, queryClient } = usePresenceContext('useSetPresence');
  return useMutation(
    { ...options, mutationKey: SET_PRESENCE_MUTATION_KEY, mutationFn: (status) => presence.choose(status) },
    queryClient,
  );
}

/** Returns a stable function that counts as input, for activity the page cannot see. */
export function useReportActivity(): () => void {
  return usePresenceContext('useReportActivity').presence.reportActivity;
}
