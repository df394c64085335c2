import type { StorybookConfig } from '@storybook/react-vite';
import { mergeConfig } from 'vite';

const config: StorybookConfig = {
  framework: '@storybook/react-vite',
  stories: ['../stories/**/*.stories.@(ts|tsx)'],
  // The addon adds `msw` to every story's context. preview.ts starts the worker.
  addons: ['msw-storybook-addon'],
  // Serves mockServiceWorker.js at the root, where msw registers it.
  staticDirs: ['../public'],
  viteFinal(viteConfig) {
    // The browser tests rebuild test/browser/.page-dist/index.html, and Vite reloads every open
    // story when an HTML file under the root changes. Build output is never imported by a story.
    return mergeConfig(viteConfig, {
      server: { watch: { ignored: ['**/test/browser/.page-dist/**', '**/dist/**', '**/storybook-static/**'] } },
    });
  },
  core: {
    // Turns off usage data and the "what's new" requests to storybook.js.org. `storybook dev` still
    // checks storybook.js.org for a newer version once a day unless started with --no-version-updates.
    disableTelemetry: true,
    disableWhatsNewNotifications: true,
  },
};

export default config;
