import { parse, protocol, type PGlite, type Results } from '@electric-sql/pglite';

const { serialize } = protocol;

/**
 * Named prepared statements on embedded PGlite. PGlite's `query()` parses and plans the SQL text on
 * every call and crosses into WebAssembly five times (parse, describe, bind, describe, execute); here a
 * statement text is parsed and planned once, and each call is one batch (bind, describe, execute, sync).
 * Values are serialised and rows parsed by PGlite's own serializers and parsers, exactly as `query()`
 * does, so results are identical.
 */
export class PGliteStatements {
  readonly #db: PGlite;
  readonly #prepared = new Map<string, { name: string; paramTypes: number[] }>();

  constructor(db: PGlite) {
    this.#db = db;
  }

  async query<R>(sql: string, params: ReadonlyArray<unknown>): Promise<Results<R>> {
    const statement = this.#prepared.get(sql) ?? (await this.#prepare(sql));
    const values = params.map((v, i) => {
      if (v === null || v === undefined) return null;
      const serializer = this.#db.serializers[statement.paramTypes[i]!];
      return serializer ? serializer(v) : String(v);
    });
    const { messages } = await this.#db.execProtocol(
      batch(
        serialize.bind({ statement: statement.name, values }),
        serialize.describe({ type: 'P' }),
        serialize.execute({}),
        serialize.sync(),
      ),
    );
    return parse.parseResults(messages, this.#db.parsers).at(-1) as Results<R>;
  }

  async #prepare(sql: string) {
    const name = `s${this.#prepared.size + 1}`;
    const { messages } = await this.#db.execProtocol(
      batch(serialize.parse({ name, text: sql }), serialize.describe({ type: 'S', name }), serialize.sync()),
    );
    const statement = { name, paramTypes: parse.parseDescribeStatementResults(messages) };
    this.#prepared.set(sql, statement);
    return statement;
  }
}

function batch(...parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}
