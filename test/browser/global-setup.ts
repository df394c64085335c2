import { existsSync, readFileSync } from 'node:fs';
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
  // React Server Components treat the entry as client code only with the directive on line 1.
  if (!readFileSync(PACKAGE_ENTRY, 'utf8').startsWith("'use client';")) {
    throw new Error(`${PACKAGE_ENTRY} does not start with 'use client'; check the banner in tsdown.config.ts.`);
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
