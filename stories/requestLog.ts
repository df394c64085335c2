import ky, { type KyInstance } from 'ky';

/** One request the package sent, as the demo's request log shows it. */
export interface RequestLogEntry {
  id: number;
  /** When the request started, in ms since the epoch. */
  startedAt: number;
  /** `status` field of the JSON body, or the raw body when it has none. */
  status: string;
  /** HTTP status code, or `null` while pending or after a network error. */
  httpStatus: number | null;
  /** `pending`, the HTTP status text, or the network error message. */
  result: string;
  durationMs: number | null;
}

export type RequestLogListener = (entry: RequestLogEntry) => void;

let nextId = 1;

async function readStatus(request: Request): Promise<string> {
  const text = await request.clone().text();
  try {
    const body = JSON.parse(text) as { status?: unknown };
    if (typeof body?.status === 'string') return body.status;
  } catch {
    // Not JSON: the raw text is shown.
  }
  return text.slice(0, 40);
}

/**
 * Creates a ky instance that reports every request it sends to `listener`: once when it starts
 * and again when it ends. The entries never contain headers, so the token stays out of the log.
 */
export function createLoggingKy(listener: RequestLogListener): KyInstance {
  const loggingFetch = async (input: Request | URL | string, init?: RequestInit): Promise<Response> => {
    const request = new Request(input, init);
    const entry: RequestLogEntry = {
      id: nextId++,
      startedAt: Date.now(),
      status: await readStatus(request),
      httpStatus: null,
      result: 'pending',
      durationMs: null,
    };
    listener(entry);

    try {
      const response = await fetch(request);
      const result = `${response.status} ${response.statusText}`.trim();
      listener({ ...entry, httpStatus: response.status, result, durationMs: Date.now() - entry.startedAt });
      return response;
    } catch (error) {
      const result = `network error: ${(error as Error).message}`;
      listener({ ...entry, result, durationMs: Date.now() - entry.startedAt });
      throw error;
    }
  };

  return ky.create({ fetch: loggingFetch });
}
