import pg from 'pg';
import { describe, expect, it } from 'vitest';
import { openStore } from '../../src/store/db.js';
import { createTestDatabase } from '../support/databases.js';

const url = process.env.TEST_DATABASE_URL;

describe.skipIf(!url)('a PostgreSQL connection closed by the server', () => {
  it('does not crash the process: the pool drops it, says so, and the next query works', async () => {
    const tdb = await createTestDatabase('postgres');
    const errors: Error[] = [];
    const store = await openStore({ databaseUrl: tdb.databaseUrl, dataDir: null, onIdleError: (e) => errors.push(e) });
    try {
      await store.db.selectFrom('audit_heads').select('chain').execute(); // leaves an idle pooled connection
      const admin = new pg.Client({ connectionString: url });
      await admin.connect();
      const db = new URL(tdb.databaseUrl!).pathname.slice(1);
      await admin.query('SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1 AND pid <> pg_backend_pid()', [db]);
      await admin.end();
      await expect.poll(() => errors.length).toBeGreaterThan(0);
      expect((await store.db.selectFrom('audit_heads').select('chain').execute()).length).toBe(0);
    } finally {
      await store.close();
      await tdb.cleanup();
    }
  });
});
