/** Default bound for every wait in the browser suite, in ms. */
export const WAIT_TIMEOUT = 10_000;

const POLL_INTERVAL = 25;

export const delay = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/**
 * Polls `read` until `accept` returns true for its value, and returns that value. Throws after
 * `timeout` ms with `description` and the last value read, so a failure shows what was seen.
 */
export async function waitFor<T>(
  description: string,
  read: () => T | Promise<T>,
  accept: (value: T) => boolean,
  timeout = WAIT_TIMEOUT,
): Promise<T> {
  const deadline = Date.now() + timeout;
  let value = await read();

  while (!accept(value)) {
    if (Date.now() >= deadline) {
      throw new Error(`Timed out after ${timeout} ms waiting for ${description}. Last value: ${JSON.stringify(value)}`);
    }
    await delay(POLL_INTERVAL);
    value = await read();
  }
  return value;
}
