#!/usr/bin/env node
// `npm test`: the whole suite, in one command.
//   1. a throwaway PostgreSQL cluster (scripts/pg-cluster.sh) unless TEST_DATABASE_URL is already set,
//      so the integration tests run on both PGlite and PostgreSQL;
//   2. vitest (unit, integration and Chromium tests); extra arguments go to vitest (`npm test -- test/core`);
//   3. the 5-minute tour (examples/tour.sh) against a freshly started dev server.
// Exits non-zero if any step failed; the last line is always `tests: N passed, N failed`. N counts
// vitest's tests, the tour as one more, and each failed step that has no failed test to show for it
// (a test file that did not load, a cluster that did not start), so it is never 0 when the exit code isn't.
// `TEST_DATABASE_URL= npm test` (set but empty) runs on PGlite only.
import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
process.chdir(root);

const READY_TIMEOUT_MS = 60_000;
const TOUR_TIMEOUT_MS = 5 * 60_000;
const STOP_GRACE_MS = 10_000;

const cleanups = [];
const children = new Set();
let passed = 0;
let failed = 0;
let pgSkipped = false;

const say = (line) => console.log(`\n[test] ${line}`);
const loud = (line) => console.error(`\n${'!'.repeat(100)}\n!! ${line}\n${'!'.repeat(100)}`);

async function main() {
  for (const sig of ['SIGINT', 'SIGTERM']) process.on(sig, () => interrupted(sig));

  const env = { ...process.env };
  await startPostgres(env);
  if (!stopping) await runVitest(env);
  if (!stopping) await runTour();
}

// ---------- 1. PostgreSQL ----------

async function startPostgres(env) {
  if (process.env.TEST_DATABASE_URL !== undefined) {
    if (process.env.TEST_DATABASE_URL) say(`PostgreSQL: using TEST_DATABASE_URL (${redact(process.env.TEST_DATABASE_URL)})`);
    else pgSkipped = warnPgSkipped('TEST_DATABASE_URL is set but empty');
    return;
  }
  if (!hasInitdb()) {
    pgSkipped = warnPgSkipped('PostgreSQL is not installed (no /usr/lib/postgresql/*/bin/initdb)');
    return;
  }
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sesame-pg-'));
  cleanups.push(() => {
    spawnSync('bash', ['scripts/pg-cluster.sh', 'stop', dir], { stdio: ['ignore', 'inherit', 'inherit'] });
  });
  const res = spawnSync('bash', ['scripts/pg-cluster.sh', 'start', dir], {
    stdio: ['ignore', 'pipe', 'inherit'],
    encoding: 'utf8',
  });
  const url = res.stdout?.trim();
  if (res.status !== 0 || !url) {
    loud('FAILED to start a throwaway PostgreSQL cluster (see above); the PostgreSQL tests do not run');
    failed++;
    pgSkipped = true;
    return;
  }
  env.TEST_DATABASE_URL = url;
  say(`PostgreSQL: throwaway cluster at ${url}`);
}

function hasInitdb() {
  const base = '/usr/lib/postgresql';
  if (!fs.existsSync(base)) return false;
  return fs.readdirSync(base).some((v) => fs.existsSync(path.join(base, v, 'bin', 'initdb')));
}

function warnPgSkipped(why) {
  loud(
    `WARNING: ${why}: the PostgreSQL half of the integration suite is SKIPPED (PGlite only).\n` +
      '!! Enable it: apt-get install postgresql (npm test then starts a throwaway cluster), or set\n' +
      '!! TEST_DATABASE_URL=postgres://user@host:port/db naming a server where that user may CREATE DATABASE.',
  );
  return true;
}

// ---------- 2. vitest ----------

async function runVitest(env) {
  const work = fs.mkdtempSync(path.join(os.tmpdir(), 'sesame-vitest-'));
  cleanups.push(() => fs.rmSync(work, { recursive: true, force: true }));
  const report = path.join(work, 'vitest.json');
  const args = ['vitest', 'run', '--reporter=default', '--reporter=json', `--outputFile=${report}`, ...process.argv.slice(2)];
  say(`npx ${args.join(' ')}`);
  const code = await run('npx', args, { env, stdio: 'inherit' });

  let counts = null;
  try {
    counts = JSON.parse(fs.readFileSync(report, 'utf8'));
  } catch {
    // vitest died before writing its report
  }
  const ok = Number(counts?.numPassedTests ?? 0);
  const ko = Number(counts?.numFailedTests ?? 0);
  passed += ok;
  failed += ko;
  if (code !== 0) {
    loud(`vitest FAILED (exit ${code})${counts ? '' : ' without writing its JSON report'}`);
    if (ko === 0) failed += Math.max(1, Number(counts?.numFailedTestSuites ?? 0));
  }
}

// ---------- 3. the tour ----------

async function runTour() {
  say('tour: examples/tour.sh against a fresh dev server');
  try {
    await tour();
    passed++;
    say('tour: passed');
  } catch (err) {
    failed++;
    loud(`tour FAILED: ${err.message}`);
  }
}

async function tour() {
  for (const f of ['examples/tour.sh', 'bin/sesame.cjs']) {
    if (!fs.existsSync(f)) throw new Error(`${f} does not exist`);
  }
  if (stopping) throw new Error('interrupted');
  // What `npm start` does first (prestart): the dev server serves the built pages.
  if (fs.existsSync('scripts/build-web-if-stale.mjs')) {
    const code = await run(process.execPath, ['scripts/build-web-if-stale.mjs'], { stdio: 'inherit' });
    if (code !== 0) throw new Error(`scripts/build-web-if-stale.mjs exited with ${code}`);
  }
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'sesame-tour-'));
  const logFile = path.join(os.tmpdir(), `${path.basename(dataDir)}.log`);
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;

  // The server gets none of the caller's SESAME_* settings: the tour must work on defaults.
  const serverEnv = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('SESAME_')));
  const log = fs.openSync(logFile, 'w');
  const server = spawn(process.execPath, ['bin/sesame.cjs', 'serve', '--dev'], {
    env: { ...serverEnv, PORT: String(port), SESAME_DATA_DIR: dataDir, SESAME_DEMO: 'false' },
    stdio: ['ignore', log, log],
    detached: true, // its own process group, so stopping it stops anything it started
  });
  fs.closeSync(log);
  const exited = new Promise((resolve) => server.once('exit', (code, sig) => resolve(sig ?? code)));
  const stopServer = async () => {
    await stopGroup(server, exited);
    fs.rmSync(dataDir, { recursive: true, force: true });
    fs.rmSync(logFile, { force: true });
  };
  cleanups.push(stopServer);

  try {
    await waitReady(url, exited);
    const keyFile = path.join(dataDir, 'dev-api-key.txt');
    if (!fs.existsSync(keyFile)) throw new Error(`the dev server did not write ${keyFile}`);
    const apiKey = fs.readFileSync(keyFile, 'utf8').trim();

    const code = await run('bash', ['examples/tour.sh'], {
      env: { ...serverEnv, SESAME_URL: url, SESAME_API_KEY: apiKey },
      stdio: ['ignore', 'inherit', 'inherit'],
      timeoutMs: TOUR_TIMEOUT_MS,
    });
    if (code !== 0) throw new Error(`examples/tour.sh exited with ${code}`);
  } catch (err) {
    printTail(logFile, 'server log');
    throw err;
  } finally {
    cleanups.splice(cleanups.indexOf(stopServer), 1);
    await stopServer();
  }
}

async function waitReady(url, exited) {
  const deadline = Date.now() + READY_TIMEOUT_MS;
  let early = null;
  exited.then((how) => (early = how));
  while (Date.now() < deadline) {
    if (early !== null) throw new Error(`the server stopped before it was ready (${early})`);
    try {
      const res = await fetch(`${url}/ready`, { signal: AbortSignal.timeout(2_000) });
      if (res.status === 200) return;
    } catch {
      // not listening yet
    }
    await sleep(250);
  }
  throw new Error(`GET ${url}/ready did not answer 200 within ${READY_TIMEOUT_MS / 1000} s`);
}

async function stopGroup(child, exited) {
  if (child.exitCode !== null || child.signalCode !== null) return;
  killGroup(child, 'SIGTERM');
  const stopped = await Promise.race([exited.then(() => true), sleep(STOP_GRACE_MS).then(() => false)]);
  if (!stopped) {
    console.error('[test] server ignored SIGTERM for 10 s: SIGKILL');
    killGroup(child, 'SIGKILL');
    await exited;
  }
}

function killGroup(child, sig) {
  try {
    process.kill(-child.pid, sig);
  } catch {
    try {
      child.kill(sig);
    } catch {
      // already gone
    }
  }
}

// ---------- helpers ----------

function run(cmd, args, { env, stdio, timeoutMs } = {}) {
  return new Promise((resolve) => {
    const child = spawn(cmd, args, { env, stdio });
    children.add(child);
    let timer = null;
    if (timeoutMs) {
      timer = setTimeout(() => {
        console.error(`[test] ${cmd} ${args.join(' ')} took over ${timeoutMs / 1000} s: killing it`);
        child.kill('SIGKILL');
      }, timeoutMs);
    }
    child.on('error', (err) => {
      console.error(`[test] cannot run ${cmd}: ${err.message}`);
      resolve(127);
    });
    child.on('exit', (code, sig) => {
      children.delete(child);
      if (timer) clearTimeout(timer);
      resolve(code ?? (sig ? 128 + (os.constants.signals[sig] ?? 0) : 1));
    });
  });
}

function freePort() {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address();
      srv.close(() => resolve(port));
    });
  });
}

function printTail(file, title, lines = 60) {
  try {
    const tail = fs.readFileSync(file, 'utf8').trimEnd().split('\n').slice(-lines).join('\n');
    console.error(`\n----- ${title} (last ${lines} lines) -----\n${tail}\n----- end of ${title} -----`);
  } catch {
    // no log
  }
}

function redact(url) {
  try {
    const u = new URL(url);
    if (u.password) u.password = '***';
    return u.toString();
  } catch {
    return url;
  }
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

async function cleanup() {
  while (cleanups.length) {
    try {
      await cleanups.pop()();
    } catch (err) {
      console.error(`[test] cleanup: ${err.message}`);
    }
  }
}

let stopping = false;
async function interrupted(sig) {
  if (stopping) return;
  stopping = true;
  console.error(`\n[test] ${sig}: stopping and cleaning up`);
  for (const child of children) child.kill('SIGTERM');
  await cleanup();
  process.exit(sig === 'SIGINT' ? 130 : 143);
}

function summary() {
  if (pgSkipped) console.error('\n[test] NOTE: the PostgreSQL tests did NOT run (see the warning above).');
  console.log(`\ntests: ${passed} passed, ${failed} failed`);
}

try {
  await main();
} catch (err) {
  failed++;
  console.error(`[test] ${err.stack ?? err}`);
} finally {
  await cleanup();
}
if (!stopping) {
  summary();
  process.exit(failed > 0 ? 1 : 0);
}
