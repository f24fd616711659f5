import { fileURLToPath } from 'node:url';
import preact from '@preact/preset-vite';
import { defineConfig } from 'vite';

// `npm run dev` proxies the API and the sockets to a running server.
const target = process.env['TASKWIRE_URL'] ?? 'http://127.0.0.1:8080';

export default defineConfig({
  base: '/app/',
  plugins: [preact({ devtoolsInProd: false, prerender: { enabled: false } })],
  resolve: {
    alias: {
      '@taskwire/client': fileURLToPath(new URL('../clients/typescript/src/index.ts', import.meta.url)),
    },
  },
  build: {
    outDir: 'dist',
    emptyOutDir: true,
    assetsDir: 'assets',
    target: 'es2022',
    sourcemap: false,
    // One JS and one CSS file: the app is small, and fewer requests beat splitting.
    cssCodeSplit: false,
    modulePreload: { polyfill: false },
    reportCompressedSize: true,
  },
  server: {
    proxy: {
      '/api': target,
      '/ws': { target, ws: true },
      '/healthz': target,
    },
  },
});
