import { fileURLToPath } from 'node:url';
import react from '@vitejs/plugin-react';
import { defineConfig } from 'vite';

/**
 * The web front-ends (today the demo web banking), built into `web/dist` that the server serves at `/`.
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
  },
  server: {
    proxy: { '/bank/api': process.env.SESAME_URL ?? 'http://127.0.0.1:8080' },
  },
});
