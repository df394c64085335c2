import type { KyInstance } from 'ky';
import {
  PresenceAuthError,
  PresenceError,
  PresenceHttpError,
  PresenceNetworkError,
  PresenceResponseError,
  PresenceTokenError,
} from './errors';
import { DEFAULT_REQUEST_TIMEOUT } from './options';
import type { PresenceOptions, PresenceToken } from './types';

export interface Transport {
  /** Sends one PUT and resolves when the server accepted it. Throws a PresenceError otherwise. */
  put(body: unknown, keepalive?: boolean): Promise<void>;
  /** Starts a keepalive fetch that outlives the page. Never throws and is never retried. */
  putOnExit(body: unknown): void;
}

export interface TransportOptions {
  url: string;
  /** Current provider options, read on every request so that new props apply at once. */
  getOptions: () => Pick<PresenceOptions, 'token' | 'ky' | 'requestTimeout'>;
  defaultApi: KyInstance;
  fetch: typeof fetch;
  now: () => number;
}

// Requests to one URL are chained across provider instances, so that a provider mounted right
// after another unmounted cannot overtake the `offline` its predecessor is still sending.
const queues = new Map<string, Promise<unknown>>();

export function createTransport(options: TransportOptions): Transport {
  const { url } = options;
  let lastGoodToken = '';

  /** Rejects with a retryable PresenceNetworkError when `promise` outlasts the request timeout. */
  function withTimeout<T>(promise: Promise<T>, step: string): Promise<T> {
    const { requestTimeout = DEFAULT_REQUEST_TIMEOUT } = options.getOptions();
    let timer: ReturnType<typeof setTimeout> | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () => reject(new PresenceNetworkError(`PUT ${url} timed out after ${requestTimeout} ms ${step}`)),
        requestTimeout,
      );
    });
    return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
  }

  async function resolveToken(): Promise<string> {
    let token: unknown;
    try {
      const source = options.getOptions().token;
      token =
        typeof source === 'function' ? await withTimeout(Promise.resolve(source()), 'waiting for the token') : source;
    } catch (cause) {
      if (cause instanceof PresenceNetworkError) throw cause;
      throw new PresenceTokenError('The token function failed, so no request was sent.', { cause });
    }
    if (typeof token !== 'string' || token === '') {
      throw new PresenceTokenError(
        `The token is missing or empty (got ${typeof token}), so no request was sent. Pass enabled={false} until the user has signed in.`,
      );
    }
    return token;
  }

  async function putOnce(token: string, body: unknown, keepalive: boolean): Promise<void> {
    const { ky = options.defaultApi, requestTimeout = DEFAULT_REQUEST_TIMEOUT } = options.getOptions();
    let response: Response;
    try {
      response = await ky.put(url, {
        json: body,
        headers: { Authorization: `Bearer ${token}` },
        retry: 0,
        timeout: requestTimeout,
        throwHttpErrors: false,
        keepalive,
      });
    } catch (error) {
      const timedOut = (error as Error)?.name === 'TimeoutError';
      const detail = timedOut ? `timed out after ${requestTimeout} ms` : `failed: ${(error as Error)?.message}`;
      // ky's TimeoutError contains the request and so the Authorization header. Only its name and
      // message are kept.
      const cause = Object.assign(new Error((error as Error)?.message), { name: (error as Error)?.name });
      throw new PresenceNetworkError(`PUT ${url} ${detail}`, { cause });
    }

    if (!response.ok) {
      const retryAfter = parseRetryAfter(response.headers.get('Retry-After'), options.now());
      const serverMessage = await withTimeout(readServerMessage(response), 'reading the response');
      const ErrorClass = response.status === 401 ? PresenceAuthError : PresenceHttpError;
      throw new ErrorClass('PUT', url, response.status, retryAfter, serverMessage);
    }
    await withTimeout(checkBody(response, url), 'reading the response');
  }

  async function put(body: unknown, keepalive = false): Promise<void> {
    let token = await resolveToken();
    try {
      await putOnce(token, body, keepalive);
    } catch (error) {
      if (!(error instanceof PresenceAuthError)) throw error;

      // A 401 gets one retry, and only when the token function now returns another token.
      const fresh = await resolveToken();
      if (fresh === token) throw error;
      token = fresh;
      await putOnce(token, body, keepalive);
    }
    lastGoodToken = token;
  }

  return {
    put(body, keepalive) {
      const previous = queues.get(url) ?? Promise.resolve();
      const next = previous.catch(() => {}).then(() => put(body, keepalive));
      queues.set(url, next);
      return next;
    },
    putOnExit(body) {
      const token = exitToken(options.getOptions().token, lastGoodToken);
      if (!token) return;

      try {
        options
          .fetch(url, {
            method: 'PUT',
            keepalive: true,
            headers: { Authorization: `Bearer ${token}`, 'Content-Type': 'application/json' },
            body: JSON.stringify(body),
          })
          .catch(() => {});
      } catch {
        // The body cannot be serialized or fetch threw at once. The page is leaving, so the error
        // is dropped.
      }
    },
  };
}

/** Picks the token for a request sent while the page goes away, when nothing can be awaited. */
function exitToken(source: PresenceToken, lastGoodToken: string): string {
  if (typeof source === 'string') return source;

  try {
    const result = source();
    if (typeof result === 'string' && result) return result;
    // An async function's token arrives too late, so the last one the server accepted is used.
    Promise.resolve(result).catch(() => {});
  } catch {
    // The token function failed; fall back to the last accepted token.
  }
  return lastGoodToken;
}

const SERVER_MESSAGE_LENGTH = 200;

/** Reads why the server rejected the request: a JSON `message`, or the start of a text body. */
async function readServerMessage(response: Response): Promise<string> {
  const text = (await response.text().catch(() => '')).trim();
  try {
    const { message } = JSON.parse(text);
    if (typeof message === 'string') return message.slice(0, SERVER_MESSAGE_LENGTH);
  } catch {
    // Not JSON: the text itself is the explanation.
  }
  return text.startsWith('<') ? '' : text.slice(0, SERVER_MESSAGE_LENGTH);
}

/** Treats a 2xx as a success unless its body is JSON with `success: false`. */
async function checkBody(response: Response, url: string): Promise<void> {
  let data: { success?: unknown; message?: unknown } | null = null;
  try {
    data = JSON.parse(await response.text());
  } catch {
    return;
  }
  if (data?.success === false) {
    const message =
      typeof data.message === 'string' && data.message ? data.message : `PUT ${url} returned success: false`;
    throw new PresenceResponseError('PUT', url, message);
  }
}

/** Converts a `Retry-After` header, in seconds or as an HTTP date, to a delay in ms. */
export function parseRetryAfter(header: string | null, now: number): number | null {
  if (!header) return null;

  const seconds = Number(header);
  if (Number.isFinite(seconds)) return Math.max(0, seconds * 1000);

  const date = Date.parse(header);
  return Number.isNaN(date) ? null : Math.max(0, date - now);
}

/** Tells whether a failed request may be sent again with backoff. */
export function isRetryable(error: unknown): boolean {
  if (error instanceof PresenceHttpError) {
    return error.status === 408 || error.status === 429 || error.status >= 500;
  }
  return !(error instanceof PresenceError) || error instanceof PresenceNetworkError;
}
