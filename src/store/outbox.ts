import { randomUUID } from 'node:crypto';
import type { Db } from './db.js';

/**
 * Transactional outbox: an event is written in the same transaction as the change it announces, so it
 * is never lost nor sent for a change that was rolled back. The dispatcher delivers it afterwards.
 */
export async function enqueueEvent(
  tx: Db,
  at: Date,
  event: { type: string; rpId: string | null; data: Record<string, unknown> },
): Promise<string> {
  const id = randomUUID();
  await tx
    .insertInto('outbox_events')
    .values({
      id,
      rp_id: event.rpId,
      type: event.type,
      payload: JSON.stringify({ id, type: event.type, createdAt: at.toISOString(), data: event.data }),
      created_at: at,
      next_attempt_at: at,
    })
    .execute();
  return id;
}
