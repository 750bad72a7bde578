import fs from 'node:fs';
import path from 'node:path';
import { Kysely, PostgresDialect } from 'kysely';
import pg from 'pg';
import { PGlitePool } from './pglite-pool.js';
import type { Database } from './schema.js';
import { migrateToLatest } from './migrate.js';

export type Db = Kysely<Database>;

export interface StoreHandle {
  db: Db;
  kind: 'pglite' | 'postgres';
  /** The embedded database, when that is what runs (used by tests and LISTEN fallbacks). */
  pglite: PGlitePool | null;
  close(): Promise<void>;
}

export interface OpenStoreOptions {
  databaseUrl: string | null;
  /** PGlite data folder; `null` runs an in-memory database (tests). */
  dataDir: string | null;
  poolSize?: number;
  migrate?: boolean;
}

/**
 * Opens the one store: a PostgreSQL server when a URL is given, otherwise embedded PGlite in a data
 * folder. Both speak the same SQL through the same Kysely dialect.
 */
export async function openStore(opts: OpenStoreOptions): Promise<StoreHandle> {
  let handle: StoreHandle;
  if (opts.databaseUrl) {
    // int8 (counts, sequence numbers) as numbers rather than strings.
    pg.types.setTypeParser(20, (v) => Number(v));
    const pool = new pg.Pool({ connectionString: opts.databaseUrl, max: opts.poolSize ?? 16 });
    const db = new Kysely<Database>({ dialect: new PostgresDialect({ pool }) });
    handle = { db, kind: 'postgres', pglite: null, close: () => db.destroy() };
  } else {
    if (opts.dataDir) fs.mkdirSync(path.dirname(opts.dataDir), { recursive: true });
    const pool = await PGlitePool.open(opts.dataDir ?? undefined);
    const db = new Kysely<Database>({ dialect: new PostgresDialect({ pool }) });
    handle = { db, kind: 'pglite', pglite: pool, close: () => db.destroy() };
  }
  if (opts.migrate !== false) await migrateToLatest(handle.db);
  return handle;
}
