import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { twilioSignature } from '../../src/channels/index.js';
import { eraseSentPayloads, PAYLOAD_KEPT_MS } from '../../src/events/messages.js';
import { startSesame, type TestSesame } from '../support/sesame.js';

/**
 * The Twilio-compatible provider wired end to end, against a local fake of its HTTP API: a call is placed
 * with machine detection and an answer URL on this server; the provider's signed callbacks get the
 * call's instructions (the code for a person, none for a voicemail) and report statuses; unsigned
 * callbacks are refused.
 */
const AUTH_TOKEN = 'test-auth-token';

describe('voice calls through a Twilio-compatible provider (PGlite)', () => {
  let t: TestSesame;
  let fake: http.Server;
  const calls: Record<string, string>[] = [];
  const sms: Record<string, string>[] = [];
  /** Numbers the fake provider refuses SMS to, as Twilio does for a landline (error 21614). */
  const refuseSmsTo = new Set<string>();
  /** Numbers for which the fake provider fails once with a 503 before accepting. */
  const failOnceTo = new Set<string>();
  /** SMS to these numbers are answered only once all of them wait for an answer (a provider slow to answer). */
  const holdTogether = new Set<string>();
  let held: (() => void)[] = [];

  beforeAll(async () => {
    fake = http.createServer((req, res) => {
      let body = '';
      req.on('data', (c) => (body += c));
      req.on('end', () => {
        const form = Object.fromEntries(new URLSearchParams(body));
        if (req.url?.endsWith('/Messages.json')) {
          if (failOnceTo.delete(form.To!)) {
            res.writeHead(503, { 'content-type': 'application/json' });
            res.end(JSON.stringify({ code: 20500, message: 'Service unavailable', status: 503 }));
            return;
          }
          if (refuseSmsTo.has(form.To!)) {
            res.writeHead(400, { 'content-type': 'application/json' });
            res.end(JSON.stringify({ code: 21614, message: "'To' number is not a valid mobile number", status: 400 }));
            return;
          }
          const accept = () => {
            sms.push(form);
            res.writeHead(201, { 'content-type': 'application/json' });
            res.end(JSON.stringify({ sid: `SM${sms.length.toString().padStart(32, '0')}`, status: 'queued' }));
          };
          if (!holdTogether.has(form.To!)) {
            accept();
            return;
          }
          held.push(accept);
          if (held.length >= holdTogether.size) held.splice(0).forEach((a) => a());
          return;
        }
        calls.push({ path: req.url ?? '', ...form });
        res.writeHead(201, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ sid: `CA${calls.length.toString().padStart(32, '0')}`, status: 'queued' }));
      });
    });
    await new Promise<void>((r) => fake.listen(0, '127.0.0.1', r));
    t = await startSesame('pglite', {
      SESAME_SMS_PROVIDER: 'twilio',
      SESAME_VOICE_PROVIDER: 'twilio',
      TWILIO_ACCOUNT_SID: 'ACtest',
      TWILIO_AUTH_TOKEN: AUTH_TOKEN,
      TWILIO_FROM: '+33757000000',
      TWILIO_API_BASE_URL: `http://127.0.0.1:${(fake.address() as AddressInfo).port}`,
    });
  }, 60_000);
  afterAll(async () => {
    await t?.close();
    fake?.close();
  });

  async function placedCall(n: number) {
    for (let i = 0; i < 200 && calls.length < n; i++) await new Promise((r) => setTimeout(r, 25));
    expect(calls.length).toBeGreaterThanOrEqual(n);
    return { ...calls[n - 1]!, sid: `CA${n.toString().padStart(32, '0')}` } as Record<string, string>;
  }

  /** The provider fetching a call's instructions, signed as Twilio signs. */
  async function providerPost(path: string, params: Record<string, string>, sign = true) {
    const url = `${t.sesame.services.config.publicUrl}${path}`;
    const res = await t.sesame.app.inject({
      method: 'POST',
      url: path,
      headers: {
        'content-type': 'application/x-www-form-urlencoded',
        ...(sign ? { 'x-twilio-signature': twilioSignature(AUTH_TOKEN, url, params) } : {}),
      },
      payload: new URLSearchParams(params).toString(),
    });
    return { status: res.statusCode, body: res.body };
  }

  /** A new customer enrolling a voice line: the call placed with the provider, and its answer URL's path. */
  async function voiceEnrolmentCall(ref: string, phone: string) {
    const c = await t.api('POST', '/v1/customers', { ref: `${ref}-${Date.now()}`, displayName: `Customer ${ref}` });
    const n = calls.length + 1;
    const enrol = await t.api('POST', `/v1/customers/${c.body.id}/authenticators/phone`, { method: 'voice', phone });
    expect(enrol.status, JSON.stringify(enrol.body)).toBe(201);
    const call = await placedCall(n);
    return { customerId: c.body.id as string, authenticatorId: enrol.body.id as string, call, path: new URL(call.Url!).pathname };
  }

  it('places the call with machine detection, reads the code only to a person, and refuses unsigned callbacks', async () => {
    const c = await t.api('POST', '/v1/customers', { ref: `tw-${Date.now()}`, displayName: 'Landline Customer' });
    const enrol = await t.api('POST', `/v1/customers/${c.body.id}/authenticators/phone`, { method: 'voice', phone: '01 42 68 53 00' });
    expect(enrol.status, JSON.stringify(enrol.body)).toBe(201);

    const call = await placedCall(1);
    expect(call.path).toBe('/2010-04-01/Accounts/ACtest/Calls.json');
    expect(call).toMatchObject({ To: '+33142685300', From: '+33757000000', MachineDetection: 'Enable' });
    expect(call.Url).toMatch(/\/v1\/channels\/twilio\/voice\//);
    // The code is not in the request to the provider: the call fetches it when answered.
    expect(JSON.stringify(call)).not.toMatch(/<Say/);
    const path = new URL(call.Url!).pathname;

    expect((await providerPost(path, { CallSid: call.sid, AnsweredBy: 'human' }, false)).status).toBe(401);

    const machine = await providerPost(path, { CallSid: call.sid, AnsweredBy: 'machine_end_beep' });
    expect(machine.status).toBe(200);
    expect(machine.body).toMatch(/<Response>/);
    const human = await providerPost(path, { CallSid: call.sid, AnsweredBy: 'human' });
    expect(human.status).toBe(200);
    expect(human.body).toMatch(/<Say language="fr-FR"/);
    expect(human.body).toMatch(/<Gather/);
    // The code is said digit by digit: "1, 2, 3, …".
    const code = /<Say[^>]*>(\d(?:, \d)+)<\/Say>/.exec(human.body)![1]!.replace(/, /g, '');
    expect(code).toMatch(/^\d{6}$/);
    expect(machine.body).not.toMatch(/\d, \d/);

    const active = await t.api('POST', `/v1/customers/${c.body.id}/authenticators/${enrol.body.id}/activate`, { code });
    expect(active.status, JSON.stringify(active.body)).toBe(200);

    const status = await providerPost('/v1/channels/twilio/status', { CallSid: call.sid, CallStatus: 'completed' });
    expect(status.status).toBe(204);
  });

  it('a code already used is not read out again: a late or replayed answer callback hangs up', async () => {
    const c = await t.api('POST', '/v1/customers', { ref: `tw7-${Date.now()}`, displayName: 'Replayed Call' });
    const id = c.body.id as string;
    const readOut = (body: string) => /<Say[^>]*>(\d(?:, \d)+)<\/Say>/.exec(body)?.[1]?.replace(/, /g, '');
    const answer = async (n: number) => {
      const call = await placedCall(n);
      const path = new URL(call.Url!).pathname;
      return { path, twiml: (await providerPost(path, { CallSid: call.sid, AnsweredBy: 'human' })).body };
    };
    const enrol = await t.api('POST', `/v1/customers/${id}/authenticators/phone`, { method: 'voice', phone: '01 42 68 53 22' });
    expect(enrol.status, JSON.stringify(enrol.body)).toBe(201);
    const first = await answer(calls.length + 1);
    expect(
      (await t.api('POST', `/v1/customers/${id}/authenticators/${enrol.body.id}/activate`, { code: readOut(first.twiml) })).status,
    ).toBe(200);
    const password = 'correct horse battery staple 22';
    expect((await t.api('POST', `/v1/customers/${id}/authenticators/password`, { password })).status).toBe(201);

    const login = await t.createOperation(id, { type: 'login' });
    const n = calls.length + 1;
    expect((await t.api('POST', `/v1/operations/${login}/challenges`, { method: 'voice' })).status).toBe(201);
    const call = await answer(n);
    const code = readOut(call.twiml);
    expect(code).toMatch(/^\d{6}$/);
    const done = await t.api('POST', `/v1/operations/${login}/authenticate`, {
      factors: [
        { method: 'password', password },
        { method: 'voice', code },
      ],
    });
    expect(done.status, JSON.stringify(done.body)).toBe(200);
    const again = await providerPost(call.path, { CallSid: (await placedCall(n)).sid, AnsweredBy: 'human' });
    expect(again.status).toBe(200);
    expect(again.body).toContain('<Hangup/>');
    expect(readOut(again.body)).toBeUndefined();
  });

  it('when detection cannot tell a person from a voicemail, the code is read only after a key is pressed', async () => {
    const { customerId, authenticatorId, call, path } = await voiceEnrolmentCall('tw9', '01 42 68 53 44');
    const unsure = await providerPost(path, { CallSid: call.sid, AnsweredBy: 'unknown' });
    expect(unsure.status).toBe(200);
    expect(unsure.body).toMatch(/<Gather[^>]*numDigits="1"/);
    expect(unsure.body).not.toMatch(/\d, \d/);
    const pressed = await providerPost(path, { CallSid: call.sid, Digits: '1' });
    const code = /<Say[^>]*>(\d(?:, \d)+)<\/Say>/.exec(pressed.body)![1]!.replace(/, /g, '');
    expect((await t.api('POST', `/v1/customers/${customerId}/authenticators/${authenticatorId}/activate`, { code })).status).toBe(200);
  });

  it('an hour after a call went out its code is erased: the record stays, a late answer callback hangs up', async () => {
    const { call, path } = await voiceEnrolmentCall('tw8', '01 42 68 53 33');
    const messageId = path.split('/').pop()!;
    const row = () =>
      t.sesame.services.db
        .selectFrom('messages')
        .select(['payload_sealed', 'destination', 'purpose', 'status'])
        .where('id', '=', messageId)
        .executeTakeFirstOrThrow();
    expect((await row()).payload_sealed).not.toBeNull();
    // Within the hour the call can still be answered; a minute short of it, nothing is erased yet.
    t.clock.advance(PAYLOAD_KEPT_MS - 60_000);
    expect(await eraseSentPayloads(t.sesame.services.db, t.clock.now())).toBe(0);
    expect((await providerPost(path, { CallSid: call.sid, AnsweredBy: 'human' })).body).toMatch(/\d, \d/);

    t.clock.advance(2 * 60_000);
    // The server's own loop erases it, once a minute: a queued message wakes it now.
    t.sesame.services.messagesQueued();
    await expect.poll(async () => (await row()).payload_sealed, { timeout: 5_000 }).toBeNull();
    expect(await row()).toMatchObject({ destination: '+33142685333', purpose: 'otp:enrolment', status: 'queued' });
    const late = await providerPost(path, { CallSid: call.sid, AnsweredBy: 'human' });
    expect(late.status).toBe(200);
    expect(late.body).toContain('<Hangup/>');
    expect(late.body).not.toMatch(/\d, \d/);
  });

  it('an SMS the provider cannot deliver is marked so, and a call to the landline is offered instead', async () => {
    const c = await t.api('POST', '/v1/customers', { ref: `tw2-${Date.now()}`, displayName: 'Two Lines' });
    const id = c.body.id as string;
    const voice = await t.api('POST', `/v1/customers/${id}/authenticators/phone`, { method: 'voice', phone: '01 42 68 53 01' });
    const call = await placedCall(calls.length + 1);
    const human = await providerPost(new URL(call.Url!).pathname, { CallSid: call.sid, AnsweredBy: 'human' });
    const code = /<Say[^>]*>(\d(?:, \d)+)<\/Say>/.exec(human.body)![1]!.replace(/, /g, '');
    expect((await t.api('POST', `/v1/customers/${id}/authenticators/${voice.body.id}/activate`, { code })).status).toBe(200);
    const mobile = await t.api('POST', `/v1/customers/${id}/authenticators/phone`, { method: 'sms', phone: '06 11 22 33 44' });
    for (let i = 0; i < 200 && !sms.some((m) => m.To === '+33611223344'); i++) await new Promise((r) => setTimeout(r, 25));
    const text = sms.find((m) => m.To === '+33611223344')!.Body!;
    expect(text).toMatch(/conseiller/);
    expect(
      (await t.api('POST', `/v1/customers/${id}/authenticators/${mobile.body.id}/activate`, { code: /Code (\d{6})/.exec(text)![1] }))
        .status,
    ).toBe(200);

    refuseSmsTo.add('+33611223344');
    const op = await t.createOperation(id, { type: 'login' });
    const sent = await t.api('POST', `/v1/operations/${op}/challenges`, { method: 'sms' });
    expect(sent.status).toBe(201);
    let status = { delivery: 'pending' } as { delivery: string; offer?: string };
    for (let i = 0; i < 200 && status.delivery === 'pending'; i++) {
      status = (await t.api('GET', `/v1/operations/${op}/challenges/${sent.body.id}`)).body;
      await new Promise((r) => setTimeout(r, 25));
    }
    expect(status).toMatchObject({ delivery: 'undeliverable', offer: 'voice' });
    const row = await t.sesame.services.db
      .selectFrom('messages')
      .select(['status', 'last_error'])
      .where('challenge_id', '=', sent.body.id)
      .executeTakeFirstOrThrow();
    expect(row.status).toBe('undeliverable');
    // The provider's error code is kept, never the message text (it holds the code).
    expect(row.last_error).toMatch(/21614/);
  });

  it('a provider outage is retried from the durable outbox, with backoff, until the SMS is sent', async () => {
    const c = await t.api('POST', '/v1/customers', { ref: `tw3-${Date.now()}`, displayName: 'Retry' });
    failOnceTo.add('+33622334455');
    const enrol = await t.api('POST', `/v1/customers/${c.body.id}/authenticators/phone`, { method: 'sms', phone: '06 22 33 44 55' });
    expect(enrol.status).toBe(201);
    const db = t.sesame.services.db;
    const row = () =>
      db
        .selectFrom('messages')
        .select(['status', 'attempts', 'last_error'])
        .where('destination', '=', '+33622334455')
        .executeTakeFirstOrThrow();
    for (let i = 0; i < 200 && (await row()).attempts === 0; i++) await new Promise((r) => setTimeout(r, 25));
    expect(await row()).toMatchObject({ status: 'pending', attempts: 1 });
    expect(sms.some((m) => m.To === '+33622334455')).toBe(false);
    // Not before its backoff: then the next pass sends it.
    t.clock.advance(6_000);
    for (let i = 0; i < 200 && (await row()).status === 'pending'; i++) await new Promise((r) => setTimeout(r, 25));
    expect(await row()).toMatchObject({ status: 'queued', attempts: 2, last_error: null });
    expect(sms.filter((m) => m.To === '+33622334455')).toHaveLength(1);
  });

  it('SMS due together after an outage go to the provider together, not one slow request after the other', async () => {
    const phones = ['06 22 33 44 61', '06 22 33 44 62', '06 22 33 44 63'];
    const e164 = phones.map((p) => `+33${p.replace(/\s/g, '').slice(1)}`);
    e164.forEach((n) => failOnceTo.add(n));
    for (const [i, phone] of phones.entries()) {
      const c = await t.api('POST', '/v1/customers', { ref: `tw5-${i}-${Date.now()}`, displayName: 'Backlog' });
      const enrol = await t.api('POST', `/v1/customers/${c.body.id}/authenticators/phone`, { method: 'sms', phone });
      expect(enrol.status).toBe(201);
    }
    const rows = () =>
      t.sesame.services.db.selectFrom('messages').select(['status', 'attempts']).where('destination', 'in', e164).execute();
    for (let i = 0; i < 200 && (await rows()).some((r) => r.attempts === 0); i++) await new Promise((r) => setTimeout(r, 25));
    expect((await rows()).map((r) => r.status)).toEqual(['pending', 'pending', 'pending']);
    // The provider is back, and answers only once all three wait: sent one after the other, each would time out.
    holdTogether.clear();
    e164.forEach((n) => holdTogether.add(n));
    held = [];
    t.clock.advance(6_000);
    for (let i = 0; i < 400 && (await rows()).some((r) => r.status === 'pending'); i++) await new Promise((r) => setTimeout(r, 25));
    expect((await rows()).map((r) => ({ ...r }))).toEqual(Array(3).fill({ status: 'queued', attempts: 2 }));
    expect(sms.filter((m) => e164.includes(m.To!))).toHaveLength(3);
  });

  it('a message that can no longer be opened does not hold back the others of its batch: it waits for its lease to end', async () => {
    const phones = ['06 22 33 44 71', '06 22 33 44 72'];
    const [good, bad] = phones.map((p) => `+33${p.replace(/\s/g, '').slice(1)}`) as [string, string];
    [good, bad].forEach((n) => failOnceTo.add(n));
    for (const [i, phone] of phones.entries()) {
      const c = await t.api('POST', '/v1/customers', { ref: `tw6-${i}-${Date.now()}`, displayName: 'Poisoned batch' });
      expect((await t.api('POST', `/v1/customers/${c.body.id}/authenticators/phone`, { method: 'sms', phone })).status).toBe(201);
    }
    const db = t.sesame.services.db;
    const row = (to: string) =>
      db
        .selectFrom('messages')
        .select(['id', 'status', 'attempts', 'payload_sealed'])
        .where('destination', '=', to)
        .executeTakeFirstOrThrow();
    for (let i = 0; i < 200 && ((await row(good)).attempts === 0 || (await row(bad)).attempts === 0); i++)
      await new Promise((r) => setTimeout(r, 25));
    // The other message's sealed payload: sealed for another id, it does not open as this one.
    await db
      .updateTable('messages')
      .set({ payload_sealed: (await row(good)).payload_sealed })
      .where('destination', '=', bad)
      .execute();
    t.clock.advance(6_000);
    for (let i = 0; i < 200 && (await row(good)).status === 'pending'; i++) await new Promise((r) => setTimeout(r, 25));
    expect(await row(good)).toMatchObject({ status: 'queued', attempts: 2 });
    // Not attempted, not given up: it stays pending, leased for a minute, and nothing reached the provider.
    expect(await row(bad)).toMatchObject({ status: 'pending', attempts: 1 });
    expect(sms.filter((m) => m.To === bad)).toHaveLength(0);
    // The loop goes on: a message queued afterwards is sent.
    const c = await t.api('POST', '/v1/customers', { ref: `tw6-after-${Date.now()}`, displayName: 'After' });
    expect(
      (await t.api('POST', `/v1/customers/${c.body.id}/authenticators/phone`, { method: 'sms', phone: '06 22 33 44 73' })).status,
    ).toBe(201);
    for (let i = 0; i < 200 && !sms.some((m) => m.To === '+33622334473'); i++) await new Promise((r) => setTimeout(r, 25));
    expect(sms.some((m) => m.To === '+33622334473')).toBe(true);
  });

  it('refuses numbers of countries outside the allow-list, and more codes per customer than the hourly limit', async () => {
    const c = await t.api('POST', '/v1/customers', { ref: `tw4-${Date.now()}`, displayName: 'Limits' });
    const abroad = await t.api('POST', `/v1/customers/${c.body.id}/authenticators/phone`, { method: 'sms', phone: '+1 876 555 0123' });
    expect(abroad.status).toBe(422);
    expect(abroad.body.code).toBe('ERR_PHONE_COUNTRY_NOT_ALLOWED');
    // Ten codes an hour per customer by default: the eleventh enrolment code is refused.
    const results: number[] = [];
    for (let i = 0; i < 11; i++) {
      const r = await t.api('POST', `/v1/customers/${c.body.id}/authenticators/phone`, {
        method: 'voice',
        phone: `01 42 68 54 ${String(10 + i)}`,
      });
      results.push(r.status);
    }
    expect(results.slice(0, 10).every((st) => st === 201)).toBe(true);
    expect(results[10]).toBe(429);
  });
});
