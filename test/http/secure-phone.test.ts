import { Secret, TOTP } from 'otpauth';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { databaseKinds } from '../support/databases.js';
import { startSesame, type TestCustomer, type TestSesame } from '../support/sesame.js';

/**
 * Seed 001, the secure mobile number: changed under SCA that does not rely on it, proven by a code to the
 * new number, announced to the old number and by email, then a cooling-off; "no longer my number" goes to
 * an advisor; a yearly check. And seed 000: one answer about a customer's ways in.
 */
const OLD = '+33612345678';
const NEW = '+33798765432';

describe.each(databaseKinds)('the secure phone number, on %s', (kind) => {
  let t: TestSesame;
  beforeAll(async () => {
    t = await startSesame(kind, { SESAME_OTP_MAX_PER_CUSTOMER_HOUR: '100', SESAME_OTP_MAX_PER_NUMBER_HOUR: '100' });
  }, 60_000);
  afterAll(() => t?.close());

  const seen = new Set<string>();
  async function nextEntry(to: string) {
    for (let i = 0; i < 200; i++) {
      const res = await t.api('GET', `/dev/phone/api/entries?to=${encodeURIComponent(to)}`, undefined, { auth: null });
      const fresh = (res.body.entries as { id: string }[]).find((e) => !seen.has(e.id));
      if (fresh) {
        seen.add(fresh.id);
        return fresh as { id: string; kind: string; text?: string; subject?: string };
      }
      await new Promise((r) => setTimeout(r, 25));
    }
    throw new Error(`nothing was sent to ${to}`);
  }
  const codeIn = (text: string) => /Code (\d{6})/.exec(text)![1]!;

  const authorise = (c: TestCustomer, data: Record<string, unknown>) => t.authorise(c, data);

  /** An adult with password, TOTP, an email and an SMS authenticator on the secure number. */
  async function customerWithSecurePhone(facts: Record<string, unknown> = { birthDate: '1980-05-01' }) {
    const c = await t.newCustomerWithPasswordAndTotp();
    const patch = await t.api('PATCH', `/v1/customers/${c.id}`, { mobilePhone: OLD, email: `${c.ref}@example.com`, ...facts });
    expect(patch.status, JSON.stringify(patch.body)).toBe(200);
    const code = await authorise(c, { type: 'manage_authenticators', action: 'add', kind: 'sms', target: OLD });
    const enrol = await t.api('POST', `/v1/customers/${c.id}/authenticators/phone`, {
      method: 'sms',
      phone: OLD,
      authenticationCode: code,
    });
    expect(enrol.status, JSON.stringify(enrol.body)).toBe(201);
    const sms = await nextEntry(OLD);
    expect(
      (await t.api('POST', `/v1/customers/${c.id}/authenticators/${enrol.body.id}/activate`, { code: codeIn(sms.text!) })).status,
    ).toBe(200);
    return c;
  }

  /** Answers the next call to a number (dev outbox) and returns the code it reads out. */
  async function listen(to: string) {
    const call = await nextEntry(to);
    expect(call.kind).toBe('voice');
    const turn = await t.api('POST', `/dev/phone/api/calls/${call.id}/answer`, { as: 'human' }, { auth: null });
    expect(turn.status).toBe(200);
    return (turn.body.segments as { type: string; digits?: string }[]).find((x) => x.type === 'digits')!.digits!;
  }

  /** An active voice method of the customer's on `phone`. */
  async function voiceLine(c: TestCustomer, phone: string) {
    const code = await authorise(c, { type: 'manage_authenticators', action: 'add', kind: 'voice', target: phone });
    const enrol = await t.api('POST', `/v1/customers/${c.id}/authenticators/phone`, { method: 'voice', phone, authenticationCode: code });
    expect(enrol.status, JSON.stringify(enrol.body)).toBe(201);
    const spoken = await listen(enrol.body.phone);
    expect((await t.api('POST', `/v1/customers/${c.id}/authenticators/${enrol.body.id}/activate`, { code: spoken })).status).toBe(200);
    return { id: enrol.body.id as string, phone: enrol.body.phone as string };
  }

  it('changes the number under SCA, proven by a code to the new number, announced to the old number and by email', async () => {
    const c = await customerWithSecurePhone();
    const callsToOld = await voiceLine(c, OLD);
    const code = await authorise(c, { type: 'change_phone', phone: '07 98 76 54 32' });
    const started = await t.api('POST', `/v1/customers/${c.id}/secure-phone/change`, { phone: NEW, authenticationCode: code });
    expect(started.status, JSON.stringify(started.body)).toBe(202);
    // The authentication code was consumed: it cannot start a second change.
    const again = await t.api('POST', `/v1/customers/${c.id}/secure-phone/change`, { phone: NEW, authenticationCode: code });
    expect(again.status).toBe(409);
    expect(again.body.code).toBe('ERR_CODE_ALREADY_USED');
    const proof = await nextEntry(NEW);
    const wrong = await t.api('POST', `/v1/customers/${c.id}/secure-phone/confirm`, {
      id: started.body.id,
      code: '000000' === codeIn(proof.text!) ? '111111' : '000000',
    });
    expect(wrong.status).toBe(422);
    // Under another customer's id (here: none), the change is not found.
    const elsewhere = await t.api('POST', '/v1/customers/nobody/secure-phone/confirm', { id: started.body.id, code: codeIn(proof.text!) });
    expect(elsewhere.status).toBe(404);
    const done = await t.api('POST', `/v1/customers/${c.id}/secure-phone/confirm`, { id: started.body.id, code: codeIn(proof.text!) });
    expect(done.status, JSON.stringify(done.body)).toBe(200);
    expect(done.body).toMatchObject({ mobilePhone: NEW });
    expect(done.body.securePhoneChangedAt).toBeTruthy();

    // The old number is told, with what to do if it was not the customer; and so is the email.
    const notice = await nextEntry(OLD);
    expect(notice.kind).toBe('sms');
    expect(notice.text).toMatch(/32/); // the new number's last digits
    const email = await nextEntry(`${c.ref}@example.com`);
    expect(email.kind).toBe('email');
    // The core banking system gets the event.
    const events = await t.sesame.services.db
      .selectFrom('outbox_events')
      .select(['type', 'payload'])
      .where('type', '=', 'secure_phone.changed')
      .execute();
    expect(events.some((e) => JSON.stringify(e.payload).includes(c.id))).toBe(true);
    // SMS codes now go to the new number only.
    const ways = await t.api('GET', `/v1/customers/${c.id}/ways-in`);
    const sms = (ways.body.methods as { kind: string; status: string; destination?: string }[]).filter((m) => m.kind === 'sms');
    expect(sms).toHaveLength(1);
    expect(sms[0]!.destination).toMatch(/32$/);
    // Nor are codes called to the old number any more.
    const kept = (await t.api('GET', `/v1/customers/${c.id}/authenticators`)).body.items.map((a: { id: string }) => a.id);
    expect(kept).not.toContain(callsToOld.id);
  });

  it('an SMS to the number being replaced cannot authorise its change', async () => {
    const c = await customerWithSecurePhone();
    const op = await t.createOperation(c.id, { type: 'change_phone', phone: NEW });
    const res = await t.api('POST', `/v1/operations/${op}/authenticate`, {
      factors: [
        { method: 'password', password: c.password },
        { method: 'sms', code: '123456' },
      ],
    });
    expect(res.status).toBe(422);
    expect(res.body.code).toBe('ERR_METHOD_NOT_ALLOWED');
    // Nor is a code sent to it for that purpose.
    const sent = await t.api('POST', `/v1/operations/${op}/challenges`, { method: 'sms' });
    expect(sent.status).toBe(422);
    expect(sent.body.code).toBe('ERR_METHOD_NOT_ALLOWED');
  });

  it('a call to the number being replaced cannot authorise its change, even when the customer also has a landline', async () => {
    const c = await customerWithSecurePhone();
    const mobileLine = await voiceLine(c, OLD);
    const landline = await voiceLine(c, '+33142685377');
    const byCall = async (line: { id: string; phone: string }) => {
      const op = await t.createOperation(c.id, { type: 'change_phone', phone: '+33798765477' });
      expect((await t.api('POST', `/v1/operations/${op}/challenges`, { method: 'voice', authenticatorId: line.id })).status).toBe(201);
      const spoken = await listen(line.phone);
      const res = await t.api('POST', `/v1/operations/${op}/authenticate`, {
        factors: [
          { method: 'password', password: c.password },
          { method: 'voice', code: spoken, authenticatorId: line.id },
        ],
      });
      expect(res.status, JSON.stringify(res.body)).toBe(200);
      return res.body.authenticationCode as string;
    };
    const change = (code: string) =>
      t.api('POST', `/v1/customers/${c.id}/secure-phone/change`, { phone: '+33798765477', authenticationCode: code });
    const refused = await change(await byCall(mobileLine));
    expect(refused.status).toBe(422);
    expect(refused.body.code).toBe('ERR_STEP_UP_MISMATCH');
    expect((await change(await byCall(landline))).status).toBe(202);
  });

  it('a suspended call method is resumed with a step-up that names no number: the number is already the customer’s', async () => {
    const c = await customerWithSecurePhone();
    const line = await voiceLine(c, '+33142685388');
    expect((await t.api('POST', `/v1/customers/${c.id}/authenticators/${line.id}/suspend`, {})).status).toBe(200);
    const code = await authorise(c, { type: 'manage_authenticators', action: 'add', kind: 'voice' });
    const resumed = await t.api('POST', `/v1/customers/${c.id}/authenticators/${line.id}/resume`, { authenticationCode: code });
    expect(resumed.status, JSON.stringify(resumed.body)).toBe(200);
    expect(resumed.body.status).toBe('active');
  });

  it('a call method enrolled before the customer could authenticate asks, once they can, for a step-up naming its number', async () => {
    const ref = `boot-${Date.now()}`;
    const id = (await t.api('POST', '/v1/customers', { ref, displayName: 'Boot Strap' })).body.id as string;
    expect((await t.api('POST', `/v1/customers/${id}/authenticators/password`, { password: `pw ${ref} long enough` })).status).toBe(201);
    const voice = await t.api('POST', `/v1/customers/${id}/authenticators/phone`, { method: 'voice', phone: '+33142685399' });
    expect(voice.status, JSON.stringify(voice.body)).toBe(201);
    const spoken = await listen(voice.body.phone);
    const totp = await t.api('POST', `/v1/customers/${id}/authenticators/totp`, {});
    const code = new TOTP({ secret: Secret.fromBase32(totp.body.secret) }).generate({ timestamp: t.clock.now().getTime() });
    expect((await t.api('POST', `/v1/customers/${id}/authenticators/${totp.body.id}/activate`, { code })).status).toBe(200);
    const late = await t.api('POST', `/v1/customers/${id}/authenticators/${voice.body.id}/activate`, { code: spoken });
    expect(late.status).toBe(422);
    expect(late.body).toMatchObject({
      code: 'ERR_STEP_UP_REQUIRED',
      operation: { type: 'manage_authenticators', action: 'add', kind: 'voice', target: '+33142685399' },
    });
    const listed = (await t.api('GET', `/v1/customers/${id}/authenticators`)).body.items as { kind: string; status: string }[];
    expect(listed.map((m) => `${m.kind} ${m.status}`).sort()).toEqual(['password active', 'totp active']);
  });

  it('a code authorised for another number does not change to this one', async () => {
    const c = await customerWithSecurePhone();
    const code = await authorise(c, { type: 'change_phone', phone: '+33798765499' });
    const res = await t.api('POST', `/v1/customers/${c.id}/secure-phone/change`, { phone: NEW, authenticationCode: code });
    expect(res.status).toBe(422);
    expect(res.body.code).toBe('ERR_STEP_UP_MISMATCH');
  });

  it('a number the bank replaces gets no more codes: its SMS method is revoked, the new number is not enrolled unproven', async () => {
    const c = await customerWithSecurePhone();
    const sms = async () =>
      ((await t.api('GET', `/v1/customers/${c.id}/authenticators`)).body.items as { id: string; kind: string; phone?: string }[]).filter(
        (a) => a.kind === 'sms',
      );
    const [method] = await sms();
    expect(method).toBeDefined();
    // The nightly sync sends the same number again: nothing changes.
    expect((await t.api('PATCH', `/v1/customers/${c.id}`, { mobilePhone: '06 12 34 56 78' })).status).toBe(200);
    expect(await sms()).toHaveLength(1);
    expect((await t.api('PATCH', `/v1/customers/${c.id}`, { mobilePhone: NEW })).status).toBe(200);
    expect(await sms()).toEqual([]);
    // The old number is told of the change.
    expect((await nextEntry(OLD)).text).toMatch(/numéro|number/i);
    const op = await t.createOperation(c.id, { type: 'login' });
    const challenge = await t.api('POST', `/v1/operations/${op}/challenges`, { method: 'sms', authenticatorId: method!.id });
    expect(challenge.status).toBeGreaterThanOrEqual(400);
    expect(challenge.status).toBeLessThan(500);
    // The customer's other means are untouched: password and TOTP still log in.
    expect((await t.api('GET', `/v1/customers/${c.id}/authenticators`)).body.items.map((a: { kind: string }) => a.kind).sort()).toEqual([
      'password',
      'totp',
    ]);
  });

  it('a minor who is not emancipated is refused with the reason; an emancipated one may go on', async () => {
    const minor = await customerWithSecurePhone({ birthDate: '2012-03-01' });
    const refused = await t.api('POST', `/v1/customers/${minor.id}/secure-phone/change`, {
      phone: NEW,
      authenticationCode: 'x'.repeat(20),
    });
    expect(refused.status).toBe(422);
    expect(refused.body).toMatchObject({ code: 'ERR_NOT_ELIGIBLE', reason: expect.stringContaining('minor') });
    const emancipated = await customerWithSecurePhone({ birthDate: '2009-03-01', emancipated: true });
    const code = await authorise(emancipated, { type: 'change_phone', phone: NEW });
    expect(
      (await t.api('POST', `/v1/customers/${emancipated.id}/secure-phone/change`, { phone: NEW, authenticationCode: code })).status,
    ).toBe(202);
  });

  it('after a change, adding a beneficiary cannot use an SMS code until the cooling-off ends', async () => {
    const c = await customerWithSecurePhone();
    const code = await authorise(c, { type: 'change_phone', phone: '+33798765411' });
    const started = await t.api('POST', `/v1/customers/${c.id}/secure-phone/change`, { phone: '+33798765411', authenticationCode: code });
    const proof = await nextEntry('+33798765411');
    expect(
      (await t.api('POST', `/v1/customers/${c.id}/secure-phone/confirm`, { id: started.body.id, code: codeIn(proof.text!) })).status,
    ).toBe(200);
    await nextEntry(OLD); // the notice
    const beneficiary = { type: 'add_beneficiary', payee: { name: 'Plomberie Martin', iban: 'FR7630006000011234567890189' } };
    const op = await t.createOperation(c.id, beneficiary);
    const refused = await t.api('POST', `/v1/operations/${op}/challenges`, { method: 'sms' });
    expect(refused.status).toBe(422);
    expect(refused.body.code).toBe('ERR_COOLING_OFF');
    expect((await t.api('GET', `/v1/customers/${c.id}/ways-in`)).body.securePhone.coolingOff).toBe(true);
    t.clock.advance(73 * 3600_000);
    const later = await t.createOperation(c.id, beneficiary);
    expect((await t.api('POST', `/v1/operations/${later}/challenges`, { method: 'sms' })).status).toBe(201);
  });

  it('"this is no longer my number" records a case for an advisor and says what happens next', async () => {
    const c = await customerWithSecurePhone();
    const res = await t.api('POST', `/v1/customers/${c.id}/secure-phone/lost`);
    expect(res.status).toBe(201);
    expect(res.body.nextStep).toMatch(/adviser/);
    const cases = await t.sesame.services.db.selectFrom('advisor_cases').selectAll().where('customer_id', '=', c.id).execute();
    expect(cases).toHaveLength(1);
    expect(cases[0]).toMatchObject({ kind: 'secure_phone_lost', status: 'open' });
  });

  it('a number not confirmed for a year is flagged, and confirming it by a code clears the flag', async () => {
    const c = await customerWithSecurePhone();
    expect((await t.api('GET', `/v1/customers/${c.id}/ways-in`)).body.securePhone.checkDue).toBe(false);
    t.clock.advance(366 * 86_400_000);
    expect((await t.api('GET', `/v1/customers/${c.id}/ways-in`)).body.securePhone.checkDue).toBe(true);
    const started = await t.api('POST', `/v1/customers/${c.id}/secure-phone/reconfirm`, {});
    expect(started.status).toBe(202);
    const sms = await nextEntry(OLD);
    expect(
      (await t.api('POST', `/v1/customers/${c.id}/secure-phone/confirm`, { id: started.body.id, code: codeIn(sms.text!) })).status,
    ).toBe(200);
    expect((await t.api('GET', `/v1/customers/${c.id}/ways-in`)).body.securePhone.checkDue).toBe(false);
  });

  it('ways in: a customer with only a password and a landline can log in and pay, and is offered TOTP, calls and tokens', async () => {
    const created = await t.api('POST', '/v1/customers', { ref: `land-${Date.now()}`, displayName: 'Landline Only' });
    const id = created.body.id as string;
    const enrol = await t.api('POST', `/v1/customers/${id}/authenticators/phone`, { method: 'voice', phone: '01 42 68 53 00' });
    expect(enrol.status).toBe(201);
    const ways0 = await t.api('GET', `/v1/customers/${id}/ways-in`);
    expect(ways0.body).toMatchObject({ canLogIn: false, canPay: false });
    const kinds = (ways0.body.canAdd as { kind: string }[]).map((a) => a.kind);
    expect(kinds).toEqual(expect.arrayContaining(['totp', 'voice', 'hotp', 'password']));
    expect(ways0.body.methods[0]).toMatchObject({ kind: 'voice', status: 'pending', destination: expect.stringMatching(/00$/) });
  });
});
