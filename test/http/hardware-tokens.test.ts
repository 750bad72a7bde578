import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { Secret, TOTP } from 'otpauth';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hotpCode } from '../../src/methods/hotp/hotp.js';
import { generateOcra, ocraChallengeFromLinkHash } from '../../src/methods/ocra/ocra.js';
import { databaseKinds } from '../support/databases.js';
import { startSesame, type ApiResponse, type TestSesame } from '../support/sesame.js';

/**
 * Hardware OATH tokens end to end, over HTTP: import from the vendor's file (RFC 6030 examples), assignment
 * as an enrolment, activation, then logins and payments with codes computed from the RFC test keys.
 */
const fixture = (name: string) => readFileSync(new URL(`../fixtures/pskc/${name}`, import.meta.url), 'utf8');
// RFC 4226 Appendix D / RFC 6030 / RFC 6287: ASCII "12345678901234567890".
const SEED_HEX = '3132333435363738393031323334353637383930';
const SEED = Buffer.from(SEED_HEX, 'hex');
/** RFC 4226 Appendix D: HOTP codes for counters 0…9. */
const RFC4226 = ['755224', '287082', '359152', '969429', '338314', '254676', '287922', '162583', '399871', '520489'];
const SUITE = 'OCRA-1:HOTP-SHA1-6:QN08';
const PSK_HEX = '12345678901234567890123456789012';
/** Every form the seed could leak in. */
const SEED_FORMS = [SEED_HEX, SEED.toString('base64'), new Secret({ buffer: Uint8Array.from(SEED).buffer }).base32, '12345678901234567890'];

const PAYMENT = (value: number) => ({
  type: 'payment',
  amount: { value, currency: 'EUR' },
  payee: { name: 'Plomberie Martin', iban: 'FR7630006000011234567890189' },
});

let seq = 0;
const unique = (prefix: string) => `${prefix}-${++seq}-${Math.random().toString(36).slice(2, 8)}`;
/** An RFC 6030 figure with its serial replaced, so each test imports tokens of its own. */
const withSerial = (xml: string, serial: string) => xml.replace(/SerialNo>987654321</g, `SerialNo>${serial}<`);

describe.each(databaseKinds)('hardware OATH tokens on %s', (kind) => {
  let t: TestSesame;
  const bodies: string[] = [];
  const api = async (method: string, path: string, body?: unknown): Promise<ApiResponse> => {
    const res = await t.api(method, path, body);
    bodies.push(typeof res.body === 'string' ? res.body : JSON.stringify(res.body));
    return res;
  };

  beforeAll(async () => {
    t = await startSesame(kind);
  });
  afterAll(() => t?.close());

  const importCsv = (lines: string[]) =>
    api('POST', '/v1/hardware-tokens/import', { format: 'csv', content: ['serial,secret,type,digits,extra', ...lines].join('\n') });

  /** A customer with a password only: cannot do SCA yet, so the bank binds the first token (bootstrap). */
  async function passwordOnlyCustomer() {
    const ref = unique('hw');
    const id = (await api('POST', '/v1/customers', { ref, displayName: `Customer ${ref}` })).body.id as string;
    const password = `pw ${ref} correct horse battery`;
    expect((await api('POST', `/v1/customers/${id}/authenticators/password`, { password })).status).toBe(201);
    return { id, password };
  }

  const authenticate = (opId: string, factors: unknown[]) => api('POST', `/v1/operations/${opId}/authenticate`, { factors });

  describe('import', () => {
    it('imports the RFC 6030 examples: plaintext, pre-shared key and password, and reads them back without the seed', async () => {
      const [plain, psk, pwd] = [unique('F3'), unique('F6'), unique('F7')];
      const r3 = await api('POST', '/v1/hardware-tokens/import', {
        format: 'pskc',
        content: withSerial(fixture('rfc6030-figure3.xml'), plain),
      });
      expect(r3.status, JSON.stringify(r3.body)).toBe(201);
      expect(r3.body).toEqual({ imported: 1, serials: [plain] });
      const r6 = await api('POST', '/v1/hardware-tokens/import', {
        format: 'pskc',
        content: withSerial(fixture('rfc6030-figure6.xml'), psk),
        preSharedKeyHex: PSK_HEX,
      });
      expect(r6.status, JSON.stringify(r6.body)).toBe(201);
      const r7 = await api('POST', '/v1/hardware-tokens/import', {
        format: 'pskc',
        content: withSerial(fixture('rfc6030-figure7.xml'), pwd),
        password: 'qwerty',
      });
      expect(r7.status, JSON.stringify(r7.body)).toBe(201);
      const read = await api('GET', `/v1/hardware-tokens/${pwd}`);
      expect(read.status).toBe(200);
      expect(read.body).toMatchObject({
        serial: pwd,
        algorithm: 'hotp',
        digits: 8,
        counter: 0,
        assignedToAuthenticator: null,
        revokedAt: null,
      });
      expect(Object.keys(read.body)).not.toContain('secret');
      // Sealed at rest, bound to the serial.
      const row = await t.sesame.services.db
        .selectFrom('hardware_tokens')
        .selectAll()
        .where('serial', '=', plain)
        .executeTakeFirstOrThrow();
      for (const form of SEED_FORMS) expect(JSON.stringify(row)).not.toContain(form);
      expect(t.sesame.services.sealer.open(row.secret_sealed, `token:${plain}`).equals(SEED)).toBe(true);
    });

    it('a wrong password is a 422 problem that names neither the password nor the seed, and imports nothing', async () => {
      const serial = unique('F7');
      const res = await api('POST', '/v1/hardware-tokens/import', {
        format: 'pskc',
        content: withSerial(fixture('rfc6030-figure7.xml'), serial),
        password: 'qwertz',
      });
      expect(res.status).toBe(422);
      expect(res.headers['content-type']).toMatch(/^application\/problem\+json/);
      expect(res.body.code).toBe('ERR_PSKC_DECRYPT');
      for (const s of ['qwertz', 'qwerty', ...SEED_FORMS]) expect(JSON.stringify(res.body)).not.toContain(s);
      expect((await api('GET', `/v1/hardware-tokens/${serial}`)).status).toBe(404);
    });

    it('an encrypted file without its key asks for it; a token too weak to use is refused by serial', async () => {
      const missing = await api('POST', '/v1/hardware-tokens/import', {
        format: 'pskc',
        content: withSerial(fixture('rfc6030-figure6.xml'), unique('F6')),
      });
      expect(missing.status).toBe(422);
      expect(missing.body.code).toBe('ERR_PSKC_KEY_REQUIRED');
      // Figure 2's seed is 4 bytes: RFC 4226 asks for at least 128 bits.
      const weak = await api('POST', '/v1/hardware-tokens/import', { format: 'pskc', content: fixture('rfc6030-figure2.xml') });
      expect(weak.status).toBe(422);
      expect(weak.body.code).toBe('ERR_TOKEN_UNSUPPORTED');
      expect(weak.body.detail).toContain('12345678');
      const bad = await api('POST', '/v1/hardware-tokens/import', {
        format: 'pskc',
        content: fixture('rfc6030-figure3.xml'),
        preSharedKeyHex: 'xyz',
      });
      expect(bad.status).toBe(400);
      expect(bad.body).toMatchObject({ code: 'ERR_VALIDATION', field: 'preSharedKeyHex' });
    });

    it('a file with a serial already in stock is refused with 409 naming it, and none of its other tokens is imported', async () => {
      const [a, b] = [unique('D'), unique('D')];
      expect((await importCsv([`${a},hex:${SEED_HEX},hotp,6,0`])).status).toBe(201);
      const dup = await importCsv([`${b},hex:${SEED_HEX},hotp,6,0`, `${a},hex:${SEED_HEX},hotp,6,0`]);
      expect(dup.status).toBe(409);
      expect(dup.body).toMatchObject({ code: 'ERR_TOKEN_DUPLICATE', serials: [a] });
      expect(dup.body.detail).toContain(a);
      expect((await api('GET', `/v1/hardware-tokens/${b}`)).status).toBe(404);
      expect((await api('GET', `/v1/hardware-tokens/${unique('none')}`)).status).toBe(404);
    });
  });

  describe('HOTP token', () => {
    let customer: { id: string; password: string };
    let serial: string;
    let aid: string;
    const payment = async (code: string, value = 4200) =>
      authenticate(await t.createOperation(customer.id, PAYMENT(value)), [
        { method: 'password', password: customer.password },
        { method: 'hotp', code },
      ]);
    const code = (counter: number) => hotpCode({ secret: SEED, digits: 6 }, counter);

    beforeAll(async () => {
      serial = unique('H');
      expect((await importCsv([`${serial},hex:${SEED_HEX},hotp,6,0`])).status).toBe(201);
      customer = await passwordOnlyCustomer();
    });

    it('assignment is an enrolment: pending until the token’s first code, then active, audited, and the token marked assigned', async () => {
      const assigned = await api('POST', `/v1/customers/${customer.id}/authenticators/token`, { serial });
      expect(assigned.status, JSON.stringify(assigned.body)).toBe(201);
      expect(assigned.body).toMatchObject({ kind: 'hotp', category: 'possession', status: 'pending', serial, activationChallenge: null });
      aid = assigned.body.id;
      const wrong = await api('POST', `/v1/customers/${customer.id}/authenticators/${aid}/activate`, { code: '000000' });
      expect(wrong.status).toBe(422);
      expect(wrong.body.code).toBe('ERR_ACTIVATION_CODE');
      const ok = await api('POST', `/v1/customers/${customer.id}/authenticators/${aid}/activate`, { code: RFC4226[0] });
      expect(ok.status, JSON.stringify(ok.body)).toBe(200);
      expect(ok.body.status).toBe('active');
      expect((await api('GET', `/v1/hardware-tokens/${serial}`)).body.assignedToAuthenticator).toBe(aid);
      const events = await t.sesame.services.db
        .selectFrom('audit_events')
        .select(['type', 'data'])
        .where('chain', '=', `customer:${customer.id}`)
        .execute();
      expect(events.map((e) => e.type)).toEqual(expect.arrayContaining(['hardware_token.assigned', 'authenticator.added']));
      const row = await t.sesame.services.db.selectFrom('authenticators').selectAll().where('id', '=', aid).executeTakeFirstOrThrow();
      expect(t.sesame.services.sealer.open(row.secret_sealed!, `hotp:${aid}`).equals(SEED)).toBe(true);
    });

    it('a login and a payment with password + the RFC 4226 codes; a replayed code is refused', async () => {
      const loginOp = await t.createOperation(customer.id, { type: 'login' });
      const login = await authenticate(loginOp, [
        { method: 'password', password: customer.password },
        { method: 'hotp', code: RFC4226[1] },
      ]);
      expect(login.status, JSON.stringify(login.body)).toBe(200);
      expect(login.body.methods).toEqual(['password', 'hotp']);
      const paid = await payment(RFC4226[2]!);
      expect(paid.status, JSON.stringify(paid.body)).toBe(200);
      const replay = await payment(RFC4226[2]!);
      expect(replay.status).toBe(401);
      expect(replay.body.code).toBe('ERR_AUTHENTICATION_FAILED');
      // An earlier code is refused too: the counter only moves forward.
      expect((await payment(RFC4226[1]!)).status).toBe(401);
    });

    it('codes skipped by accidental presses are tolerated within the look-ahead window, not beyond', async () => {
      // Counters 3, 4 and 5 were pressed and never used.
      expect((await payment(RFC4226[6]!)).status).toBe(200);
      expect((await payment(code(6 + 12))).status).toBe(401);
    });

    it('a token that ran far ahead is resynchronised by two consecutive codes; a wrong pair counts as a failed attempt', async () => {
      const before = (await api('GET', `/v1/customers/${customer.id}/security`)).body.failedCount as number;
      const bad = await api('POST', `/v1/customers/${customer.id}/authenticators/${aid}/resync`, { code1: code(60), code2: code(62) });
      expect(bad.status).toBe(401);
      expect(bad.body.code).toBe('ERR_AUTHENTICATION_FAILED');
      expect((await api('GET', `/v1/customers/${customer.id}/security`)).body.failedCount).toBe(before + 1);
      const ok = await api('POST', `/v1/customers/${customer.id}/authenticators/${aid}/resync`, { code1: code(60), code2: code(61) });
      expect(ok.status, JSON.stringify(ok.body)).toBe(200);
      expect(ok.body.id).toBe(aid);
      // The two codes are used up; the next one works.
      expect((await payment(code(61))).status).toBe(401);
      expect((await payment(code(62))).status).toBe(200);
      // Beyond the resync window (100 counters) even two right codes do not resync.
      const far = await api('POST', `/v1/customers/${customer.id}/authenticators/${aid}/resync`, { code1: code(300), code2: code(301) });
      expect(far.status).toBe(401);
    });

    it('the operation lists the HOTP token among the methods a payment may use', async () => {
      const res = await api('POST', '/v1/operations', { customerId: customer.id, data: PAYMENT(100) });
      expect(res.body.availableMethods).toEqual(expect.arrayContaining([expect.objectContaining({ kind: 'hotp', authenticatorId: aid })]));
    });

    it('a token is assigned once: another customer, or the same one again, is refused', async () => {
      const other = await passwordOnlyCustomer();
      const again = await api('POST', `/v1/customers/${other.id}/authenticators/token`, { serial });
      expect(again.status).toBe(409);
      expect(again.body.code).toBe('ERR_TOKEN_ASSIGNED');
      // The customer can do SCA now (password + token): the step-up is asked only after the token check.
      expect((await api('POST', `/v1/customers/${customer.id}/authenticators/token`, { serial })).status).toBe(409);
      expect((await api('POST', `/v1/customers/${other.id}/authenticators/token`, { serial: unique('none') })).status).toBe(404);
    });

    /** A new HOTP token in stock, assigned to a new customer who can do no SCA yet: pending its first code. */
    async function newTokenAssigned() {
      const serial = unique('H');
      await importCsv([`${serial},hex:${SEED_HEX},hotp,6,0`]);
      const c = await passwordOnlyCustomer();
      const first = await api('POST', `/v1/customers/${c.id}/authenticators/token`, { serial });
      expect(first.status).toBe(201);
      return { serial, c, first };
    }

    it('an enrolment abandoned before activation frees the token', async () => {
      const { serial: s2, c, first } = await newTokenAssigned();
      expect((await api('DELETE', `/v1/customers/${c.id}/authenticators/${first.body.id}`)).status).toBe(200);
      const second = await api('POST', `/v1/customers/${c.id}/authenticators/token`, { serial: s2 });
      expect(second.status).toBe(201);
    });

    it('an assignment left to expire frees the token too, and can no longer be activated', async () => {
      const { serial: s3, c, first } = await newTokenAssigned();
      // While it waits for its first code, nobody else gets the token.
      const meanwhile = await api('POST', `/v1/customers/${(await passwordOnlyCustomer()).id}/authenticators/token`, { serial: s3 });
      expect(meanwhile.body.code).toBe('ERR_TOKEN_ASSIGNED');
      t.clock.advance(10 * 60_000 + 1000);
      const late = await api('POST', `/v1/customers/${c.id}/authenticators/${first.body.id}/activate`, {
        code: hotpCode({ secret: SEED, digits: 6 }, 0),
      });
      expect(late.body.code).toBe('ERR_ENROLMENT_EXPIRED');
      const second = await api('POST', `/v1/customers/${c.id}/authenticators/token`, { serial: s3 });
      expect(second.status, JSON.stringify(second.body)).toBe(201);
      const ids = (await api('GET', `/v1/customers/${c.id}/authenticators`)).body.items.map((a: { id: string }) => a.id);
      expect(ids).toContain(second.body.id);
      expect(ids).not.toContain(first.body.id);
      expect(
        (
          await api('POST', `/v1/customers/${c.id}/authenticators/${second.body.id}/activate`, {
            code: hotpCode({ secret: SEED, digits: 6 }, 0),
          })
        ).status,
      ).toBe(200);
    });
  });

  it('a TOTP token becomes a TOTP authenticator, activated by its current code', async () => {
    const serial = unique('T');
    expect((await importCsv([`${serial},hex:${SEED_HEX},totp,6,30`])).status).toBe(201);
    const c = await passwordOnlyCustomer();
    const assigned = await api('POST', `/v1/customers/${c.id}/authenticators/token`, { serial });
    expect(assigned.body).toMatchObject({ kind: 'totp', status: 'pending' });
    const totp = new TOTP({ secret: new Secret({ buffer: Uint8Array.from(SEED).buffer }), digits: 6, period: 30 });
    const res = await api('POST', `/v1/customers/${c.id}/authenticators/${assigned.body.id}/activate`, {
      code: totp.generate({ timestamp: t.clock.now().getTime() }),
    });
    expect(res.status, JSON.stringify(res.body)).toBe(200);
  });

  it('two tokens the bank delivers together before the customer can authenticate are both activated by their first codes', async () => {
    // Unlike a TOTP the customer enrols, whose secret went to whoever asked: see the step-up rules.
    const [hotpSerial, totpSerial] = [unique('H2'), unique('T2')];
    expect((await importCsv([`${hotpSerial},hex:${SEED_HEX},hotp,6,0`, `${totpSerial},hex:${SEED_HEX},totp,6,30`])).status).toBe(201);
    const c = await passwordOnlyCustomer();
    const hotp = await api('POST', `/v1/customers/${c.id}/authenticators/token`, { serial: hotpSerial });
    const totp = await api('POST', `/v1/customers/${c.id}/authenticators/token`, { serial: totpSerial });
    expect([hotp.status, totp.status]).toEqual([201, 201]);
    const first = await api('POST', `/v1/customers/${c.id}/authenticators/${hotp.body.id}/activate`, { code: RFC4226[0] });
    expect(first.status, JSON.stringify(first.body)).toBe(200);
    const generator = new TOTP({ secret: new Secret({ buffer: Uint8Array.from(SEED).buffer }), digits: 6, period: 30 });
    const second = await api('POST', `/v1/customers/${c.id}/authenticators/${totp.body.id}/activate`, {
      code: generator.generate({ timestamp: t.clock.now().getTime() }),
    });
    expect(second.status, JSON.stringify(second.body)).toBe(200);
    expect(second.body.status).toBe('active');
  });

  describe('OCRA token (RFC 6287 key, OCRA-1:HOTP-SHA1-6:QN08)', () => {
    let serial: string;
    const response = (question: string) => generateOcra({ suite: SUITE, key: SEED, question });

    beforeAll(async () => {
      serial = unique('O');
      expect((await importCsv([`${serial},hex:${SEED_HEX},ocra,6,${SUITE}`])).status).toBe(201);
    });

    it('assignment needs the step-up once the customer can do SCA; activation answers the challenge; payments sign their own challenge', async () => {
      const c = await t.newCustomerWithPasswordAndTotp();
      const noStepUp = await api('POST', `/v1/customers/${c.id}/authenticators/token`, { serial });
      expect(noStepUp.status).toBe(422);
      expect(noStepUp.body.code).toBe('ERR_STEP_UP_REQUIRED');
      expect(noStepUp.body.operation).toEqual({ type: 'manage_authenticators', action: 'add', kind: 'ocra', target: serial });
      const stepUpFor = async (target: string) => {
        const op = await t.createOperation(c.id, { type: 'manage_authenticators', action: 'add', kind: 'ocra', target });
        const res = await authenticate(op, [
          { method: 'password', password: c.password },
          { method: 'totp', code: c.nextCode() },
        ]);
        expect(res.status, JSON.stringify(res.body)).toBe(200);
        return res;
      };
      // The customer confirmed another token: this one is not assigned with that code.
      const forAnother = await stepUpFor(`${serial}-other`);
      const wrongToken = await api('POST', `/v1/customers/${c.id}/authenticators/token`, {
        serial,
        authenticationCode: forAnother.body.authenticationCode,
      });
      expect(wrongToken.status).toBe(422);
      expect(wrongToken.body.code).toBe('ERR_STEP_UP_MISMATCH');
      const stepUp = await stepUpFor(serial);
      const assigned = await api('POST', `/v1/customers/${c.id}/authenticators/token`, {
        serial,
        authenticationCode: stepUp.body.authenticationCode,
      });
      expect(assigned.status, JSON.stringify(assigned.body)).toBe(201);
      expect(assigned.body).toMatchObject({ kind: 'ocra', status: 'pending', ocraSuite: SUITE });
      expect(assigned.body.activationChallenge).toMatch(/^\d{8}$/);
      const aid = assigned.body.id as string;
      const activated = await api('POST', `/v1/customers/${c.id}/authenticators/${aid}/activate`, {
        code: response(assigned.body.activationChallenge),
      });
      expect(activated.status, JSON.stringify(activated.body)).toBe(200);

      const challengeOf = async (opId: string) => {
        const res = await api('GET', `/v1/operations/${opId}/ocra-challenge?authenticatorId=${aid}`);
        expect(res.status, JSON.stringify(res.body)).toBe(200);
        expect(res.body.suite).toBe(SUITE);
        return res.body.challenge as string;
      };
      const pay = (opId: string, code: string) =>
        authenticate(opId, [
          { method: 'password', password: c.password },
          { method: 'ocra', code },
        ]);

      const a = await t.createOperation(c.id, PAYMENT(25000));
      const b = await t.createOperation(c.id, PAYMENT(25000));
      const changed = await t.createOperation(c.id, PAYMENT(25001));
      const [qa, qb, qc] = [await challengeOf(a), await challengeOf(b), await challengeOf(changed)];
      // Bound to the operation: SHA-256(id + '.' + link hash), 8 digits for QN08.
      const opA = (await api('GET', `/v1/operations/${a}`)).body;
      const bound = createHash('sha256').update(`${a}.${opA.linkHash}`).digest('base64url');
      expect(qa).toBe(ocraChallengeFromLinkHash(bound, 8));
      // Two identical payments get different challenges, and so does a changed amount.
      expect(new Set([qa, qb, qc]).size).toBe(3);

      expect((await pay(a, response(qa))).status).toBe(200);
      // The response for another operation's challenge does not authorise this one.
      const crossed = await pay(changed, response(qb));
      expect(crossed.status).toBe(401);
      expect(crossed.body.code).toBe('ERR_AUTHENTICATION_FAILED');
      expect((await pay(changed, response(qc))).status).toBe(200);
      // An authorised operation has no challenge any more.
      expect((await api('GET', `/v1/operations/${a}/ocra-challenge?authenticatorId=${aid}`)).status).toBe(409);
      expect((await api('GET', `/v1/operations/${b}/ocra-challenge?authenticatorId=${c.totpId}`)).status).toBe(404);
    });
  });

  it('no response ever carried the seed', () => {
    expect(bodies.length).toBeGreaterThan(20);
    for (const body of bodies) for (const form of SEED_FORMS) expect(body).not.toContain(form);
  });
});
