import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { loadConfig } from '../../src/config.js';
import { webauthnRelyingParty } from '../../src/methods/webauthn/challenges.js';
import { databaseKinds } from '../support/databases.js';
import { startSesame, type ApiResponse, type TestCustomer, type TestSesame } from '../support/sesame.js';
import { createRelyingParty } from '../../src/journeys/principals.js';
import { SoftAuthenticator } from '../support/soft-webauthn.js';

/**
 * Passkeys and security keys over HTTP, with a software authenticator (P-256, 'none' attestation): the
 * registration ceremony under step-up, payments and logins approved by one gesture that proves two
 * elements, and every way an assertion must be refused — replayed, expired, for another operation,
 * without user verification, from a cloned key — each counted like any other failure.
 */
const RP_ID = 'bank.test';
const ORIGIN = 'https://bank.test';
const ENV = {
  SESAME_WEBAUTHN_RP_ID: RP_ID,
  SESAME_WEBAUTHN_ORIGINS: ORIGIN,
  // Long enough that an expired challenge is not hidden behind an expired operation.
  SESAME_OPERATION_TTL_SECONDS: '900',
};
const PAYMENT = {
  type: 'payment',
  amount: { value: 12_345, currency: 'EUR' },
  payee: { name: 'Plomberie Martin', iban: 'FR7630006000011234567890189' },
};
const YUBIKEY_5 = 'cb69481e-8ff7-4039-93ec-0a2729a154a8';
const OTHER_MODEL = 'ee882879-721c-4913-9775-3dfcce97072a';

let seq = 0;
const unique = (p: string) => `${p}-${++seq}-${Math.random().toString(36).slice(2, 8)}`;

describe.each(databaseKinds)('passkeys and security keys on %s', (kind) => {
  let t: TestSesame;
  beforeAll(async () => {
    t = await startSesame(kind, ENV);
  });
  afterAll(() => t?.close());

  const authenticate = (opId: string, factors: unknown[]) => t.api('POST', `/v1/operations/${opId}/authenticate`, { factors });
  const options = async (opId: string) => {
    const res = await t.api('POST', `/v1/operations/${opId}/webauthn/options`);
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    return res.body.options as { challenge: string; rpId: string; allowCredentials: { id: string }[]; userVerification: string };
  };
  const security = async (customerId: string) => (await t.api('GET', `/v1/customers/${customerId}/security`)).body;

  /** A customer with no means yet: the bank binds the first one without step-up (bootstrap). */
  async function newBareCustomer(): Promise<string> {
    const ref = unique('wa');
    const res = await t.api('POST', '/v1/customers', { ref, displayName: `Customer ${ref}` });
    expect(res.status).toBe(201);
    return res.body.id;
  }

  async function stepUpCode(c: TestCustomer): Promise<string> {
    const opId = await t.createOperation(c.id, { type: 'manage_authenticators', action: 'add', kind: 'webauthn' });
    const res = await authenticate(opId, [
      { method: 'password', password: c.password },
      { method: 'totp', code: c.nextCode() },
    ]);
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    return res.body.authenticationCode;
  }

  async function register(customerId: string, key: SoftAuthenticator, body: Record<string, unknown> = {}): Promise<ApiResponse> {
    const opts = await t.api('POST', `/v1/customers/${customerId}/authenticators/webauthn/registration-options`, body);
    expect(opts.status, JSON.stringify(opts.body)).toBe(200);
    return t.api('POST', `/v1/customers/${customerId}/authenticators/webauthn`, { ...key.create(opts.body), label: 'Ma clé' });
  }

  /** A customer whose only means is one passkey. */
  async function passkeyCustomer(key = new SoftAuthenticator({ rpId: RP_ID, origin: ORIGIN })) {
    const id = await newBareCustomer();
    const reg = await register(id, key);
    expect(reg.status, JSON.stringify(reg.body)).toBe(201);
    return { id, key, authenticatorId: reg.body.id as string };
  }

  it('a customer who can already authenticate registers a passkey only with a step-up, and it is active at once', async () => {
    const c = await t.newCustomerWithPasswordAndTotp();
    const refused = await t.api('POST', `/v1/customers/${c.id}/authenticators/webauthn/registration-options`, {});
    expect(refused.status).toBe(422);
    expect(refused.body).toMatchObject({ code: 'ERR_STEP_UP_REQUIRED', operation: { type: 'manage_authenticators', kind: 'webauthn' } });

    const code = await stepUpCode(c);
    const opts = await t.api('POST', `/v1/customers/${c.id}/authenticators/webauthn/registration-options`, {
      authenticationCode: code,
      authenticatorAttachment: 'cross-platform',
      residentKey: 'discouraged',
    });
    expect(opts.status, JSON.stringify(opts.body)).toBe(200);
    expect(opts.body).toMatchObject({
      rp: { id: RP_ID },
      authenticatorSelection: { userVerification: 'required', authenticatorAttachment: 'cross-platform', residentKey: 'discouraged' },
      excludeCredentials: [],
    });
    // The step-up code is single-use: it does not open a second ceremony.
    const again = await t.api('POST', `/v1/customers/${c.id}/authenticators/webauthn/registration-options`, { authenticationCode: code });
    expect(again.status).not.toBe(200);

    const key = new SoftAuthenticator({ rpId: RP_ID, origin: ORIGIN, transports: ['usb'] });
    const reg = await t.api('POST', `/v1/customers/${c.id}/authenticators/webauthn`, { ...key.create(opts.body), label: 'YubiKey' });
    expect(reg.status, JSON.stringify(reg.body)).toBe(201);
    expect(reg.body).toMatchObject({ kind: 'webauthn', status: 'active', label: 'YubiKey', category: 'possession' });

    // The next ceremony excludes the key already bound.
    const next = await t.api('POST', `/v1/customers/${c.id}/authenticators/webauthn/registration-options`, {
      authenticationCode: await stepUpCode(c),
    });
    expect(next.body.excludeCredentials).toEqual([{ id: key.credentials[0]!.id, type: 'public-key', transports: ['usb'] }]);
    const audit = await t.api('GET', `/v1/customers/${c.id}/audit`);
    expect(JSON.stringify(audit.body)).toContain('authenticator.added');
  });

  it('a second ceremony opened before the customer could authenticate needs a step-up once the first key made them able to', async () => {
    const id = await newBareCustomer();
    const path = `/v1/customers/${id}/authenticators/webauthn`;
    const first = (await t.api('POST', `${path}/registration-options`, {})).body;
    const second = (await t.api('POST', `${path}/registration-options`, {})).body;
    const mine = new SoftAuthenticator({ rpId: RP_ID, origin: ORIGIN });
    expect((await t.api('POST', path, mine.create(first))).status).toBe(201);
    const late = await t.api('POST', path, new SoftAuthenticator({ rpId: RP_ID, origin: ORIGIN }).create(second));
    expect(late.status, JSON.stringify(late.body)).toBe(422);
    expect(late.body).toMatchObject({
      code: 'ERR_STEP_UP_REQUIRED',
      operation: { type: 'manage_authenticators', action: 'add', kind: 'webauthn' },
    });
    const methods = (await t.api('GET', `/v1/customers/${id}/authenticators`)).body.items as { kind: string }[];
    expect(methods.filter((m) => m.kind === 'webauthn')).toHaveLength(1);
  });

  it('a registration challenge works once, only from the bank’s origin, and only with user verification', async () => {
    const id = await newBareCustomer();
    const key = new SoftAuthenticator({ rpId: RP_ID, origin: ORIGIN });
    const path = `/v1/customers/${id}/authenticators/webauthn`;
    const opts = (await t.api('POST', `${path}/registration-options`, {})).body;

    const phishing = await t.api('POST', path, key.create(opts, { origin: 'https://bank-test.example' }));
    expect(phishing.status).toBe(422);
    expect(phishing.body.code).toBe('ERR_WEBAUTHN_REGISTRATION');
    // That answer used the challenge up.
    const retry = await t.api('POST', path, key.create(opts));
    expect(retry.body.code).toBe('ERR_WEBAUTHN_CHALLENGE');

    const opts2 = (await t.api('POST', `${path}/registration-options`, {})).body;
    const noUv = await t.api('POST', path, key.create(opts2, { userVerified: false }));
    expect(noUv.body.code).toBe('ERR_WEBAUTHN_REGISTRATION');

    const opts3 = (await t.api('POST', `${path}/registration-options`, {})).body;
    const answer = key.create(opts3);
    expect((await t.api('POST', path, answer)).status).toBe(201);
    const replay = await t.api('POST', path, answer);
    expect(replay.status).toBe(422);
    expect(replay.body.code).toBe('ERR_WEBAUTHN_CHALLENGE');

    // With that passkey the customer can now authenticate: a second key needs a step-up.
    expect((await t.api('POST', `${path}/registration-options`, {})).body.code).toBe('ERR_STEP_UP_REQUIRED');

    // Another customer cannot use a customer's challenge.
    const [victim, other] = [await newBareCustomer(), await newBareCustomer()];
    const opts4 = (await t.api('POST', `/v1/customers/${victim}/authenticators/webauthn/registration-options`, {})).body;
    const stolen = await t.api('POST', `/v1/customers/${other}/authenticators/webauthn`, key.create(opts4));
    expect(stolen.body.code).toBe('ERR_WEBAUTHN_CHALLENGE');
  });

  it('one passkey alone lets a customer log in and pay: its ways in say so', async () => {
    const { id, key } = await passkeyCustomer();
    const ways = await t.api('GET', `/v1/customers/${id}/ways-in`);
    expect(ways.status).toBe(200);
    expect(ways.body).toMatchObject({ canLogIn: true, canPay: true });
    // One gesture proves two elements: ways-in says so, which is why a passkey alone can log in and pay.
    expect(ways.body.methods).toEqual([
      expect.objectContaining({ kind: 'webauthn', status: 'active', label: 'Ma clé', categories: ['possession', 'inherence'] }),
    ]);
    expect(ways.body.methods[0].usableFor).toContain('payment');

    const login = await t.createOperation(id, { type: 'login' });
    const res = await authenticate(login, [{ method: 'webauthn', credential: key.get(await options(login)) }]);
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    expect(res.body.methods).toEqual(['webauthn']);
    expect(res.body.categories.sort()).toEqual(['inherence', 'possession']);
    expect(res.body.session.token).toBeTruthy();
  });

  it('a payment is approved with a passkey: the options show the amount and payee, one gesture proves two elements', async () => {
    const { id, key } = await passkeyCustomer();
    const opId = await t.createOperation(id, PAYMENT);
    const res = await t.api('POST', `/v1/operations/${opId}/webauthn/options`);
    expect(res.status).toBe(200);
    expect(res.body.operation).toMatchObject({ id: opId, type: 'payment', amount: PAYMENT.amount, payee: PAYMENT.payee });
    expect(res.body.options).toMatchObject({
      rpId: RP_ID,
      userVerification: 'required',
      allowCredentials: [{ id: key.credentials[0]!.id, type: 'public-key' }],
    });

    const ok = await authenticate(opId, [{ method: 'webauthn', credential: key.get(res.body.options) }]);
    expect(ok.status, JSON.stringify(ok.body)).toBe(200);
    expect(ok.body.categories.sort()).toEqual(['inherence', 'possession']);
    // A merchant is shown by its id too: the customer sees who is paid, as the code binds it.
    const card = { type: 'online_card_payment', amount: PAYMENT.amount, payee: { name: 'showroomprive.com', merchantId: 'FR-SRP-0001' } };
    const cardOptions = await t.api('POST', `/v1/operations/${await t.createOperation(id, card)}/webauthn/options`);
    expect(cardOptions.body.operation.payee).toEqual(card.payee);
    const consumed = await t.api('POST', '/v1/authentication-codes/consume', { code: ok.body.authenticationCode, data: PAYMENT });
    expect(consumed.status, JSON.stringify(consumed.body)).toBe(200);
    expect(consumed.body).toMatchObject({ operationId: opId, methods: ['webauthn'] });
  });

  it('an assertion is single-use: replayed, or re-signed over a used challenge, it is refused and counted', async () => {
    const { id, key } = await passkeyCustomer();
    const opId = await t.createOperation(id, PAYMENT);
    const opts = await options(opId);
    const assertion = key.get(opts);
    // The assertion is genuine but the attempt fails on another element: the challenge is used all the same.
    const mixed = await authenticate(opId, [
      { method: 'webauthn', credential: assertion },
      { method: 'password', password: 'not the password' },
    ]);
    expect(mixed.status).toBe(401);
    const replay = await authenticate(opId, [{ method: 'webauthn', credential: assertion }]);
    expect(replay.status).toBe(401);
    expect(replay.body).toMatchObject({ code: 'ERR_AUTHENTICATION_FAILED', remainingAttempts: 3 });
    const resigned = await authenticate(opId, [{ method: 'webauthn', credential: key.get(opts) }]);
    expect(resigned.status).toBe(401);
    expect(resigned.body.remainingAttempts).toBe(2);
    // A fresh challenge for the same operation works, and resets the counter of failures.
    const fresh = await authenticate(opId, [{ method: 'webauthn', credential: key.get(await options(opId)) }]);
    expect(fresh.status, JSON.stringify(fresh.body)).toBe(200);
    expect((await security(id)).failedCount).toBe(0);
  });

  it('an expired challenge (5 minutes) is refused and counted', async () => {
    const { id, key } = await passkeyCustomer();
    const opId = await t.createOperation(id, PAYMENT);
    const opts = await options(opId);
    t.clock.advanceSeconds(5 * 60 + 1);
    const late = await authenticate(opId, [{ method: 'webauthn', credential: key.get(opts) }]);
    expect(late.status).toBe(401);
    expect(late.body.remainingAttempts).toBe(4);
    const inTime = await authenticate(opId, [{ method: 'webauthn', credential: key.get(await options(opId)) }]);
    expect(inTime.status).toBe(200);
  });

  it('an assertion for one operation does not approve another (the challenge is derived from its link hash)', async () => {
    const { id, key } = await passkeyCustomer();
    const small = await t.createOperation(id, { ...PAYMENT, amount: { value: 100, currency: 'EUR' } });
    const big = await t.createOperation(id, { ...PAYMENT, amount: { value: 990_000, currency: 'EUR' } });
    const forSmall = key.get(await options(small));
    const res = await authenticate(big, [{ method: 'webauthn', credential: forSmall }]);
    expect(res.status).toBe(401);
    expect(res.body.remainingAttempts).toBe(4);
    expect((await t.api('GET', `/v1/operations/${big}`)).body.status).toBe('pending');
  });

  it('without user verification (the UV flag), an assertion is refused', async () => {
    const { id, key } = await passkeyCustomer();
    const opId = await t.createOperation(id, PAYMENT);
    const res = await authenticate(opId, [{ method: 'webauthn', credential: key.get(await options(opId), { userVerified: false }) }]);
    expect(res.status).toBe(401);
    expect(res.body.code).toBe('ERR_AUTHENTICATION_FAILED');
  });

  it('a signature counter that goes backwards means a cloned key: refused, suspended, audited and announced', async () => {
    const { id, key, authenticatorId } = await passkeyCustomer();
    const first = await t.createOperation(id, PAYMENT);
    expect((await authenticate(first, [{ method: 'webauthn', credential: key.get(await options(first), { counter: 10 }) }])).status).toBe(
      200,
    );

    const second = await t.createOperation(id, PAYMENT);
    const clone = await authenticate(second, [{ method: 'webauthn', credential: key.get(await options(second), { counter: 10 }) }]);
    expect(clone.status).toBe(401);
    expect(clone.body.remainingAttempts).toBe(4);

    const auths = await t.api('GET', `/v1/customers/${id}/authenticators`);
    expect(auths.body.items).toEqual([expect.objectContaining({ id: authenticatorId, status: 'suspended' })]);
    const db = t.sesame.services.db;
    const audit = await db.selectFrom('audit_events').select(['data']).where('type', '=', 'authenticator.clone_suspected').execute();
    expect(audit.map((a) => a.data)).toContainEqual(
      expect.objectContaining({ customerId: id, authenticatorId, storedCounter: 10, reportedCounter: 10 }),
    );
    const events = await db.selectFrom('outbox_events').select(['payload']).where('type', '=', 'authenticator.clone_suspected').execute();
    expect(events.map((e) => (e.payload as { data: unknown }).data)).toContainEqual(expect.objectContaining({ authenticatorId }));
    // Suspended: even a correct counter no longer works, and there is nothing to offer.
    const third = await t.createOperation(id, PAYMENT);
    const opts = await t.api('POST', `/v1/operations/${third}/webauthn/options`);
    expect(opts.status).toBe(422);
    expect(opts.body.code).toBe('ERR_NO_WEBAUTHN_CREDENTIAL');
  });

  it('a key without a counter (always 0) is not taken for a clone', async () => {
    const { id, key } = await passkeyCustomer(new SoftAuthenticator({ rpId: RP_ID, origin: ORIGIN, counterStep: 0 }));
    for (let i = 0; i < 2; i++) {
      const opId = await t.createOperation(id, PAYMENT);
      expect((await authenticate(opId, [{ method: 'webauthn', credential: key.get(await options(opId)) }])).status).toBe(200);
    }
  });

  it('wrong assertions count toward the block like any failure: the sixth attempt is refused with 423 even if right', async () => {
    const { id, key } = await passkeyCustomer();
    const opId = await t.createOperation(id, PAYMENT);
    const statuses: number[] = [];
    for (let i = 0; i < 5; i++) {
      const res = await authenticate(opId, [
        { method: 'webauthn', credential: key.get(await options(opId), { origin: 'https://evil.test' }) },
      ]);
      statuses.push(res.status);
    }
    expect(statuses).toEqual([401, 401, 401, 401, 401]);
    const right = await t.api('POST', `/v1/operations/${opId}/webauthn/options`);
    const blocked = await authenticate(opId, [{ method: 'webauthn', credential: key.get(right.body.options) }]);
    expect(blocked.status).toBe(423);
    expect(await security(id)).toMatchObject({ blocked: true });
  });

  it('another customer’s key is of no use, and a customer without a key gets no options', async () => {
    const alice = await passkeyCustomer();
    const bob = await passkeyCustomer();
    const opId = await t.createOperation(bob.id, PAYMENT);
    const opts = await options(opId);
    const res = await authenticate(opId, [{ method: 'webauthn', credential: alice.key.get({ ...opts, allowCredentials: [] }) }]);
    expect(res.status).toBe(401);
    const c = await t.newCustomerWithPasswordAndTotp();
    const none = await t.api('POST', `/v1/operations/${await t.createOperation(c.id, PAYMENT)}/webauthn/options`);
    expect(none.status).toBe(422);
    expect(none.body.code).toBe('ERR_NO_WEBAUTHN_CREDENTIAL');
  });

  describe('passkey login without a username', () => {
    const loginOptions = async (auth?: string) => {
      const res = await t.api('POST', '/v1/passkey-logins/options', undefined, auth ? { auth } : {});
      expect(res.status, JSON.stringify(res.body)).toBe(200);
      return res.body.options as { challenge: string; rpId: string; allowCredentials?: { id: string }[]; userVerification: string };
    };
    const passkeyLogin = (credential: unknown) => t.api('POST', '/v1/passkey-logins', { credential, userAgent: 'Firefox on Linux' });
    const b64u = (s: string) => Buffer.from(s).toString('base64url');

    it('the passkey the customer picks says who they are: a login, a session and an authentication code for that customer', async () => {
      const { id, key } = await passkeyCustomer();
      const opts = await loginOptions();
      // No allow list: the browser offers every passkey it keeps for this site.
      expect(opts.allowCredentials ?? []).toEqual([]);
      expect(opts).toMatchObject({ rpId: RP_ID, userVerification: 'required' });

      const res = await passkeyLogin(key.get(opts));
      expect(res.status, JSON.stringify(res.body)).toBe(200);
      expect(res.body).toMatchObject({ customerId: id, status: 'authorised', methods: ['webauthn'] });
      expect(res.body.categories.sort()).toEqual(['inherence', 'possession']);
      expect(res.body.session.token).toBeTruthy();
      const op = await t.api('GET', `/v1/operations/${res.body.operationId}`);
      expect(op.body).toMatchObject({ customerId: id, type: 'login', status: 'authorised' });
      const consumed = await t.api('POST', '/v1/authentication-codes/consume', { code: res.body.authenticationCode });
      expect(consumed.status).toBe(200);
      expect(consumed.body).toMatchObject({ customerId: id, type: 'login', methods: ['webauthn'] });
      const sessions = await t.api('GET', `/v1/customers/${id}/sessions`);
      expect(sessions.body.items).toEqual([expect.objectContaining({ id: res.body.session.id, userAgent: 'Firefox on Linux' })]);
      // Its next login works too: the key's signature counter moved forward with the first.
      expect((await passkeyLogin(key.get(await loginOptions()))).status).toBe(200);
    });

    it('a challenge answers once, for the bank that asked for it, within 5 minutes', async () => {
      const { key } = await passkeyCustomer();
      const assertion = key.get(await loginOptions());
      expect((await passkeyLogin(assertion)).status).toBe(200);
      const replay = await passkeyLogin(assertion);
      expect(replay.status).toBe(422);
      expect(replay.body.code).toBe('ERR_WEBAUTHN_CHALLENGE');

      const otherBank = await createRelyingParty(t.sesame.services, unique('Other bank'));
      const theirs = await passkeyLogin(key.get(await loginOptions(otherBank.apiKey)));
      expect(theirs.status).toBe(422);
      expect(theirs.body.code).toBe('ERR_WEBAUTHN_CHALLENGE');

      const opts = await loginOptions();
      t.clock.advance(5 * 60 * 1000 + 1000);
      const late = await passkeyLogin(key.get(opts));
      expect(late.status).toBe(422);
      expect(late.body.code).toBe('ERR_WEBAUTHN_CHALLENGE');
    });

    it('a passkey the bank does not know, or whose user handle is another customer’s, logs nobody in and counts nothing', async () => {
      const alice = await passkeyCustomer();
      const bob = await passkeyCustomer();
      const stranger = new SoftAuthenticator({ rpId: RP_ID, origin: ORIGIN });
      stranger.create({ challenge: b64u('not from this bank'), rp: { id: RP_ID }, user: { id: b64u(alice.id) } });
      const unknown = await passkeyLogin(stranger.get(await loginOptions()));
      expect(unknown.status).toBe(401);
      expect(unknown.body.code).toBe('ERR_PASSKEY_NOT_RECOGNISED');

      const mismatched = await passkeyLogin(alice.key.get(await loginOptions(), { userHandle: b64u(bob.id) }));
      expect(mismatched.status).toBe(401);
      expect(mismatched.body.code).toBe('ERR_PASSKEY_NOT_RECOGNISED');
      expect((await security(alice.id)).failedCount).toBe(0);
      expect((await security(bob.id)).failedCount).toBe(0);
      // The challenge of a refused ceremony is spent.
      const opts = await loginOptions();
      expect((await passkeyLogin(stranger.get(opts))).status).toBe(401);
      expect((await passkeyLogin(alice.key.get(opts))).body.code).toBe('ERR_WEBAUTHN_CHALLENGE');
    });

    it('a suspended passkey, or an answer without its user handle, logs nobody in and counts nothing', async () => {
      const { id, key, authenticatorId } = await passkeyCustomer();
      const bare = key.get(await loginOptions()) as { response: Record<string, unknown> };
      delete bare.response.userHandle;
      const noHandle = await passkeyLogin(bare);
      expect(noHandle.status).toBe(401);
      expect(noHandle.body.code).toBe('ERR_PASSKEY_NOT_RECOGNISED');
      const suspend = await t.api('POST', `/v1/customers/${id}/authenticators/${authenticatorId}/suspend`, { reason: 'lost phone' });
      expect(suspend.status).toBe(200);
      const suspended = await passkeyLogin(key.get(await loginOptions()));
      expect(suspended.status).toBe(401);
      expect(suspended.body.code).toBe('ERR_PASSKEY_NOT_RECOGNISED');
      expect((await security(id)).failedCount).toBe(0);
    });

    it('the same answer sent twice at once logs in once; the other is refused and leaves no login waiting', async () => {
      const { id, key } = await passkeyCustomer();
      const assertion = key.get(await loginOptions());
      const both = await Promise.all([passkeyLogin(assertion), passkeyLogin(assertion)]);
      expect(both.map((r) => r.status).sort()).toEqual([200, 422]);
      expect(both.find((r) => r.status === 422)!.body.code).toBe('ERR_WEBAUTHN_CHALLENGE');
      const logins = await t.sesame.services.db.selectFrom('operations').select('status').where('customer_id', '=', id).execute();
      expect(logins.filter((o) => o.status === 'authorised')).toHaveLength(1);
      expect(logins.filter((o) => o.status === 'pending')).toEqual([]);
    });

    it('a wrong assertion from a known passkey is a failed login of its customer, counted; blocked, the customer is refused with 423', async () => {
      const { id, key } = await passkeyCustomer();
      const noUv = await passkeyLogin(key.get(await loginOptions(), { userVerified: false }));
      expect(noUv.status).toBe(401);
      expect(noUv.body).toMatchObject({ code: 'ERR_AUTHENTICATION_FAILED', remainingAttempts: 4 });
      expect((await security(id)).failedCount).toBe(1);
      for (let i = 0; i < 4; i++) {
        expect((await passkeyLogin(key.get(await loginOptions(), { origin: 'https://evil.test' }))).status).toBe(401);
      }
      const blocked = await passkeyLogin(key.get(await loginOptions()));
      expect(blocked.status).toBe(423);
      expect(blocked.body.code).toBe('ERR_CUSTOMER_BLOCKED');
      // The logins created for the six refused ceremonies do not stay pending: nobody can answer them again.
      const logins = await t.sesame.services.db.selectFrom('operations').select('status').where('customer_id', '=', id).execute();
      expect(logins.map((o) => o.status)).toEqual(Array(6).fill('cancelled'));
    });

    it('expired challenges are deleted now and then as new ones are issued, whatever they were for', async () => {
      const { id } = await passkeyCustomer();
      const db = t.sesame.services.db;
      const stale = (await loginOptions()).challenge;
      const row = (challenge: string) =>
        db.selectFrom('webauthn_challenges').select('id').where('challenge', '=', challenge).executeTakeFirst();
      expect(await row(stale)).toBeDefined();
      t.clock.advance(5 * 60 * 1000 + 1000);
      const fresh = (await loginOptions()).challenge;
      const payment = await t.createOperation(id, {
        type: 'payment',
        amount: { value: 100, currency: 'EUR' },
        payee: { name: 'Shop', iban: 'FR7630006000011234567890189' },
      });
      const random = vi.spyOn(Math, 'random').mockReturnValue(0);
      try {
        // This issuance draws the purge: every expired challenge goes, of any purpose; the live ones stay.
        expect((await t.api('POST', `/v1/operations/${payment}/webauthn/options`, {})).status).toBe(200);
      } finally {
        random.mockRestore();
      }
      expect(await row(stale)).toBeUndefined();
      expect(await row(fresh)).toBeDefined();
      const expired = await db.selectFrom('webauthn_challenges').select('id').where('expires_at', '<', t.clock.now()).execute();
      expect(expired).toEqual([]);
    });

    it('malformed answers get a 400 naming the field, and nothing is written', async () => {
      const before = await t.sesame.services.db
        .selectFrom('operations')
        .select((eb) => eb.fn.countAll<string>().as('n'))
        .executeTakeFirstOrThrow();
      const noCredential = await t.api('POST', '/v1/passkey-logins', {});
      expect(noCredential.status).toBe(400);
      expect(JSON.stringify(noCredential.body)).toContain('credential');
      const { key } = await passkeyCustomer();
      const assertion = key.get(await loginOptions()) as { response: Record<string, string> };
      const garbled = await passkeyLogin({ ...assertion, response: { ...assertion.response, clientDataJSON: b64u('{not json') } });
      expect(garbled.status).toBe(400);
      expect(garbled.body.code).toBe('ERR_WEBAUTHN_RESPONSE');
      const after = await t.sesame.services.db
        .selectFrom('operations')
        .select((eb) => eb.fn.countAll<string>().as('n'))
        .executeTakeFirstOrThrow();
      expect(Number(after.n)).toBe(Number(before.n));
    });
  });
});

describe.each(databaseKinds)('the bank’s attestation policy on %s', (kind) => {
  let allowList: TestSesame;
  let direct: TestSesame;
  beforeAll(async () => {
    allowList = await startSesame(kind, { ...ENV, SESAME_WEBAUTHN_ALLOWED_AAGUIDS: `${YUBIKEY_5}` });
    direct = await startSesame(kind, { ...ENV, SESAME_WEBAUTHN_ATTESTATION: 'direct' });
  });
  afterAll(async () => {
    await allowList?.close();
    await direct?.close();
  });

  async function tryRegister(t: TestSesame, aaguid: string) {
    const ref = unique('att');
    const id = (await t.api('POST', '/v1/customers', { ref, displayName: `Customer ${ref}` })).body.id as string;
    const opts = await t.api('POST', `/v1/customers/${id}/authenticators/webauthn/registration-options`, {});
    expect(opts.status).toBe(200);
    const key = new SoftAuthenticator({ rpId: RP_ID, origin: ORIGIN, aaguid });
    return { opts: opts.body, res: await t.api('POST', `/v1/customers/${id}/authenticators/webauthn`, key.create(opts.body)) };
  }

  it('with an AAGUID allow-list, another model is refused with a clear 422, an approved one is accepted', async () => {
    const refused = await tryRegister(allowList, OTHER_MODEL);
    expect(refused.res.status).toBe(422);
    expect(refused.res.body).toMatchObject({ code: 'ERR_WEBAUTHN_MODEL_NOT_ALLOWED', aaguid: OTHER_MODEL });
    expect(refused.res.body.detail).toMatch(/not accepted by the bank/);
    const accepted = await tryRegister(allowList, YUBIKEY_5);
    expect(accepted.res.status, JSON.stringify(accepted.res.body)).toBe(201);
  });

  it('with direct attestation, the options ask for it and a key that gives none is refused', async () => {
    const { opts, res } = await tryRegister(direct, YUBIKEY_5);
    expect(opts.attestation).toBe('direct');
    expect(res.status).toBe(422);
    expect(res.body.code).toBe('ERR_WEBAUTHN_ATTESTATION_REQUIRED');
  });
});

describe('WebAuthn configuration', () => {
  it('defaults the RP ID and origin to the public URL’s', () => {
    const rp = webauthnRelyingParty(loadConfig({ SESAME_PUBLIC_URL: 'https://secure.bank.example:8443/' }));
    expect(rp).toMatchObject({ rpId: 'secure.bank.example', origins: ['https://secure.bank.example:8443'] });
    const set = webauthnRelyingParty(
      loadConfig({ SESAME_WEBAUTHN_RP_ID: 'Bank.Example', SESAME_WEBAUTHN_ORIGINS: 'https://bank.example, https://m.bank.example/' }),
    );
    expect(set).toMatchObject({ rpId: 'bank.example', origins: ['https://bank.example', 'https://m.bank.example'] });
  });

  it('refuses values that cannot work, naming the variable', () => {
    expect(() => loadConfig({ SESAME_WEBAUTHN_ATTESTATION: 'indirect' })).toThrow(/SESAME_WEBAUTHN_ATTESTATION=indirect is refused/);
    expect(() => loadConfig({ SESAME_WEBAUTHN_RP_ID: 'https://bank.example' })).toThrow(/SESAME_WEBAUTHN_RP_ID=.* is refused/);
    expect(() => loadConfig({ SESAME_WEBAUTHN_ORIGINS: 'bank.example' })).toThrow(/SESAME_WEBAUTHN_ORIGINS is refused/);
    expect(() => loadConfig({ SESAME_WEBAUTHN_ALLOWED_AAGUIDS: 'yubikey-5' })).toThrow(/SESAME_WEBAUTHN_ALLOWED_AAGUIDS is refused/);
    expect(loadConfig({ SESAME_WEBAUTHN_ALLOWED_AAGUIDS: `${YUBIKEY_5.toUpperCase()}, ${OTHER_MODEL}` }).webauthn.allowedAaguids).toEqual([
      YUBIKEY_5,
      OTHER_MODEL,
    ]);
  });
});
