/** True unless a bundler replaced `process.env.NODE_ENV` with "production". */
function isDevelopment(): boolean {
  try {
    return process.env.NODE_ENV !== 'production';
  } catch {
    // No bundler replaced it and the page has no `process`.
    return false;
  }
}

/**
 * Returns a function that calls an app callback and catches what it throws, so that a faulty
 * callback never stops presence updates. The first throw is logged in development.
 */
export function createCallbackRunner(): <A extends unknown[]>(
  callback: ((...args: A) => void) | undefined,
  ...args: A
) => void {
  let warned = false;

  return (callback, ...args) => {
    try {
      callback?.(...args);
    } catch (error) {
      if (warned || !isDevelopment()) return;
      warned = true;
      console.error(
        '[react-presence] A callback prop threw. Later throws are not logged. Catch errors inside onError and onStatusChange.',
        error,
      );
    }
  };
}
