#!/usr/bin/env node
// Builds the web front-ends (`vite build` → web/dist) only when needed: web/dist is missing, or a source
// file (web/src, web/app, web/shared, web/public, web/index.html, sdk/device/src, vite.config.ts) is newer than the last build. Run by
// `npm start` (prestart) and by the browser tests, so a fresh checkout just works and a warm one starts
// at once. Plain Node ESM, no dependency beyond Vite itself.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const builtMarker = path.join(root, 'web', 'dist', 'index.html');
const sources = ['web/src', 'web/app', 'web/shared', 'web/public', 'web/index.html', 'sdk/device/src', 'vite.config.ts'].map((p) =>
  path.join(root, p),
);

/** Newest modification time under `p` (a file or a folder), 0 if it does not exist. */
function newestMtime(p) {
  let stat;
  try {
    stat = fs.statSync(p);
  } catch {
    return 0;
  }
  if (!stat.isDirectory()) return stat.mtimeMs;
  let newest = stat.mtimeMs; // a deleted file shows only as a newer folder
  for (const entry of fs.readdirSync(p)) newest = Math.max(newest, newestMtime(path.join(p, entry)));
  return newest;
}

const builtAt = newestMtime(builtMarker);
const changedAt = Math.max(...sources.map(newestMtime));

if (builtAt > 0 && builtAt >= changedAt) {
  process.exit(0);
}

const viteBin = path.join(root, 'node_modules', 'vite', 'bin', 'vite.js');
if (!fs.existsSync(viteBin)) {
  // A production install without dev dependencies: serve what is there (or the API alone).
  console.warn(
    builtAt > 0
      ? 'web: sources changed but Vite is not installed; serving the existing web/dist.'
      : 'web: web/dist is missing and Vite is not installed (npm install --include=dev); the pages will not be served.',
  );
  process.exit(0);
}

console.log(builtAt > 0 ? 'web: sources changed, rebuilding web/dist…' : 'web: building web/dist…');
// NODE_ENV=test (set by vitest) or development would make Vite bundle React's development build.
const env = { ...process.env, NODE_ENV: 'production' };
const result = spawnSync(process.execPath, [viteBin, 'build', '--logLevel', 'warn'], { cwd: root, stdio: 'inherit', env });
if (result.status !== 0) {
  console.error('web: vite build failed.');
  process.exit(result.status ?? 1);
}
console.log('web: built web/dist.');
