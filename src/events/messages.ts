import { DeliveryError, type DeliveryMessage, type DeliveryStatusUpdate } from '../channels/index.js';
import type { Updateable } from 'kysely';
import type { Services } from '../context.js';
import type { Db } from '../store/db.js';
import type { MessagesTable } from '../store/schema.js';
import { messageSealContext } from '../journeys/messages.js';
import { claimDue, sendTogether, startDispatchLoop } from './dispatch.js';
import { backoffMs } from './webhooks.js';

/**
 * Sends the durable message outbox: SMS, voice calls and email. Several processes share the work (`claimDue`). A retryable failure is tried again
 * with backoff; an undeliverable destination (an SMS to a landline) is final and marks the challenge,
 * so the screen can offer a call instead. Nothing here logs or stores a message's text.
 */
const MAX_ATTEMPTS = 5;

export async function dispatchDueMessages(s: Services): Promise<{ sent: number; failed: number; errored: number }> {
  const now = s.clock.now();
  const claimed = await claimDue(s.db, 'messages', now);
  let sent = 0;
  let failed = 0;
  // The batch's messages go out together: at a provider's 100–300 ms per request, one after the other
  // would cap a process at a few messages a second.
  const errored = await sendTogether(claimed, 'message', async (m) => {
    const at = s.clock.now();
    if (m.payload_sealed === null) {
      // Only messages that went out are erased: this one has nothing left to send.
      await recordOutcome(s.db, { id: m.id }, { status: 'failed', updated_at: at, last_error: 'erased' }, 'failed');
      failed++;
      return;
    }
    const message = withCallbacks(
      s,
      m.id,
      JSON.parse(s.sealer.open(m.payload_sealed, messageSealContext(m.id)).toString('utf8')) as DeliveryMessage,
    );
    try {
      const receipt = await s.channels.send(message, { idempotencyKey: m.id });
      const state = {
        status: receipt.status,
        provider_id: receipt.providerId,
        attempts: m.attempts + 1,
        updated_at: at,
        last_error: null,
      };
      await recordOutcome(s.db, { id: m.id }, state, receipt.status);
      sent++;
    } catch (e) {
      failed++;
      const attempts = m.attempts + 1;
      const final = !(e instanceof DeliveryError) || !e.retryable || attempts >= MAX_ATTEMPTS;
      const status = e instanceof DeliveryError && e.undeliverable ? 'undeliverable' : final ? 'failed' : 'pending';
      const state = {
        status,
        attempts,
        updated_at: at,
        next_attempt_at: new Date(at.getTime() + backoffMs(attempts)),
        // The provider's error code and class only: its message may quote the text.
        last_error: e instanceof DeliveryError ? `${e.code}${e.providerCode ? ` (${e.providerCode})` : ''}` : 'internal error',
      };
      await recordOutcome(s.db, { id: m.id }, state, status === 'pending' ? null : status);
    }
  });
  return { sent, failed, errored };
}

/** A call fetches its instructions from this server when answered, so a voicemail never hears a code. */
function withCallbacks(s: Services, id: string, m: DeliveryMessage): DeliveryMessage {
  if (m.kind !== 'voice') return m;
  return {
    ...m,
    answerUrl: `${s.config.publicUrl}/v1/channels/twilio/voice/${id}`,
    statusCallbackUrl: `${s.config.publicUrl}/v1/channels/twilio/status`,
  };
}

/** A status reported by the provider (delivered, failed, answered by a machine…), kept with the message and its challenge. */
export async function recordDeliveryStatus(s: Services, u: DeliveryStatusUpdate): Promise<void> {
  if (!u.providerId) return;
  await recordOutcome(s.db, { providerId: u.providerId }, { status: u.status, updated_at: s.clock.now() }, u.status);
}

/**
 * A message's new state and, given a delivery status, its challenge's (when it has one), in one statement:
 * the two change together.
 */
async function recordOutcome(
  db: Db,
  message: { id: string } | { providerId: string },
  state: Updateable<MessagesTable>,
  delivery: string | null,
): Promise<void> {
  const update =
    'id' in message
      ? db.updateTable('messages').set(state).where('id', '=', message.id)
      : db.updateTable('messages').set(state).where('provider_id', '=', message.providerId);
  if (delivery === null) {
    await update.execute();
    return;
  }
  await db
    .with('m', () => update.returning('challenge_id'))
    .updateTable('otp_challenges')
    .set({ delivery })
    .where('id', '=', (eb) => eb.selectFrom('m').select('m.challenge_id'))
    .execute();
}

/** How long a message's payload outlives its sending: codes expire within minutes, calls are answered sooner. */
export const PAYLOAD_KEPT_MS = 60 * 60 * 1000;
const ERASE_EVERY_MS = 60 * 1000;
const ERASE_BATCH = 1000;

/**
 * Erases the payloads of messages sent (or given up) more than an hour ago: a code or a notice has no
 * business at rest once it has gone out, even sealed. The record stays (destination, purpose, status:
 * the limits per number count them). One batch per call, oldest first; returns how many were erased.
 */
export async function eraseSentPayloads(db: Db, now: Date): Promise<number> {
  const before = new Date(now.getTime() - PAYLOAD_KEPT_MS);
  const erased = await db
    .updateTable('messages')
    .set({ payload_sealed: null })
    .where('id', 'in', (eb) =>
      eb
        .selectFrom('messages')
        .select('id')
        .where('payload_sealed', 'is not', null)
        .where('created_at', '<', before)
        .where('status', '!=', 'pending')
        .orderBy('created_at')
        .limit(ERASE_BATCH),
    )
    .executeTakeFirst();
  return Number(erased.numUpdatedRows);
}

/** The dispatcher loop: every second, and at once when a message was just queued; erasure once a minute. */
export const startMessageLoop = (s: Services, intervalMs = 1000) => {
  let erasedAt = -Infinity;
  return startDispatchLoop(async () => {
    const r = await dispatchDueMessages(s);
    const now = s.clock.now();
    if (now.getTime() - erasedAt >= ERASE_EVERY_MS) {
      erasedAt = now.getTime();
      try {
        // A backlog (a database from before erasure) goes ten batches a minute, not holding up the sending.
        for (let i = 0; i < 10; i++) if ((await eraseSentPayloads(s.db, now)) < ERASE_BATCH) break;
      } catch (e) {
        console.warn(`message payloads not erased (${(e as Error).name}): tried again in a minute`);
      }
    }
    return r.sent + r.failed + r.errored;
  }, intervalMs);
};
