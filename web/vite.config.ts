import { defineConfig } from 'vite';

// The review UI, served by `kaitiaki serve` under /ui/. Built into web/dist by `npm run build`.
export default defineConfig({
  root: new URL('.', import.meta.url).pathname,
  base: '/ui/',
  build: { outDir: 'dist', emptyOutDir: true, sourcemap: true },
  oxc: { jsx: { runtime: 'automatic' } },
});
