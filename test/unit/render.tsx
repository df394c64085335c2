import { QueryClient, QueryClientProvider } from '@tanstack/react-query';
import { render } from '@testing-library/react';
import { type ReactNode, StrictMode } from 'react';
import { PresenceProvider, type PresenceProviderProps } from '../../src';
import { BASE_URL } from './server';

export interface RenderOptions extends Partial<PresenceProviderProps> {
  strict?: boolean;
}

/** Renders `ui` inside a fresh QueryClientProvider and PresenceProvider pointed at the mock server. */
export function renderWithPresence(ui: ReactNode, { strict = false, ...props }: RenderOptions = {}) {
  const queryClient = new QueryClient({ defaultOptions: { mutations: { retry: false } } });
  const tree = (providerProps: RenderOptions) => {
    const content = (
      <QueryClientProvider client={queryClient}>
        <PresenceProvider token="secret-token" baseUrl={BASE_URL} heartbeatInterval={false} {...providerProps}>
          {ui}
        </PresenceProvider>
      </QueryClientProvider>
    );
    return strict ? <StrictMode>{content}</StrictMode> : content;
  };
  const result = render(tree(props));
  return {
    ...result,
    queryClient,
    rerenderWith: (next: RenderOptions) => result.rerender(tree({ ...props, ...next })),
  };
}
