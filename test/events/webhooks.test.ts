import { createHmac, timingSafeEqual } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { DISPATCH_BATCH } from '../../src/events/dispatch.js';
import { backoffMs, dispatchDueEvents, startWebhookLoop } from '../../src/events/webhooks.js';
import { createRelyingParty } from '../../src/journeys/principals.js';
import { enqueueEvent } from '../../src/store/outbox.js';
import { startSesame, type TestCustomer, type TestSesame } from '../support/sesame.js';

/**
 * Events reach the bank's webhook at least once, signed, with the event id as idempotency key; a
 * failing receiver is retried with growing delays and given up on after SESAME_WEBHOOK_MAX_ATTEMPTS.
 * The dispatcher is driven by hand (`dispatchDueEvents`) with the test's clock.
 */
const MAX_ATTEMPTS = 4;

interface Delivery {
  headers: http.IncomingHttpHeaders;
  body: string;
  json: { id: string; type: string; createdAt: string; data: Record<string, unknown> };
}

/**
 * A webhook receiver on 127.0.0.1 that records every delivery and answers `status`. With `holdUntil` = n,
 * it answers nobody until n deliveries wait for an answer (a receiver slow to acknowledge).
 */
class Receiver {
  deliveries: Delivery[] = [];
  status = 200;
  holdUntil = 0;
  #held: (() => void)[] = [];
  #server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks).toString('utf8');
      this.deliveries.push({ headers: req.headers, body, json: JSON.parse(body) });
      const answer = () => res.writeHead(this.status, { 'content-type': 'text/plain' }).end(this.status < 300 ? 'ok' : 'down');
      if (this.holdUntil === 0) {
        answer();
        return;
      }
      this.#held.push(answer);
      if (this.#held.length >= this.holdUntil) this.#held.splice(0).forEach((a) => a());
    });
  });
  url = '';
  async start(): Promise<void> {
    await new Promise<void>((resolve) => this.#server.listen(0, '127.0.0.1', resolve));
    this.url = `http://127.0.0.1:${(this.#server.address() as AddressInfo).port}/hooks/sesame`;
  }
  stop(): Promise<void> {
    return new Promise((resolve) => this.#server.close(() => resolve()));
  }
  of(type: string, customerId: string): Delivery[] {
    return this.deliveries.filter((d) => d.json.type === type && d.json.data.customerId === customerId);
  }
}

/** What a bank does before trusting a delivery: check `t=…,v1=…` against HMAC-SHA256(secret, `${t}.${body}`). */
function signatureValid(secret: string, header: string | string[] | undefined, body: string): { ok: boolean; t: number } {
  const m = /^t=(\d+),v1=([0-9a-f]{64})$/.exec(String(header ?? ''));
  if (!m) return { ok: false, t: NaN };
  const expected = createHmac('sha256', secret).update(`${m[1]}.${body}`).digest();
  return { ok: timingSafeEqual(expected, Buffer.from(m[2]!, 'hex')), t: Number(m[1]) };
}

describe('webhook delivery of customer.blocked (PGlite)', () => {
  let t: TestSesame;
  let receiver: Receiver;
  let secret: string;

  beforeAll(async () => {
    t = await startSesame('pglite', { SESAME_WEBHOOK_MAX_ATTEMPTS: String(MAX_ATTEMPTS), SESAME_WEBHOOK_TIMEOUT_MS: '5000' });
    receiver = new Receiver();
    await receiver.start();
    const set = await t.api('PUT', '/v1/webhook', { url: receiver.url });
    expect(set.status).toBe(200);
    expect(set.body.url).toBe(receiver.url);
    expect(set.body.secret).toMatch(/^whsec_/);
    secret = set.body.secret;
  });
  afterAll(async () => {
    await receiver?.stop();
    await t?.close();
  });
  beforeEach(async () => {
    // Earlier tests' events (authenticator.added, …) are delivered first, so each test sees only its own.
    receiver.status = 200;
    await drain();
    receiver.deliveries = [];
  });

  /** Dispatch passes until nothing is due now. */
  async function drain() {
    for (let i = 0; i < 20; i++) {
      const r = await dispatchDueEvents(t.sesame.services);
      if (r.delivered + r.failed === 0) return;
    }
  }

  /** Five wrong attempts: the fifth blocks the customer and enqueues customer.blocked. */
  async function blockedCustomer(): Promise<TestCustomer> {
    const c = await t.newCustomerWithPasswordAndTotp();
    for (let i = 0; i < 5; i++) {
      const op = await t.createOperation(c.id, { type: 'login' });
      const res = await t.api('POST', `/v1/operations/${op}/authenticate`, {
        factors: [
          { method: 'password', password: 'not the password' },
          { method: 'totp', code: '000000' },
        ],
      });
      expect(res.status).toBe(401);
    }
    expect((await t.api('GET', `/v1/customers/${c.id}/security`)).body.blocked).toBe(true);
    return c;
  }

  const outboxRow = (id: string) =>
    t.sesame.services.db.selectFrom('outbox_events').selectAll().where('id', '=', id).executeTakeFirstOrThrow();
  const blockedEventOf = async (customerId: string) => {
    const rows = await t.sesame.services.db.selectFrom('outbox_events').selectAll().where('type', '=', 'customer.blocked').execute();
    const row = rows.find((r) => (r.payload as { data: { customerId: string } }).data.customerId === customerId);
    if (!row) throw new Error(`no customer.blocked event for ${customerId}`);
    return row;
  };

  it('the webhook secret is shown once: reading the webhook back is not possible and clearing it returns no secret', async () => {
    const cleared = await t.api('PUT', '/v1/webhook', { url: null });
    expect(cleared.body).toEqual({ url: null, secret: null });
    const again = await t.api('PUT', '/v1/webhook', { url: receiver.url });
    expect(again.body.secret).toMatch(/^whsec_/);
    expect(again.body.secret).not.toBe(secret);
    secret = again.body.secret;
    const audit = await t.sesame.services.db
      .selectFrom('audit_events')
      .select('data')
      .where('type', '=', 'relying_party.webhook_set')
      .execute();
    expect(JSON.stringify(audit)).not.toContain('whsec_');
  });

  it('a URL no delivery could use is a 400 naming url, and the webhook in place stays as it was', async () => {
    const auditCount = async () =>
      (await t.sesame.services.db.selectFrom('audit_events').select('id').where('type', '=', 'relying_party.webhook_set').execute()).length;
    const before = await auditCount();
    for (const url of [
      'http://127.0.0.1:99999/hook',
      'http://',
      'https://bank:s3cret@hooks.example/x',
      'ftp://hooks.example/x',
      'https://hooks.example/x#part',
      'https://hooks.example/x#',
      'https://hooks.example:0/x',
      'not a url',
    ]) {
      const res = await t.api('PUT', '/v1/webhook', { url });
      expect(res.status, url).toBe(400);
      expect(res.body).toMatchObject({ code: 'ERR_VALIDATION', field: 'url' });
      expect(JSON.stringify(res.body)).not.toContain('s3cret');
    }
    expect(await auditCount()).toBe(before);
    const row = await t.sesame.services.db
      .selectFrom('relying_parties')
      .select('webhook_url')
      .where('id', '=', t.rpId)
      .executeTakeFirstOrThrow();
    expect(row.webhook_url).toBe(receiver.url);
    // The URL kept is the normalised one.
    const spelled = await t.api('PUT', '/v1/webhook', { url: receiver.url.replace('http://', 'HTTP://') });
    expect(spelled.body.url).toBe(receiver.url);
    secret = spelled.body.secret;
  });

  it('delivers customer.blocked once, signed with the secret, with the event id as idempotency key', async () => {
    const c = await blockedCustomer();
    const event = await blockedEventOf(c.id);
    expect(event.status).toBe('pending');

    const pass = await dispatchDueEvents(t.sesame.services);
    expect(pass.failed).toBe(0);
    const got = receiver.of('customer.blocked', c.id);
    expect(got).toHaveLength(1);
    const d = got[0]!;
    expect(d.json).toMatchObject({ id: event.id, type: 'customer.blocked', data: { customerId: c.id, permanent: false } });
    expect(d.headers['idempotency-key']).toBe(event.id);
    expect(d.headers['sesame-event']).toBe('customer.blocked');
    expect(d.headers['content-type']).toMatch(/^application\/json/);
    const sig = signatureValid(secret, d.headers['sesame-signature'], d.body);
    expect(sig.ok).toBe(true);
    expect(sig.t).toBe(Math.floor(t.clock.now().getTime() / 1000));
    // Another secret, or one changed byte of the body, does not verify.
    expect(signatureValid('whsec_other', d.headers['sesame-signature'], d.body).ok).toBe(false);
    expect(signatureValid(secret, d.headers['sesame-signature'], d.body.replace('"permanent":false', '"permanent":true')).ok).toBe(false);

    const row = await outboxRow(event.id);
    expect(row).toMatchObject({ status: 'delivered', attempts: 1 });
    // Delivered means delivered: later passes do not send it again.
    t.clock.advanceSeconds(3600);
    await drain();
    expect(receiver.of('customer.blocked', c.id)).toHaveLength(1);
  });

  it('keeps the event pending after a 500, backs off, and delivers it on a later pass with the same idempotency key', async () => {
    const c = await blockedCustomer();
    const event = await blockedEventOf(c.id);
    receiver.status = 500;
    const first = await dispatchDueEvents(t.sesame.services);
    expect(first.failed).toBeGreaterThanOrEqual(1);
    let row = await outboxRow(event.id);
    expect(row.status).toBe('pending');
    expect(row.attempts).toBe(1);
    expect(row.last_error).toContain('500');
    const now = t.clock.now().getTime();
    expect(new Date(row.next_attempt_at).getTime()).toBe(now + backoffMs(1));
    expect(backoffMs(1)).toBeGreaterThan(0);

    // Not due yet: a pass now sends nothing.
    receiver.status = 200;
    await dispatchDueEvents(t.sesame.services);
    expect(receiver.of('customer.blocked', c.id)).toHaveLength(1);
    expect((await outboxRow(event.id)).attempts).toBe(1);

    t.clock.advance(backoffMs(1));
    await dispatchDueEvents(t.sesame.services);
    const got = receiver.of('customer.blocked', c.id);
    expect(got).toHaveLength(2);
    expect(got.map((d) => d.headers['idempotency-key'])).toEqual([event.id, event.id]);
    expect(got[1]!.body).toBe(got[0]!.body);
    expect(signatureValid(secret, got[1]!.headers['sesame-signature'], got[1]!.body).ok).toBe(true);
    row = await outboxRow(event.id);
    expect(row).toMatchObject({ status: 'delivered', attempts: 2 });
  });

  it(`backs off exponentially and marks the event failed after ${MAX_ATTEMPTS} failed attempts`, async () => {
    const c = await blockedCustomer();
    const event = await blockedEventOf(c.id);
    receiver.status = 500;
    for (let attempt = 1; attempt <= MAX_ATTEMPTS; attempt++) {
      await dispatchDueEvents(t.sesame.services);
      const row = await outboxRow(event.id);
      expect(row.attempts).toBe(attempt);
      expect(row.status).toBe(attempt < MAX_ATTEMPTS ? 'pending' : 'failed');
      if (attempt < MAX_ATTEMPTS) {
        const delay = new Date(row.next_attempt_at).getTime() - t.clock.now().getTime();
        expect(delay).toBe(backoffMs(attempt));
        if (attempt > 1) expect(delay).toBe(2 * backoffMs(attempt - 1));
        t.clock.advance(delay);
      }
    }
    expect(receiver.of('customer.blocked', c.id)).toHaveLength(MAX_ATTEMPTS);
    // Given up: no further delivery, even much later and once the receiver is back.
    receiver.status = 200;
    t.clock.advanceSeconds(24 * 3600);
    await drain();
    expect(receiver.of('customer.blocked', c.id)).toHaveLength(MAX_ATTEMPTS);
    expect((await outboxRow(event.id)).status).toBe('failed');
  });

  it('a receiver that cannot be reached at all counts as a failed attempt, not a crash of the dispatcher', async () => {
    const c = await blockedCustomer();
    const event = await blockedEventOf(c.id);
    const refused = await t.api('PUT', '/v1/webhook', { url: 'http://127.0.0.1:9/nothing-listens-here' });
    expect(refused.status).toBe(200);
    try {
      await dispatchDueEvents(t.sesame.services);
      const row = await outboxRow(event.id);
      expect(row).toMatchObject({ status: 'pending', attempts: 1 });
      expect(row.last_error).toBeTruthy();
    } finally {
      secret = (await t.api('PUT', '/v1/webhook', { url: receiver.url })).body.secret;
    }
    t.clock.advance(backoffMs(1));
    await dispatchDueEvents(t.sesame.services);
    expect(receiver.of('customer.blocked', c.id)).toHaveLength(1);
    expect((await outboxRow(event.id)).status).toBe('delivered');
  });

  /** `n` events for every bank, straight into the outbox as a journey writes them. */
  async function enqueueBacklog(type: string, n: number): Promise<void> {
    const now = t.clock.now();
    await t.sesame.services.db.transaction().execute(async (tx) => {
      for (let i = 0; i < n; i++) await enqueueEvent(tx, now, { type, rpId: null, data: { customerId: `backlog-${i}` } });
    });
  }
  const deliveriesOf = (type: string) => receiver.deliveries.filter((d) => d.json.type === type);

  it('a backlog of several batches is delivered pass after pass, without waiting the interval between batches', async () => {
    const total = 2 * DISPATCH_BATCH + 5;
    await enqueueBacklog('test.backlog', total);
    // An interval of an hour: only passes started at once (one kick, then one per full batch) can deliver.
    const loop = startWebhookLoop(t.sesame.services, 3_600_000);
    try {
      loop.kick();
      for (let i = 0; i < 400 && deliveriesOf('test.backlog').length < total; i++) await new Promise((r) => setTimeout(r, 25));
    } finally {
      await loop.stop();
    }
    expect(new Set(deliveriesOf('test.backlog').map((d) => d.json.id)).size).toBe(total);
    const pending = await t.sesame.services.db.selectFrom('outbox_events').select('id').where('status', '=', 'pending').execute();
    expect(pending).toEqual([]);
  });

  it('a receiver slow to acknowledge costs a pass one wait, not one per event: the batch is sent together', async () => {
    // The receiver answers only once five deliveries wait; one at a time, each would wait for the timeout and fail.
    receiver.holdUntil = 5;
    try {
      await enqueueBacklog('test.slow', 5);
      const pass = await dispatchDueEvents(t.sesame.services);
      expect(pass).toEqual({ delivered: 5, failed: 0, errored: 0 });
    } finally {
      receiver.holdUntil = 0;
    }
    expect(deliveriesOf('test.slow')).toHaveLength(5);
  });

  it('one bank’s failing webhook does not keep a broadcast event from another bank', async () => {
    // Two relying parties with webhooks; customer.blocked goes to both. Whichever is listed first,
    // the healthy one must receive the event on the first pass.
    const other = new Receiver();
    await other.start();
    const rp2 = await createRelyingParty(t.sesame.services, 'Second bank');
    const set2 = await t.api('PUT', '/v1/webhook', { url: other.url }, { auth: rp2.apiKey });
    expect(set2.status).toBe(200);
    try {
      for (const [failing, healthy] of [
        [receiver, other],
        [other, receiver],
      ] as const) {
        failing.status = 500;
        healthy.status = 200;
        const c = await blockedCustomer();
        await dispatchDueEvents(t.sesame.services);
        expect(healthy.of('customer.blocked', c.id), `healthy receiver ${healthy.url}`).toHaveLength(1);
        failing.status = 200;
        t.clock.advanceSeconds(3600);
        await drain();
      }
    } finally {
      await t.api('PUT', '/v1/webhook', { url: null }, { auth: rp2.apiKey });
      await other.stop();
    }
  });
});
