import type { Preview } from '@storybook/react-vite';
import { setupWorker } from 'msw/browser';
import { mswLoader } from 'msw-storybook-addon/csf3';
import { backend, MOCK_BASE_URL } from '../stories/backend';

/**
 * Creates the msw worker that stories add handlers to in `beforeEach({ msw })`. With a real
 * backend configured, the worker is never started, so no request is intercepted.
 */
async function setupMockWorker() {
  const worker = setupWorker();
  if (!backend.isMock) return worker;

  await worker.start({
    quiet: true,
    // Storybook's own requests pass through silently. A request to the mock backend that no
    // handler matches is a bug in a story, so msw warns about it in the console.
    onUnhandledRequest(request, print) {
      if (request.url.startsWith(MOCK_BASE_URL)) print.warning();
    },
  });
  return worker;
}

const preview: Preview = {
  loaders: [mswLoader(setupMockWorker)],
};

export default preview;
