import { CompiledQuery } from 'kysely';
import type { Db } from './db.js';
import type { OperationRow, SessionRow } from './schema.js';

/**
 * The two statements a payment started in a login session costs before its SCA, as fixed SQL texts
 * (prepared once per connection, nothing built per request): the session the token names, read with
 * the customer, and the operation's insert, returned with the customer's active authenticators.
 */

const READ_SESSION = `SELECT se.id, se.rp_id, se.customer_id, se.created_at, se.last_seen_at, se.revoked_at
  FROM customers c LEFT JOIN sessions se ON se.token_digest = $2
 WHERE c.id = $1`;

export type SessionSummary = Pick<SessionRow, 'id' | 'rp_id' | 'customer_id' | 'created_at' | 'last_seen_at' | 'revoked_at'>;

/**
 * The session with this token digest, whoever's it is; `undefined` when the customer does not exist (a
 * 404 comes before anything about the session), `null` when no session has this token.
 */
export async function readSessionOfCustomer(db: Db, customerId: string, digest: string): Promise<SessionSummary | null | undefined> {
  const { rows } = await db.executeQuery<{ [K in keyof SessionSummary]: SessionSummary[K] | null }>(
    CompiledQuery.raw(READ_SESSION, [customerId, digest]),
  );
  const row = rows[0];
  if (!row) return undefined;
  // The left join's columns are all null when no session has this token.
  return row.id === null ? null : (row as SessionSummary);
}

const INSERT_OPERATION = `WITH o AS (
  INSERT INTO operations (id, customer_id, rp_id, type, status, data, link_hash, created_at, expires_at, methods, categories, session_id)
  VALUES ($1, $2, $3, $4, 'pending', $5, $6, $7, $8, '[]', '{}', $9) RETURNING *)
SELECT o.*,
       (SELECT coalesce(json_agg(agg), '[]')
          FROM (SELECT a.id, a.kind, a.category, a.label FROM authenticators a
                 WHERE a.customer_id = o.customer_id AND a.status = 'active' ORDER BY a.created_at) agg) AS available
  FROM o`;

export interface NewOperation {
  id: string;
  customerId: string;
  rpId: string;
  type: string;
  /** The canonical data, as JSON. */
  data: string;
  linkHash: string;
  createdAt: Date;
  expiresAt: Date;
  sessionId: string | null;
}

export type AvailableRow = { id: string; kind: string; category: string; label: string };

/** Inserts a pending operation; an unknown customer is the foreign key's refusal (`operations_customer_id_fkey`). */
export async function insertOperation(db: Db, o: NewOperation): Promise<OperationRow & { available: AvailableRow[] }> {
  const { rows } = await db.executeQuery<OperationRow & { available: AvailableRow[] }>(
    CompiledQuery.raw(INSERT_OPERATION, [o.id, o.customerId, o.rpId, o.type, o.data, o.linkHash, o.createdAt, o.expiresAt, o.sessionId]),
  );
  return rows[0]!;
}
