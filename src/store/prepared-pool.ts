import { createHash } from 'node:crypto';
import type { PostgresPool, PostgresPoolClient } from 'kysely';
import type pg from 'pg';

/**
 * A `pg.Pool` seen by Kysely, whose parameterised queries are named prepared statements: each server
 * connection parses and plans a statement text once and then only binds and executes it. The SQL texts
 * are the fixed set Kysely builds from the code, so the number of statements per connection is bounded.
 * Queries without parameters (migrations, multi-statement scripts) go through unchanged.
 */
export class PreparedStatementPool implements PostgresPool {
  readonly #pool: pg.Pool;
  readonly #names = new Map<string, string>();

  constructor(pool: pg.Pool) {
    this.#pool = pool;
  }

  async connect(): Promise<PostgresPoolClient> {
    const client = await this.#pool.connect();
    const query = (sqlOrCursor: any, parameters?: ReadonlyArray<unknown>) => {
      if (typeof sqlOrCursor !== 'string' || !parameters?.length) return client.query(sqlOrCursor, parameters as unknown[]);
      const values = parameters as unknown[];
      return client
        .query({ name: this.#nameOf(sqlOrCursor), text: sqlOrCursor, values })
        .catch((e: { code?: string; message?: string }) => {
          // A migration by a newer server changed a table under a `SELECT *` this connection prepared:
          // answer this query unprepared rather than fail it (the connection keeps the stale plan).
          if (e.code === '0A000' && /cached plan must not change result type/.test(e.message ?? ''))
            return client.query(sqlOrCursor, values);
          throw e;
        });
    };
    return { query, release: () => client.release() } as unknown as PostgresPoolClient;
  }

  end(): Promise<void> {
    return this.#pool.end();
  }

  #nameOf(sql: string): string {
    let name = this.#names.get(sql);
    if (!name) {
      name = `s_${createHash('sha256').update(sql).digest('base64url').slice(0, 22)}`;
      this.#names.set(sql, name);
    }
    return name;
  }
}
