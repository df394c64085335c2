import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import react from '@vitejs/plugin-react';
import { build } from 'vite';

const PACKAGE_ENTRY = fileURLToPath(new URL('../../dist/index.js', import.meta.url));
const PAGE_ROOT = fileURLToPath(new URL('./page', import.meta.url));
const PAGE_DIST = fileURLToPath(new URL('./.page-dist', import.meta.url));

/**
 * Builds the test page against the built package (dist/index.js), so the browser suite also
 * checks what `npm run build` produced.
 */
export default async function setup(): Promise<void> {
  if (!existsSync(PACKAGE_ENTRY)) {
    throw new Error(`The built package is missing: ${PACKAGE_ENTRY} does not exist. Run \`npm run build\` first.`);
  }

  await build({
    configFile: false,
    root: PAGE_ROOT,
    logLevel: 'warn',
    plugins: [react()],
    resolve: { alias: { '@minbil/react-presence': PACKAGE_ENTRY } },
    build: { outDir: PAGE_DIST, emptyOutDir: true, minify: false, sourcemap: true },
  });
}
