/** Base class of every error the package produces, so that apps can test `instanceof`. */
export class PresenceError extends Error {
  override name = 'PresenceError';
}

/** The server returned a status code outside 2xx. */
export class PresenceHttpError extends PresenceError {
  override name = 'PresenceHttpError';

  constructor(
    readonly method: string,
    readonly url: string,
    readonly status: number,
    /** Delay the server asked for in `Retry-After`, in ms, or `null`. */
    readonly retryAfter: number | null = null,
    /** The server's explanation: the `message` of a JSON body, or the start of a text body. */
    readonly serverMessage = '',
  ) {
    super(`${method} ${url} failed with status ${status}${serverMessage && `: ${serverMessage}`}`);
  }
}

/** The server rejected the token with 401, and a fresh token did not help. */
export class PresenceAuthError extends PresenceHttpError {
  override name = 'PresenceAuthError';
}

/** The server returned 2xx with `success: false`. The message is the server's. */
export class PresenceResponseError extends PresenceError {
  override name = 'PresenceResponseError';

  constructor(
    readonly method: string,
    readonly url: string,
    message: string,
  ) {
    super(message);
  }
}

/** The token was missing or empty, or the token function threw. No request was sent. */
export class PresenceTokenError extends PresenceError {
  override name = 'PresenceTokenError';
}

/** The request failed before a response arrived: a network error or a timeout. */
export class PresenceNetworkError extends PresenceError {
  override name = 'PresenceNetworkError';
}
