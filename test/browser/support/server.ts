import { readFile } from 'node:fs/promises';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { extname, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { delay, WAIT_TIMEOUT, waitFor } from './wait';

/** Folder that `global-setup.ts` builds the test page into. */
export const PAGE_DIST = fileURLToPath(new URL('../.page-dist', import.meta.url));

/** Token the test server accepts unless a test passes another one. */
export const TEST_TOKEN = 'test-token';

export const PRESENCE_PATH = '/api/ws/presence';

/** One `PUT /api/ws/presence` as the server received it. */
export interface RecordedRequest {
  /** `status` field of the JSON body, or null when the body had none. */
  status: string | null;
  body: unknown;
  authorization: string | null;
  /** Wall-clock time the request arrived, in ms since the epoch. */
  receivedAt: number;
  /** HTTP status of the server's response, or null while the response is still pending. */
  responseStatus: number | null;
}

/** Response to one authorized request. Defaults: status 200, sent at once, with the success body. */
export interface Reply {
  status?: number;
  delayMs?: number;
  body?: unknown;
}

/**
 * Picks the reply to the `index`-th authorized request (0-based). Requests with a wrong bearer
 * always get 401 and do not count.
 */
export type Responder = (request: RecordedRequest, index: number) => Reply;

const SUCCESS_BODY = { success: true, message: 'Operation completed' };

const CONTENT_TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.map': 'application/json; charset=utf-8',
};

/** Responds with `status` (503 by default) to the first `count` authorized requests and 200 to the rest. */
export const failTimes =
  (count: number, status = 503): Responder =>
  (_request, index) =>
    index < count ? { status, body: { success: false, message: 'Service unavailable' } } : {};

/** Holds the response to the first authorized request for `delayMs`, and responds to the rest at once. */
export const delayFirst =
  (delayMs: number): Responder =>
  (_request, index) =>
    index === 0 ? { delayMs } : {};

/**
 * A real HTTP server on 127.0.0.1 that serves the built test page and plays the chat backend's
 * presence endpoint. It records every presence request in arrival order.
 */
export class PresenceServer {
  readonly requests: RecordedRequest[] = [];
  private responder: Responder = () => ({});
  private authorizedCount = 0;
  private readonly server = createServer((request, response) => {
    this.handle(request, response).catch((error: unknown) => {
      console.error('[test server] Failed to respond to', request.method, request.url, error);
      if (!response.headersSent) response.writeHead(500);
      response.end();
    });
  });

  private constructor(readonly expectedToken: string) {}

  /** Starts a server on a free port of 127.0.0.1 that accepts `expectedToken` as the bearer. */
  static async start(expectedToken = TEST_TOKEN): Promise<PresenceServer> {
    const instance = new PresenceServer(expectedToken);
    await new Promise<void>((done, fail) => {
      instance.server.once('error', fail);
      instance.server.listen(0, '127.0.0.1', done);
    });
    return instance;
  }

  /** Origin of the server, such as `http://127.0.0.1:41234`. */
  get origin(): string {
    const { port } = this.server.address() as AddressInfo;
    return `http://127.0.0.1:${port}`;
  }

  /** URL of the test page with `params` as its query string. */
  pageUrl(params: Record<string, string | number | boolean> = {}): string {
    const query = new URLSearchParams(Object.entries(params).map(([key, value]) => [key, String(value)]));
    return `${this.origin}/?${query}`;
  }

  /** Replaces the responder for authorized requests, and restarts their count at 0. */
  replyWith(responder: Responder): void {
    this.responder = responder;
    this.authorizedCount = 0;
  }

  /** Forgets the recorded requests and goes back to responding 200 at once. */
  reset(): void {
    this.requests.length = 0;
    this.replyWith(() => ({}));
  }

  /** Statuses of the recorded requests, in arrival order. */
  statuses(): (string | null)[] {
    return this.requests.map((request) => request.status);
  }

  /** Waits until at least `count` requests have arrived and returns the statuses so far. */
  waitForRequestCount(count: number, timeout = WAIT_TIMEOUT): Promise<(string | null)[]> {
    return waitFor(
      `${count} presence request(s)`,
      () => this.statuses(),
      (statuses) => statuses.length >= count,
      timeout,
    );
  }

  /**
   * Waits until no request has arrived for `quietMs`, and returns the statuses. Tests use it to
   * check that nothing more is sent, which no event can signal.
   */
  async waitForQuiet(quietMs = 500, timeout = WAIT_TIMEOUT): Promise<(string | null)[]> {
    const deadline = Date.now() + timeout;
    let seen = -1;
    while (seen !== this.requests.length) {
      if (Date.now() >= deadline) {
        throw new Error(
          `Timed out after ${timeout} ms waiting for ${quietMs} ms without presence requests. Statuses: ${JSON.stringify(this.statuses())}`,
        );
      }
      seen = this.requests.length;
      await delay(quietMs);
    }
    return this.statuses();
  }

  async close(): Promise<void> {
    // Chromium keeps connections alive, which would hold `close` open.
    this.server.closeAllConnections();
    await new Promise<void>((done) => this.server.close(() => done()));
  }

  private async handle(request: IncomingMessage, response: ServerResponse) {
    const { pathname } = new URL(request.url ?? '/', this.origin);
    if (pathname === PRESENCE_PATH) {
      await this.handlePresence(request, response);
    } else if (request.method === 'GET') {
      await this.serveFile(pathname, response);
    } else {
      response.writeHead(405).end();
    }
  }

  private async handlePresence(request: IncomingMessage, response: ServerResponse) {
    if (request.method !== 'PUT') {
      response.writeHead(405, { Allow: 'PUT' }).end();
      return;
    }

    const text = await readBody(request);
    const body = parseJson(text);
    const recorded: RecordedRequest = {
      status: typeof body?.status === 'string' ? body.status : null,
      body,
      authorization: request.headers.authorization ?? null,
      receivedAt: Date.now(),
      responseStatus: null,
    };
    this.requests.push(recorded);

    if (recorded.authorization !== `Bearer ${this.expectedToken}`) {
      recorded.responseStatus = 401;
      sendJson(response, 401, { success: false, message: 'Invalid or expired token' });
      return;
    }

    const reply = this.responder(recorded, this.authorizedCount++);
    if (reply.delayMs) await delay(reply.delayMs);
    recorded.responseStatus = reply.status ?? 200;
    sendJson(response, recorded.responseStatus, reply.body ?? SUCCESS_BODY);
  }

  private async serveFile(pathname: string, response: ServerResponse) {
    const relative = pathname === '/' ? 'index.html' : decodeURIComponent(pathname.slice(1));
    const file = resolve(PAGE_DIST, relative);
    if (!file.startsWith(PAGE_DIST + sep)) {
      response.writeHead(404).end();
      return;
    }

    let content: Buffer;
    try {
      content = await readFile(file);
    } catch {
      response.writeHead(404).end();
      return;
    }
    const contentType = CONTENT_TYPES[extname(file)] ?? 'application/octet-stream';
    response.writeHead(200, { 'Content-Type': contentType, 'Cache-Control': 'no-store' }).end(content);
  }
}

async function readBody(request: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of request) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

function parseJson(text: string): Record<string, unknown> | null {
  try {
    const value: unknown = JSON.parse(text);
    return value && typeof value === 'object' ? (value as Record<string, unknown>) : null;
  } catch {
    return null;
  }
}

function sendJson(response: ServerResponse, status: number, body: unknown) {
  response.writeHead(status, { 'Content-Type': 'application/json' }).end(JSON.stringify(body));
}
