import { createHmac } from 'node:crypto';
import type { Services } from '../context.js';

/**
 * Delivers the transactional outbox to the banks' webhooks: at least once, HMAC-signed, with the event
 * id as idempotency key, retried with exponential backoff. Several server processes share the work:
 * each claims due events with `FOR UPDATE SKIP LOCKED` and a short lease.
 *
 * Signature header (verify before trusting the body):
 *   Sesame-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256(secret, "<t>.<raw body>")>
 */
export function signWebhook(secret: string, body: string, timestamp: number): string {
  const mac = createHmac('sha256', secret).update(`${timestamp}.${body}`).digest('hex');
  return `t=${timestamp},v1=${mac}`;
}

const LEASE_MS = 60_000;
const BATCH = 20;

export function backoffMs(attempts: number): number {
  return Math.min(5_000 * 2 ** Math.max(0, attempts - 1), 3_600_000);
}

export interface DispatchResult {
  delivered: number;
  failed: number;
}

/** One pass over due events. Returns what happened (the loop and the tests call it). */
export async function dispatchDueEvents(s: Services, fetchImpl: typeof fetch = fetch): Promise<DispatchResult> {
  const now = s.clock.now();
  const claimed = await s.db.transaction().execute(async (tx) => {
    const due = await tx
      .selectFrom('outbox_events')
      .selectAll()
      .where('status', '=', 'pending')
      .where('next_attempt_at', '<=', now)
      .orderBy('next_attempt_at')
      .limit(BATCH)
      .forUpdate()
      .skipLocked()
      .execute();
    if (due.length) {
      await tx
        .updateTable('outbox_events')
        .set({ next_attempt_at: new Date(now.getTime() + LEASE_MS) })
        .where(
          'id',
          'in',
          due.map((d) => d.id),
        )
        .execute();
    }
    return due;
  });
  if (claimed.length === 0) return { delivered: 0, failed: 0 };

  const rps = await s.db
    .selectFrom('relying_parties')
    .selectAll()
    .where('revoked_at', 'is', null)
    .where('webhook_url', 'is not', null)
    .execute();
  const result = { delivered: 0, failed: 0 };
  for (const ev of claimed) {
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
  }
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

/** Runs dispatch passes until stopped; PostgreSQL NOTIFY wakes it early when available. */
export function startWebhookLoop(s: Services, intervalMs = 1000): { stop(): Promise<void>; kick(): void } {
  let stopped = false;
  let timer: NodeJS.Timeout | null = null;
  let running: Promise<void> = Promise.resolve();
  const run = () => {
    if (stopped) return;
    running = dispatchDueEvents(s)
      .then(() => undefined)
      .catch(() => undefined)
      .finally(() => {
        if (!stopped) timer = setTimeout(run, intervalMs);
      });
  };
  timer = setTimeout(run, intervalMs);
  return {
    kick() {
      if (timer) clearTimeout(timer);
      run();
    },
    async stop() {
      stopped = true;
      if (timer) clearTimeout(timer);
      await running;
    },
  };
}
