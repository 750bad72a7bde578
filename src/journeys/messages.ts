import type { DeliveryMessage } from '../channels/index.js';
import { newId } from '../crypto/tokens.js';
import type { Services } from '../context.js';
import type { Db } from '../store/db.js';

/**
 * The durable delivery outbox: a message is written in the transaction that creates what it carries
 * (a code, a notice), sealed because it may hold a code, and sent by the dispatcher afterwards
 * (`events/messages.ts`). If the process dies in between, the message is still sent.
 */
export async function queueMessage(
  tx: Db,
  s: Pick<Services, 'sealer'>,
  m: { customerId: string | null; purpose: string; challengeId?: string; now: Date; message: DeliveryMessage },
): Promise<string> {
  const id = newId();
  await tx
    .insertInto('messages')
    .values({
      id,
      customer_id: m.customerId,
      channel: m.message.kind,
      destination: m.message.to,
      purpose: m.purpose,
      payload_sealed: s.sealer.seal(JSON.stringify(m.message), messageSealContext(id)),
      status: 'pending',
      provider_id: null,
      attempts: 0,
      next_attempt_at: m.now,
      last_error: null,
      challenge_id: m.challengeId ?? null,
      created_at: m.now,
      updated_at: m.now,
    })
    .execute();
  return id;
}

export const messageSealContext = (id: string) => `message:${id}`;
