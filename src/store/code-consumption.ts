import { CompiledQuery } from 'kysely';
import { GUARD_TRIPPED } from './attempts.js';
import { chainEvent, type AuditEntry } from './audit.js';
import type { Db } from './db.js';

/**
 * Consuming an authentication code without a lock, in two statements: the customer's audit head is read,
 * then one statement marks the code consumed, appends the audit event and moves the head, applying only
 * if the head is still the one read (as an SCA success does, `store/attempts.ts`). The code's single use
 * is kept on its operation: the conditional update (`code_consumed_at IS NULL`) keeps it single use under
 * any concurrency.
 *
 * - `consumed`: done;
 * - `unavailable`: no unconsumed code with this id for this relying party (nothing written);
 * - `moved`: the head moved meanwhile (nothing written): the caller takes the locking path.
 */
export async function consumeCodeGuarded(
  db: Db,
  c: { operationId: string; codeId: string; rpId: string; chain: string; now: Date; audit: AuditEntry },
): Promise<'consumed' | 'unavailable' | 'moved'> {
  const head = await db.selectFrom('audit_heads').select(['seq', 'hash']).where('chain', '=', c.chain).executeTakeFirst();
  if (!head) return 'moved';
  const event = chainEvent(c.chain, head, c.now, c.audit);
  const values = [
    c.now,
    c.operationId,
    c.rpId,
    event.seq,
    event.hash,
    c.chain,
    head.seq,
    event.type,
    event.actor,
    event.data,
    event.prev_hash,
    c.codeId,
  ];
  try {
    const { rows } = await db.executeQuery<{ consumed: number }>(
      CompiledQuery.raw(
        `WITH c AS (UPDATE operations SET code_consumed_at = $1
                     WHERE id = $2 AND auth_code_id = $12 AND rp_id = $3 AND code_consumed_at IS NULL RETURNING 1),
              h AS (UPDATE audit_heads SET seq = $4, hash = $5 WHERE chain = $6 AND seq = $7 AND EXISTS (SELECT 1 FROM c) RETURNING 1),
              e AS (INSERT INTO audit_events (chain, seq, type, actor, at, data, prev_hash, hash)
                    SELECT $6, $4, $8, $9, $1, $10::jsonb, $11, $5 WHERE EXISTS (SELECT 1 FROM h))
         SELECT (SELECT count(*) FROM c)::int AS consumed
          WHERE sesame_guard((SELECT count(*) FROM c) = (SELECT count(*) FROM h))`,
        values,
      ),
    );
    return rows[0]?.consumed === 1 ? 'consumed' : 'unavailable';
  } catch (e) {
    if ((e as { code?: string }).code === GUARD_TRIPPED) return 'moved';
    throw e;
  }
}
