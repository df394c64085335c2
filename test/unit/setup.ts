import { cleanup } from '@testing-library/react';
import { afterAll, afterEach, beforeAll, beforeEach, vi } from 'vitest';
import { server } from './server';

// Any unhandled rejection fails the run: the package promises to leave none behind.
const rejections: unknown[] = [];
const onRejection = (reason: unknown) => rejections.push(reason);

beforeAll(() => {
  server.listen({ onUnhandledRequest: 'error' });
  process.on('unhandledRejection', onRejection);
});

beforeEach(() => {
  globalThis.localStorage?.clear();
});

afterEach(async () => {
  cleanup();
  // Teardown after unmount waits one task, so let it run before the next test.
  await new Promise((resolve) => setTimeout(resolve, 0));
  vi.useRealTimers();
  server.resetHandlers();
  const found = rejections.splice(0);
  if (found.length > 0) throw new Error(`Unhandled rejection during the test: ${String(found[0])}`);
});

afterAll(() => {
  server.close();
  process.off('unhandledRejection', onRejection);
});
