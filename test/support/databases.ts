import crypto from 'node:crypto';
import pg from 'pg';

/** One database for one test suite, on the embedded engine or on a real PostgreSQL server. */
export interface TestDatabase {
  name: 'pglite' | 'postgres';
  /** What to give `openStore({ databaseUrl, dataDir: null })`: `null` means an in-memory PGlite. */
  databaseUrl: string | null;
  /** Drops the PostgreSQL database (closing any connection still open); nothing to do for PGlite. */
  cleanup(): Promise<void>;
}

export type DatabaseKind = TestDatabase['name'];

const serverUrl = process.env.TEST_DATABASE_URL || null;

/**
 * The engines this run covers: PGlite always, PostgreSQL when `TEST_DATABASE_URL` names a server
 * (`npm test` starts a throwaway one when PostgreSQL is installed).
 */
export const databaseKinds: DatabaseKind[] = serverUrl ? ['pglite', 'postgres'] : ['pglite'];

/**
 * A fresh, empty database of the given kind. For PostgreSQL it is a new database
 * (`sesame_t_<random>`) on the `TEST_DATABASE_URL` server, so suites running in parallel never see
 * each other's rows; `cleanup()` drops it. Migrations are not run here: `openStore` runs them.
 *
 * @example
 * describe.each(databaseKinds)('lockout on %s', (kind) => {
 *   let tdb: TestDatabase;
 *   let store: StoreHandle;
 *   beforeAll(async () => {
 *     tdb = await createTestDatabase(kind);
 *     store = await openStore({ databaseUrl: tdb.databaseUrl, dataDir: null });
 *   });
 *   afterAll(async () => {
 *     await store?.close();
 *     await tdb?.cleanup();
 *   });
 * });
 */
export async function createTestDatabase(kind: DatabaseKind): Promise<TestDatabase> {
  if (kind === 'pglite') return { name: 'pglite', databaseUrl: null, cleanup: async () => {} };
  if (!serverUrl) {
    throw new Error('createTestDatabase("postgres") needs TEST_DATABASE_URL; iterate over databaseKinds');
  }
  const dbName = `sesame_t_${crypto.randomBytes(8).toString('hex')}`;
  await withServer((client) => client.query(`CREATE DATABASE ${dbName}`));
  const url = new URL(serverUrl);
  url.pathname = `/${dbName}`;

  let dropped: Promise<void> | null = null;
  return {
    name: 'postgres',
    databaseUrl: url.toString(),
    cleanup: () => (dropped ??= dropDatabase(dbName)),
  };
}

async function dropDatabase(dbName: string): Promise<void> {
  await withServer(async (client) => {
    // A pool the test forgot to close must not keep the database alive.
    await client.query(
      'SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1 AND pid <> pg_backend_pid()',
      [dbName],
    );
    await client.query(`DROP DATABASE IF EXISTS ${dbName} WITH (FORCE)`);
  });
}

/** Runs statements on the server's maintenance database (the one `TEST_DATABASE_URL` names). */
async function withServer<T>(work: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: serverUrl! });
  await client.connect();
  try {
    return await work(client);
  } finally {
    await client.end();
  }
}
