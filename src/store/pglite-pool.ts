import type { PostgresPool, PostgresPoolClient, PostgresQueryResult } from 'kysely';
import { PGliteStatements } from './pglite-statements.js';
import { PGliteThread } from './pglite-thread.js';

const BEGINS = /^\s*(begin|start\s+transaction)\b/i;
const ENDS = /^\s*(commit|rollback|end|abort)\s*;?\s*$/i;

/**
 * Presents the one embedded PGlite database (on its own thread, `PGliteThread`) as the small `pg.Pool`
 * surface Kysely's PostgresDialect uses, so that the embedded database and a PostgreSQL server run the
 * very same queries.
 *
 * PGlite is one connection, which runs requests in the order they are sent. A query outside any
 * transaction is sent at once, queued behind the others (the database thread never waits for this one
 * between two queries). A transaction has the database to itself from its `begin` to its end: queries of
 * other holders wait meanwhile, which also makes `SELECT … FOR UPDATE` trivially correct here.
 */
export class PGlitePool implements PostgresPool {
  readonly #thread: PGliteThread;
  readonly #statements: PGliteStatements;
  /** The end of the transaction holding the database, if one does. */
  #transaction: Promise<void> | null = null;

  constructor(thread: PGliteThread) {
    this.#thread = thread;
    this.#statements = new PGliteStatements(thread);
  }

  static async open(dataDir: string | undefined): Promise<PGlitePool> {
    return new PGlitePool(await PGliteThread.open(dataDir));
  }

  /** Runs SQL outside any holder's transaction (a setting, a script). */
  async exec(sql: string): Promise<void> {
    while (this.#transaction) await this.#transaction;
    await this.#statements.exec(sql);
  }

  async connect(): Promise<PostgresPoolClient> {
    /** Set while this holder's transaction has the database: ends it and lets the others in. */
    let holding: { end: () => void } | null = null;
    let released = false;
    const endTransaction = () => {
      const h = holding;
      holding = null;
      this.#transaction = null;
      h?.end();
    };
    const client = {
      query: async <R>(sql: string, parameters: ReadonlyArray<unknown>): Promise<PostgresQueryResult<R>> => {
        if (released) throw new Error('This embedded database client was released.');
        const outside = !holding;
        // Each request is sent right after finding no transaction holding the database, with nothing
        // awaited in between: no transaction can begin between the check and the send.
        while (parameters.length && !this.#statements.isPrepared(sql)) {
          while (outside && this.#transaction) await this.#transaction;
          await this.#statements.prepare(sql);
        }
        while (outside && this.#transaction) await this.#transaction;
        let begins = false;
        if (outside) {
          if (BEGINS.test(sql)) {
            begins = true;
            const h = { end: () => {} };
            this.#transaction = new Promise<void>((resolve) => (h.end = resolve));
            holding = h;
          }
        }
        try {
          return await this.#send<R>(sql, parameters);
        } catch (e) {
          // A failed `begin` holds nothing.
          if (begins) endTransaction();
          throw e;
        } finally {
          // A failed `commit` has ended the transaction all the same.
          if (holding && !begins && ENDS.test(sql)) endTransaction();
        }
      },
      release: () => {
        if (released) return;
        released = true;
        // A holder that leaves without ending its transaction: roll it back rather than keep the database.
        if (holding) void this.#statements.exec('rollback').finally(endTransaction);
      },
    };
    return client as unknown as PostgresPoolClient;
  }

  async end(): Promise<void> {
    while (this.#transaction) await this.#transaction;
    await this.#thread.close();
  }

  /** Sends at once (the statement is prepared): see `PGliteStatements.query`. */
  async #send<R>(sql: string, parameters: ReadonlyArray<unknown>): Promise<PostgresQueryResult<R>> {
    // Without parameters, the simple protocol, which also runs multi-statement scripts (migrations).
    const res = await (parameters.length === 0 ? this.#statements.exec(sql) : this.#statements.query<R>(sql, parameters));
    const command = (sql.trimStart().split(/\s/, 1)[0]?.toUpperCase() ?? 'SELECT') as PostgresQueryResult<R>['command'];
    return { command, rowCount: res.affectedRows ?? res.rows.length, rows: res.rows as R[] };
  }
}
