import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openStore, type StoreHandle } from '../../src/store/db.js';
import { createTestDatabase, databaseKinds, type TestDatabase } from './databases.js';

describe('test databases', () => {
  it('cover PostgreSQL exactly when TEST_DATABASE_URL names a server', () => {
    expect(databaseKinds).toEqual(process.env.TEST_DATABASE_URL ? ['pglite', 'postgres'] : ['pglite']);
  });
});

describe.each(databaseKinds)('the store on %s', (kind) => {
  let tdb: TestDatabase;
  let store: StoreHandle;

  beforeAll(async () => {
    tdb = await createTestDatabase(kind);
    store = await openStore({ databaseUrl: tdb.databaseUrl, dataDir: null });
  });
  afterAll(async () => {
    await store?.close();
    await tdb?.cleanup();
  });

  it('runs on the engine it was asked for, with the migrations applied', () => {
    expect(store.kind).toBe(kind);
  });

  it('stores an audit chain head and reads it back', async () => {
    await store.db.insertInto('audit_heads').values({ chain: 'global', seq: 1, hash: 'h1' }).execute();
    const head = await store.db.selectFrom('audit_heads').selectAll().where('chain', '=', 'global').executeTakeFirst();
    expect(head).toEqual({ chain: 'global', seq: 1, hash: 'h1' });
  });

  it('refuses to delete or rewrite an audit event: the audit trail is append-only', async () => {
    await store.db
      .insertInto('audit_events')
      .values({
        chain: 'global',
        seq: 1,
        type: 'test.event',
        actor: 'system',
        at: new Date(),
        data: JSON.stringify({ n: 1 }),
        prev_hash: '',
        hash: 'h1',
      })
      .execute();

    await expect(store.db.deleteFrom('audit_events').execute()).rejects.toThrow(/append-only/);
    await expect(store.db.updateTable('audit_events').set({ hash: 'forged' }).execute()).rejects.toThrow(
      /append-only/,
    );
    const events = await store.db.selectFrom('audit_events').select(['seq', 'hash']).execute();
    expect(events).toEqual([{ seq: 1, hash: 'h1' }]);
  });

  it('gives each suite its own database: rows written in one are not seen in another', async () => {
    const other = await createTestDatabase(kind);
    const otherStore = await openStore({ databaseUrl: other.databaseUrl, dataDir: null });
    try {
      expect(await otherStore.db.selectFrom('audit_heads').selectAll().execute()).toEqual([]);
    } finally {
      await otherStore.close();
      await other.cleanup();
    }
  });
});

describe.runIf(databaseKinds.includes('postgres'))('PostgreSQL test databases', () => {
  async function databaseExists(name: string): Promise<boolean> {
    const client = new pg.Client({ connectionString: process.env.TEST_DATABASE_URL });
    await client.connect();
    try {
      const { rowCount } = await client.query('SELECT 1 FROM pg_database WHERE datname = $1', [name]);
      return rowCount === 1;
    } finally {
      await client.end();
    }
  }

  it('are dropped by cleanup, even while a connection to them is still open', async () => {
    const tdb = await createTestDatabase('postgres');
    const name = new URL(tdb.databaseUrl!).pathname.slice(1);
    expect(name).toMatch(/^sesame_t_[0-9a-f]+$/);
    expect(await databaseExists(name)).toBe(true);

    const forgotten = new pg.Client({ connectionString: tdb.databaseUrl! });
    forgotten.on('error', () => {}); // the server ends this connection on purpose
    await forgotten.connect();
    await tdb.cleanup();

    expect(await databaseExists(name)).toBe(false);
    await forgotten.end().catch(() => {});
  });
});
