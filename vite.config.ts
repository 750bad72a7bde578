import { fileURLToPath } from 'node:url';
import react from '@vitejs/plugin-react';
import { defineConfig } from 'vite';

/**
 * The web front-ends (the demo web banking at `/`, the authenticator app at `/app/`), built into `web/dist`
 * that the server serves.
 * `npx vite` serves the page with hot reload and forwards the bank's API to a server started with
 * `npm start` (port 8080 unless SESAME_URL says otherwise).
 */
export default defineConfig({
  root: fileURLToPath(new URL('./web', import.meta.url)),
  base: '/',
  plugins: [react()],
  build: {
    outDir: fileURLToPath(new URL('./web/dist', import.meta.url)),
    emptyOutDir: true,
    // Two pages: the demo bank at `/` and the authenticator app (a PWA) at `/app/`.
    rollupOptions: {
      input: {
        bank: fileURLToPath(new URL('./web/index.html', import.meta.url)),
        app: fileURLToPath(new URL('./web/app/index.html', import.meta.url)),
      },
    },
  },
  server: {
    // The bank's API, and Sésame's own for the authenticator app at /app/ (device API, JWKS).
    proxy: Object.fromEntries(['/bank/api', '/v1', '/.well-known'].map((p) => [p, process.env.SESAME_URL ?? 'http://127.0.0.1:8080'])),
  },
});
