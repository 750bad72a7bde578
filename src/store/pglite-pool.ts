import { PGlite } from '@electric-sql/pglite';
import type { PostgresPool, PostgresPoolClient, PostgresQueryResult } from 'kysely';
import { PGliteStatements } from './pglite-statements.js';

/**
 * Presents one embedded PGlite database as the small `pg.Pool` surface Kysely's PostgresDialect uses,
 * so that the embedded database and a PostgreSQL server run the very same queries. PGlite is a single
 * connection: `connect()` hands it to one holder at a time (a transaction keeps it until released),
 * which also makes `SELECT … FOR UPDATE` trivially correct here.
 */
export class PGlitePool implements PostgresPool {
  readonly db: PGlite;
  readonly #statements: PGliteStatements;
  #tail: Promise<void> = Promise.resolve();

  constructor(db: PGlite) {
    this.db = db;
    this.#statements = new PGliteStatements(db);
  }

  static async open(dataDir: string | undefined): Promise<PGlitePool> {
    const db = await PGlite.create({
      ...(dataDir ? { dataDir } : {}),
      // Large integers are counters and sequence numbers here; keep them as numbers like the pg driver setup.
      parsers: { 20: (v: string) => Number(v) },
      relaxedDurability: true,
    });
    return new PGlitePool(db);
  }

  async connect(): Promise<PostgresPoolClient> {
    let release!: () => void;
    const previous = this.#tail;
    this.#tail = new Promise<void>((resolve) => (release = resolve));
    await previous;
    const db = this.db;
    const statements = this.#statements;
    let released = false;
    const client = {
      async query<R>(sql: string, parameters: ReadonlyArray<unknown>): Promise<PostgresQueryResult<R>> {
        // Without parameters, use the simple protocol, which also runs multi-statement scripts (migrations).
        const res =
          parameters.length === 0
            ? ((await db.exec(sql)).at(-1) ?? { rows: [], affectedRows: 0 })
            : await statements.query<R>(sql, parameters);
        const command = (sql.trimStart().split(/\s/, 1)[0]?.toUpperCase() ?? 'SELECT') as PostgresQueryResult<R>['command'];
        return { command, rowCount: res.affectedRows ?? res.rows.length, rows: res.rows as R[] };
      },
      release() {
        if (released) return;
        released = true;
        release();
      },
    };
    return client as PostgresPoolClient;
  }

  async end(): Promise<void> {
    await this.#tail;
    await this.db.close();
  }
}
