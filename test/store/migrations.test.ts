import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it, onTestFinished } from 'vitest';
import { openStore, type StoreHandle } from '../../src/store/db.js';
import { eraseSentPayloads, PAYLOAD_KEPT_MS } from '../../src/events/messages.js';
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

  /** A database of the test's own at the schema of `migration`: the shared one is already at the latest. */
  async function ownDatabaseAt(migration: string): Promise<StoreHandle> {
    const own = await createTestDatabase(kind);
    const handle = await openStore({ databaseUrl: own.databaseUrl, dataDir: null, migrate: false });
    onTestFinished(async () => {
      await handle.close();
      await own.cleanup();
    });
    await migrateUpTo(handle.db, migration);
    return handle;
  }

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

  it('011: revoked authenticators lose their secrets, now and whenever one is revoked later; live ones keep theirs', async () => {
    const store = await ownDatabaseAt('010-passkey-login');
    const at = new Date('2026-11-20T10:00:00Z');
    await sql`INSERT INTO customers (id, external_ref, display_name, created_at, updated_at) VALUES ('c11', 'ref-11', 'Bob', ${at}, ${at})`.execute(
      store.db,
    );
    await sql`
      INSERT INTO authenticators (id, customer_id, kind, category, status, label, secret_sealed, secret_digest, created_at, revoked_at)
      VALUES ('old-totp', 'c11', 'totp', 'possession', 'revoked', 'Old', 'sealed-old', NULL, ${at}, ${at}),
             ('old-pw', 'c11', 'password', 'knowledge', 'revoked', 'Password', NULL, '$argon2id$old', ${at}, ${at}),
             ('live-totp', 'c11', 'totp', 'possession', 'active', 'Live', 'sealed-live', NULL, ${at}, NULL),
             ('live-pw', 'c11', 'password', 'knowledge', 'active', 'Password', NULL, '$argon2id$live', ${at}, NULL)`.execute(store.db);

    expect(await migrateToLatest(store.db)).toContain('011-destroy-revoked-secrets');
    const secrets = async () =>
      (
        await store.db
          .selectFrom('authenticators')
          .select(['id', 'secret_sealed', 'secret_digest'])
          .where('customer_id', '=', 'c11')
          .orderBy('id')
          .execute()
      ).map((a) => [a.id, a.secret_sealed, a.secret_digest]);
    expect(await secrets()).toEqual([
      ['live-pw', null, '$argon2id$live'],
      ['live-totp', 'sealed-live', null],
      ['old-pw', null, null],
      ['old-totp', null, null],
    ]);
    // Any later update keeps a live secret; the one that revokes destroys it.
    await store.db.updateTable('authenticators').set({ last_used_step: 7 }).where('id', '=', 'live-totp').execute();
    await store.db.updateTable('authenticators').set({ status: 'revoked', revoked_at: at }).where('id', '=', 'live-pw').execute();
    expect(await secrets()).toEqual([
      ['live-pw', null, null],
      ['live-totp', 'sealed-live', null],
      ['old-pw', null, null],
      ['old-totp', null, null],
    ]);
  });

  it('012: payloads sent before the upgrade are erased an hour on, the records stay; a message still to send keeps its own', async () => {
    const store = await ownDatabaseAt('011-destroy-revoked-secrets');
    const sentAt = new Date('2026-11-20T10:00:00Z');
    await sql`
      INSERT INTO messages (id, customer_id, channel, destination, purpose, payload_sealed, status, attempts, next_attempt_at, created_at, updated_at)
      VALUES ('sent', NULL, 'sms', '+33611223344', 'otp:login', 'sealed-sent', 'delivered', 1, ${sentAt}, ${sentAt}, ${sentAt}),
             ('retrying', NULL, 'sms', '+33611223344', 'notice:secure_phone', 'sealed-retry', 'pending', 3, ${sentAt}, ${sentAt}, ${sentAt}),
             ('recent', NULL, 'voice', '+33142685300', 'otp:login', 'sealed-recent', 'sent', 1, ${sentAt}, ${new Date(sentAt.getTime() + 50 * 60_000)}, ${sentAt})`.execute(
      store.db,
    );
    expect(await migrateToLatest(store.db)).toContain('012-erase-sent-messages');
    const payloads = async () =>
      (await store.db.selectFrom('messages').select(['id', 'payload_sealed', 'status']).orderBy('id').execute()).map((m) => [
        m.id,
        m.payload_sealed,
        m.status,
      ]);
    expect(await eraseSentPayloads(store.db, new Date(sentAt.getTime() + PAYLOAD_KEPT_MS + 1000))).toBe(1);
    expect(await payloads()).toEqual([
      ['recent', 'sealed-recent', 'sent'],
      ['retrying', 'sealed-retry', 'pending'],
      ['sent', null, 'delivered'],
    ]);
    // Nothing erased twice; the recent one goes when its hour is up.
    expect(await eraseSentPayloads(store.db, new Date(sentAt.getTime() + 2 * PAYLOAD_KEPT_MS))).toBe(1);
    expect((await payloads()).map(([, payload]) => payload)).toEqual([null, 'sealed-retry', null]);
  });
});
