import { execFile } from 'node:child_process';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import pg from 'pg';
import { loadConfig } from '../../src/config.js';
import { PGlitePool } from '../../src/store/pglite-pool.js';
import { ROOT } from './procs.js';
import { completionsPerSecond } from './load.js';

const execFileAsync = promisify(execFile);
const RAW_SCRIPT = path.join(ROOT, 'bench', 'lib', 'argon2-raw.ts');

/**
 * The limits each figure is compared with, measured in the same run on the same machine:
 * single-row `UPDATE … RETURNING` commits/s through the server's driver at the benchmark's concurrency,
 * and raw argon2id verifications/s on every core.
 */
export interface Limit {
  what: string;
  perSecond: number;
}

interface Queryable {
  query(sql: string, params: unknown[]): Promise<unknown>;
}

const TABLE = 'sesame_bench_commit_limit';

/** One autocommitted `UPDATE … RETURNING` of the worker's own row, `concurrency` at a time. */
async function updateLoop(
  run: (sql: string, params: unknown[]) => Promise<unknown>,
  concurrency: number,
  seconds: number,
): Promise<number> {
  await run(`CREATE TABLE IF NOT EXISTS ${TABLE} (id integer PRIMARY KEY, n bigint NOT NULL)`, []);
  await run(`INSERT INTO ${TABLE} (id, n) SELECT g, 0 FROM generate_series(0, ${concurrency - 1}) g ON CONFLICT (id) DO NOTHING`, []);
  // Warm up (plans, connections), then measure.
  await completionsPerSecond(concurrency, 0.5, (w) =>
    run(`UPDATE ${TABLE} SET n = n + 1 WHERE id = $1 RETURNING n`, [w]).then(() => undefined),
  );
  const rate = await completionsPerSecond(concurrency, seconds, (w) =>
    run(`UPDATE ${TABLE} SET n = n + 1 WHERE id = $1 RETURNING n`, [w]).then(() => undefined),
  );
  await run(`DROP TABLE ${TABLE}`, []);
  return rate;
}

/** Through a pg.Pool of the server's size (`defaultPoolSize()` in src/config.ts) against the same PostgreSQL. */
export async function postgresCommitLimit(
  databaseUrl: string,
  opts: { concurrency: number; seconds: number; poolSize: number },
): Promise<Limit> {
  const pool = new pg.Pool({ connectionString: databaseUrl, max: opts.poolSize });
  try {
    const q: Queryable = pool;
    const perSecond = await updateLoop((sql, params) => q.query(sql, params), opts.concurrency, opts.seconds);
    return { what: `UPDATE…RETURNING commits/s (pg pool ${opts.poolSize}, c=${opts.concurrency})`, perSecond };
  } finally {
    await pool.end();
  }
}

/** On a fresh PGlite opened exactly as the server opens it (src/store/pglite-pool.ts), in this process. */
export async function pgliteCommitLimit(dataDir: string, opts: { concurrency: number; seconds: number }): Promise<Limit> {
  const pool = await PGlitePool.open(dataDir);
  try {
    const perSecond = await updateLoop(
      async (sql, params) => {
        const client = await pool.connect();
        try {
          return await client.query(sql, params);
        } finally {
          client.release();
        }
      },
      opts.concurrency,
      opts.seconds,
    );
    return { what: `UPDATE…RETURNING commits/s (PGlite, c=${opts.concurrency})`, perSecond };
  } finally {
    await pool.end();
  }
}

/** The argon2id parameters of the server under test: the configuration's defaults (the bench sets no SESAME_ARGON2_*). */
export const SERVER_ARGON2 = loadConfig({}).argon2;

/**
 * Raw argon2id verifications/s at the server's parameters, at their best on this machine: in a process of
 * its own with one libuv thread per core (see `argon2-raw.ts`; four threads on two cores were slower).
 */
export async function argon2Limit(
  params: { memoryCost: number; timeCost: number; parallelism: number },
  opts: { seconds: number },
): Promise<Limit> {
  const threads = os.availableParallelism();
  const { stdout } = await execFileAsync(process.execPath, ['--import', 'tsx', RAW_SCRIPT, JSON.stringify(params), String(opts.seconds)], {
    cwd: ROOT,
    env: { ...process.env, UV_THREADPOOL_SIZE: String(threads) },
    timeout: (opts.seconds + 60) * 1000,
  });
  const { perSecond, inFlight } = JSON.parse(stdout) as { perSecond: number; inFlight: number };
  return {
    what: `argon2id verifies/s (m=${params.memoryCost},t=${params.timeCost},p=${params.parallelism}, ${threads} threads, ${inFlight} in flight)`,
    perSecond,
  };
}

/**
 * A limit measured just before and just after a scenario, and their mean: this machine's speed drifts
 * by a third within minutes, and a limit taken on one side only moves the ratio with that drift.
 */
export async function bracketed<T>(
  measureLimit: () => Promise<Limit>,
  scenario: (before: Limit) => Promise<T>,
): Promise<{ result: T; before: Limit; after: Limit; limit: Limit }> {
  const before = await measureLimit();
  const result = await scenario(before);
  const after = await measureLimit();
  return { result, before, after, limit: { what: before.what, perSecond: (before.perSecond + after.perSecond) / 2 } };
}
