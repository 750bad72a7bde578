import { createHmac } from 'node:crypto';
import type { Services } from '../context.js';
import { claimDue, sendTogether, startDispatchLoop } from './dispatch.js';

/**
 * Delivers the transactional outbox to the banks' webhooks: at least once, HMAC-signed, with the event
 * id as idempotency key, retried with exponential backoff. Several server processes share the work:
 * each claims due events with `FOR UPDATE SKIP LOCKED` and a lease (`claimDue`).
 *
 * Signature header (verify before trusting the body):
 *   Sesame-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256(secret, "<t>.<raw body>")>
 */
export function signWebhook(secret: string, body: string, timestamp: number): string {
  const mac = createHmac('sha256', secret).update(`${timestamp}.${body}`).digest('hex');
  return `t=${timestamp},v1=${mac}`;
}

export function backoffMs(attempts: number): number {
  return Math.min(5_000 * 2 ** Math.max(0, attempts - 1), 3_600_000);
}

export interface DispatchResult {
  delivered: number;
  failed: number;
  /** Events that could not be attempted (a secret that no longer opens, a failed write): retried after their lease. */
  errored: number;
}

/** One pass over due events. Returns what happened (the loop and the tests call it). */
export async function dispatchDueEvents(s: Services, fetchImpl: typeof fetch = fetch): Promise<DispatchResult> {
  const now = s.clock.now();
  const claimed = await claimDue(s.db, 'outbox_events', now);
  if (claimed.length === 0) return { delivered: 0, failed: 0, errored: 0 };

  const rps = await s.db
    .selectFrom('relying_parties')
    .selectAll()
    .where('revoked_at', 'is', null)
    .where('webhook_url', 'is not', null)
    .execute();
  const result = { delivered: 0, failed: 0, errored: 0 };
  // The batch's events go out together: a slow or dead receiver costs one timeout per pass, not one per event.
  // So their order is not kept (retries never kept it): a receiver orders by the event's own data.
  result.errored = await sendTogether(claimed, 'webhook event', async (ev) => {
    // Each bank gets the event once it acknowledged it; a failing one does not hold the others back.
    const targets = rps.filter((rp) => (ev.rp_id === null || rp.id === ev.rp_id) && !ev.delivered_to.includes(rp.id));
    const body = JSON.stringify(ev.payload);
    const errors: string[] = [];
    const deliveredTo = [...ev.delivered_to];
    for (const rp of targets) {
      const secret = s.sealer.open(rp.webhook_secret_sealed!, `webhook:${rp.id}`).toString('utf8');
      const t = Math.floor(s.clock.now().getTime() / 1000);
      const error = await post(fetchImpl, rp.webhook_url!, body, secret, ev.id, ev.type, s.config.webhooks.timeoutMs, t);
      if (error === null) deliveredTo.push(rp.id);
      else errors.push(`${rp.id}: ${error}`);
    }
    const attempts = ev.attempts + 1;
    if (errors.length === 0) {
      await s.db
        .updateTable('outbox_events')
        .set({ status: 'delivered', attempts, delivered_at: s.clock.now(), last_error: null, delivered_to: deliveredTo })
        .where('id', '=', ev.id)
        .execute();
      result.delivered++;
    } else {
      const giveUp = attempts >= s.config.webhooks.maxAttempts;
      await s.db
        .updateTable('outbox_events')
        .set({
          status: giveUp ? 'failed' : 'pending',
          attempts,
          last_error: errors.join('; ').slice(0, 500),
          next_attempt_at: new Date(s.clock.now().getTime() + backoffMs(attempts)),
          delivered_to: deliveredTo,
        })
        .where('id', '=', ev.id)
        .execute();
      result.failed++;
    }
  });
  return result;
}

async function post(
  fetchImpl: typeof fetch,
  url: string,
  body: string,
  secret: string,
  id: string,
  type: string,
  timeoutMs: number,
  t: number,
): Promise<string | null> {
  try {
    const res = await fetchImpl(url, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        'idempotency-key': id,
        'sesame-event': type,
        'sesame-signature': signWebhook(secret, body, t),
      },
      body,
      signal: AbortSignal.timeout(timeoutMs),
    });
    return res.ok ? null : `HTTP ${res.status}`;
  } catch (e) {
    return (e as Error).message;
  }
}

/** Runs dispatch passes until stopped. */
export const startWebhookLoop = (s: Services, intervalMs = 1000) =>
  startDispatchLoop(async () => {
    const r = await dispatchDueEvents(s);
    return r.delivered + r.failed + r.errored;
  }, intervalMs);
