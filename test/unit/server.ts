import { HttpResponse, http } from 'msw';
import { setupServer } from 'msw/node';

export const BASE_URL = 'http://presence.test';
export const PRESENCE_URL = `${BASE_URL}/api/ws/presence`;

/** A request as the mock server received it. */
export interface SeenRequest {
  method: string;
  url: string;
  authorization: string | null;
  contentType: string | null;
  body: unknown;
}

export const server = setupServer();

type Reply = (seen: SeenRequest, index: number) => Response | Promise<Response>;

const ok = () => HttpResponse.json({ success: true, message: 'Operation completed' });

/**
 * Installs a handler for the presence endpoint and returns the list of requests it receives.
 * `reply` builds the response to each request; the default is the documented success body.
 */
export function mockPresence(reply: Reply = ok): SeenRequest[] {
  const seen: SeenRequest[] = [];
  server.use(
    http.put(PRESENCE_URL, async ({ request }) => {
      const text = await request.text();
      const entry: SeenRequest = {
        method: request.method,
        url: request.url,
        authorization: request.headers.get('Authorization'),
        contentType: request.headers.get('Content-Type'),
        body: text ? JSON.parse(text) : null,
      };
      seen.push(entry);
      return reply(entry, seen.length - 1);
    }),
  );
  return seen;
}

/** Statuses of the received requests, in order. */
export const statusesOf = (seen: SeenRequest[]) => seen.map((entry) => (entry.body as { status: string }).status);
