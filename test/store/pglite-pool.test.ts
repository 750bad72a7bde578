import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openStore, type StoreHandle } from '../../src/store/db.js';

/**
 * The embedded database runs on its own thread and is one connection: queries outside transactions are
 * sent as they come, and a transaction has it to itself. These are the guarantees the rest relies on.
 */
describe('the embedded database (PGlite on its own thread)', () => {
  let store: StoreHandle;
  beforeAll(async () => {
    store = await openStore({ databaseUrl: null, dataDir: null, migrate: false });
    await sql`CREATE TABLE t (id text PRIMARY KEY, n int8 NOT NULL, tags text[] NOT NULL DEFAULT '{}')`.execute(store.db);
  }, 60_000);
  afterAll(() => store?.close());

  const rows = async () => (await sql<{ id: string }>`SELECT id FROM t ORDER BY id`.execute(store.db)).rows.map((r) => r.id);

  it('a query sent while a transaction holds the database waits for it, and is not part of it', async () => {
    let inside!: () => void;
    const started = new Promise<void>((resolve) => (inside = resolve));
    let carryOn!: () => void;
    const held = new Promise<void>((resolve) => (carryOn = resolve));
    const transaction = store.db
      .transaction()
      .execute(async (tx) => {
        await sql`INSERT INTO t (id, n) VALUES ('in-tx', 1)`.execute(tx);
        inside();
        await held;
        throw new Error('roll back');
      })
      .catch((e: Error) => e.message);
    await started;
    const outside = sql`INSERT INTO t (id, n) VALUES (${'outside'}, ${2})`.execute(store.db);
    let outsideDone = false;
    void outside.then(() => (outsideDone = true));
    await new Promise((r) => setTimeout(r, 50));
    expect(outsideDone).toBe(false);
    carryOn();
    expect(await transaction).toBe('roll back');
    await outside;
    expect(await rows()).toEqual(['outside']);
  });

  it('many first uses of one statement at once prepare it once and all answer', async () => {
    const ids = Array.from({ length: 40 }, (_, i) => `many-${String(i).padStart(2, '0')}`);
    await Promise.all(ids.map((id, i) => sql`INSERT INTO t (id, n) VALUES (${id}, ${i})`.execute(store.db)));
    const found = await Promise.all(ids.map((id) => sql<{ n: number }>`SELECT n FROM t WHERE id = ${id}`.execute(store.db)));
    expect(found.map((r) => r.rows[0]!.n)).toEqual(ids.map((_, i) => i));
  });

  it('answers with PGlite’s types: int8 as numbers, arrays both ways', async () => {
    await sql`INSERT INTO t (id, n, tags) VALUES (${'typed'}, ${9007199254740991}, ${['a', 'b c']})`.execute(store.db);
    const { rows: r } = await sql<{ n: number; tags: string[] }>`SELECT n, tags FROM t WHERE id = ${'typed'}`.execute(store.db);
    expect(r[0]).toEqual({ n: 9007199254740991, tags: ['a', 'b c'] });
  });

  it('an error carries its SQLSTATE, and the database carries on', async () => {
    const dup = sql`INSERT INTO t (id, n) VALUES (${'typed'}, ${1})`.execute(store.db);
    await expect(dup).rejects.toMatchObject({ code: '23505' });
    await expect(sql`SELEC 1`.execute(store.db)).rejects.toMatchObject({ code: '42601' });
    expect((await sql<{ one: number }>`SELECT 1 AS one`.execute(store.db)).rows).toEqual([{ one: 1 }]);
  });

  it('a failed transaction is rolled back and lets the others in', async () => {
    const failed = store.db.transaction().execute(async (tx) => {
      await sql`INSERT INTO t (id, n) VALUES (${'doomed'}, ${1})`.execute(tx);
      await sql`INSERT INTO t (id, n) VALUES (${'typed'}, ${1})`.execute(tx);
    });
    const after = sql`INSERT INTO t (id, n) VALUES (${'after'}, ${1})`.execute(store.db);
    await expect(failed).rejects.toMatchObject({ code: '23505' });
    await after;
    const all = await rows();
    expect(all).toContain('after');
    expect(all).not.toContain('doomed');
  });
});
