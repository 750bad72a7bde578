import { spawn, execFile, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { freePort } from '../../test/support/ports.js';

/** The repository root (bench/lib/ → ../..). */
export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
// The `sesame` command as installed (its launcher sizes libuv's threadpool, one thread per core).
const CLI = path.join(ROOT, 'bin', 'sesame.cjs');

export function tempDir(prefix: string): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), `sesame-bench-${prefix}-`));
}

export interface Target {
  /** 'pglite' or 'postgres' */
  db: 'pglite' | 'postgres';
  /** Environment shared by the CLI and the server. */
  env: NodeJS.ProcessEnv;
}

/** The environment of a server under test (PGlite in `dataDir`, or the PostgreSQL at `databaseUrl`). */
export function serverEnv(opts: { dataDir: string; databaseUrl: string | null }): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    HOST: '127.0.0.1',
    SESAME_MODE: 'development',
    SESAME_DEMO: 'false',
    LOG_LEVEL: 'warn',
    SESAME_DATA_DIR: opts.dataDir,
    SESAME_KEKS: `k1:${randomBytes(32).toString('base64')}`,
    // A session stays usable for the whole run (the maximum the regulation allows is 300 s of inactivity).
    SESAME_SESSION_IDLE_SECONDS: '300',
    // (d): the most SMS codes the server lets a customer, and a number, receive in an hour.
    SESAME_OTP_MAX_PER_CUSTOMER_HOUR: '100',
    SESAME_OTP_MAX_PER_NUMBER_HOUR: '100',
    // (g): each bench device approves thousands of operations; the push-bombing limit would stop it at 5.
    SESAME_APP_APPROVALS_PER_WINDOW: '10000',
  };
  if (opts.databaseUrl) env.DATABASE_URL = opts.databaseUrl;
  else delete env.DATABASE_URL;
  return env;
}

/** `sesame rp create --name bench`, parsing the API key it prints once. */
export function createApiKey(env: NodeJS.ProcessEnv): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(process.execPath, [CLI, 'rp', 'create', '--name', 'bench'], { cwd: ROOT, env, timeout: 120_000 }, (err, stdout, stderr) => {
      const key = /API key \(shown once\): (sk_\S+)/.exec(stdout)?.[1];
      if (err || !key) return reject(new Error(`sesame rp create failed: ${err?.message ?? 'no API key printed'}\n${stdout}\n${stderr}`));
      resolve(key);
    });
  });
}

export interface ServerProcess {
  url: string;
  /** performance.now() when the process was spawned (≈ the start of its --cpu-prof profile). */
  spawnedAt: number;
  pid: number;
  logFile: string;
  stop(): Promise<void>;
}

/**
 * Starts `sesame serve` as its own process (the load generator must not share its event loop) and
 * waits for /ready. `nodeArgs` may add e.g. --cpu-prof.
 */
export async function startServer(env: NodeJS.ProcessEnv, logDir: string, nodeArgs: string[] = []): Promise<ServerProcess> {
  const port = await freePort();
  const logFile = path.join(logDir, 'server.log');
  const out = fs.openSync(logFile, 'a');
  const spawnedAt = performance.now();
  const child: ChildProcess = spawn(process.execPath, [...nodeArgs, CLI, 'serve'], {
    cwd: ROOT,
    env: { ...env, PORT: String(port) },
    stdio: ['ignore', out, out],
  });
  fs.closeSync(out);
  let exited: string | null = null;
  const exit = new Promise<void>((resolve) =>
    child.once('exit', (code, signal) => {
      exited = `exited with ${signal ?? code}`;
      resolve();
    }),
  );
  const url = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 90_000;
  for (;;) {
    if (exited) throw new Error(`the server ${exited} before it was ready:\n${tail(logFile)}`);
    if (Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`the server was not ready after 90 s:\n${tail(logFile)}`);
    }
    try {
      const res = await fetch(`${url}/ready`, { signal: AbortSignal.timeout(2000) });
      await res.arrayBuffer();
      if (res.ok) break;
    } catch {
      // not listening yet
    }
    await sleep(200);
  }
  return {
    url,
    spawnedAt,
    pid: child.pid!,
    logFile,
    async stop() {
      if (exited) return;
      child.kill('SIGTERM');
      const killed = await Promise.race([exit.then(() => false), sleep(15_000).then(() => true)]);
      if (killed) {
        child.kill('SIGKILL');
        await exit;
      }
    },
  };
}

export function tail(file: string, lines = 30): string {
  try {
    return fs.readFileSync(file, 'utf8').trimEnd().split('\n').slice(-lines).join('\n');
  } catch {
    return '(no log)';
  }
}

export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/**
 * The PostgreSQL cluster given by `BENCH_DATABASE_URL`, if any. It is not the bench's child, so its CPU
 * counts only when `BENCH_POSTMASTER_PID` names its postmaster (a value that is no process id is refused).
 */
export function givenCluster(): { url: string; postmasterPid: number | null } | null {
  const url = process.env.BENCH_DATABASE_URL || null;
  if (!url) return null;
  const pid = process.env.BENCH_POSTMASTER_PID;
  if (pid && !/^[1-9]\d*$/.test(pid)) throw new Error('BENCH_POSTMASTER_PID is the process id of the cluster’s postmaster');
  return { url, postmasterPid: pid ? Number(pid) : null };
}

/** A throwaway PostgreSQL cluster through scripts/pg-cluster.sh; null (with the reason) when PostgreSQL is not installed. */
export async function startPgCluster(): Promise<
  { url: string; postmasterPid: number | null; stop(): Promise<void> } | { skipped: string }
> {
  const parent = fs.mkdtempSync(path.join('/tmp', 'sesame-bench-pg-'));
  // As root the script runs PostgreSQL as `postgres`, which must be able to traverse the parent folder.
  fs.chmodSync(parent, 0o755);
  const dir = path.join(parent, 'cluster');
  const script = path.join(ROOT, 'scripts', 'pg-cluster.sh');
  const run = (cmd: 'start' | 'stop') =>
    new Promise<{ ok: boolean; stdout: string; stderr: string }>((resolve) =>
      execFile('bash', [script, cmd, dir], { timeout: 120_000 }, (err, stdout, stderr) => resolve({ ok: !err, stdout, stderr })),
    );
  const r = await run('start');
  if (!r.ok) {
    await run('stop');
    fs.rmSync(path.dirname(dir), { recursive: true, force: true });
    if (/not installed/.test(r.stderr)) return { skipped: r.stderr.trim().replace(/^pg-cluster: /, '') };
    throw new Error(`scripts/pg-cluster.sh start failed:\n${r.stderr}`);
  }
  let postmasterPid: number | null = null;
  try {
    postmasterPid = Number(fs.readFileSync(path.join(dir, 'data', 'postmaster.pid'), 'utf8').split('\n')[0]) || null;
  } catch {
    // unknown: its CPU is not reported
  }
  return {
    url: r.stdout.trim().split('\n').at(-1)!,
    postmasterPid,
    async stop() {
      await run('stop');
      fs.rmSync(path.dirname(dir), { recursive: true, force: true });
    },
  };
}

/** CPU seconds (user + system) used so far by process `pid`, from /proc (Linux); null elsewhere. */
export function processCpuSeconds(pid: number): number | null {
  try {
    const fields = fs.readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
    return (Number(fields[11]) + Number(fields[12])) / 100;
  } catch {
    return null;
  }
}

/**
 * CPU seconds used so far by process `root` and all its descendants (PostgreSQL's postmaster and
 * backends), from /proc: the live ones, plus what the root has reaped from children that exited
 * (cutime + cstime), so that backends ending between two readings are not lost.
 */
export function treeCpuSeconds(root: number): number | null {
  try {
    const procs = fs
      .readdirSync('/proc')
      .filter((d) => /^\d+$/.test(d))
      .map((d) => {
        try {
          const f = fs.readFileSync(`/proc/${d}/stat`, 'utf8').split(') ')[1]!.split(' ');
          return {
            pid: Number(d),
            ppid: Number(f[1]),
            cpu: (Number(f[11]) + Number(f[12])) / 100,
            reaped: (Number(f[13]) + Number(f[14])) / 100,
          };
        } catch {
          return null; // gone meanwhile
        }
      })
      .filter((p): p is { pid: number; ppid: number; cpu: number; reaped: number } => p !== null);
    const inTree = new Set([root]);
    let grew = true;
    while (grew) {
      grew = false;
      for (const p of procs) if (!inTree.has(p.pid) && inTree.has(p.ppid)) (inTree.add(p.pid), (grew = true));
    }
    const rootProc = procs.find((p) => p.pid === root);
    if (!rootProc) return null;
    return procs.filter((p) => inTree.has(p.pid)).reduce((t, p) => t + p.cpu, 0) + rootProc.reaped;
  } catch {
    return null;
  }
}

/** Busy and total jiffies of the whole machine, from /proc/stat; null elsewhere. */
function machineJiffies(): { busy: number; total: number } | null {
  try {
    const cpu = fs.readFileSync('/proc/stat', 'utf8').split('\n')[0]!.trim().split(/\s+/).slice(1).map(Number);
    const idle = (cpu[3] ?? 0) + (cpu[4] ?? 0);
    const total = cpu.reduce((a, b) => a + b, 0);
    return { busy: total - idle, total };
  } catch {
    return null;
  }
}

export interface CpuUse {
  /** Cores' worth of CPU used by the server process (1.0 = one core all along). */
  server: number | null;
  /** By the PostgreSQL cluster (postmaster and backends), when it is ours. */
  database: number | null;
  /** By this load generator. */
  client: number | null;
  /** Share of the whole machine's CPU that was busy (any process: the machine is shared). */
  machineBusy: number | null;
}

/** Measures CPU use over `fn` (nulls when it took too little time to say). */
export async function withCpu<T>(
  serverPid: number,
  postmasterPid: number | null,
  fn: () => Promise<T>,
): Promise<{ result: T; cpu: CpuUse }> {
  const s0 = processCpuSeconds(serverPid);
  const d0 = postmasterPid ? treeCpuSeconds(postmasterPid) : null;
  const c0 = process.cpuUsage();
  const m0 = machineJiffies();
  const t0 = performance.now();
  const result = await fn();
  const seconds = (performance.now() - t0) / 1000;
  const s1 = processCpuSeconds(serverPid);
  const d1 = postmasterPid ? treeCpuSeconds(postmasterPid) : null;
  const c1 = process.cpuUsage(c0);
  const m1 = machineJiffies();
  if (seconds < 0.2) return { result, cpu: { server: null, database: null, client: null, machineBusy: null } };
  return {
    result,
    cpu: {
      server: s0 !== null && s1 !== null ? (s1 - s0) / seconds : null,
      database: d0 !== null && d1 !== null ? (d1 - d0) / seconds : null,
      client: (c1.user + c1.system) / 1e6 / seconds,
      machineBusy: m0 && m1 && m1.total > m0.total ? (m1.busy - m0.busy) / (m1.total - m0.total) : null,
    },
  };
}
