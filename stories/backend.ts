/// <reference types="vite/client" />

/** Chat backend the stories talk to: the msw mock, or a real server. */
export interface DemoBackend {
  /** True when msw responds to the presence requests. */
  isMock: boolean;
  baseUrl: string;
  token: string;
  /** Problem with the environment variables to show in the demo, or `null`. */
  warning: string | null;
}

/** Origin the msw handlers match. No server listens there, because the service worker responds. */
export const MOCK_BASE_URL = 'http://127.0.0.1:5000';

/** Token the mock accepts. Any other token gets 401. */
export const MOCK_TOKEN = 'demo-token';

/**
 * Picks the backend for the stories.
 *
 * By default every story runs against the msw mock. To use a real chat backend, set both
 * variables before starting Storybook:
 *
 *   STORYBOOK_PRESENCE_BASE_URL=http://localhost:5000 STORYBOOK_PRESENCE_TOKEN=<token> npm start
 *
 * The msw worker is then never started, so the requests reach that server unchanged, and the
 * stories' failure scenarios do not apply. The server must accept cross-origin PUT requests with an
 * Authorization header from the Storybook origin, such as http://127.0.0.1:6006.
 *
 * The Vite builder of Storybook 10.6 passes variables that start with STORYBOOK_ to the preview as
 * `import.meta.env.STORYBOOK_*`. In the preview, `process.env.STORYBOOK_*` is undefined. Vite writes
 * the values into the bundle, so never publish a `storybook build` made with a real token set.
 */
function readBackend(): DemoBackend {
  const baseUrl = import.meta.env.STORYBOOK_PRESENCE_BASE_URL as string | undefined;
  const token = import.meta.env.STORYBOOK_PRESENCE_TOKEN as string | undefined;
  const mock = { isMock: true, baseUrl: MOCK_BASE_URL, token: MOCK_TOKEN };

  if (baseUrl && token) {
    return { isMock: false, baseUrl, token, warning: null };
  }
  if (baseUrl || token) {
    const missing = baseUrl ? 'STORYBOOK_PRESENCE_TOKEN' : 'STORYBOOK_PRESENCE_BASE_URL';
    const warning = `${missing} is not set, so the stories use the mock backend. Set both variables to use a real one.`;
    return { ...mock, warning };
  }
  return { ...mock, warning: null };
}

export const backend: DemoBackend = readBackend();
