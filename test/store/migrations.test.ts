import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openStore, type StoreHandle } from '../../src/store/db.js';
import { migrateToLatest, migrateUpTo } from '../../src/store/migrate.js';
import { createTestDatabase, databaseKinds, type TestDatabase } from '../support/databases.js';

/** Upgrades keep what they move: a database at an earlier schema, with rows in it, migrated to the latest. */
describe.each(databaseKinds)('migrations on %s', (kind) => {
  let tdb: TestDatabase;
  let store: StoreHandle;

  beforeAll(async () => {
    tdb = await createTestDatabase(kind);
    store = await openStore({ databaseUrl: tdb.databaseUrl, dataDir: null, migrate: false });
  }, 60_000);
  afterAll(async () => {
    await store?.close();
    await tdb?.cleanup();
  });

  it('009: an authentication code consumed before the upgrade stays consumed, an unconsumed one stays usable', async () => {
    await migrateUpTo(store.db, '008-webauthn');
    const at = new Date('2026-11-20T10:00:00Z');
    // One statement each: parameters are not allowed in a multi-statement query.
    await sql`INSERT INTO customers (id, external_ref, display_name, created_at, updated_at) VALUES ('c1', 'ref-1', 'Alice', ${at}, ${at})`.execute(
      store.db,
    );
    await sql`
      INSERT INTO operations (id, customer_id, rp_id, type, status, data, link_hash, created_at, expires_at, completed_at, auth_code_id)
      VALUES ('op-used', 'c1', 'rp1', 'payment', 'authorised', '{}', 'lh', ${at}, ${at}, ${at}, 'code-used'),
             ('op-fresh', 'c1', 'rp1', 'payment', 'authorised', '{}', 'lh', ${at}, ${at}, ${at}, 'code-fresh')`.execute(store.db);
    await sql`
      INSERT INTO authentication_codes (id, operation_id, customer_id, rp_id, issued_at, expires_at, consumed_at)
      VALUES ('code-used', 'op-used', 'c1', 'rp1', ${at}, ${at}, ${new Date('2026-11-20T10:00:30Z')}),
             ('code-fresh', 'op-fresh', 'c1', 'rp1', ${at}, ${at}, NULL)`.execute(store.db);

    expect(await migrateToLatest(store.db)).toContain('009-codes-on-operations');

    const rows = await store.db.selectFrom('operations').select(['id', 'auth_code_id', 'code_consumed_at']).orderBy('id').execute();
    expect(rows.map((r) => [r.id, r.auth_code_id, r.code_consumed_at && new Date(r.code_consumed_at).toISOString()])).toEqual([
      ['op-fresh', 'code-fresh', null],
      ['op-used', 'code-used', '2026-11-20T10:00:30.000Z'],
    ]);
    const left = await sql<{ n: number }>`SELECT count(*)::int AS n FROM pg_tables WHERE tablename = 'authentication_codes'`.execute(
      store.db,
    );
    expect(left.rows[0]!.n).toBe(0);
  });
});
