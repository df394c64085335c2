import { delay, HttpResponse, http, type RequestHandler } from 'msw';
import type { SetupWorker } from 'msw/browser';
import { backend, MOCK_BASE_URL, MOCK_TOKEN } from './backend';

const PRESENCE_URL = `${MOCK_BASE_URL}/api/ws/presence`;
const STATUSES = ['online', 'away', 'offline'];

/**
 * Responds like the chat backend: 401 for a token other than `MOCK_TOKEN`, 400 for a body without
 * a known `status`, and otherwise 200 with `{ success: true }`. `delayMs` delays each response.
 */
export function acceptPresence({ delayMs = 0 } = {}): RequestHandler {
  return http.put(PRESENCE_URL, async ({ request }) => {
    if (delayMs > 0) await delay(delayMs);

    if (request.headers.get('Authorization') !== `Bearer ${MOCK_TOKEN}`) {
      return HttpResponse.json({ success: false, message: 'Invalid or expired token' }, { status: 401 });
    }

    const body = (await request.json().catch(() => null)) as { status?: unknown } | null;
    if (!STATUSES.includes(body?.status as string)) {
      const message = `Invalid status ${JSON.stringify(body?.status)}: expected online, away or offline`;
      return HttpResponse.json({ success: false, message }, { status: 400 });
    }

    return HttpResponse.json({ success: true, message: 'Operation completed' });
  });
}

/** Responds to every presence request with `status` and a JSON error body. */
export function rejectPresence(status: number, message: string): RequestHandler {
  return http.put(PRESENCE_URL, () => HttpResponse.json({ success: false, message }, { status }));
}

/** Installs `handler` for the current story, unless the stories run against a real backend. */
export function mockPresenceApi(msw: SetupWorker, handler: RequestHandler): void {
  if (backend.isMock) msw.use(handler);
}
