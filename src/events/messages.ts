import { DeliveryError, type DeliveryMessage, type DeliveryStatusUpdate } from '../channels/index.js';
import type { Services } from '../context.js';
import { messageSealContext } from '../journeys/messages.js';
import { claimDue, startDispatchLoop } from './dispatch.js';
import { backoffMs } from './webhooks.js';

/**
 * Sends the durable message outbox: SMS, voice calls and email. Several processes share the work (`claimDue`). A retryable failure is tried again
 * with backoff; an undeliverable destination (an SMS to a landline) is final and marks the challenge,
 * so the screen can offer a call instead. Nothing here logs or stores a message's text.
 */
const MAX_ATTEMPTS = 5;

export async function dispatchDueMessages(s: Services): Promise<{ sent: number; failed: number }> {
  const now = s.clock.now();
  const claimed = await claimDue(s.db, 'messages', now);
  let sent = 0;
  let failed = 0;
  for (const m of claimed) {
    const message = withCallbacks(
      s,
      m.id,
      JSON.parse(s.sealer.open(m.payload_sealed, messageSealContext(m.id)).toString('utf8')) as DeliveryMessage,
    );
    const at = s.clock.now();
    try {
      const receipt = await s.channels.send(message, { idempotencyKey: m.id });
      // The message and its challenge in one statement: a batch is sent one message after the other.
      await s.db
        .with('m', (db) =>
          db
            .updateTable('messages')
            .set({ status: receipt.status, provider_id: receipt.providerId, attempts: m.attempts + 1, updated_at: at, last_error: null })
            .where('id', '=', m.id)
            .returning('challenge_id'),
        )
        .updateTable('otp_challenges')
        .set({ delivery: receipt.status })
        .where('id', '=', (eb) => eb.selectFrom('m').select('m.challenge_id'))
        .execute();
      sent++;
    } catch (e) {
      failed++;
      const attempts = m.attempts + 1;
      const final = !(e instanceof DeliveryError) || !e.retryable || attempts >= MAX_ATTEMPTS;
      const status = e instanceof DeliveryError && e.undeliverable ? 'undeliverable' : final ? 'failed' : 'pending';
      await s.db
        .updateTable('messages')
        .set({
          status,
          attempts,
          updated_at: at,
          next_attempt_at: new Date(at.getTime() + backoffMs(attempts)),
          // The provider's error code and class only: its message may quote the text.
          last_error: e instanceof DeliveryError ? `${e.code}${e.providerCode ? ` (${e.providerCode})` : ''}` : 'internal error',
        })
        .where('id', '=', m.id)
        .execute();
      if (m.challenge_id && status !== 'pending') {
        await s.db.updateTable('otp_challenges').set({ delivery: status }).where('id', '=', m.challenge_id).execute();
      }
    }
  }
  return { sent, failed };
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
  const row = await s.db
    .updateTable('messages')
    .set({ status: u.status, updated_at: s.clock.now() })
    .where('provider_id', '=', u.providerId)
    .returning('challenge_id')
    .executeTakeFirst();
  if (row?.challenge_id) await s.db.updateTable('otp_challenges').set({ delivery: u.status }).where('id', '=', row.challenge_id).execute();
}

/** The dispatcher loop: every second, and at once when a message was just queued. */
export const startMessageLoop = (s: Services, intervalMs = 1000) => startDispatchLoop(() => dispatchDueMessages(s), intervalMs);
