import fs from 'node:fs';
import path from 'node:path';
import { Kysely, PostgresDialect } from 'kysely';
import pg from 'pg';
import { defaultPoolSize } from '../config.js';
import { PGlitePool } from './pglite-pool.js';
import { PreparedStatementPool } from './prepared-pool.js';
import type { Database } from './schema.js';
import { migrateToLatest } from './migrate.js';

export type Db = Kysely<Database>;

export interface StoreHandle {
  db: Db;
  kind: 'pglite' | 'postgres';
  close(): Promise<void>;
}

export interface OpenStoreOptions {
  databaseUrl: string | null;
  /** PGlite data folder; `null` runs an in-memory database (tests). */
  dataDir: string | null;
  /** PostgreSQL connections; by default the configuration's default (`defaultPoolSize()`). */
  poolSize?: number;
  migrate?: boolean;
  /** Told when an idle PostgreSQL connection fails (it is replaced; nothing else to do). */
  onIdleError?: (err: Error) => void;
}

/**
 * Every statement is prepared once per connection (`PreparedStatementPool`, `PGliteStatements`) and every
 * one is keyed (ids, a customer, a chain), so the plan never depends on the values bound. PostgreSQL's
 * default still plans some of them again on every call: for `x = ANY($1)` the generic plan's estimate
 * (an array of unknown length) looks worse than a custom plan for a one-element array, and replanning
 * the attempt's read cost more than executing it. Generic plans throughout remove that work.
 */
const GENERIC_PLANS = 'force_generic_plan';
const GENERIC_PLANS_OPTION = `-c plan_cache_mode=${GENERIC_PLANS}`;

/**
 * Opens the one store: a PostgreSQL server when a URL is given, otherwise embedded PGlite in a data
 * folder. Both speak the same SQL through the same Kysely dialect.
 */
export async function openStore(opts: OpenStoreOptions): Promise<StoreHandle> {
  let handle: StoreHandle;
  if (opts.databaseUrl) {
    // int8 (counts, sequence numbers) as numbers rather than strings.
    pg.types.setTypeParser(20, (v) => Number(v));
    // `options` in the URL, if any, wins over ours (node-postgres lets the connection string override).
    const pool = new pg.Pool({
      connectionString: opts.databaseUrl,
      max: opts.poolSize ?? defaultPoolSize(),
      options: GENERIC_PLANS_OPTION,
    });
    // An idle connection closed by the server (restart, failover, admin termination) is dropped from the
    // pool and replaced on next use; without a listener, node-postgres would crash the whole process.
    pool.on('error', (err) => opts.onIdleError?.(err));
    const db = new Kysely<Database>({ dialect: new PostgresDialect({ pool: new PreparedStatementPool(pool) }) });
    handle = { db, kind: 'postgres', close: () => db.destroy() };
  } else {
    const unlock = opts.dataDir ? lockDataDir(opts.dataDir) : () => {};
    const pool = await PGlitePool.open(opts.dataDir ?? undefined);
    await pool.exec(`SET plan_cache_mode = ${GENERIC_PLANS}`);
    const db = new Kysely<Database>({ dialect: new PostgresDialect({ pool }) });
    handle = {
      db,
      kind: 'pglite',
      close: async () => {
        await db.destroy();
        unlock();
      },
    };
  }
  if (opts.migrate !== false) await migrateToLatest(handle.db);
  return handle;
}

/**
 * The embedded database belongs to one process at a time (two would corrupt it): a lock file with the
 * owner's PID, taken over only when that process is gone.
 */
function lockDataDir(dataDir: string): () => void {
  fs.mkdirSync(dataDir, { recursive: true });
  const file = path.join(path.dirname(dataDir), `${path.basename(dataDir)}.lock`);
  try {
    fs.writeFileSync(file, String(process.pid), { flag: 'wx' });
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
    const pid = Number(fs.readFileSync(file, 'utf8'));
    if (pid && pid !== process.pid && isAlive(pid)) {
      throw new Error(`The embedded database in ${dataDir} is in use by process ${pid} (a running server?). Stop it, or use the HTTP API.`);
    }
    fs.writeFileSync(file, String(process.pid));
  }
  return () => fs.rmSync(file, { force: true });
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}
