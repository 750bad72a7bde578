import { parse, type Results } from '@electric-sql/pglite';
import { DatabaseError, serialize } from 'pg-protocol';
import type { BackendMessage } from 'pg-protocol/dist/messages.js';
import { Parser } from 'pg-protocol/dist/parser.js';
import type { PGliteThread } from './pglite-thread.js';

/**
 * Queries on the embedded database's thread, as named prepared statements: a statement text is parsed and
 * planned once (`prepare`), and each call is one exchange (bind, describe, execute, sync). The wire protocol
 * is written and read by node-postgres's `pg-protocol` (PGlite's own copy of it is several times slower);
 * values are serialised and rows parsed by PGlite's own type handlers, exactly as its `query()` does, so
 * results are identical. An error is the database's `DatabaseError`, with its SQLSTATE `code`.
 */
export class PGliteStatements {
  readonly #db: PGliteThread;
  readonly #prepared = new Map<string, { name: string; paramTypes: number[] }>();
  readonly #preparing = new Map<string, Promise<void>>();
  #named = 0;

  constructor(db: PGliteThread) {
    this.#db = db;
  }

  isPrepared(sql: string): boolean {
    return this.#prepared.has(sql);
  }

  /** Parses and describes a statement text once (one exchange shared by concurrent callers). */
  prepare(sql: string): Promise<void> {
    let preparing = this.#preparing.get(sql);
    if (!preparing) {
      const name = `s${++this.#named}`;
      preparing = this.#exchange(serialize.parse({ name, text: sql }), serialize.describe({ type: 'S', name }), serialize.sync())
        .then((messages) => void this.#prepared.set(sql, { name, paramTypes: parse.parseDescribeStatementResults(messages) }))
        .finally(() => this.#preparing.delete(sql));
      this.#preparing.set(sql, preparing);
    }
    return preparing;
  }

  /**
   * Runs a prepared statement (see `prepare`). The request is sent before this returns: what the
   * caller checked just before still holds when the database thread receives it.
   */
  query<R>(sql: string, params: ReadonlyArray<unknown>): Promise<Results<R>> {
    const statement = this.#prepared.get(sql);
    if (!statement) return Promise.reject(new Error('Statement not prepared.'));
    const values = params.map((v, i) => {
      if (v === null || v === undefined) return null;
      const serializer = this.#db.serializers[statement.paramTypes[i]!];
      return serializer ? serializer(v) : String(v);
    });
    return this.#exchange(
      serialize.bind({ statement: statement.name, values }),
      serialize.describe({ type: 'P' }),
      serialize.execute({}),
      serialize.sync(),
    ).then((messages) => parse.parseResults(messages, this.#db.parsers).at(-1) as Results<R>);
  }

  /**
   * The simple protocol: no parameters, and several statements at once (migrations). The last result.
   * Sent before this returns, like `query`.
   */
  exec(sql: string): Promise<Results> {
    return this.#exchange(serialize.query(sql)).then(
      (messages) => parse.parseResults(messages, this.#db.parsers).at(-1) ?? { rows: [], fields: [], affectedRows: 0 },
    );
  }

  /** Sends at once (synchronously); the answer's messages, or the `DatabaseError` if it holds one. */
  #exchange(...parts: Buffer[]): Promise<BackendMessage[]> {
    return this.#db.exchange(parts.length === 1 ? parts[0]! : Buffer.concat(parts)).then((bytes) => {
      const answer: BackendMessage[] = [];
      new Parser().parse(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength), (m) => answer.push(m));
      const error = answer.find((m) => m instanceof DatabaseError);
      if (error) throw error;
      // PGlite's result builder reads the same message names and fields as its own parser's.
      return answer;
    });
  }
}
