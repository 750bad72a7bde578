import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  DeviceApiError,
  MemoryDeviceStore,
  NewPinInForce,
  PinChangeUnconfirmed,
  SesameDevice,
  type PendingApproval,
} from '../../sdk/device/src/index.js';
import { buildHttp } from '../../src/http/server.js';
import { activeApp } from '../../src/journeys/app-approvals.js';
import { changePin } from '../../src/journeys/app-device.js';
import { createAdvisor } from '../../src/journeys/principals.js';
import { databaseKinds } from '../support/databases.js';
import { SoftAuthenticator } from '../support/soft-webauthn.js';
import { activateTestDevice, injectFetch, signedDeviceHeader, testDevice } from '../support/device.js';
import { startSesame, type TestSesame } from '../support/sesame.js';

/**
 * The app authenticator end to end (issue #4, seed 003), with the device SDK as the app: activation
 * (self-service, branch), approvals with the PIN, what the server alone can detect (a wrong PIN, a
 * tampered signature, a replay, a modified amount), the lifecycle (transfer, close, PIN change) and the
 * limits against push bombing. Time windows (72 h, 24 h) move with the test clock.
 */
const PIN = '482913';
const PAYMENT = (value: number) => ({
  type: 'payment',
  amount: { value, currency: 'EUR' },
  payee: { name: 'Plomberie Martin', iban: 'FR7630006000011234567890189' },
});
const CARD_PAYMENT = {
  type: 'online_card_payment',
  amount: { value: 4199, currency: 'EUR' },
  payee: { name: 'showroomprive.com', merchantId: 'FR-SRP-0001' },
};

describe.each(databaseKinds)('the app authenticator on %s', (kind) => {
  let t: TestSesame;
  let seq = 0;

  beforeAll(async () => {
    t = await startSesame(kind, { SESAME_OTP_MAX_PER_CUSTOMER_HOUR: '100', SESAME_OTP_MAX_PER_NUMBER_HOUR: '100' });
  }, 60_000);
  afterAll(() => t?.close());

  /** A customer of the bank; by default eligible (a card, a secure mobile, remote banking). */
  async function customer(facts: Record<string, unknown> = {}) {
    const ref = `app${++seq}-${Math.random().toString(36).slice(2, 7)}`;
    const mobile = `+3361234${String(1000 + seq).slice(-4)}`;
    const res = await t.api('POST', '/v1/customers', {
      ref,
      displayName: `Customer ${ref}`,
      mobilePhone: mobile,
      hasActiveCard: true,
      ...facts,
    });
    expect(res.status, JSON.stringify(res.body)).toBe(201);
    return { id: res.body.id as string, mobile: res.body.mobilePhone as string | null };
  }

  const seenSms = new Set<string>();
  /** The next SMS to a number, as the dev outbox (the `/dev/phone` page) shows it. */
  async function nextSms(to: string): Promise<string> {
    for (let i = 0; i < 200; i++) {
      const res = await t.api('GET', `/dev/phone/api/entries?to=${encodeURIComponent(to)}`, undefined, { auth: null });
      const fresh = (res.body.entries as { id: string; text?: string }[]).find((e) => !seenSms.has(e.id));
      if (fresh) {
        seenSms.add(fresh.id);
        return fresh.text ?? '';
      }
      await new Promise((r) => setTimeout(r, 25));
    }
    throw new Error(`no SMS to ${to}`);
  }
  const codeIn = (text: string) => /\b(\d{6})\b/.exec(text)![1]!;

  /** Self-service activation: the code from web banking, then the code sent to the secure mobile. */
  async function activate(c: { id: string; mobile: string | null }, purpose?: string) {
    const started = await t.api('POST', `/v1/customers/${c.id}/app-activations`, purpose ? { purpose } : {});
    expect(started.status, JSON.stringify(started.body)).toBe(201);
    const device = testDevice(t.sesame.app);
    const reg = await device.activate({ activationCode: started.body.activationCode, pin: PIN, deviceName: 'Pixel 8', platform: 'node' });
    expect(reg.status).toBe('awaiting_confirmation');
    expect(reg.confirmation?.destination).toMatch(/•/);
    await device.confirmActivation(codeIn(await nextSms(c.mobile!)));
    return device;
  }

  type Fetch = (input: Parameters<typeof fetch>[0], init?: RequestInit) => Promise<Response>;

  /** An installation whose requests go through `network` (given the way to the server): to lose an answer, watch a request, go offline. */
  async function activateThrough(c: { id: string; mobile: string | null }, network: (viaServer: Fetch) => Fetch) {
    const device = new SesameDevice({
      serverUrl: 'http://sesame.test',
      store: new MemoryDeviceStore(),
      pinIterations: 1000,
      fetch: network(injectFetch(t.sesame.app) as Fetch) as typeof fetch,
    });
    const started = await t.api('POST', `/v1/customers/${c.id}/app-activations`, {});
    await device.activate({ activationCode: started.body.activationCode, pin: PIN, deviceName: 'Pixel 8', platform: 'node' });
    await device.confirmActivation(codeIn(await nextSms(c.mobile!)));
    return device;
  }

  async function pending(device: SesameDevice): Promise<PendingApproval> {
    const list = await device.pendingApprovals();
    expect(list).toHaveLength(1);
    return list[0]!;
  }

  async function sendToApp(customerId: string, data: Record<string, unknown>) {
    const opId = await t.createOperation(customerId, data);
    const req = await t.api('POST', `/v1/operations/${opId}/app-approvals`);
    expect(req.status, JSON.stringify(req.body)).toBe(201);
    return { opId, approvalId: req.body.approvalId as string, number: req.body.number as number | null };
  }

  const status = (opId: string, approvalId: string) => t.api('GET', `/v1/operations/${opId}/app-approvals/${approvalId}`);

  async function failureOf(p: Promise<unknown>): Promise<DeviceApiError> {
    const err = await p.then(
      () => null,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(DeviceApiError);
    return err as DeviceApiError;
  }

  it('refuses an ineligible customer and says which condition is missing; a personal email counts after 72 h', async () => {
    const c = await customer({ hasActiveCard: false, email: 'eve@example.org' });
    const refused = await t.api('POST', `/v1/customers/${c.id}/app-activations`, {});
    expect(refused.status).toBe(422);
    expect(refused.body).toMatchObject({ code: 'ERR_NOT_ELIGIBLE', missing: ['card_or_email_72h'] });
    t.clock.advance(71 * 3_600_000);
    expect((await t.api('GET', `/v1/customers/${c.id}/app-eligibility`)).body).toMatchObject({ eligible: false });
    t.clock.advance(1 * 3_600_000 + 1000);
    expect((await t.api('GET', `/v1/customers/${c.id}/app-eligibility`)).body).toMatchObject({ eligible: true, missing: [] });

    const noPhone = await customer({ mobilePhone: undefined, remoteBanking: false });
    const both = await t.api('POST', `/v1/customers/${noPhone.id}/app-activations`, {});
    expect(both.body.missing).toEqual(['remote_banking', 'secure_phone']);
  });

  it('a secure number replaced from the bank’s systems starts the cooling-off: self-service waits for it, the branch does not', async () => {
    const c = await customer();
    const eligibility = async () => (await t.api('GET', `/v1/customers/${c.id}/app-eligibility`)).body;
    expect(await eligibility()).toMatchObject({ eligible: true });
    // The same number again changes nothing.
    expect((await t.api('PATCH', `/v1/customers/${c.id}`, { mobilePhone: c.mobile })).status).toBe(200);
    expect(await eligibility()).toMatchObject({ eligible: true });
    const newNumber = `+3378765${String(4000 + seq).slice(-4)}`;
    const replaced = await t.api('PATCH', `/v1/customers/${c.id}`, { mobilePhone: newNumber });
    expect(replaced.status).toBe(200);
    // The number being replaced is told, as when the customer changes it (seed 001); never the new number in full.
    const notice = await nextSms(c.mobile!);
    expect(notice).toMatch(/numéro|number/i);
    expect(notice).not.toContain(newNumber.slice(3));
    expect(await eligibility()).toMatchObject({ eligible: false, missing: ['secure_phone_cooling_off'] });
    const refused = await t.api('POST', `/v1/customers/${c.id}/app-activations`, {});
    expect(refused.status).toBe(422);
    expect(refused.body).toMatchObject({ code: 'ERR_NOT_ELIGIBLE', missing: ['secure_phone_cooling_off'] });
    // SMS codes are not enough for what pays out either, as after a change the customer made.
    expect((await t.api('GET', `/v1/customers/${c.id}/ways-in`)).body.securePhone.coolingOff).toBe(true);
    const branch = await createAdvisor(t.sesame.services, { name: 'Agence', roles: ['app_enrolment'], channel: 'branch' });
    const faceToFace = await t.api('POST', `/v1/advisor/customers/${c.id}/app-activations`, { faceToFace: true }, { auth: branch.token });
    expect(faceToFace.status, JSON.stringify(faceToFace.body)).toBe(201);
    t.clock.advance(73 * 3_600_000);
    expect(await eligibility()).toMatchObject({ eligible: true });
  });

  it('a personal email the bank replaces is new today, whatever date comes with it', async () => {
    const c = await customer({ hasActiveCard: false, email: 'old@example.org', emailSince: '2020-01-01T00:00:00Z' });
    const eligibility = async () => (await t.api('GET', `/v1/customers/${c.id}/app-eligibility`)).body;
    expect(await eligibility()).toMatchObject({ eligible: true });
    // The same address sent again, with or without its date (a nightly sync): still registered since then.
    expect((await t.api('PATCH', `/v1/customers/${c.id}`, { email: 'old@example.org' })).status).toBe(200);
    expect(await eligibility()).toMatchObject({ eligible: true });
    expect((await t.api('PATCH', `/v1/customers/${c.id}`, { email: 'old@example.org', emailSince: '2020-01-01T00:00:00Z' })).status).toBe(
      200,
    );
    expect(await eligibility()).toMatchObject({ eligible: true });
    const replaced = await t.api('PATCH', `/v1/customers/${c.id}`, { email: 'new@example.org', emailSince: '2020-01-01T00:00:00Z' });
    expect(replaced.status).toBe(200);
    expect(await eligibility()).toMatchObject({ eligible: false, missing: ['card_or_email_72h'] });
  });

  it('a date for the address on record is kept when it comes alone; one for no address is a 400 that changes nothing', async () => {
    const noEmail = await t.api('POST', '/v1/customers', {
      ref: `ne-${Date.now()}`,
      displayName: 'No Email',
      emailSince: '2020-01-01T00:00:00Z',
    });
    expect(noEmail.status).toBe(400);
    expect(noEmail.body).toMatchObject({ code: 'ERR_VALIDATION', field: 'emailSince' });

    const c = await customer({ hasActiveCard: false, email: 'kept@example.org' });
    const eligibility = async () => (await t.api('GET', `/v1/customers/${c.id}/app-eligibility`)).body;
    expect(await eligibility()).toMatchObject({ eligible: false, missing: ['card_or_email_72h'] });
    const dated = await t.api('PATCH', `/v1/customers/${c.id}`, { emailSince: '2020-01-01T00:00:00Z' });
    expect(dated.status).toBe(200);
    expect(dated.body).toMatchObject({ email: 'kept@example.org', emailSince: '2020-01-01T00:00:00.000Z' });
    expect(await eligibility()).toMatchObject({ eligible: true });

    const cleared = await t.api('PATCH', `/v1/customers/${c.id}`, { email: null, emailSince: '2021-01-01T00:00:00Z' });
    expect(cleared.status).toBe(400);
    expect(cleared.body).toMatchObject({ code: 'ERR_VALIDATION', field: 'emailSince' });
    expect((await t.api('GET', `/v1/customers/${c.id}`)).body).toMatchObject({
      email: 'kept@example.org',
      emailSince: '2020-01-01T00:00:00.000Z',
    });
    expect((await t.api('PATCH', `/v1/customers/${c.id}`, { email: null })).body).toMatchObject({ email: null, emailSince: null });
    const alone = await t.api('PATCH', `/v1/customers/${c.id}`, { emailSince: '2020-01-01T00:00:00Z' });
    expect(alone.status).toBe(400);
    expect(alone.body).toMatchObject({ code: 'ERR_VALIDATION', field: 'emailSince' });
  });

  it('an advisor lifts the 72 h delay only after a reinforced identity check, and it is audited', async () => {
    const c = await customer({ hasActiveCard: false, email: 'new@example.org' });
    const phoneAdvisor = await createAdvisor(t.sesame.services, { name: 'Phone', roles: ['app_enrolment'], channel: 'phone' });
    const branch = await createAdvisor(t.sesame.services, { name: 'Branch', roles: ['app_enrolment'], channel: 'branch' });
    const lift = (token: string, method: string) =>
      t.api('POST', `/v1/advisor/customers/${c.id}/app-delay-lift`, { identityCheck: { method, reference: 'CNI 123' } }, { auth: token });
    expect((await lift(phoneAdvisor.token, 'branch-id-document')).status).toBe(403);
    // Nor on video: the rule of an unblock (the caller saying "I showed it on a video call" is the fraud).
    expect((await lift(phoneAdvisor.token, 'video-id-document')).status).toBe(403);
    expect((await t.api('GET', `/v1/customers/${c.id}/app-eligibility`)).body).toMatchObject({ eligible: false });
    expect((await lift(branch.token, 'postal-letter')).status).toBe(400);
    const unknown = await t.api(
      'POST',
      '/v1/advisor/customers/nobody/app-delay-lift',
      { identityCheck: { method: 'branch-id-document', reference: 'CNI 123' } },
      { auth: branch.token },
    );
    expect(unknown.status).toBe(404);
    const lifted = await lift(branch.token, 'branch-id-document');
    expect(lifted.status).toBe(200);
    expect(lifted.body).toMatchObject({ eligible: true });
    const audit = await t.api('GET', `/v1/customers/${c.id}/audit`);
    expect(JSON.stringify(audit.body)).toContain('app.delay_lifted');
  });

  it('self-service activation: a wrong SMS code is refused, the right one activates; SMS codes are subscribed too', async () => {
    const c = await customer();
    const started = await t.api('POST', `/v1/customers/${c.id}/app-activations`, {});
    expect(started.body.qrSvg).toContain('<svg');
    expect(started.body.activationUrl).toContain(started.body.activationCode);
    const device = testDevice(t.sesame.app);
    await device.activate({ activationCode: started.body.activationCode, pin: PIN, deviceName: 'Pixel 8', platform: 'node' });
    const sms = await nextSms(c.mobile!);
    const wrong = await failureOf(device.confirmActivation(codeIn(sms) === '000000' ? '111111' : '000000'));
    expect(wrong.code).toBe('ERR_CONFIRMATION_CODE');
    const info = await device.confirmActivation(codeIn(sms));
    expect(info).toMatchObject({ status: 'active', deviceName: 'Pixel 8', trusted: false });
    // Single use: the same activation code does nothing more.
    const again = await failureOf(
      testDevice(t.sesame.app).activate({ activationCode: started.body.activationCode, pin: PIN, deviceName: 'x', platform: 'node' }),
    );
    expect(again.code).toBe('ERR_ACTIVATION_CODE');
    const ways = await t.api('GET', `/v1/customers/${c.id}/ways-in`);
    expect(ways.body.methods.map((m: { kind: string; status: string }) => `${m.kind}:${m.status}`).sort()).toEqual([
      'app:active',
      'sms:active',
    ]);
    expect(ways.body).toMatchObject({ canLogIn: true, canPay: true });
    const list = await t.api('GET', `/v1/customers/${c.id}/app-activations`);
    expect(list.body.activations[0]).toMatchObject({ status: 'subscribed', channel: 'self', deviceName: 'Pixel 8' });
    expect(list.body.activations[0].subscribedAt).toBe(t.clock.now().toISOString());
  });

  it('a payment approved in the app yields an authentication code bound to the amount and payee', async () => {
    const c = await customer();
    const device = await activate(c);
    const { opId, approvalId, number } = await sendToApp(c.id, PAYMENT(25000));
    expect(number).toBeNull();
    const a = await pending(device);
    expect(a.data).toMatchObject({ type: 'payment', amount: { value: 25000, currency: 'EUR' }, payee: { name: 'Plomberie Martin' } });
    expect((await status(opId, approvalId)).body.status).toBe('pending');
    await device.approve(a, { pin: PIN });
    const done = await status(opId, approvalId);
    expect(done.body).toMatchObject({ status: 'approved' });
    const consumed = await t.api('POST', '/v1/authentication-codes/consume', { code: done.body.authenticationCode, data: PAYMENT(25000) });
    expect(consumed.status, JSON.stringify(consumed.body)).toBe(200);
    expect(consumed.body.categories.sort()).toEqual(['knowledge', 'possession']);
    expect(await device.pendingApprovals()).toEqual([]);
  });

  it('a wrong PIN is detected only by the server, and counts toward the block like any failure', async () => {
    const c = await customer();
    const device = await activate(c);
    const { opId, approvalId } = await sendToApp(c.id, PAYMENT(1000));
    const a = await pending(device);
    // The device cannot tell: it signs with whatever key the wrong PIN decrypts to.
    const failed = await failureOf(device.approve(a, { pin: '000000' }));
    expect(failed.status).toBe(401);
    expect(failed.problem).toMatchObject({ code: 'ERR_AUTHENTICATION_FAILED', remainingAttempts: 4 });
    for (const left of [3, 2, 1]) expect((await failureOf(device.approve(a, { pin: '111111' }))).problem.remainingAttempts).toBe(left);
    const blocked = await failureOf(device.approve(a, { pin: '222222' }));
    expect(blocked.problem.remainingAttempts).toBe(0);
    expect((await t.api('GET', `/v1/customers/${c.id}/security`)).body).toMatchObject({ blocked: true });
    // Even the right PIN is refused while blocked.
    expect((await failureOf(device.approve(a, { pin: PIN }))).status).toBeGreaterThanOrEqual(401);
    expect((await status(opId, approvalId)).body.status).toBe('pending');
    // And the phone is not asked to approve anything more until the block ends.
    const another = await t.createOperation(c.id, PAYMENT(2000));
    const refused = await t.api('POST', `/v1/operations/${another}/app-approvals`);
    expect(refused.status).toBe(423);
    expect(refused.body.code).toBe('ERR_CUSTOMER_BLOCKED');
    expect(await device.pendingApprovals()).toHaveLength(1);
  });

  it('a tampered signature, a replayed approval and a modified amount are refused', async () => {
    const c = await customer();
    const device = await activate(c);
    const fetchApprove = (approvalId: string, body: Record<string, unknown>) =>
      (device as unknown as { send(m: string, p: string, b: unknown): Promise<unknown> }).send(
        'POST',
        `/v1/device/approvals/${approvalId}`,
        body,
      );

    // Tampered: one bit of the possession signature flipped.
    const first = await sendToApp(c.id, PAYMENT(2000));
    const a1 = await pending(device);
    // What the app sent, captured by signing it apart and sending it as the app would.
    const signed = await device.signApproval(a1, { pin: PIN });
    const captured = JSON.parse(signed.body!) as Record<string, unknown>;
    await device.sendSigned(signed);
    expect((await status(first.opId, first.approvalId)).body.status).toBe('approved');

    // Replayed: the same approval (same counter and signatures) again, on the same request and on a new one.
    const replay = await failureOf(fetchApprove(a1.approvalId, captured));
    expect(replay.code).toBe('ERR_APPROVAL_STATE');
    const second = await sendToApp(c.id, PAYMENT(2000));
    const a2 = await pending(device);
    const replayed = await failureOf(fetchApprove(a2.approvalId, captured));
    expect(replayed.status).toBe(401);
    const sig = captured.possession as string;
    const flipped = (sig[0] === 'A' ? 'B' : 'A') + sig.slice(1);
    const tampered = await failureOf(fetchApprove(a2.approvalId, { ...captured, possession: flipped, counter: 99 }));
    expect(tampered.status).toBe(401);

    // Modified amount: the app was shown 20,01 € instead of 20,00 € and signed what it showed.
    const shown = { ...a2, data: { ...a2.data, amount: { value: 2001, currency: 'EUR' } } };
    expect((await failureOf(device.approve(shown, { pin: PIN }))).status).toBe(401);
    expect((await status(second.opId, second.approvalId)).body.status).toBe('pending');
    // What was really asked is still approvable.
    await device.approve(a2, { pin: PIN });
    expect((await status(second.opId, second.approvalId)).body.status).toBe('approved');
  });

  it('a refusal arriving after the payment was authorised another way, or cancelled, changes nothing and declares no fraud', async () => {
    const c = await customer();
    const device = await activate(c);
    const { opId } = await sendToApp(c.id, CARD_PAYMENT);
    const shown = await pending(device);
    // The customer used the offline mode meanwhile.
    const qr = await t.api('POST', `/v1/operations/${opId}/app-offline-challenges`);
    const { code } = await device.offlineCode(qr.body.qr, PIN);
    expect((await t.api('POST', `/v1/operations/${opId}/authenticate`, { factors: [{ method: 'app_offline', code }] })).status).toBe(200);
    expect((await failureOf(device.refuse(shown))).code).toBe('ERR_OPERATION_NOT_PENDING');
    expect((await t.api('GET', `/v1/operations/${opId}`)).body.status).toBe('authorised');
    const frauds = await t.sesame.services.db.selectFrom('outbox_events').select('payload').where('type', '=', 'fraud.declared').execute();
    expect(frauds.map((e) => JSON.stringify(e.payload)).join()).not.toContain(opId);
    // Cancelled by the bank: same.
    const other = await sendToApp(c.id, CARD_PAYMENT);
    const shown2 = await pending(device);
    expect((await t.api('POST', `/v1/operations/${other.opId}/cancel`)).status).toBe(200);
    expect((await failureOf(device.refuse(shown2))).code).toBe('ERR_OPERATION_NOT_PENDING');
  });

  it('a failed approval replayed to another server process is refused, not counted again', async () => {
    const c = await customer();
    const device = await activate(c);
    await sendToApp(c.id, PAYMENT(1234));
    const signed = await device.signApproval(await pending(device), { pin: '000000' });
    const first = await failureOf(device.sendSigned(signed));
    expect(first.problem.remainingAttempts).toBe(4);
    const otherProcess = await buildHttp(t.sesame.services, { logger: false });
    try {
      const replay = await otherProcess.inject({ method: 'POST', url: signed.path, headers: signed.headers, payload: signed.body! });
      expect(replay.statusCode).toBe(401);
      expect(replay.json().code).toBe('ERR_DEVICE_REPLAY');
    } finally {
      await otherProcess.close();
    }
    expect((await t.api('GET', `/v1/customers/${c.id}/security`)).body.failedCount).toBe(1);
  });

  it('an approval whose request nonce was already received is a replay: refused before anything is approved or counted', async () => {
    const c = await customer();
    const device = await activate(c);
    const app = (await activeApp(t.sesame.services.db, c.id))!;
    const who = `${app.id}:${(app.params as { possessionKey: { x: string } }).possessionKey.x}`;
    /** The request reached another server process first (say its answer was lost): its nonce is kept there. */
    const receivedElsewhere = (signed: { headers: Record<string, string> }) =>
      t.sesame.services.db
        .insertInto('device_request_nonces')
        .values({
          authenticator_id: who,
          nonce: /nonce="([^"]+)"/.exec(signed.headers.authorization!)![1]!,
          expires_at: new Date(t.clock.now().getTime() + 600_000),
        })
        .execute();
    const { opId, approvalId } = await sendToApp(c.id, PAYMENT(1500));
    const a = await pending(device);
    // The right PIN (a success would commit in one statement) and a wrong one (the failure is counted under the customer's lock).
    for (const pin of [PIN, '000000']) {
      const signed = await device.signApproval(a, { pin });
      await receivedElsewhere(signed);
      const replay = await failureOf(device.sendSigned(signed));
      expect(replay.status).toBe(401);
      expect(replay.code).toBe('ERR_DEVICE_REPLAY');
    }
    expect((await status(opId, approvalId)).body.status).toBe('pending');
    expect((await t.api('GET', `/v1/customers/${c.id}/security`)).body.failedCount).toBe(0);
    await device.approve(a, { pin: PIN });
    expect((await status(opId, approvalId)).body.status).toBe('approved');

    // Nothing about a request is told to a caller the installation did not sign for: 401 before 404.
    const signed = await device.signApproval({ ...a, approvalId: 'no-such-approval' }, { pin: PIN });
    expect((await failureOf(device.sendSigned(signed))).status).toBe(404);
    const forged = await t.sesame.app.inject({
      method: 'POST',
      url: signed.path,
      headers: {
        ...signed.headers,
        authorization: signed.headers.authorization!.replace(/sig="./, (m) =>
          m.endsWith('A') ? m.slice(0, -1) + 'B' : m.slice(0, -1) + 'A',
        ),
      },
      payload: signed.body!,
    });
    expect(forged.statusCode).toBe(401);
    expect(forged.json().code).toBe('ERR_DEVICE_SIGNATURE');
  });

  it('refusing an online card payment declares it as fraud: the bank is told, the payment refused, the customer told what follows', async () => {
    const c = await customer();
    const device = await activate(c);
    const { opId, approvalId } = await sendToApp(c.id, CARD_PAYMENT);
    const a = await pending(device);
    const refused = await device.refuse(a);
    expect(refused).toMatchObject({ status: 'refused', fraudDeclared: true });
    expect(refused.message).toMatch(/fraude/);
    expect((await status(opId, approvalId)).body).toMatchObject({ status: 'refused', fraudDeclared: true });
    expect((await t.api('GET', `/v1/operations/${opId}`)).body.status).toBe('cancelled');
    const events = await t.sesame.services.db
      .selectFrom('outbox_events')
      .select(['type', 'payload'])
      .where('type', '=', 'fraud.declared')
      .execute();
    const mine = events
      .map((e) => (typeof e.payload === 'string' ? JSON.parse(e.payload) : e.payload))
      .find((p) => p.data.operationId === opId);
    expect(mine.data).toMatchObject({ customerId: c.id, amount: { value: 4199, currency: 'EUR' }, payee: { name: 'showroomprive.com' } });
    const audit = JSON.stringify((await t.api('GET', `/v1/customers/${c.id}/audit`)).body);
    expect(audit).toContain('fraud.declared');
    // A refused ordinary payment is cancelled, without a fraud declaration.
    const plain = await sendToApp(c.id, PAYMENT(500));
    expect(await device.refuse(await pending(device))).toMatchObject({ fraudDeclared: false });
    expect((await status(plain.opId, plain.approvalId)).body.fraudDeclared).toBe(false);
  });

  it('number matching for logins: picking another number fails that request and counts', async () => {
    const c = await customer();
    const device = await activate(c);
    const { opId, approvalId, number } = await sendToApp(c.id, { type: 'login' });
    expect(number).toBeGreaterThanOrEqual(10);
    const a = await pending(device);
    expect(a.numberOptions).toHaveLength(3);
    expect(a.numberOptions).toContain(number);
    await expect(device.approve(a, { pin: PIN })).rejects.toThrow(/number/);
    const wrong = a.numberOptions!.find((n) => n !== number)!;
    expect((await failureOf(device.approve(a, { pin: PIN }, { numberChoice: wrong }))).problem.remainingAttempts).toBe(4);
    expect((await status(opId, approvalId)).body.status).toBe('failed');
    const retry = await sendToApp(c.id, { type: 'login' });
    const b = await pending(device);
    await device.approve(b, { pin: PIN }, { numberChoice: retry.number! });
    const ok = await status(retry.opId, retry.approvalId);
    expect(ok.body.status).toBe('approved');
    // A login approved in the app opens the session the bank hands to the customer.
    const session = await t.api('POST', '/v1/sessions/introspect', { token: ok.body.session.token });
    expect(session.status).toBe(200);
    expect(session.body).toMatchObject({ customerId: c.id });
    // The session token is handed over once.
    const again = await status(retry.opId, retry.approvalId);
    expect(again.body.session).toBeUndefined();
    expect(again.body.authenticationCode).toBe(ok.body.authenticationCode);
  });

  it('an operation sent to the app wakes it by Web Push (no operation data in the push) and by its long poll', async () => {
    const c = await customer();
    const device = await activate(c);
    expect((await t.api('GET', '/v1/device/push/public-key', undefined, { auth: null })).body.vapidPublicKey).toMatch(
      /^[A-Za-z0-9_-]{87}$/,
    );
    // Only to a push service: never to an address of the bank's own network.
    const internal = await failureOf(device.subscribePush({ endpoint: 'https://127.0.0.1:8443/x', keys: { p256dh: 'BPub', auth: 'a' } }));
    expect(internal.code).toBe('ERR_PUSH_ENDPOINT');
    await device.subscribePush({ endpoint: 'https://fcm.googleapis.com/fcm/send/abc', keys: { p256dh: 'BPub', auth: 'secret-auth' } });
    const pushed: { endpoint: string; keys: unknown; payload: Record<string, unknown> }[] = [];
    const services = t.sesame.services as { push: unknown };
    const real = services.push;
    services.push = {
      publicKey: 'x',
      send: async (sub: { endpoint: string; keys: unknown }, payload: Record<string, unknown>) => (pushed.push({ ...sub, payload }), true),
    };
    try {
      // The app waits (long poll); the request arrives while it waits.
      const waiting = device.pendingApprovals({ waitSeconds: 5 });
      await new Promise((r) => setTimeout(r, 100));
      const { approvalId } = await sendToApp(c.id, PAYMENT(4500));
      const got = await waiting;
      expect(got.map((a) => a.approvalId)).toEqual([approvalId]);
      await new Promise((r) => setTimeout(r, 50));
      expect(pushed).toEqual([
        {
          endpoint: 'https://fcm.googleapis.com/fcm/send/abc',
          keys: { p256dh: 'BPub', auth: 'secret-auth' },
          payload: { type: 'approval', approvalId },
        },
      ]);
    } finally {
      services.push = real;
    }
    // The subscription's keys are sealed at rest.
    const row = await t.sesame.services.db.selectFrom('app_push_subscriptions').selectAll().executeTakeFirstOrThrow();
    expect(row.keys_sealed).not.toContain('secret-auth');
  });

  it('push bombing: at most 5 unanswered requests to the app per 10 minutes; approved ones do not count', async () => {
    const c = await customer();
    const device = await activate(c);
    for (let i = 0; i < 6; i++) {
      await sendToApp(c.id, PAYMENT(100 + i));
      await device.approve(await pending(device), { pin: PIN });
    }
    for (let i = 0; i < 5; i++) await sendToApp(c.id, { type: 'login' });
    const opId = await t.createOperation(c.id, { type: 'login' });
    const sixth = await t.api('POST', `/v1/operations/${opId}/app-approvals`);
    expect(sixth.status).toBe(429);
    expect(sixth.body.code).toBe('ERR_TOO_MANY_APPROVAL_REQUESTS');
    t.clock.advance(10 * 60_000 + 1000);
    const later = await t.createOperation(c.id, { type: 'login' });
    expect((await t.api('POST', `/v1/operations/${later}/app-approvals`)).status).toBe(201);
  });

  it('branch activation: face to face only, initiated with an SMS, 24 h to finish, then subscribed with date and time', async () => {
    // No card and no email: only a branch activation is possible for this customer.
    const c = await customer({ hasActiveCard: false });
    const branch = await createAdvisor(t.sesame.services, { name: 'Agence', roles: ['app_enrolment'], channel: 'branch' });
    const remote = await createAdvisor(t.sesame.services, { name: 'CRC', roles: ['app_enrolment'], channel: 'phone' });
    const initiate = (token: string, faceToFace: boolean) =>
      t.api('POST', `/v1/advisor/customers/${c.id}/app-activations`, { faceToFace }, { auth: token });
    expect((await initiate(remote.token, true)).status).toBe(403);
    expect((await initiate(branch.token, false)).status).toBe(403);

    const first = await initiate(branch.token, true);
    expect(first.status, JSON.stringify(first.body)).toBe(201);
    expect(first.body).toMatchObject({ status: 'initiated', channel: 'branch' });
    const sms = await nextSms(c.mobile!);
    expect(sms).toContain('24 h');
    const code = /code ([A-Z0-9-]{14})/.exec(sms)![1]!;
    expect((await t.api('GET', `/v1/customers/${c.id}/app-activations`)).body.activations[0].status).toBe('initiated');
    // 24 h later the initiation has disappeared.
    t.clock.advance(24 * 3_600_000 + 1000);
    const late = await failureOf(
      testDevice(t.sesame.app).activate({ activationCode: code, pin: PIN, deviceName: 'iPhone', platform: 'node' }),
    );
    expect(late.code).toBe('ERR_ACTIVATION_EXPIRED');
    expect((await t.api('GET', `/v1/customers/${c.id}/app-activations`)).body.activations).toEqual([]);

    await initiate(branch.token, true);
    const code2 = /code ([A-Z0-9-]{14})/.exec(await nextSms(c.mobile!))![1]!;
    t.clock.advance(23 * 3_600_000);
    const device = testDevice(t.sesame.app);
    const reg = await device.activate({ activationCode: code2, pin: PIN, deviceName: 'iPhone', platform: 'node' });
    // The SMS to the secure number already was the second channel.
    expect(reg).toMatchObject({ status: 'active', confirmation: null });
    const listed = (await t.api('GET', `/v1/customers/${c.id}/app-activations`)).body.activations[0];
    expect(listed).toMatchObject({ status: 'subscribed', channel: 'branch', subscribedAt: t.clock.now().toISOString() });
  });

  const installations = (customerId: string) =>
    t.sesame.services.db
      .selectFrom('authenticators')
      .select(['id', 'status', 'secret_sealed'])
      .where('customer_id', '=', customerId)
      .where('kind', '=', 'app')
      .execute()
      .then((rows) => rows.map((a) => `${a.status}:${a.secret_sealed === null ? 'no secret' : 'sealed secret'}`).sort());

  it('transfer to a new phone revokes the old installation: its keys are destroyed and what waited for it expires', async () => {
    const c = await customer();
    const oldPhone = await activate(c);
    const { opId, approvalId } = await sendToApp(c.id, PAYMENT(50));
    const newPhone = await activate(c, 'transfer');
    const denied = await failureOf(oldPhone.info());
    expect(denied.code).toBe('ERR_DEVICE_UNKNOWN');
    expect((await newPhone.info()).status).toBe('active');
    expect((await status(opId, approvalId)).body.status).toBe('expired');
    expect(await installations(c.id)).toEqual(['active:sealed secret', 'revoked:no secret']);
    await sendToApp(c.id, PAYMENT(100));
    expect(await newPhone.pendingApprovals()).toHaveLength(1);
  });

  it('at most 10 self-service activations a day per customer: starting again and again does not buy more SMS guesses', async () => {
    const c = await customer();
    const start = () => t.api('POST', `/v1/customers/${c.id}/app-activations`, {});
    for (let i = 0; i < 10; i++) expect((await start()).status).toBe(201);
    const refused = await start();
    expect(refused.status).toBe(429);
    expect(refused.body.code).toBe('ERR_TOO_MANY_ACTIVATIONS');
    // The branch, face to face, is still open.
    const branch = await createAdvisor(t.sesame.services, { name: 'Agence', roles: ['app_enrolment'], channel: 'branch' });
    expect(
      (await t.api('POST', `/v1/advisor/customers/${c.id}/app-activations`, { faceToFace: true }, { auth: branch.token })).status,
    ).toBe(201);
    t.clock.advance(24 * 3_600_000 + 1000);
    expect((await start()).status).toBe(201);
  });

  it('an installation whose activation is abandoned (five wrong SMS codes, or a new activation started) is revoked with its keys', async () => {
    const c = await customer();
    const tryActivation = async () => {
      const started = await t.api('POST', `/v1/customers/${c.id}/app-activations`, {});
      expect(started.status).toBe(201);
      const device = testDevice(t.sesame.app);
      await device.activate({ activationCode: started.body.activationCode, pin: PIN, deviceName: 'Pixel 8', platform: 'node' });
      return { device, code: codeIn(await nextSms(c.mobile!)) };
    };
    const first = await tryActivation();
    const wrong = first.code === '000000' ? '111111' : '000000';
    for (let i = 0; i < 5; i++) expect((await failureOf(first.device.confirmActivation(wrong))).code).toBe('ERR_CONFIRMATION_CODE');
    // Even the right code is too late: the installation is no longer known.
    expect((await failureOf(first.device.confirmActivation(first.code))).code).toBe('ERR_DEVICE_UNKNOWN');
    await tryActivation();
    // A new activation abandons the one waiting for its code.
    const third = await tryActivation();
    expect(await installations(c.id)).toEqual(['pending:sealed secret', 'revoked:no secret', 'revoked:no secret']);
    await third.device.confirmActivation(third.code);
    expect(await installations(c.id)).toEqual(['active:sealed secret', 'revoked:no secret', 'revoked:no secret']);
  });

  it('closing the app falls back to SMS codes automatically', async () => {
    const c = await customer();
    const device = await activate(c);
    const closed = await device.close();
    expect(closed.fallback).toMatchObject({ method: 'sms' });
    const ways = await t.api('GET', `/v1/customers/${c.id}/ways-in`);
    expect(ways.body.methods.map((m: { kind: string }) => m.kind)).toEqual(['sms']);
    const opId = await t.createOperation(c.id, { type: 'login' });
    expect((await t.api('POST', `/v1/operations/${opId}/app-approvals`)).body.code).toBe('ERR_NO_APP');
    const sent = await t.api('POST', `/v1/operations/${opId}/challenges`, { method: 'sms' });
    expect(sent.status, JSON.stringify(sent.body)).toBe(201);
  });

  /** After a change to 135790: the old PIN fails at the server, the new one approves. */
  async function approvesWithNewPinOnly(c: { id: string }, device: SesameDevice) {
    await sendToApp(c.id, PAYMENT(300));
    const a = await pending(device);
    expect((await failureOf(device.approve(a, { pin: PIN }))).status).toBe(401);
    await device.approve(a, { pin: '135790' });
  }

  it('changing the PIN: the old PIN is checked by the server (and counted); then only the new one works', async () => {
    const c = await customer();
    const device = await activate(c);
    const wrong = await failureOf(device.changePin('999999', '135790'));
    expect(wrong.problem).toMatchObject({ code: 'ERR_AUTHENTICATION_FAILED', remainingAttempts: 4 });
    await device.changePin(PIN, '135790');
    await approvesWithNewPinOnly(c, device);
  });

  it('a PIN change whose answer is lost is sent again: the app and the server end with the same new PIN', async () => {
    const c = await customer();
    let loseNextPinAnswer = true;
    const device = await activateThrough(c, (viaServer) => async (input, init) => {
      const res = await viaServer(input, init);
      // The server changed the PIN; its answer never reaches the phone.
      if (String(input).endsWith('/v1/device/pin') && loseNextPinAnswer) {
        loseNextPinAnswer = false;
        throw new TypeError('Failed to fetch');
      }
      return res;
    });
    await device.changePin(PIN, '135790');
    expect(loseNextPinAnswer).toBe(false);
    await approvesWithNewPinOnly(c, device);
  });

  it('a PIN change is answered once: sent again, even unchanged, it is refused and says nothing of the key', async () => {
    const c = await customer();
    let sentBody = '';
    const device = await activateThrough(c, (viaServer) => async (input, init) => {
      if (String(input).endsWith('/v1/device/pin')) sentBody = String(init?.body);
      return viaServer(input, init);
    });
    await device.changePin(PIN, '135790');
    const body = JSON.parse(sentBody) as Parameters<typeof changePin>[2];
    const s = t.sesame.services;
    const row = (await activeApp(s.db, c.id))!;
    // Were a repeat answered by whether its key is the one held, a stolen phone could test PINs for free.
    await expect(changePin(s, row, body)).rejects.toMatchObject({ code: 'ERR_APPROVAL_STATE' });
    await expect(changePin(s, row, { ...body, newKnowledgeKey: 'A'.repeat(43) })).rejects.toMatchObject({ code: 'ERR_APPROVAL_STATE' });
    expect((await device.info()).pinChanges).toBe(1);
    await approvesWithNewPinOnly(c, device);
  });

  it('a PIN change the gateway gave up on, done by the server afterwards, is picked up before the PIN is next used', async () => {
    const c = await customer();
    let heldChange: (() => Promise<Response>) | null = null;
    const device = await activateThrough(c, (viaServer) => async (input, init) => {
      if (String(input).endsWith('/v1/device/pin') && !heldChange) {
        // The request is still on its way to the server when the gateway answers 504.
        heldChange = () => viaServer(input, init);
        return new Response(JSON.stringify({ title: 'Gateway Timeout' }), { status: 504, headers: { 'content-type': 'application/json' } });
      }
      return viaServer(input, init);
    });
    await expect(device.changePin(PIN, '135790')).rejects.toBeInstanceOf(PinChangeUnconfirmed);
    expect(device.pinChangePending).toBe(true);
    // Not known yet: another change waits rather than wrap a key over the wrong one.
    await expect(device.changePin(PIN, '246801')).rejects.toBeInstanceOf(PinChangeUnconfirmed);
    expect((await heldChange!()).status).toBe(200);
    // The customer, told the change was not confirmed, types the old PIN: the app learns the change was
    // made and asks for the new one, without sending the old one (no failure counted).
    await sendToApp(c.id, PAYMENT(300));
    const a = await pending(device);
    await expect(device.approve(a, { pin: PIN })).rejects.toBeInstanceOf(NewPinInForce);
    expect(device.pinChangePending).toBe(false);
    const wrong = await failureOf(device.approve(a, { pin: '000000' }));
    expect(wrong.problem.remainingAttempts).toBe(4);
    await device.approve(a, { pin: '135790' });
  });

  it('a server error after the change was saved does not leave the app with the old PIN', async () => {
    const c = await customer();
    const device = await activateThrough(c, (viaServer) => async (input, init) => {
      const res = await viaServer(input, init);
      if (String(input).endsWith('/v1/device/pin')) {
        return new Response(JSON.stringify({ code: 'ERR_INTERNAL', title: 'Internal Server Error' }), {
          status: 500,
          headers: { 'content-type': 'application/problem+json' },
        });
      }
      return res;
    });
    await device.changePin(PIN, '135790');
    await approvesWithNewPinOnly(c, device);
  });

  it('offline mode: the QR code is verified by the app, and its 2 × 8 digits authorise that operation once', async () => {
    const c = await customer();
    const device = await activate(c);
    const opId = await t.createOperation(c.id, PAYMENT(7700));
    const qr = await t.api('POST', `/v1/operations/${opId}/app-offline-challenges`);
    expect(qr.status).toBe(201);
    const { data, code } = await device.offlineCode(qr.body.qr, PIN);
    expect(data).toMatchObject({ amount: { value: 7700 } });
    expect(code).toMatch(/^\d{8}-\d{8}$/);
    const wrongPin = await device.offlineCode(qr.body.qr, '000000');
    const bad = await t.api('POST', `/v1/operations/${opId}/authenticate`, { factors: [{ method: 'app_offline', code: wrongPin.code }] });
    expect(bad.status).toBe(401);
    const ok = await t.api('POST', `/v1/operations/${opId}/authenticate`, { factors: [{ method: 'app_offline', code }] });
    expect(ok.status, JSON.stringify(ok.body)).toBe(200);
    expect(ok.body.methods).toEqual(['app_offline']);
    // A forged QR code (another signature) is refused by the app.
    const [h, p] = (qr.body.qr as string).split('.');
    await expect(device.offlineCode(`${h}.${p}.AAAA`, PIN)).rejects.toThrow(/not issued by your bank/);
  });

  it('offline mode works with no network on the phone: the bank’s keys were saved while it was online', async () => {
    const c = await customer();
    let online = true;
    const device = await activateThrough(c, (viaServer) => async (input, init) => {
      if (!online) throw new TypeError('Failed to fetch');
      return viaServer(input, init);
    });
    const opId = await t.createOperation(c.id, PAYMENT(4100));
    const qr = await t.api('POST', `/v1/operations/${opId}/app-offline-challenges`);
    online = false;
    const { data, code } = await device.offlineCode(qr.body.qr, PIN);
    expect(data).toMatchObject({ amount: { value: 4100 } });
    await expect(device.offlineCode(`${qr.body.qr.split('.').slice(0, 2).join('.')}.AAAA`, PIN)).rejects.toThrow(/not issued by your bank/);
    const ok = await t.api('POST', `/v1/operations/${opId}/authenticate`, { factors: [{ method: 'app_offline', code }] });
    expect(ok.status, JSON.stringify(ok.body)).toBe(200);
  });

  it('biometrics: enrolled only with the PIN (a wrong one counts) and only as the phone’s own authenticator; used where switched on', async () => {
    const c = await customer();
    const device = await activate(c);
    const origin = new URL(t.sesame.services.config.publicUrl).origin;
    const soft = new SoftAuthenticator({ rpId: new URL(origin).hostname, origin });
    let counterOverride: number | undefined;
    const bio = (attachment = 'platform') => ({
      register: async (options: Record<string, unknown>) => ({ ...soft.create(options as never), authenticatorAttachment: attachment }),
      assert: async (o: { challenge: string; credentialId: string }) =>
        soft.get(
          { challenge: o.challenge, allowCredentials: [{ id: o.credentialId }] },
          counterOverride === undefined ? {} : { counter: counterOverride },
        ),
    });
    // The phone alone (no PIN, or a wrong one) cannot add a way to approve.
    const wrong = await failureOf(device.enrolBiometrics(bio(), { login: false, operations: true }, '000000'));
    expect(wrong.problem).toMatchObject({ code: 'ERR_AUTHENTICATION_FAILED', remainingAttempts: 4 });
    expect((await device.info()).biometrics.enrolled).toBe(false);
    // A roaming security key is not the phone's biometrics.
    expect((await failureOf(device.enrolBiometrics(bio('cross-platform'), { login: false, operations: true }, PIN))).code).toBe(
      'ERR_BIOMETRIC_NOT_PLATFORM',
    );
    const info = await device.enrolBiometrics(bio(), { login: false, operations: true }, PIN);
    expect(info.biometrics).toEqual({ enrolled: true, login: false, operations: true });

    // A payment approved with biometrics: possession + inherence.
    const pay = await sendToApp(c.id, PAYMENT(3300));
    await device.approve(await pending(device), { biometric: bio() });
    const done = await status(pay.opId, pay.approvalId);
    const consumed = await t.api('POST', '/v1/authentication-codes/consume', { code: done.body.authenticationCode, data: PAYMENT(3300) });
    expect(consumed.body.categories.sort()).toEqual(['inherence', 'possession']);

    // Not for logins (switched off): refused and counted.
    const login = await sendToApp(c.id, { type: 'login' });
    const a = await pending(device);
    expect((await failureOf(device.approve(a, { biometric: bio() }, { numberChoice: login.number! }))).status).toBe(401);
    // Switching a use on needs the PIN; switching it off does not.
    expect((await failureOf(device.setBiometricUses({ login: true, operations: true }))).code).toBe('ERR_PIN_REQUIRED');
    expect((await device.setBiometricUses({ login: true, operations: true }, PIN)).biometrics).toMatchObject({ login: true });
    await device.approve(a, { biometric: bio() }, { numberChoice: login.number! });
    expect((await status(login.opId, login.approvalId)).body.status).toBe('approved');
    expect((await device.setBiometricUses({ login: false, operations: true })).biometrics).toMatchObject({ login: false });

    // A copy of the key replaying an old signature counter is refused.
    await sendToApp(c.id, PAYMENT(3400));
    counterOverride = 1;
    expect((await failureOf(device.approve(await pending(device), { biometric: bio() }))).status).toBe(401);
  });

  it('a phone used regularly becomes a trusted device', async () => {
    const c = await customer();
    const device = await activate(c);
    for (let day = 0; day < 5; day++) {
      expect((await device.info()).trusted).toBe(false);
      await sendToApp(c.id, PAYMENT(100 + day));
      await device.approve(await pending(device), { pin: PIN });
      t.clock.advance(24 * 3_600_000);
    }
    expect((await device.info()).trusted).toBe(true);
  });

  it('a device that fails its integrity check cannot be activated', async () => {
    const c = await customer();
    const started = await t.api('POST', `/v1/customers/${c.id}/app-activations`, {});
    const err = await failureOf(
      testDevice(t.sesame.app).activate({
        activationCode: started.body.activationCode,
        pin: PIN,
        deviceName: 'Rooted',
        platform: 'node',
        attestation: { format: 'dev', evidence: 'compromised' },
      }),
    );
    expect(err.code).toBe('ERR_DEVICE_INTEGRITY');
  });

  it('device requests must be signed by the installation, recent, and not replayed', async () => {
    const unsigned = await t.api('GET', '/v1/device/me', undefined, { auth: null });
    expect(unsigned.status).toBe(401);
    const forged = await t.sesame.app.inject({
      method: 'GET',
      url: '/v1/device/me',
      headers: {
        authorization: `SesameDevice id="nope", ts="${t.clock.now().getTime()}", nonce="AAAAAAAAAAAAAAAAAAAAAA", sig="${'A'.repeat(86)}"`,
      },
    });
    expect(forged.statusCode).toBe(401);

    const c = await customer();
    const { store } = await activateTestDevice(t.sesame.app, t.apiKey, { id: c.id, mobile: c.mobile! });
    const state = (await store.load())!;
    const signer = { id: state.authenticatorId, key: state.possessionKey };
    const body = JSON.stringify({ login: false, operations: false });
    const send = (authorization: string, payload = body) =>
      t.sesame.app.inject({
        method: 'PUT',
        url: '/v1/device/biometrics',
        headers: { authorization, 'content-type': 'application/json' },
        payload,
      });
    const header = await signedDeviceHeader(signer, { method: 'PUT', url: '/v1/device/biometrics', body, ts: t.clock.now().getTime() });
    expect((await send(header)).statusCode).toBe(200);
    const replay = await send(header);
    expect(replay.statusCode).toBe(401);
    expect(replay.json().code).toBe('ERR_DEVICE_REPLAY');
    // The signature covers the body: another body with the same header does not verify.
    const other = await send(
      await signedDeviceHeader(signer, { method: 'PUT', url: '/v1/device/biometrics', body, ts: t.clock.now().getTime() }),
      JSON.stringify({ login: true, operations: true }),
    );
    expect(other.json().code).toBe('ERR_DEVICE_SIGNATURE');
    const stale = await signedDeviceHeader(signer, {
      method: 'PUT',
      url: '/v1/device/biometrics',
      body,
      ts: t.clock.now().getTime() - 6 * 60_000,
    });
    expect((await send(stale)).json().code).toBe('ERR_DEVICE_CLOCK');
  });
});
