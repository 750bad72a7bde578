import { createLocalJWKSet, decodeJwt, decodeProtectedHeader, jwtVerify, type JWTPayload } from 'jose';
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { chainHash } from '../../src/core/audit-chain.js';
import { SigningKeys } from '../../src/crypto/signing-keys.js';
import { createAdvisor, createRelyingParty } from '../../src/journeys/principals.js';
import { verifyAllChains } from '../../src/store/audit.js';
import { databaseKinds } from '../support/databases.js';
import { startSesame, type ApiResponse, type TestCustomer, type TestSesame } from '../support/sesame.js';

/**
 * The regulatory rules of strong customer authentication (PSD2 RTS arts. 4–9, see docs/domain.md),
 * proven over the HTTP API a bank's back-end calls, on the embedded database and on PostgreSQL.
 */

const FR = 'FR76 3000 6000 0112 3456 7890 189';
const DE = 'DE89 3704 0044 0532 0130 00';
const GB = 'GB82 WEST 1234 5698 7654 32';

const PAYMENT = { type: 'payment', amount: { value: 25000, currency: 'EUR' }, payee: { name: 'Plomberie Martin', iban: FR } };
const BATCH = {
  type: 'batch_payment',
  total: { value: 38049, currency: 'EUR' },
  payees: [
    { payee: { name: 'Plomberie Martin', iban: FR }, amount: { value: 25000, currency: 'EUR' } },
    { payee: { name: 'Electricité Dupont', iban: DE }, amount: { value: 12050, currency: 'EUR' } },
    { payee: { name: 'Menuiserie Smith', iban: GB }, amount: { value: 999, currency: 'EUR' } },
  ],
};
const clone = <T>(v: T): T => JSON.parse(JSON.stringify(v)) as T;

interface CodeClaims extends JWTPayload {
  op: string;
  op_type: string;
  lh: string;
  amount?: { value: number; currency: string };
  payees?: { name: string; iban?: string }[];
  methods: string[];
  categories: string[];
  reused?: string[];
  sid?: string;
}

describe.each(databaseKinds)('SCA rules over HTTP on %s', (kind) => {
  /**
   * Default configuration (5 attempts, 300 s idle, 8 h sessions, 300 s operations) except a one-step
   * ladder: the first block lasts a minute, the second is permanent. One server per database: an
   * embedded database takes seconds to start.
   */
  let t: TestSesame;

  beforeAll(async () => {
    t = await startSesame(kind, { SESAME_BLOCK_LADDER: '1m' });
  });
  afterAll(async () => {
    await t?.close();
  });

  // ---------- helpers ----------

  const authenticate = (s: TestSesame, opId: string, factors: Record<string, unknown>[], extra: Record<string, unknown> = {}) =>
    s.api('POST', `/v1/operations/${opId}/authenticate`, { factors, ...extra });

  const both = (c: TestCustomer, over: { password?: string; code?: string } = {}) => [
    { method: 'password', password: over.password ?? c.password },
    { method: 'totp', code: over.code ?? c.nextCode() },
  ];

  /** A well-formed code that is none of the codes the ±1 step window (and the next step) accepts. */
  const wrongCode = (c: TestCustomer) => {
    const taken = new Set([-1, 0, 1, 2].map((d) => c.code(d)));
    let n = Number(c.code()) + 1;
    while (taken.has(String(n % 1e6).padStart(6, '0'))) n++;
    return String(n % 1e6).padStart(6, '0');
  };

  /** Creates an operation and authenticates it with password + a fresh TOTP code; expects 200. */
  async function authorise(s: TestSesame, c: TestCustomer, data: Record<string, unknown>) {
    const opId = await s.createOperation(c.id, data);
    const res = await authenticate(s, opId, both(c));
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    s.secrets.add(res.body.authenticationCode);
    return { opId, code: res.body.authenticationCode as string };
  }

  /** One failed attempt (wrong password, right TOTP) on a new login operation. */
  async function failOnce(s: TestSesame, c: TestCustomer) {
    const opId = await s.createOperation(c.id, { type: 'login' });
    return authenticate(s, opId, both(c, { password: 'not the password' }));
  }

  async function loginOk(s: TestSesame, c: TestCustomer, extra: Record<string, unknown> = {}) {
    const res = await s.login(c, extra);
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    return res.body as { authenticationCode: string; session: { id: string; token: string; idleTimeoutSeconds: number } };
  }

  async function verifyOffline(s: TestSesame, code: string) {
    const jwks = await s.api('GET', '/.well-known/jwks.json', undefined, { auth: null });
    expect(jwks.status).toBe(200);
    const { payload, protectedHeader } = await jwtVerify<CodeClaims>(code, createLocalJWKSet(jwks.body), {
      issuer: s.sesame.services.config.publicUrl,
      audience: s.rpId,
      algorithms: ['ES256'],
      currentDate: s.clock.now(),
      typ: 'sesame-ac+jwt',
    });
    return { payload, protectedHeader, jwks: jwks.body as { keys: { kid: string }[] } };
  }

  const security = async (s: TestSesame, c: TestCustomer) => (await s.api('GET', `/v1/customers/${c.id}/security`)).body;

  const outbox = async (s: TestSesame, type: string, customerId: string) => {
    // In the order they were raised: without ORDER BY, PostgreSQL returns rows as they lie on disk.
    const rows = await s.sesame.services.db
      .selectFrom('outbox_events')
      .selectAll()
      .where('type', '=', type)
      .orderBy('created_at')
      .execute();
    return rows
      .map((r) => (typeof r.payload === 'string' ? JSON.parse(r.payload) : r.payload) as { type: string; data: Record<string, unknown> })
      .filter((p) => p.data.customerId === customerId);
  };

  const auditTypes = async (s: TestSesame, c: TestCustomer) => {
    const res = await s.api('GET', `/v1/customers/${c.id}/audit`);
    expect(res.status).toBe(200);
    return res.body.items as { seq: number; type: string; actor: string; data: Record<string, any> }[];
  };

  const consume = (s: TestSesame, code: string, data?: unknown, auth?: string) =>
    s.api('POST', '/v1/authentication-codes/consume', { code, ...(data !== undefined ? { data } : {}) }, auth ? { auth } : {});

  // ---------- the authentication code ----------

  describe('the authentication code', () => {
    it('a login with password and TOTP gives a signed authentication code and a session', async () => {
      const c = await t.newCustomerWithPasswordAndTotp();
      const opId = await t.createOperation(c.id, { type: 'login' });
      const totp = c.nextCode();
      const res = await authenticate(t, opId, both(c, { code: totp }));
      expect(res.status).toBe(200);
      expect(res.body).toMatchObject({ status: 'authorised', methods: ['password', 'totp'], categories: ['knowledge', 'possession'] });
      expect(res.body.session.token).toMatch(/^ses_/);
      expect(res.body.session.idleTimeoutSeconds).toBe(300);

      const op = await t.api('GET', `/v1/operations/${opId}`);
      expect(op.body.status).toBe('authorised');
      const { payload, protectedHeader, jwks } = await verifyOffline(t, res.body.authenticationCode);
      expect(payload).toMatchObject({
        op: opId,
        op_type: 'login',
        lh: op.body.linkHash,
        methods: ['password', 'totp'],
        categories: ['knowledge', 'possession'],
        aud: t.rpId,
        sub: c.id,
      });
      expect(payload.amount).toBeUndefined();
      expect(payload.payees).toBeUndefined();
      expect(jwks.keys.map((k) => k.kid)).toContain(protectedHeader.kid);
      // The code says which kinds of element were used, nothing about the elements themselves.
      const text = JSON.stringify(payload);
      for (const secret of [c.password, c.secret, totp]) expect(text).not.toContain(secret);
    });

    it('a payment’s code states the amount and the payee the customer saw, with the normalised IBAN', async () => {
      const c = await t.newCustomerWithPasswordAndTotp();
      const { opId, code } = await authorise(t, c, PAYMENT);
      const op = await t.api('GET', `/v1/operations/${opId}`);
      const { payload } = await verifyOffline(t, code);
      expect(payload).toMatchObject({ op: opId, op_type: 'payment', lh: op.body.linkHash, aud: t.rpId, sub: c.id });
      expect(payload.amount).toEqual({ value: 25000, currency: 'EUR' });
      expect(payload.payees).toEqual([{ name: 'Plomberie Martin', iban: 'FR7630006000011234567890189' }]);
    });

    it('a forged authentication code (amount changed in the payload) is refused, the real one still works', async () => {
      const c = await t.newCustomerWithPasswordAndTotp();
      const { code } = await authorise(t, c, PAYMENT);
      const [h, p, sig] = code.split('.');
      const claims = JSON.parse(Buffer.from(p!, 'base64url').toString('utf8'));
      claims.amount.value = 1;
      const forged = `${h}.${Buffer.from(JSON.stringify(claims)).toString('base64url')}.${sig}`;
      const res = await consume(t, forged);
      expect(res.status).toBe(400);
      expect(res.body.code).toBe('ERR_CODE_INVALID');
      expect((await consume(t, code, PAYMENT)).status).toBe(200);
    });

    it('a code issued to one bank cannot be consumed by another, which cannot even see the operation', async () => {
      const other = await createRelyingParty(t.sesame.services, 'Another bank');
      const c = await t.newCustomerWithPasswordAndTotp();
      const { opId, code } = await authorise(t, c, PAYMENT);
      const res = await consume(t, code, PAYMENT, other.apiKey);
      expect(res.status).toBe(400);
      expect(res.body.code).toBe('ERR_CODE_INVALID');
      expect((await t.api('GET', `/v1/operations/${opId}`, undefined, { auth: other.apiKey })).status).toBe(404);
      const stolen = await t.api('POST', `/v1/operations/${opId}/authenticate`, { factors: both(c) }, { auth: other.apiKey });
      expect(stolen.status).toBe(404);
      expect((await consume(t, code, PAYMENT)).status).toBe(200);
    });
  });

  // ---------- single use ----------

  describe('the catalogue of operations', () => {
    it('every operation type can be created, authorised and its code consumed with its own data', async () => {
      const c = await t.newCustomerWithPasswordAndTotp();
      expect((await t.login(c)).status).toBe(200);
      const card = { id: 'card-1' };
      const catalogue = [
        PAYMENT,
        BATCH,
        { type: 'add_beneficiary', payee: { name: 'Plomberie Martin', iban: FR } },
        { type: 'change_phone', phone: '+33612345678' },
        { type: 'change_email', email: 'jeanne.martin@example.org' },
        { type: 'change_address', address: '12 rue de la Paix, 75002 Paris' },
        { type: 'view_card_pin', card },
        { type: 'card_limit_increase', card, limit: { value: 300000, currency: 'EUR' } },
        { type: 'contract_signature', contract: { id: 'loan-42', title: 'Prêt travaux', documentSha256: 'a'.repeat(64) } },
        { type: 'card_wallet_enrolment', card, wallet: 'Apple Pay' },
        { type: 'online_card_payment', amount: { value: 1999, currency: 'EUR' }, payee: { name: 'Librairie', merchantId: 'M-1' } },
      ];
      for (const data of catalogue) {
        const { code } = await authorise(t, c, data);
        const consumed = await t.api('POST', '/v1/authentication-codes/consume', { code, data });
        expect(consumed.status, `${data.type}: ${JSON.stringify(consumed.body)}`).toBe(200);
      }
      const bad = await t.api('POST', '/v1/operations', { customerId: c.id, data: { type: 'change_email', email: 'not an address' } });
      expect(bad.status).toBe(400);
      expect(JSON.stringify(bad.body)).toContain('email');
    });
  });

  describe('single use', () => {
    it('a TOTP code accepted once is refused when replayed in a new operation', async () => {
      const c = await t.newCustomerWithPasswordAndTotp();
      const code = c.nextCode();
      const first = await authenticate(t, await t.createOperation(c.id, { type: 'login' }), both(c, { code }));
      expect(first.status).toBe(200);
      const replay = await authenticate(t, await t.createOperation(c.id, { type: 'login' }), both(c, { code }));
      expect(replay.status).toBe(401);
      expect(replay.body.code).toBe('ERR_AUTHENTICATION_FAILED');
    });

    it('an authentication code is consumed once: the second time is 409 ERR_CODE_ALREADY_USED', async () => {
      const c = await t.newCustomerWithPasswordAndTotp();
      const { code } = await authorise(t, c, PAYMENT);
      const first = await consume(t, code, PAYMENT);
      expect(first.status).toBe(200);
      expect(first.body).toMatchObject({ customerId: c.id, type: 'payment', amount: { value: 25000, currency: 'EUR' } });
      const second = await consume(t, code, PAYMENT);
      expect(second.status).toBe(409);
      expect(second.body.code).toBe('ERR_CODE_ALREADY_USED');
      expect((await consume(t, code)).body.code).toBe('ERR_CODE_ALREADY_USED');
    });

    it('the same TOTP code sent in two attempts at the same instant is accepted once', async () => {
      const c = await t.newCustomerWithPasswordAndTotp();
      const [a, b] = [await t.createOperation(c.id, { type: 'login' }), await t.createOperation(c.id, { type: 'login' })];
      const code = c.nextCode();
      const results = await Promise.all([a, b].map((opId) => authenticate(t, opId, both(c, { code }))));
      expect(results.map((r) => r.status).sort()).toEqual([200, 401]);
    });

    it('an authentication code consumed twice at the same instant is accepted once', async () => {
      const c = await t.newCustomerWithPasswordAndTotp();
      const { code } = await authorise(t, c, PAYMENT);
      const results = await Promise.all([consume(t, code, PAYMENT), consume(t, code, PAYMENT), consume(t, code)]);
      expect(results.map((r) => r.status).sort()).toEqual([200, 409, 409]);
      expect(results.filter((r) => r.status === 409).map((r) => r.body.code)).toEqual(['ERR_CODE_ALREADY_USED', 'ERR_CODE_ALREADY_USED']);
    });

    it('an authorised operation cannot be authenticated again', async () => {
      const c = await t.newCustomerWithPasswordAndTotp();
      const { opId } = await authorise(t, c, { type: 'login' });
      const again = await authenticate(t, opId, both(c));
      expect(again.status).toBe(409);
      expect(again.body.code).toBe('ERR_OPERATION_NOT_PENDING');
    });

    it('an authorised operation cannot be cancelled any more (409), and its code stays valid', async () => {
      const c = await t.newCustomerWithPasswordAndTotp();
      const { opId, code } = await authorise(t, c, PAYMENT);
      const res = await t.api('POST', `/v1/operations/${opId}/cancel`);
      expect(res.status).toBe(409);
      expect(res.body.code).toBe('ERR_OPERATION_NOT_PENDING');
      expect((await consume(t, code, PAYMENT)).status).toBe(200);
    });

    it('an authentication code not consumed within its lifetime (120 s) is refused', async () => {
      const c = await t.newCustomerWithPasswordAndTotp();
      const { code } = await authorise(t, c, PAYMENT);
      t.clock.advanceSeconds(121);
      const res = await consume(t, code, PAYMENT);
      expect(res.status).toBe(409);
      expect(res.body.code).toBe('ERR_CODE_EXPIRED');
    });
  });

  // ---------- no hint of which element was wrong ----------

  describe('generic failure', () => {
    it('a wrong password and a wrong TOTP code get exactly the same answer', async () => {
      const [a, b, both2] = [
        await t.newCustomerWithPasswordAndTotp(),
        await t.newCustomerWithPasswordAndTotp(),
        await t.newCustomerWithPasswordAndTotp(),
      ];
      const wrongPassword = await authenticate(
        t,
        await t.createOperation(a.id, { type: 'login' }),
        both(a, { password: 'wrong password' }),
      );
      const wrongTotp = await authenticate(t, await t.createOperation(b.id, { type: 'login' }), both(b, { code: wrongCode(b) }));
      const bothWrong = await authenticate(
        t,
        await t.createOperation(both2.id, { type: 'login' }),
        both(both2, { password: 'wrong password', code: wrongCode(both2) }),
      );
      expect(wrongPassword.status).toBe(401);
      expect(wrongPassword.body).toEqual({
        type: 'urn:sesame:problem:authentication-failed',
        title: 'Unauthorized',
        status: 401,
        detail: 'Authentication failed.',
        code: 'ERR_AUTHENTICATION_FAILED',
        remainingAttempts: 4,
        nextBlockPermanent: false,
      });
      for (const other of [wrongTotp, bothWrong]) {
        expect(other.status).toBe(wrongPassword.status);
        expect(other.body).toEqual(wrongPassword.body);
        expect(other.headers['content-type']).toBe(wrongPassword.headers['content-type']);
        expect(other.headers['content-length']).toBe(wrongPassword.headers['content-length']);
      }
    });

    it("another customer's authenticator, named with its valid code, is no element of this customer's: a counted failure", async () => {
      const [victim, attacker] = [await t.newCustomerWithPasswordAndTotp(), await t.newCustomerWithPasswordAndTotp()];
      const opId = await t.createOperation(victim.id, { type: 'login' });
      const res = await authenticate(t, opId, [
        { method: 'password', password: victim.password },
        { method: 'totp', authenticatorId: attacker.totpId, code: attacker.nextCode() },
      ]);
      expect(res.status).toBe(401);
      expect(res.body).toMatchObject({ code: 'ERR_AUTHENTICATION_FAILED', remainingAttempts: 4 });
      expect((await security(t, victim)).failedCount).toBe(1);
      // The operation is still pending: the victim's own elements authorise it.
      const own = await authenticate(t, opId, both(victim));
      expect(own.status, JSON.stringify(own.body)).toBe(200);
    });
  });

  // ---------- at most 5 consecutive failures ----------

  describe('consecutive failures and blocks', () => {
    it('five wrong attempts block the customer: the sixth is refused even with the right password and code', async () => {
      const c = await t.newCustomerWithPasswordAndTotp();
      const remaining: number[] = [];
      for (let i = 0; i < 5; i++) {
        const res = await failOnce(t, c);
        expect(res.status).toBe(401);
        remaining.push(res.body.remainingAttempts);
      }
      expect(remaining).toEqual([4, 3, 2, 1, 0]);
      const blockedAt = t.clock.now().getTime();
      const sixth = await authenticate(t, await t.createOperation(c.id, { type: 'login' }), both(c));
      expect(sixth.status).toBe(423);
      expect(sixth.body).toMatchObject({
        code: 'ERR_CUSTOMER_BLOCKED',
        permanent: false,
        blockedUntil: new Date(blockedAt + 60_000).toISOString(),
        nextBlockPermanent: true,
      });
      expect(await security(t, c)).toMatchObject({ blocked: true, permanent: false, remainingAttempts: 0 });
    });

    it('ten wrong attempts at the same instant count exactly: five failures, then the block refuses the rest', async () => {
      const c = await t.newCustomerWithPasswordAndTotp();
      const ops = await Promise.all(Array.from({ length: 10 }, () => t.createOperation(c.id, { type: 'login' })));
      const results = await Promise.all(
        ops.map((opId) => authenticate(t, opId, both(c, { password: 'not the password', code: wrongCode(c) }))),
      );
      const statuses = results.map((r) => r.status).sort();
      expect(statuses).toEqual([401, 401, 401, 401, 401, 423, 423, 423, 423, 423]);
      expect(
        results
          .filter((r) => r.status === 401)
          .map((r) => r.body.remainingAttempts)
          .sort(),
      ).toEqual([0, 1, 2, 3, 4]);
      expect(await security(t, c)).toMatchObject({ blocked: true, permanent: false });
    });

    it('a temporary block ends by itself after its duration, and then the right elements work', async () => {
      const c = await t.newCustomerWithPasswordAndTotp();
      for (let i = 0; i < 5; i++) await failOnce(t, c);
      const blockedUntil = new Date((await security(t, c)).blockedUntil).getTime();
      t.clock.set(new Date(blockedUntil - 1000));
      const stillBlocked = await authenticate(t, await t.createOperation(c.id, { type: 'login' }), both(c));
      expect(stillBlocked.status).toBe(423);
      t.clock.set(new Date(blockedUntil));
      const opId = await t.createOperation(c.id, { type: 'login' });
      const res = await authenticate(t, opId, both(c));
      expect(res.status).toBe(200);
      // The success also resets the ladder: the next block would be temporary again.
      expect(await security(t, c)).toMatchObject({ failedCount: 0, blocked: false, remainingAttempts: 5, nextBlockPermanent: false });
    });

    it('a success resets the count: four failures, a success, four more failures do not block', async () => {
      const c = await t.newCustomerWithPasswordAndTotp();
      for (let i = 0; i < 4; i++) await failOnce(t, c);
      expect((await security(t, c)).failedCount).toBe(4);
      await loginOk(t, c);
      expect((await security(t, c)).failedCount).toBe(0);
      let last: ApiResponse | null = null;
      for (let i = 0; i < 4; i++) last = await failOnce(t, c);
      expect(last!.status).toBe(401);
      expect(last!.body.remainingAttempts).toBe(1);
      expect(await security(t, c)).toMatchObject({ failedCount: 4, blocked: false });
    });
  });

  // ---------- the ladder and the warning ----------

  describe('warning before a permanent block (ladder 1m: the second block is permanent)', () => {
    it('warns in the 401 answer, in the security view and with a customer.block_warning event', async () => {
      const c = await t.newCustomerWithPasswordAndTotp();
      const bodies: any[] = [];
      for (let i = 0; i < 5; i++) bodies.push((await failOnce(t, c)).body);
      expect(bodies.map((b) => b.nextBlockPermanent)).toEqual([false, false, false, false, true]);
      expect(await security(t, c)).toMatchObject({ blocked: true, permanent: false, nextBlockPermanent: true });

      const warnings = await outbox(t, 'customer.block_warning', c.id);
      expect(warnings).toHaveLength(1);
      expect(warnings[0]!.data).toMatchObject({ customerId: c.id, permanent: false, nextBlockPermanent: true });

      t.clock.advanceSeconds(60);
      const after = await failOnce(t, c);
      expect(after.status).toBe(401);
      expect(after.body).toMatchObject({ remainingAttempts: 4, nextBlockPermanent: true });
      const adv = await createAdvisor(t.sesame.services, { name: 'Reader', roles: ['read'], channel: 'phone' });
      const advisorView = await t.api('GET', `/v1/advisor/customers/${c.id}/security`, undefined, { auth: adv.token });
      expect(advisorView.body).toMatchObject({ failedCount: 1, nextBlockPermanent: true });
    });

    it('the block after the ladder is permanent: time does not lift it, the right elements do not help', async () => {
      const c = await t.newCustomerWithPasswordAndTotp();
      await blockPermanently(t, c);
      t.clock.advanceSeconds(7 * 86400);
      const res = await authenticate(t, await t.createOperation(c.id, { type: 'login' }), both(c));
      expect(res.status).toBe(423);
      expect(res.body).toMatchObject({ code: 'ERR_CUSTOMER_BLOCKED', permanent: true, blockedUntil: null, nextBlockPermanent: false });
      expect(res.body.detail).toMatch(/bank/);
      expect(await security(t, c)).toMatchObject({ blocked: true, permanent: true, blockedUntil: null, remainingAttempts: 0 });
      const blocks = await outbox(t, 'customer.blocked', c.id);
      expect(blocks.map((b) => b.data.permanent)).toEqual([false, true]);
    });
  });

  /** Ten failures on a one-step ladder: a temporary block, then a permanent one. */
  async function blockPermanently(s: TestSesame, c: TestCustomer) {
    for (let i = 0; i < 5; i++) await failOnce(s, c);
    s.clock.advanceSeconds(60);
    for (let i = 0; i < 5; i++) await failOnce(s, c);
    expect((await security(s, c)).permanent).toBe(true);
  }

  // ---------- secure unblocking ----------

  describe('a permanent block is lifted only through a secure procedure', () => {
    let c: TestCustomer;
    let unblocker: { id: string; token: string };
    let reader: { id: string; token: string };
    const unblock = (auth: string, method: string) =>
      t.api(
        'POST',
        `/v1/advisor/customers/${c.id}/unblock`,
        { identityCheck: { method, reference: 'CHK-2026-0042' }, reason: 'Customer came to the branch with an ID card' },
        { auth },
      );

    beforeAll(async () => {
      c = await t.newCustomerWithPasswordAndTotp();
      await blockPermanently(t, c);
      unblocker = await createAdvisor(t.sesame.services, { name: 'Branch advisor', roles: ['unblock', 'read'], channel: 'branch' });
      reader = await createAdvisor(t.sesame.services, { name: 'Call centre', roles: ['read'], channel: 'phone' });
    });

    it('an advisor without the unblock role is refused (403)', async () => {
      const res = await unblock(reader.token, 'branch-id-document');
      expect(res.status).toBe(403);
      expect(res.body.code).toBe('ERR_FORBIDDEN');
      expect((await security(t, c)).permanent).toBe(true);
    });

    it('a relying-party API key cannot call the advisor route (401)', async () => {
      const res = await unblock(t.apiKey, 'branch-id-document');
      expect(res.status).toBe(401);
      expect((await t.api('GET', `/v1/advisor/customers/${c.id}/security`)).status).toBe(401);
      expect((await security(t, c)).permanent).toBe(true);
    });

    it('a phone advisor cannot claim to have checked an ID document in person (403): the social-engineering path', async () => {
      const phone = await createAdvisor(t.sesame.services, { name: 'Phone unblocker', roles: ['unblock'], channel: 'phone' });
      const res = await unblock(phone.token, 'branch-id-document');
      expect(res.status).toBe(403);
      expect(res.body.detail).toMatch(/phone channel/);
      expect((await unblock(phone.token, 'video-id-document')).status).toBe(403);
      expect((await security(t, c)).permanent).toBe(true);
    });

    it('reading a customer’s blocks needs an advisor role that allows it', async () => {
      const none = await createAdvisor(t.sesame.services, { name: 'No roles', roles: [], channel: 'phone' });
      expect((await t.api('GET', `/v1/advisor/customers/${c.id}/security`, undefined, { auth: none.token })).status).toBe(403);
      const read = await t.api('GET', `/v1/advisor/customers/${c.id}/security`, undefined, { auth: reader.token });
      expect(read.status).toBe(200);
      expect(read.body.permanent).toBe(true);
    });

    it('a call-back to the registered number is not enough for a permanent block (422)', async () => {
      for (const method of ['callback-registered-number', 'postal-letter']) {
        const res = await unblock(unblocker.token, method);
        expect(res.status).toBe(422);
        expect(res.body).toMatchObject({ code: 'ERR_IDENTITY_CHECK_INSUFFICIENT', field: 'identityCheck/method' });
      }
      expect((await security(t, c)).permanent).toBe(true);
    });

    it('an advisor with the unblock role lifts it after a branch ID check; it is in the customer’s audit timeline', async () => {
      const res = await unblock(unblocker.token, 'branch-id-document');
      expect(res.status).toBe(200);
      expect(res.body).toMatchObject({ blocked: false, permanent: false, failedCount: 0, nextBlockPermanent: false });
      await loginOk(t, c);

      const items = await auditTypes(t, c);
      const event = items.find((i) => i.type === 'customer.unblocked')!;
      expect(event.actor).toBe(`advisor:${unblocker.id}`);
      expect(event.data).toMatchObject({
        wasPermanent: true,
        advisorId: unblocker.id,
        identityCheck: { method: 'branch-id-document', reference: 'CHK-2026-0042' },
      });
      expect((await outbox(t, 'customer.unblocked', c.id))[0]?.data).toEqual({ customerId: c.id, wasPermanent: true });
    });

    it('a temporary block may be lifted after a call-back to the registered number', async () => {
      const d = await t.newCustomerWithPasswordAndTotp();
      for (let i = 0; i < 5; i++) await failOnce(t, d);
      const res = await t.api(
        'POST',
        `/v1/advisor/customers/${d.id}/unblock`,
        { identityCheck: { method: 'callback-registered-number', reference: 'CALL-7' }, reason: 'Called back on file number' },
        { auth: unblocker.token },
      );
      expect(res.status).toBe(200);
      expect(res.body.blocked).toBe(false);
    });
  });

  // ---------- sessions: 5 minutes of inactivity ----------

  describe('sessions', () => {
    const introspect = (s: TestSesame, token: string) => s.api('POST', '/v1/sessions/introspect', { token });

    it('a session used at +299 s stays alive, and its inactivity timer restarts', async () => {
      const c = await t.newCustomerWithPasswordAndTotp();
      const { session } = await loginOk(t, c);
      t.clock.advanceSeconds(299);
      const first = await introspect(t, session.token);
      expect(first.status).toBe(200);
      expect(first.body.customerId).toBe(c.id);
      expect(first.body.expiresAt).toBe(new Date(t.clock.now().getTime() + 300_000).toISOString());
      t.clock.advanceSeconds(299);
      expect((await introspect(t, session.token)).status).toBe(200);
    });

    it('a session untouched for 300 s is over (401 ERR_SESSION_EXPIRED), for good', async () => {
      const c = await t.newCustomerWithPasswordAndTotp();
      const { session } = await loginOk(t, c);
      t.clock.advanceSeconds(300);
      const res = await introspect(t, session.token);
      expect(res.status).toBe(401);
      expect(res.body.code).toBe('ERR_SESSION_EXPIRED');
      const payment = await t.api('POST', '/v1/operations', { customerId: c.id, data: PAYMENT, sessionToken: session.token });
      expect(payment.status).toBe(401);
      expect(payment.body.code).toBe('ERR_SESSION_EXPIRED');
      expect((await introspect(t, session.token)).status).toBe(401);
      // Its end is on the record, once, as the system's.
      const ended = (await auditTypes(t, c)).filter((e) => e.type === 'session.ended');
      expect(ended).toEqual([expect.objectContaining({ actor: 'system', data: { sessionId: session.id, reason: 'idle-timeout' } })]);
    });

    it('a session ends at its absolute lifetime (8 h) even when used all the time', async () => {
      const c = await t.newCustomerWithPasswordAndTotp();
      const { session } = await loginOk(t, c);
      const t0 = t.clock.now().getTime();
      const lifetime = 8 * 3600;
      // Active every 290 s for 8 hours: never idle, and the last use is a second before the end.
      for (let s = 290; s < lifetime; s += 290) {
        t.clock.set(new Date(t0 + s * 1000));
        expect((await introspect(t, session.token)).status, `at +${s} s`).toBe(200);
      }
      t.clock.set(new Date(t0 + (lifetime - 1) * 1000));
      expect((await introspect(t, session.token)).status).toBe(200);
      t.clock.set(new Date(t0 + lifetime * 1000));
      const res = await introspect(t, session.token);
      expect(res.status).toBe(401);
      expect(res.body.code).toBe('ERR_SESSION_EXPIRED');
    });

    it('a session token is good only for the bank that opened it', async () => {
      const other = await createRelyingParty(t.sesame.services, 'Yet another bank');
      const c = await t.newCustomerWithPasswordAndTotp();
      const { session } = await loginOk(t, c);
      const res = await t.api('POST', '/v1/sessions/introspect', { token: session.token }, { auth: other.apiKey });
      expect(res.status).toBe(401);
      expect(res.body.code).toBe('ERR_SESSION_EXPIRED');
      const payment = await t.api(
        'POST',
        '/v1/operations',
        { customerId: c.id, data: PAYMENT, sessionToken: session.token },
        { auth: other.apiKey },
      );
      expect(payment.status).toBe(401);
      expect((await introspect(t, session.token)).status).toBe(200);
    });

    it('logout ends the session', async () => {
      const c = await t.newCustomerWithPasswordAndTotp();
      const { session } = await loginOk(t, c);
      expect((await t.api('POST', '/v1/sessions/logout', { token: session.token })).status).toBe(204);
      expect((await introspect(t, session.token)).status).toBe(401);
      expect((await auditTypes(t, c)).some((e) => e.type === 'session.ended' && e.data.reason === 'logout')).toBe(true);
    });

    it('re-authentication with replaceSessionToken ends the old token', async () => {
      const c = await t.newCustomerWithPasswordAndTotp();
      const first = await loginOk(t, c);
      const second = await loginOk(t, c, { replaceSessionToken: first.session.token });
      expect(second.session.token).not.toBe(first.session.token);
      expect((await introspect(t, first.session.token)).status).toBe(401);
      expect((await introspect(t, second.session.token)).status).toBe(200);
    });

    it('a customer sees their sessions and can end another one', async () => {
      const c = await t.newCustomerWithPasswordAndTotp();
      const laptop = await loginOk(t, c, { userAgent: 'laptop' });
      const phone = await loginOk(t, c, { userAgent: 'phone' });
      const list = await t.api('GET', `/v1/customers/${c.id}/sessions`);
      expect(list.status).toBe(200);
      expect(list.body.items.map((s: { id: string }) => s.id).sort()).toEqual([laptop.session.id, phone.session.id].sort());
      expect(JSON.stringify(list.body)).not.toContain(laptop.session.token);

      expect((await t.api('DELETE', `/v1/customers/${c.id}/sessions/${laptop.session.id}`)).status).toBe(204);
      expect((await introspect(t, laptop.session.token)).status).toBe(401);
      expect((await introspect(t, phone.session.token)).status).toBe(200);
      const after = await t.api('GET', `/v1/customers/${c.id}/sessions`);
      expect(after.body.items.map((s: { id: string }) => s.id)).toEqual([phone.session.id]);
      expect((await t.api('DELETE', `/v1/customers/${c.id}/sessions/${laptop.session.id}`)).status).toBe(404);
    });

    it('a payment in the session reuses the login’s knowledge element only while the session is alive', async () => {
      const c = await t.newCustomerWithPasswordAndTotp();
      const { session } = await loginOk(t, c);
      const opId = await t.createOperation(c.id, PAYMENT, session.token);
      const res = await authenticate(t, opId, [{ method: 'totp', code: c.nextCode() }]);
      expect(res.status).toBe(200);
      expect(res.body.categories).toEqual(['knowledge', 'possession']);
      const { payload } = await verifyOffline(t, res.body.authenticationCode);
      expect(payload).toMatchObject({ methods: ['totp'], reused: ['knowledge'], sid: session.id });

      // The session goes idle while the next payment waits: its element can no longer be lent.
      const t0 = t.clock.now().getTime();
      t.clock.advanceSeconds(200);
      const late = await t.createOperation(c.id, PAYMENT, session.token);
      t.clock.set(new Date(t0 + 300_000));
      const refused = await authenticate(t, late, [{ method: 'totp', code: c.nextCode() }]);
      expect(refused.status).toBe(409);
      expect(refused.body.code).toBe('ERR_SESSION_EXPIRED');
    });
  });

  // ---------- dynamic linking ----------

  describe('dynamic linking', () => {
    it('a payment’s code checked against one cent more is refused, and still works with the exact data', async () => {
      const c = await t.newCustomerWithPasswordAndTotp();
      const { code } = await authorise(t, c, PAYMENT);
      const more = clone(PAYMENT);
      more.amount.value += 1;
      const res = await consume(t, code, more);
      expect(res.status).toBe(409);
      expect(res.body.code).toBe('ERR_LINK_MISMATCH');
      // The bank may write the IBAN its own way: spaces and case do not matter.
      const sameData = clone(PAYMENT);
      sameData.payee.iban = 'fr7630006000011234567890189';
      expect((await consume(t, code, sameData)).status).toBe(200);
    });

    it('a payment’s code checked against another payee name or IBAN is refused', async () => {
      const c = await t.newCustomerWithPasswordAndTotp();
      const { code } = await authorise(t, c, PAYMENT);
      const otherName = clone(PAYMENT);
      otherName.payee.name = 'Plomberie Martine';
      const otherIban = clone(PAYMENT);
      otherIban.payee.iban = DE;
      for (const data of [otherName, otherIban]) {
        const res = await consume(t, code, data);
        expect(res.status).toBe(409);
        expect(res.body.code).toBe('ERR_LINK_MISMATCH');
      }
      expect((await consume(t, code, PAYMENT)).status).toBe(200);
    });

    it('a batch payment’s code covers every payee: one IBAN changed is refused, the exact batch accepted', async () => {
      const c = await t.newCustomerWithPasswordAndTotp();
      const { code } = await authorise(t, c, BATCH);
      const { payload } = await verifyOffline(t, code);
      expect(payload.amount).toEqual({ value: 38049, currency: 'EUR' });
      expect(payload.payees?.map((p) => p.name)).toEqual(['Plomberie Martin', 'Electricité Dupont', 'Menuiserie Smith']);

      const changed = clone(BATCH);
      changed.payees[2]!.payee.iban = FR;
      const res = await consume(t, code, changed);
      expect(res.status).toBe(409);
      expect(res.body.code).toBe('ERR_LINK_MISMATCH');
      expect((await consume(t, code, BATCH)).status).toBe(200);
    });

    it('an operation with an invalid IBAN or a batch total that is not the sum is refused at creation', async () => {
      const c = await t.newCustomerWithPasswordAndTotp();
      const badIban = clone(PAYMENT);
      badIban.payee.iban = 'FR76 3000 6000 0112 3456 7890 188';
      const res = await t.api('POST', '/v1/operations', { customerId: c.id, data: badIban });
      expect(res.status).toBe(400);
      // `field` is a JSON pointer into the request body, like every other validation error.
      expect(res.body).toMatchObject({ code: 'ERR_INVALID_IBAN', field: 'data/payee/iban' });
      const badTotal = clone(BATCH);
      badTotal.total.value += 1;
      const res2 = await t.api('POST', '/v1/operations', { customerId: c.id, data: badTotal });
      expect(res2.status).toBe(400);
      expect(res2.body).toMatchObject({ code: 'ERR_BATCH_TOTAL', field: 'data/total/value' });
    });
  });

  describe('creating an operation', () => {
    it('an operation for a customer who does not exist is a 404 problem, with or without a session token, and writes nothing', async () => {
      const c = await t.newCustomerWithPasswordAndTotp();
      const { session } = await loginOk(t, c);
      const operations = async () =>
        Number((await sql<{ n: string }>`SELECT count(*) AS n FROM operations`.execute(t.sesame.services.db)).rows[0]!.n);
      const before = await operations();
      for (const extra of [{}, { sessionToken: session.token }]) {
        const res = await t.api('POST', '/v1/operations', {
          customerId: 'cus_does_not_exist',
          data: PAYMENT,
          ...extra,
        });
        expect(res.status, JSON.stringify(res.body)).toBe(404);
        expect(res.headers['content-type']).toMatch(/^application\/problem\+json/);
        expect(res.body).toMatchObject({ status: 404, code: 'ERR_NOT_FOUND', detail: 'Customer not found.' });
      }
      expect(await operations()).toBe(before);
      // The customer who does exist still gets operations, in and out of the session.
      expect((await t.api('POST', '/v1/operations', { customerId: c.id, data: PAYMENT })).status).toBe(201);
      const inSession = await t.api('POST', '/v1/operations', {
        customerId: c.id,
        data: PAYMENT,
        sessionToken: session.token,
      });
      expect(inSession.status, JSON.stringify(inSession.body)).toBe(201);
      expect(inSession.body.sessionId).toBe(session.id);
    });
  });

  // ---------- operations expire ----------

  describe('operation lifetime', () => {
    it('an operation not authenticated within 300 s expires (409 ERR_OPERATION_EXPIRED), without counting a failure', async () => {
      const c = await t.newCustomerWithPasswordAndTotp();
      const opId = await t.createOperation(c.id, PAYMENT);
      t.clock.advanceSeconds(300);
      const res = await authenticate(t, opId, both(c));
      expect(res.status).toBe(409);
      expect(res.body.code).toBe('ERR_OPERATION_EXPIRED');
      expect((await security(t, c)).failedCount).toBe(0);
    });

    it('an expired operation reads as expired afterwards', async () => {
      const c = await t.newCustomerWithPasswordAndTotp();
      const opId = await t.createOperation(c.id, PAYMENT);
      t.clock.advanceSeconds(300);
      expect((await authenticate(t, opId, both(c))).body.code).toBe('ERR_OPERATION_EXPIRED');
      const op = await t.api('GET', `/v1/operations/${opId}`);
      expect(op.body.status).toBe('expired');
    });

    it('an operation still works a second before its expiry', async () => {
      const c = await t.newCustomerWithPasswordAndTotp();
      const opId = await t.createOperation(c.id, PAYMENT);
      t.clock.advanceSeconds(299);
      expect((await authenticate(t, opId, both(c))).status).toBe(200);
    });
  });

  // ---------- the policy: two categories ----------

  describe('two elements of two categories', () => {
    it('a single element is refused before any check and is not counted as a failure', async () => {
      const c = await t.newCustomerWithPasswordAndTotp();
      const opId = await t.createOperation(c.id, { type: 'login' });
      const code = c.nextCode();
      for (const factors of [
        [{ method: 'password', password: 'wrong' }],
        [{ method: 'totp', code }],
        [{ method: 'password', password: c.password }],
      ]) {
        const res = await authenticate(t, opId, factors);
        expect(res.status).toBe(422);
        expect(res.body).toMatchObject({ code: 'ERR_POLICY_NOT_MET', required: 2 });
      }
      expect((await security(t, c)).failedCount).toBe(0);
      // Nothing was checked: the TOTP code offered alone is still good.
      expect((await authenticate(t, opId, both(c, { code }))).status).toBe(200);
    });

    describe('recovery codes', () => {
      let c: TestCustomer;
      let codes: string[];

      beforeAll(async () => {
        c = await t.newCustomerWithPasswordAndTotp();
        const { code } = await authorise(t, c, { type: 'manage_authenticators', action: 'regenerate', kind: 'recovery' });
        const res = await t.api('POST', `/v1/customers/${c.id}/authenticators/recovery-codes`, { authenticationCode: code });
        expect(res.status).toBe(201);
        codes = res.body.codes;
        codes.forEach((rc) => t.secrets.add(rc));
      });

      it('a recovery code with the password logs in', async () => {
        const opId = await t.createOperation(c.id, { type: 'login' });
        const res = await authenticate(t, opId, [
          { method: 'password', password: c.password },
          { method: 'recovery', code: codes[0] },
        ]);
        expect(res.status).toBe(200);
        expect(res.body.methods).toEqual(['password', 'recovery']);
      });

      it('a recovery code never pays (422 ERR_METHOD_NOT_ALLOWED), and that is not a failure', async () => {
        const opId = await t.createOperation(c.id, PAYMENT);
        const res = await authenticate(t, opId, [
          { method: 'password', password: c.password },
          { method: 'recovery', code: codes[1] },
        ]);
        expect(res.status).toBe(422);
        expect(res.body.code).toBe('ERR_METHOD_NOT_ALLOWED');
        expect((await security(t, c)).failedCount).toBe(0);
        const created = await t.api('POST', '/v1/operations', { customerId: c.id, data: PAYMENT });
        expect(created.body.availableMethods.map((m: { kind: string }) => m.kind).sort()).toEqual(['password', 'totp']);
      });

      it('a recovery code works once', async () => {
        const opId = await t.createOperation(c.id, { type: 'login' });
        const res = await authenticate(t, opId, [
          { method: 'password', password: c.password },
          { method: 'recovery', code: codes[0] },
        ]);
        expect(res.status).toBe(401);
        expect(res.body.code).toBe('ERR_AUTHENTICATION_FAILED');
      });

      it('two possession elements (TOTP and a recovery code) are not enough', async () => {
        const before = (await security(t, c)).failedCount;
        const opId = await t.createOperation(c.id, { type: 'login' });
        const res = await authenticate(t, opId, [
          { method: 'totp', code: c.nextCode() },
          { method: 'recovery', code: codes[2] },
        ]);
        expect(res.status).toBe(422);
        expect(res.body.code).toBe('ERR_POLICY_NOT_MET');
        expect((await security(t, c)).failedCount).toBe(before);
      });
    });
  });

  // ---------- binding new authenticators needs SCA ----------

  describe('step-up for changes of authenticators', () => {
    it('enrolling another TOTP without an authentication code is refused (422 ERR_STEP_UP_REQUIRED)', async () => {
      const c = await t.newCustomerWithPasswordAndTotp();
      const res = await t.api('POST', `/v1/customers/${c.id}/authenticators/totp`, { label: 'second phone' });
      expect(res.status).toBe(422);
      expect(res.body).toMatchObject({
        code: 'ERR_STEP_UP_REQUIRED',
        operation: { type: 'manage_authenticators', action: 'add', kind: 'totp' },
      });
      expect(JSON.stringify(res.body)).not.toMatch(/secret/i);
    });

    it('replacing the password or removing the TOTP without an authentication code is refused', async () => {
      const c = await t.newCustomerWithPasswordAndTotp();
      const pw = await t.api('POST', `/v1/customers/${c.id}/authenticators/password`, { password: 'attacker chose this one' });
      expect(pw.status).toBe(422);
      expect(pw.body.code).toBe('ERR_STEP_UP_REQUIRED');
      const del = await t.api('DELETE', `/v1/customers/${c.id}/authenticators/${c.totpId}`, {});
      expect(del.status).toBe(422);
      expect(del.body.code).toBe('ERR_STEP_UP_REQUIRED');
      await loginOk(t, c);
    });

    it('the code of a manage_authenticators add-totp operation allows the enrolment, once', async () => {
      const c = await t.newCustomerWithPasswordAndTotp();
      const { code } = await authorise(t, c, { type: 'manage_authenticators', action: 'add', kind: 'totp' });
      const res = await t.api('POST', `/v1/customers/${c.id}/authenticators/totp`, { label: 'second phone', authenticationCode: code });
      expect(res.status).toBe(201);
      expect(res.body.status).toBe('pending');
      t.secrets.add(res.body.secret);
      const again = await t.api('POST', `/v1/customers/${c.id}/authenticators/totp`, { label: 'third phone', authenticationCode: code });
      expect(again.status).toBe(409);
      expect(again.body.code).toBe('ERR_CODE_ALREADY_USED');
      const list = await t.api('GET', `/v1/customers/${c.id}/authenticators`);
      expect(list.body.items.filter((a: { kind: string }) => a.kind === 'totp')).toHaveLength(2);
    });

    it('a payment’s code, or a code for another change, cannot enrol a TOTP', async () => {
      const c = await t.newCustomerWithPasswordAndTotp();
      const payment = await authorise(t, c, PAYMENT);
      const other = await authorise(t, c, { type: 'manage_authenticators', action: 'add', kind: 'password' });
      for (const code of [payment.code, other.code]) {
        const res = await t.api('POST', `/v1/customers/${c.id}/authenticators/totp`, { authenticationCode: code });
        expect(res.status).toBe(422);
        expect(res.body.code).toBe('ERR_STEP_UP_MISMATCH');
      }
      // The refused step-up did not use the payment's code up.
      expect((await consume(t, payment.code, PAYMENT)).status).toBe(200);
    });

    it('a step-up that names the phone number authorises that number only, in whatever format it was typed', async () => {
      const c = await t.newCustomerWithPasswordAndTotp();
      const refused = await t.api('POST', `/v1/customers/${c.id}/authenticators/phone`, { method: 'sms', phone: '+33 6 11 22 33 44' });
      expect(refused.body.code).toBe('ERR_STEP_UP_REQUIRED');
      // The error names the operation to authorise, number included, so the customer sees what is added.
      expect(refused.body.operation).toEqual({ type: 'manage_authenticators', action: 'add', kind: 'sms', target: '+33611223344' });
      const { code } = await authorise(t, c, { type: 'manage_authenticators', action: 'add', kind: 'sms', target: '06 11 22 33 44' });
      const other = await t.api('POST', `/v1/customers/${c.id}/authenticators/phone`, {
        method: 'sms',
        phone: '+33699887766',
        authenticationCode: code,
      });
      expect(other.status).toBe(422);
      expect(other.body.code).toBe('ERR_STEP_UP_MISMATCH');
      // The refusal used nothing up: the same code adds the number it named.
      const same = await t.api('POST', `/v1/customers/${c.id}/authenticators/phone`, {
        method: 'sms',
        phone: '+33611223344',
        authenticationCode: code,
      });
      expect(same.status, JSON.stringify(same.body)).toBe(201);
      expect(same.body.phone).toBe('+33611223344');
    });

    it('a number or token is added only with a step-up that named it: the customer saw what they bound', async () => {
      const c = await t.newCustomerWithPasswordAndTotp();
      const { code } = await authorise(t, c, { type: 'manage_authenticators', action: 'add', kind: 'voice' });
      const unnamed = await t.api('POST', `/v1/customers/${c.id}/authenticators/phone`, {
        method: 'voice',
        phone: '+33142685300',
        authenticationCode: code,
      });
      expect(unnamed.status).toBe(422);
      expect(unnamed.body).toMatchObject({ code: 'ERR_STEP_UP_MISMATCH', field: 'authenticationCode' });
      expect(unnamed.body.detail).toContain('+33142685300');
      const methods = (await t.api('GET', `/v1/customers/${c.id}/authenticators`)).body.items as { kind: string }[];
      expect(methods.map((m) => m.kind)).not.toContain('voice');
    });

    it('a step-up that names a number or token is spent on that change only, never on one that names nothing', async () => {
      const c = await t.newCustomerWithPasswordAndTotp();
      // Named for a token, the code does not enrol a software TOTP whose secret would go to the caller.
      const forToken = await authorise(t, c, { type: 'manage_authenticators', action: 'add', kind: 'totp', target: '987654321' });
      const totp = await t.api('POST', `/v1/customers/${c.id}/authenticators/totp`, { authenticationCode: forToken.code });
      expect(totp.status).toBe(422);
      expect(totp.body.code).toBe('ERR_STEP_UP_MISMATCH');
      // Named for a number, the code does not remove the app the customer has.
      const forNumber = await authorise(t, c, { type: 'manage_authenticators', action: 'remove', kind: 'totp', target: '+33611223344' });
      const removal = await t.api('DELETE', `/v1/customers/${c.id}/authenticators/${c.totpId}`, { authenticationCode: forNumber.code });
      expect(removal.status).toBe(422);
      expect(removal.body.code).toBe('ERR_STEP_UP_MISMATCH');
      const plain = await authorise(t, c, { type: 'manage_authenticators', action: 'remove', kind: 'totp' });
      expect((await t.api('DELETE', `/v1/customers/${c.id}/authenticators/${c.totpId}`, { authenticationCode: plain.code })).status).toBe(
        200,
      );
    });

    it('another customer’s code cannot enrol a TOTP', async () => {
      const [a, b] = [await t.newCustomerWithPasswordAndTotp(), await t.newCustomerWithPasswordAndTotp()];
      const { code } = await authorise(t, a, { type: 'manage_authenticators', action: 'add', kind: 'totp' });
      const res = await t.api('POST', `/v1/customers/${b.id}/authenticators/totp`, { authenticationCode: code });
      expect(res.status).toBe(422);
      expect(res.body.code).toBe('ERR_STEP_UP_MISMATCH');
    });
  });

  // ---------- TOTP enrolment ----------

  describe('TOTP enrolment', () => {
    /** A customer with a password and a TOTP enrolment not yet activated. */
    async function pendingTotp() {
      const ref = `pending-${Math.random().toString(36).slice(2, 10)}`;
      const id = (await t.api('POST', '/v1/customers', { ref, displayName: ref })).body.id as string;
      const password = `pw ${ref} long enough`;
      expect((await t.api('POST', `/v1/customers/${id}/authenticators/password`, { password })).status).toBe(201);
      const enrol = await t.api('POST', `/v1/customers/${id}/authenticators/totp`, {});
      expect(enrol.status).toBe(201);
      t.secrets.add(password);
      t.secrets.add(enrol.body.secret);
      const { TOTP, Secret } = await import('otpauth');
      const totp = new TOTP({ secret: Secret.fromBase32(enrol.body.secret), digits: 6, period: 30 });
      return { id, password, totpId: enrol.body.id as string, code: () => totp.generate({ timestamp: t.clock.now().getTime() }) };
    }

    it('a TOTP proves nothing until activated with a valid first code', async () => {
      const p = await pendingTotp();
      t.clock.advanceSeconds(30);
      const opId = await t.createOperation(p.id, { type: 'login' });
      const res = await authenticate(t, opId, [
        { method: 'password', password: p.password },
        { method: 'totp', code: p.code() },
      ]);
      expect(res.status).toBe(401);
      t.clock.advanceSeconds(30);
      const activated = await t.api('POST', `/v1/customers/${p.id}/authenticators/${p.totpId}/activate`, { code: p.code() });
      expect(activated.status).toBe(200);
      expect(activated.body).toMatchObject({ kind: 'totp', category: 'possession', status: 'active' });
      // Bound without step-up (the customer could not do SCA yet): the audit says it was the bank's bootstrap.
      const added = async () =>
        (await auditTypes(t, { id: p.id } as TestCustomer))
          .filter((e) => e.type === 'authenticator.added' && e.data.kind === 'totp')
          .sort((a, b) => a.seq - b.seq)
          .map((e) => e.data.bootstrap);
      expect(await added()).toEqual([true]);
      // A second one, once the customer can do SCA, is bound under step-up: not a bootstrap.
      t.clock.advanceSeconds(30);
      const stepUpOp = await t.createOperation(p.id, { type: 'manage_authenticators', action: 'add', kind: 'totp' });
      const stepUp = await authenticate(t, stepUpOp, [
        { method: 'password', password: p.password },
        { method: 'totp', code: p.code() },
      ]);
      expect(stepUp.status, JSON.stringify(stepUp.body)).toBe(200);
      const second = await t.api('POST', `/v1/customers/${p.id}/authenticators/totp`, {
        authenticationCode: stepUp.body.authenticationCode,
      });
      expect(second.status).toBe(201);
      t.secrets.add(second.body.secret);
      const { TOTP, Secret } = await import('otpauth');
      const code = new TOTP({ secret: Secret.fromBase32(second.body.secret), digits: 6, period: 30 }).generate({
        timestamp: t.clock.now().getTime(),
      });
      expect((await t.api('POST', `/v1/customers/${p.id}/authenticators/${second.body.id}/activate`, { code })).status).toBe(200);
      expect(await added()).toEqual([true, false]);
    });

    it('a second enrolment started before the customer could authenticate needs a step-up once they can', async () => {
      const p = await pendingTotp();
      // Another TOTP enrolled at the same time, also without step-up (nothing to authenticate with yet).
      const other = await t.api('POST', `/v1/customers/${p.id}/authenticators/totp`, {});
      expect(other.status).toBe(201);
      t.secrets.add(other.body.secret);
      t.clock.advanceSeconds(30);
      expect((await t.api('POST', `/v1/customers/${p.id}/authenticators/${p.totpId}/activate`, { code: p.code() })).status).toBe(200);
      const { TOTP, Secret } = await import('otpauth');
      const code = new TOTP({ secret: Secret.fromBase32(other.body.secret), digits: 6, period: 30 }).generate({
        timestamp: t.clock.now().getTime(),
      });
      const late = await t.api('POST', `/v1/customers/${p.id}/authenticators/${other.body.id}/activate`, { code });
      expect(late.status, JSON.stringify(late.body)).toBe(422);
      expect(late.body.code).toBe('ERR_STEP_UP_REQUIRED');
      // Void: it no longer waits for a code that cannot bind it.
      const methods = await t.api('GET', `/v1/customers/${p.id}/authenticators`);
      expect(methods.body.items.map((m: { id: string }) => m.id)).not.toContain(other.body.id);
      const again = await t.api('POST', `/v1/customers/${p.id}/authenticators/${other.body.id}/activate`, { code });
      expect(again.status).toBe(404);
    });

    it('a pending enrolment removed while it is being activated is either removed or active, never active then removed unannounced', async () => {
      for (let i = 0; i < 6; i++) {
        const p = await pendingTotp();
        t.clock.advanceSeconds(30);
        const [activated, removed] = await Promise.all([
          t.api('POST', `/v1/customers/${p.id}/authenticators/${p.totpId}/activate`, { code: p.code() }),
          t.api('DELETE', `/v1/customers/${p.id}/authenticators/${p.totpId}`),
        ]);
        const final = (await t.api('GET', `/v1/customers/${p.id}/authenticators`)).body.items.find(
          (m: { id: string }) => m.id === p.totpId,
        );
        if (activated.status === 200) {
          // Removing it once active needs a step-up: refused (422) or told to read it again (409).
          expect([409, 422], JSON.stringify(removed.body)).toContain(removed.status);
          expect(final.status).toBe('active');
        } else {
          expect(removed.status).toBe(200);
          // Revoked: no longer listed.
          expect(final).toBeUndefined();
        }
      }
    });

    it('five wrong activation codes void the enrolment; the right code then does nothing', async () => {
      const p = await pendingTotp();
      const url = `/v1/customers/${p.id}/authenticators/${p.totpId}/activate`;
      const right = p.code();
      const wrong = String((Number(right) + 500_000) % 1e6).padStart(6, '0');
      const remaining: number[] = [];
      for (let i = 0; i < 4; i++) {
        const res = await t.api('POST', url, { code: wrong });
        expect(res.status).toBe(422);
        expect(res.body.code).toBe('ERR_ACTIVATION_CODE');
        remaining.push(res.body.remainingTries);
      }
      expect(remaining).toEqual([4, 3, 2, 1]);
      const fifth = await t.api('POST', url, { code: wrong });
      expect(fifth.status).toBe(409);
      expect(fifth.body.code).toBe('ERR_ENROLMENT_EXPIRED');
      const late = await t.api('POST', url, { code: p.code() });
      expect(late.status).toBe(404);
      const list = await t.api('GET', `/v1/customers/${p.id}/authenticators`);
      expect(list.body.items.map((a: { kind: string }) => a.kind)).toEqual(['password']);
    });

    it('a pending enrolment is abandoned with a plain DELETE, no step-up and no body needed', async () => {
      const p = await pendingTotp();
      const res = await t.api('DELETE', `/v1/customers/${p.id}/authenticators/${p.totpId}`);
      expect(res.status).toBe(200);
      expect(res.body.status).toBe('revoked');
    });

    it('an enrolment not activated within 10 minutes is void', async () => {
      const p = await pendingTotp();
      t.clock.advanceSeconds(601);
      const res = await t.api('POST', `/v1/customers/${p.id}/authenticators/${p.totpId}/activate`, { code: p.code() });
      expect(res.status).toBe(409);
      expect(res.body.code).toBe('ERR_ENROLMENT_EXPIRED');
    });
  });

  // ---------- signing keys ----------

  describe('signing-key rotation', () => {
    it('codes signed before a rotation still verify and consume; new codes use the new key', async () => {
      const c = await t.newCustomerWithPasswordAndTotp();
      const before = await authorise(t, c, PAYMENT);
      const oldKid = decodeProtectedHeader(before.code).kid;
      const newKid = await t.sesame.services.signingKeys.rotate();
      expect(newKid).not.toBe(oldKid);
      const after = await authorise(t, c, PAYMENT);
      expect(decodeProtectedHeader(after.code).kid).toBe(newKid);

      const a = await verifyOffline(t, before.code);
      const b = await verifyOffline(t, after.code);
      expect(b.jwks.keys.map((k) => k.kid)).toEqual(expect.arrayContaining([oldKid, newKid]));
      expect(a.protectedHeader.kid).toBe(oldKid);
      expect((await consume(t, before.code, PAYMENT)).status).toBe(200);
      expect((await consume(t, after.code, PAYMENT)).status).toBe(200);
    });

    it('a code signed by another server process with a key it has just made is accepted here at once', async () => {
      const c = await t.newCustomerWithPasswordAndTotp();
      const { code } = await authorise(t, c, PAYMENT);
      // Another process on the same database rotates and signs; this one still has the previous keys loaded.
      const s = t.sesame.services;
      const other = new SigningKeys(s.db, s.sealer, s.clock);
      const otherKid = await other.rotate();
      const { iss, aud, sub, jti, exp, iat: _iat, ...claims } = decodeJwt(code);
      const fromOther = await other.sign(claims, {
        issuer: iss!,
        audience: aud as string,
        subject: sub!,
        jti: jti!,
        expiresAt: new Date(exp! * 1000),
      });
      expect(decodeProtectedHeader(fromOther).kid).toBe(otherKid);
      expect(s.signingKeys.jwks().keys.map((k) => k.kid)).not.toContain(otherKid);
      const res = await consume(t, fromOther, PAYMENT);
      expect(res.status, JSON.stringify(res.body)).toBe(200);
      expect(s.signingKeys.jwks().keys.map((k) => k.kid)).toContain(otherKid);
    });
  });

  // ---------- secrets at rest and in records ----------

  describe('secrets never at rest in clear, never in records', () => {
    it('the TOTP seed is sealed, the password hashed with argon2id, the session token kept only as a digest', async () => {
      const c = await t.newCustomerWithPasswordAndTotp();
      const { session } = await loginOk(t, c);
      const db = t.sesame.services.db;
      const auths = await db.selectFrom('authenticators').selectAll().where('customer_id', '=', c.id).execute();
      const totp = auths.find((a) => a.kind === 'totp')!;
      const password = auths.find((a) => a.kind === 'password')!;
      expect(totp.secret_sealed).toBeTruthy();
      expect(totp.secret_sealed).not.toContain(c.secret);
      expect(JSON.stringify(totp)).not.toContain(c.secret);
      expect(password.secret_digest).toMatch(/^\$argon2id\$/);
      expect(JSON.stringify(auths)).not.toContain(c.password);

      const sessions = await db.selectFrom('sessions').selectAll().where('customer_id', '=', c.id).execute();
      expect(sessions).toHaveLength(1);
      expect(JSON.stringify(sessions)).not.toContain(session.token);
      expect(JSON.stringify(sessions)).not.toContain(session.token.slice(4));
    });

    it('answers that carry a secret (session token, authentication code, TOTP seed) forbid caching', async () => {
      const c = await t.newCustomerWithPasswordAndTotp();
      const res = await t.login(c);
      expect(res.status).toBe(200);
      expect(res.body.session.token).toBeTruthy();
      expect(res.headers['cache-control']).toMatch(/no-store/);
      const fresh = await t.api('POST', '/v1/customers', { ref: `seed-${c.ref}`, displayName: 'Seed' });
      const enrol = await t.api('POST', `/v1/customers/${fresh.body.id}/authenticators/totp`, {});
      expect(enrol.status).toBe(201);
      t.secrets.add(enrol.body.secret);
      expect(enrol.headers['cache-control']).toMatch(/no-store/);
    });

    it('no audit event nor outbox event contains a password, TOTP seed or code, recovery code, session token or authentication code', async () => {
      // Every secret handed out or received by this suite so far (it runs after the other tests).
      const db = t.sesame.services.db;
      const audit = await db.selectFrom('audit_events').select(['data']).execute();
      const events = await db.selectFrom('outbox_events').select(['payload']).execute();
      expect(audit.length).toBeGreaterThan(10);
      expect(events.length).toBeGreaterThan(5);
      // UUIDs can hold a run of six digits by chance: take them out before looking for six-digit codes.
      const text = JSON.stringify([audit, events]).replace(/[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/g, '<uuid>');
      expect(t.secrets.size).toBeGreaterThan(100);
      const leaked = [...t.secrets].filter((secret) => text.includes(secret));
      expect(leaked).toEqual([]);
    });
  });

  // ---------- the audit trail is tamper-evident ----------

  describe('audit trail', () => {
    it('after real traffic every chain verifies', async () => {
      const report = await verifyAllChains(t.sesame.services.db);
      expect(report.breaks).toEqual([]);
      expect(report.chains).toBeGreaterThan(50);
      expect(report.events).toBeGreaterThan(200);
    });

    it('the timeline pages newest first with limit (1 to 500) and before; a limit out of range is a 400 naming it', async () => {
      const c = await t.newCustomerWithPasswordAndTotp();
      await failOnce(t, c);
      await loginOk(t, c);
      const all = (await t.api('GET', `/v1/customers/${c.id}/audit?limit=500`)).body.items as { seq: number }[];
      expect(all.length).toBeGreaterThanOrEqual(4);
      expect(all.map((e) => e.seq)).toEqual([...all.map((e) => e.seq)].sort((a, b) => b - a));
      const first = (await t.api('GET', `/v1/customers/${c.id}/audit?limit=2`)).body.items as { seq: number }[];
      const next = (await t.api('GET', `/v1/customers/${c.id}/audit?limit=2&before=${first.at(-1)!.seq}`)).body.items as { seq: number }[];
      expect([...first, ...next].map((e) => e.seq)).toEqual(all.slice(0, 4).map((e) => e.seq));
      for (const limit of ['0', '501', '999', '-1', '1.5']) {
        const res = await t.api('GET', `/v1/customers/${c.id}/audit?limit=${limit}`);
        expect(res.status, limit).toBe(400);
        expect(res.body).toMatchObject({ code: 'ERR_VALIDATION', field: 'querystring/limit' });
      }
    });

    it('a changed, deleted or inserted audit event is detected', async () => {
      const db = t.sesame.services.db;
      const c = await t.newCustomerWithPasswordAndTotp();
      await failOnce(t, c);
      await loginOk(t, c);
      const chain = `customer:${c.id}`;
      const rows = await db.selectFrom('audit_events').selectAll().where('chain', '=', chain).orderBy('seq').execute();
      expect(rows.length).toBeGreaterThanOrEqual(4);
      const victim = rows[1]!;
      const breaksOf = async () => (await verifyAllChains(db)).breaks.filter((b) => b.chain === chain);

      await sql`ALTER TABLE audit_events DISABLE TRIGGER audit_events_no_change`.execute(db);
      try {
        // Changed.
        const forged = { ...(victim.data as Record<string, unknown>), forged: true };
        await db
          .updateTable('audit_events')
          .set({ data: JSON.stringify(forged) })
          .where('id', '=', victim.id)
          .execute();
        expect(await breaksOf()).toEqual([{ chain, seq: victim.seq, reason: 'hash-mismatch' }]);
        await db
          .updateTable('audit_events')
          .set({ data: JSON.stringify(victim.data) })
          .where('id', '=', victim.id)
          .execute();
        expect(await breaksOf()).toEqual([]);

        // Deleted (in the middle, then the last one).
        await db.deleteFrom('audit_events').where('id', '=', victim.id).execute();
        expect(await breaksOf()).toEqual([{ chain, seq: victim.seq, reason: 'gap' }]);
        await db
          .insertInto('audit_events')
          .values({ ...victim, at: victim.at, data: JSON.stringify(victim.data), id: victim.id } as never)
          .execute();
        expect(await breaksOf()).toEqual([]);
        const last = rows.at(-1)!;
        await db.deleteFrom('audit_events').where('id', '=', last.id).execute();
        expect(await breaksOf()).toEqual([{ chain, seq: last.seq, reason: 'head-mismatch' }]);
        await db
          .insertInto('audit_events')
          .values({ ...last, data: JSON.stringify(last.data) } as never)
          .execute();
        expect(await breaksOf()).toEqual([]);

        // Inserted after the head, with a correctly chained hash: the head gives it away.
        const at = new Date('2026-01-20T10:00:00.000Z');
        const body = { chain, seq: last.seq + 1, type: 'customer.unblocked', actor: 'advisor:nobody', at: at.toISOString(), data: {} };
        await db
          .insertInto('audit_events')
          .values({ ...body, at, data: '{}', prev_hash: last.hash, hash: chainHash(last.hash, body) })
          .execute();
        expect(await breaksOf()).toEqual([{ chain, seq: last.seq, reason: 'head-mismatch' }]);
        await db
          .deleteFrom('audit_events')
          .where('chain', '=', chain)
          .where('seq', '=', last.seq + 1)
          .execute();
        expect(await breaksOf()).toEqual([]);
      } finally {
        await sql`ALTER TABLE audit_events ENABLE TRIGGER audit_events_no_change`.execute(db);
      }
      await expect(db.deleteFrom('audit_events').where('id', '=', victim.id).execute()).rejects.toThrow(/append-only/);
    });
  });
});
