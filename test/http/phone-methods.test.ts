import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { databaseKinds } from '../support/databases.js';
import { startSesame, type TestSesame } from '../support/sesame.js';

/**
 * Issue #3 through the HTTP API and the dev outbox (what `/dev/phone` shows): SMS codes, voice calls
 * to a landline (read-out and keypad), and the rules that bind a code to one operation.
 */
const PAYMENT = {
  type: 'payment',
  amount: { value: 25000, currency: 'EUR' },
  payee: { name: 'Plomberie Martin', iban: 'FR7630006000011234567890189' },
};
const LANDLINE = '01 42 68 53 00';
const MOBILE = '06 12 34 56 78';

describe.each(databaseKinds)('codes by SMS and voice call, on %s', (kind) => {
  let t: TestSesame;
  beforeAll(async () => {
    // Hourly limits per customer and number are raised: these tests send many codes to one customer.
    t = await startSesame(kind, { SESAME_OTP_MAX_PER_CUSTOMER_HOUR: '100', SESAME_OTP_MAX_PER_NUMBER_HOUR: '100' });
  }, 60_000);
  afterAll(() => t?.close());

  let seq = 0;
  async function customerWithPassword() {
    const ref = `ph${++seq}-${Math.random().toString(36).slice(2, 7)}`;
    const c = await t.api('POST', '/v1/customers', { ref, displayName: `Customer ${ref}` });
    expect(c.status).toBe(201);
    const password = `pw ${ref} correct horse battery`;
    expect((await t.api('POST', `/v1/customers/${c.body.id}/authenticators/password`, { password })).status).toBe(201);
    return { id: c.body.id as string, password };
  }

  /** The newest dev outbox entry to a number once the dispatcher has sent it. */
  async function nextEntry(to: string, after: Set<string>) {
    for (let i = 0; i < 200; i++) {
      const res = await t.api('GET', `/dev/phone/api/entries?to=${encodeURIComponent(to)}`, undefined, { auth: null });
      const fresh = (res.body.entries as { id: string }[]).find((e) => !after.has(e.id));
      if (fresh) {
        after.add(fresh.id);
        return fresh as { id: string; kind: string; text?: string; transcript?: string[] };
      }
      await new Promise((r) => setTimeout(r, 25));
    }
    throw new Error(`nothing was sent to ${to}`);
  }

  const seen = new Set<string>();
  const smsCode = (text: string) => /(\d{6})/.exec(text.replace(/\d+[,.]\d{2}/g, ''))![1]!;
  /** Answers a read-out call and reads the code it says (the digits said one by one). */
  async function answerAndListen(callId: string, as: 'human' | 'machine' = 'human') {
    const turn = await t.api('POST', `/dev/phone/api/calls/${callId}/answer`, { as }, { auth: null });
    expect(turn.status).toBe(200);
    return turn.body as { said: string[]; transcript: string[]; segments: { type: string; digits?: string }[] };
  }
  const spokenCode = (turn: { segments: { type: string; digits?: string }[] }) => turn.segments.find((s) => s.type === 'digits')?.digits;

  async function enrolLandline(customerId: string, voiceMode: 'read-out' | 'keypad' = 'read-out') {
    const enrol = await t.api('POST', `/v1/customers/${customerId}/authenticators/phone`, { method: 'voice', phone: LANDLINE, voiceMode });
    expect(enrol.status, JSON.stringify(enrol.body)).toBe(201);
    expect(enrol.body).toMatchObject({ kind: 'voice', status: 'pending', phone: '+33142685300', voiceMode });
    const call = await nextEntry('+33142685300', seen);
    expect(call.kind).toBe('voice');
    const code = spokenCode(await answerAndListen(call.id));
    expect(code).toMatch(/^\d{6}$/);
    const active = await t.api('POST', `/v1/customers/${customerId}/authenticators/${enrol.body.id}/activate`, { code });
    expect(active.status, JSON.stringify(active.body)).toBe(200);
    return enrol.body.id as string;
  }

  it('a customer with only a landline registers it by a call, then logs in and pays €250 with voice codes', async () => {
    const c = await customerWithPassword();
    await enrolLandline(c.id);

    const login = await t.createOperation(c.id, { type: 'login' });
    const sent = await t.api('POST', `/v1/operations/${login}/challenges`, { method: 'voice' });
    expect(sent.status, JSON.stringify(sent.body)).toBe(201);
    expect(sent.body).toMatchObject({ method: 'voice', mode: 'read-out' });
    expect(sent.body.destination).not.toContain('42 68 53');
    const loginCall = await answerAndListen((await nextEntry('+33142685300', seen)).id);
    const loggedIn = await t.api('POST', `/v1/operations/${login}/authenticate`, {
      factors: [
        { method: 'password', password: c.password },
        { method: 'voice', code: spokenCode(loginCall) },
      ],
    });
    expect(loggedIn.status, JSON.stringify(loggedIn.body)).toBe(200);

    const pay = await t.createOperation(c.id, PAYMENT, loggedIn.body.session.token);
    expect((await t.api('POST', `/v1/operations/${pay}/challenges`, { method: 'voice' })).status).toBe(201);
    const payCall = await answerAndListen((await nextEntry('+33142685300', seen)).id);
    // The call states what is authorised before the code.
    expect(payCall.transcript.join(' ')).toMatch(/250/);
    expect(payCall.transcript.join(' ')).toContain('Plomberie Martin');
    const paid = await t.api('POST', `/v1/operations/${pay}/authenticate`, { factors: [{ method: 'voice', code: spokenCode(payCall) }] });
    expect(paid.status, JSON.stringify(paid.body)).toBe(200);
    expect(paid.body.methods).toEqual(['voice']);
  });

  it('an enrolment code sent by SMS lives what its message says (the OTP lifetime), not the 10 minutes of an app enrolment', async () => {
    const c = await customerWithPassword();
    const enrol = await t.api('POST', `/v1/customers/${c.id}/authenticators/phone`, { method: 'sms', phone: '06 12 34 99 01' });
    expect(enrol.status, JSON.stringify(enrol.body)).toBe(201);
    const ttlMs = t.sesame.services.config.otp.ttlSeconds * 1000;
    expect(enrol.body.activateBefore).toBe(new Date(t.clock.now().getTime() + ttlMs).toISOString());
    const code = smsCode((await nextEntry('+33612349901', seen)).text!);
    t.clock.advanceSeconds(t.sesame.services.config.otp.ttlSeconds + 1);
    const late = await t.api('POST', `/v1/customers/${c.id}/authenticators/${enrol.body.id}/activate`, { code });
    expect(late.status).toBe(409);
    expect(late.body.code).toBe('ERR_ENROLMENT_EXPIRED');
  });

  it('no call goes to a premium-rate or shared-cost number (toll fraud): refused before anything is sent', async () => {
    const c = await customerWithPassword();
    for (const phone of ['08 99 12 34 56', '08 10 12 34 56']) {
      const res = await t.api('POST', `/v1/customers/${c.id}/authenticators/phone`, { method: 'voice', phone });
      expect(res.status).toBe(422);
      expect(res.body).toMatchObject({ code: 'ERR_NOT_A_PERSONAL_LINE', field: 'phone' });
    }
    const sent = await t.sesame.services.db.selectFrom('messages').select('id').where('customer_id', '=', c.id).execute();
    expect(sent).toEqual([]);
    // A VoIP line, which people answer, is fine.
    expect((await t.api('POST', `/v1/customers/${c.id}/authenticators/phone`, { method: 'voice', phone: '09 70 12 34 56' })).status).toBe(
      201,
    );
  });

  it('SMS is refused for a landline, with voice calls offered instead', async () => {
    const c = await customerWithPassword();
    const res = await t.api('POST', `/v1/customers/${c.id}/authenticators/phone`, { method: 'sms', phone: LANDLINE });
    expect(res.status).toBe(422);
    expect(res.body).toMatchObject({ code: 'ERR_NOT_A_MOBILE', offer: 'voice' });
  });

  describe('an SMS code', () => {
    let c: { id: string; password: string };
    let session: string;
    beforeAll(async () => {
      c = await customerWithPassword();
      const enrol = await t.api('POST', `/v1/customers/${c.id}/authenticators/phone`, { method: 'sms', phone: MOBILE });
      expect(enrol.status, JSON.stringify(enrol.body)).toBe(201);
      const sms = await nextEntry('+33612345678', seen);
      expect(
        (await t.api('POST', `/v1/customers/${c.id}/authenticators/${enrol.body.id}/activate`, { code: smsCode(sms.text!) })).status,
      ).toBe(200);
      const login = await t.createOperation(c.id, { type: 'login' });
      await t.api('POST', `/v1/operations/${login}/challenges`, { method: 'sms' });
      const code = smsCode((await nextEntry('+33612345678', seen)).text!);
      const res = await t.api('POST', `/v1/operations/${login}/authenticate`, {
        factors: [
          { method: 'password', password: c.password },
          { method: 'sms', code },
        ],
      });
      expect(res.status, JSON.stringify(res.body)).toBe(200);
      session = res.body.session.token;
    });

    async function smsFor(opId: string) {
      expect((await t.api('POST', `/v1/operations/${opId}/challenges`, { method: 'sms' })).status).toBe(201);
      return (await nextEntry('+33612345678', seen)).text!;
    }

    it('states the amount and the payee, warns never to give it, and authorises that payment once', async () => {
      const pay = await t.createOperation(c.id, PAYMENT, session);
      const text = await smsFor(pay);
      expect(text).toMatch(/250,00/);
      expect(text).toContain('Plomberie Martin');
      expect(text).toMatch(/conseiller/);
      const code = smsCode(text);
      const ok = await t.api('POST', `/v1/operations/${pay}/authenticate`, { factors: [{ method: 'sms', code }] });
      expect(ok.status).toBe(200);
      // Replay on another operation of the same amount and payee: the code was bound to the first one.
      const again = await t.createOperation(c.id, PAYMENT, session);
      const replay = await t.api('POST', `/v1/operations/${again}/authenticate`, { factors: [{ method: 'sms', code }] });
      expect(replay.status).toBe(401);
    });

    it('a code sent for €250 is refused for €250.01 (dynamic linking)', async () => {
      const pay = await t.createOperation(c.id, PAYMENT, session);
      const code = smsCode(await smsFor(pay));
      const changed = await t.createOperation(c.id, { ...PAYMENT, amount: { value: 25001, currency: 'EUR' } }, session);
      await smsFor(changed); // its own code exists, but the other one is submitted
      const res = await t.api('POST', `/v1/operations/${changed}/authenticate`, { factors: [{ method: 'sms', code }] });
      expect(res.status).toBe(401);
      expect(res.body.code).toBe('ERR_AUTHENTICATION_FAILED');
    });

    it('a wrong code fails like any element, and uses the code up', async () => {
      const pay = await t.createOperation(c.id, PAYMENT, session);
      const code = smsCode(await smsFor(pay));
      const wrong = code === '000000' ? '111111' : '000000';
      const before = (await t.api('GET', `/v1/customers/${c.id}/security`)).body.remainingAttempts as number;
      const res = await t.api('POST', `/v1/operations/${pay}/authenticate`, { factors: [{ method: 'sms', code: wrong }] });
      expect(res.status).toBe(401);
      expect(res.body.remainingAttempts).toBe(before - 1);
      const late = await t.api('POST', `/v1/operations/${pay}/authenticate`, { factors: [{ method: 'sms', code }] });
      expect(late.status).toBe(401);
      // A success resets the count for the tests that follow.
      const next = await t.createOperation(c.id, PAYMENT, session);
      const good = smsCode(await smsFor(next));
      expect((await t.api('POST', `/v1/operations/${next}/authenticate`, { factors: [{ method: 'sms', code: good }] })).status).toBe(200);
    });

    it('at most three codes are sent for one operation (429 after)', async () => {
      const pay = await t.createOperation(c.id, PAYMENT, session);
      for (let i = 0; i < 3; i++) await smsFor(pay);
      const fourth = await t.api('POST', `/v1/operations/${pay}/challenges`, { method: 'sms' });
      expect(fourth.status).toBe(429);
      expect(fourth.body.code).toBe('ERR_OTP_LIMIT');
    });

    it('expires after five minutes', async () => {
      const pay = await t.createOperation(c.id, PAYMENT, session);
      const code = smsCode(await smsFor(pay));
      t.clock.advance(301_000);
      // The session is idle by now too: a fresh login is needed, then the old code is refused.
      const res = await t.api('POST', `/v1/operations/${pay}/authenticate`, { factors: [{ method: 'sms', code }] });
      expect([401, 409]).toContain(res.status);
    });

    it('the code is in no database row', async () => {
      const pay = await t.createOperation(c.id, PAYMENT, await freshSession());
      const code = smsCode(await smsFor(pay));
      const rows = await t.sesame.services.db.selectFrom('messages').selectAll().execute();
      const challenges = await t.sesame.services.db.selectFrom('otp_challenges').selectAll().execute();
      expect(JSON.stringify(rows)).not.toContain(code);
      expect(JSON.stringify(challenges)).not.toContain(code);
    });

    async function freshSession() {
      const login = await t.createOperation(c.id, { type: 'login' });
      const code = smsCode(await smsFor(login));
      const res = await t.api('POST', `/v1/operations/${login}/authenticate`, {
        factors: [
          { method: 'password', password: c.password },
          { method: 'sms', code },
        ],
      });
      expect(res.status, JSON.stringify(res.body)).toBe(200);
      session = res.body.session.token;
      return session;
    }
  });

  it('keypad mode: the screen shows a code, typed on the handset during the call, and the payment completes', async () => {
    const c = await customerWithPassword();
    await enrolLandline(c.id, 'keypad');
    const login = await t.createOperation(c.id, { type: 'login' });
    const sent = await t.api('POST', `/v1/operations/${login}/challenges`, { method: 'voice' });
    expect(sent.status).toBe(201);
    expect(sent.body).toMatchObject({ mode: 'keypad' });
    expect(sent.body.displayCode).toMatch(/^\d{6}$/);
    const call = await nextEntry('+33142685300', seen);
    const answered = await answerAndListen(call.id);
    expect(answered.transcript.join(' ')).not.toContain(sent.body.displayCode);
    const typed = await t.api('POST', `/dev/phone/api/calls/${call.id}/keys`, { keys: `${sent.body.displayCode}#` }, { auth: null });
    expect(typed.status, JSON.stringify(typed.body)).toBe(200);
    const res = await t.api('POST', `/v1/operations/${login}/authenticate`, {
      factors: [{ method: 'password', password: c.password }, { method: 'voice' }],
    });
    expect(res.status, JSON.stringify(res.body)).toBe(200);

    // Wrong keys on the handset: the attempt fails.
    const other = await t.createOperation(c.id, { type: 'login' });
    const sent2 = await t.api('POST', `/v1/operations/${other}/challenges`, { method: 'voice' });
    const call2 = await nextEntry('+33142685300', seen);
    await answerAndListen(call2.id);
    const wrong = sent2.body.displayCode === '000000' ? '111111' : '000000';
    await t.api('POST', `/dev/phone/api/calls/${call2.id}/keys`, { keys: `${wrong}#` }, { auth: null });
    const refused = await t.api('POST', `/v1/operations/${other}/authenticate`, {
      factors: [{ method: 'password', password: c.password }, { method: 'voice' }],
    });
    expect(refused.status).toBe(401);
  });

  it('keypad mode in English: the result is said in the line’s language too', async () => {
    const c = await customerWithPassword();
    const enrol = await t.api('POST', `/v1/customers/${c.id}/authenticators/phone`, {
      method: 'voice',
      phone: '01 42 68 53 11',
      voiceMode: 'keypad',
      locale: 'en',
    });
    expect(enrol.status, JSON.stringify(enrol.body)).toBe(201);
    const code = spokenCode(await answerAndListen((await nextEntry('+33142685311', seen)).id));
    expect((await t.api('POST', `/v1/customers/${c.id}/authenticators/${enrol.body.id}/activate`, { code })).status).toBe(200);
    const login = await t.createOperation(c.id, { type: 'login' });
    const sent = await t.api('POST', `/v1/operations/${login}/challenges`, { method: 'voice' });
    const call = await nextEntry('+33142685311', seen);
    await answerAndListen(call.id);
    const typed = await t.api('POST', `/dev/phone/api/calls/${call.id}/keys`, { keys: `${sent.body.displayCode}#` }, { auth: null });
    expect(JSON.stringify(typed.body)).toContain('Thank you, your operation is confirmed.');
  });

  it('an answering machine never hears the code', async () => {
    const c = await customerWithPassword();
    await enrolLandline(c.id);
    const login = await t.createOperation(c.id, { type: 'login' });
    await t.api('POST', `/v1/operations/${login}/challenges`, { method: 'voice' });
    const call = await nextEntry('+33142685300', seen);
    const machine = await answerAndListen(call.id, 'machine');
    expect(spokenCode(machine)).toBeUndefined();
    expect(machine.transcript.join(' ')).not.toMatch(/\d{3}/);
  });
});

describe('numbers written nationally, in a bank of another country (PGlite)', () => {
  let t: TestSesame;
  beforeAll(async () => {
    t = await startSesame('pglite', { SESAME_PHONE_DEFAULT_COUNTRY: 'BE', SESAME_SMS_COUNTRIES: 'BE,LU' });
  }, 60_000);
  afterAll(() => t?.close());

  it("are of the configured country, in the customer's facts as in enrolments; a refused number names its field", async () => {
    const created = await t.api('POST', '/v1/customers', {
      ref: `be-${Date.now()}`,
      displayName: 'Lotte Peeters',
      mobilePhone: '0470 12 34 56',
    });
    expect(created.status, JSON.stringify(created.body)).toBe(201);
    expect(created.body.mobilePhone).toBe('+32470123456');
    const id = created.body.id as string;
    expect((await t.api('POST', `/v1/customers/${id}/authenticators/password`, { password: 'correct horse battery' })).status).toBe(201);
    const enrol = (phone: string) => t.api('POST', `/v1/customers/${id}/authenticators/phone`, { method: 'sms', phone });
    const invalid = await enrol('+33612345671 ext. 5');
    expect(invalid.status).toBe(400);
    expect(invalid.body).toMatchObject({ code: 'ERR_INVALID_PHONE_NUMBER', field: 'phone' });
    const abroad = await enrol('+33 6 12 34 56 78');
    expect(abroad.status).toBe(422);
    expect(abroad.body).toMatchObject({ code: 'ERR_PHONE_COUNTRY_NOT_ALLOWED', field: 'phone', country: 'FR' });
    const national = await enrol('0470 12 34 56');
    expect(national.status, JSON.stringify(national.body)).toBe(201);
  });
});
