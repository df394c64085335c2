import { defineConfig } from 'tsdown';

export default defineConfig({
  entry: ['src/index.ts'],
  format: 'esm',
  platform: 'neutral',
  target: 'es2022',
  dts: true,
  sourcemap: true,
  // The whole entry contains hooks, so React Server Components must treat it as client code.
  banner: { js: "'use client';" },
});
