// @vitest-environment node
import { QueryClient, QueryClientProvider } from '@tanstack/react-query';
import { renderToString } from 'react-dom/server';
import { describe, expect, it } from 'vitest';
import { PresenceProvider, usePresence, useReportActivity, useSetPresence } from '../../src';

function Badge() {
  const status = usePresence((state) => state.status);
  const { status: mutationStatus } = useSetPresence();
  useReportActivity();
  return (
    <span>
      {status}/{mutationStatus}
    </span>
  );
}

describe('server rendering', () => {
  it('renders without browser globals', () => {
    expect(typeof window).toBe('undefined');
    expect(typeof document).toBe('undefined');

    const html = renderToString(
      <QueryClientProvider client={new QueryClient()}>
        <PresenceProvider token="secret-token" baseUrl="http://presence.test">
          <Badge />
        </PresenceProvider>
      </QueryClientProvider>,
    );

    expect(html).toBe('<span>online<!-- -->/<!-- -->idle</span>');
  });

  it('renders with a private query client', () => {
    const html = renderToString(
      <PresenceProvider token={() => 'secret-token'}>
        <Badge />
      </PresenceProvider>,
    );
    expect(html).toContain('online');
  });
});
