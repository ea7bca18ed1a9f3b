import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vite';

const here = (path: string) => fileURLToPath(new URL(path, import.meta.url));

/**
 * The web timeline (docs/ARCHITECTURE.md §5): Preact + TanStack Query, built by `npm run build` into dist/web, which
 * the API serves at `/`. `npx vite --config apps/web/vite.config.mts` serves it with hot reload, proxying `/api` to
 * RUNLEDGER_URL (default http://127.0.0.1:8787).
 */
export default defineConfig({
  root: here('.'),
  base: '/',
  logLevel: 'warn',
  oxc: { jsx: { runtime: 'automatic', importSource: 'preact' } },
  resolve: { alias: { '@runledger/domain': here('../../libs/domain/src') } },
  build: {
    outDir: here('../../dist/web'),
    emptyOutDir: true,
    target: 'es2022',
    sourcemap: true,
    reportCompressedSize: false,
  },
  server: { proxy: { '/api': process.env.RUNLEDGER_URL ?? 'http://127.0.0.1:8787' } },
});
