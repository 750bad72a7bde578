import { randomBytes } from 'node:crypto';
import { Secret, TOTP } from 'otpauth';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Sealer } from '../../src/crypto/seal.js';
import { createServices } from '../../src/context.js';
import { resealAll } from '../../src/journeys/reseal.js';
import { databaseKinds } from '../support/databases.js';
import { startSesame, type TestSesame } from '../support/sesame.js';

describe.each(databaseKinds)('authenticator lifecycle on %s', (kind) => {
  let t: TestSesame;
  beforeAll(async () => {
    t = await startSesame(kind);
  });
  afterAll(() => t?.close());

  it('a suspended TOTP cannot authenticate, and suspending needs no SCA', async () => {
    const c = await t.newCustomerWithPasswordAndTotp();
    const suspended = await t.api('POST', `/v1/customers/${c.id}/authenticators/${c.totpId}/suspend`, { reason: 'phone lost' });
    expect(suspended.status).toBe(200);
    expect(suspended.body.status).toBe('suspended');
    const res = await t.login(c);
    expect(res.status).toBe(401);
    expect(res.body.code).toBe('ERR_AUTHENTICATION_FAILED');
  });

  it('resuming is a binding: allowed without step-up only when the customer cannot do SCA otherwise', async () => {
    const c = await t.newCustomerWithPasswordAndTotp();
    await t.api('POST', `/v1/customers/${c.id}/authenticators/${c.totpId}/suspend`, {});
    // Password alone: no SCA possible, so the bank's own process is trusted (audited as bootstrap).
    const resumed = await t.api('POST', `/v1/customers/${c.id}/authenticators/${c.totpId}/resume`, {});
    expect(resumed.status).toBe(200);
    expect(resumed.body.status).toBe('active');
    expect((await t.login(c)).status).toBe(200);
    const again = await t.api('POST', `/v1/customers/${c.id}/authenticators/${c.totpId}/resume`, {});
    expect(again.status).toBe(409);
    expect(again.body.code).toBe('ERR_AUTHENTICATOR_STATE');
  });

  it('a second TOTP suspended does not spare the step-up when resumed while the first still works', async () => {
    const c = await t.newCustomerWithPasswordAndTotp();
    const op = await t.createOperation(c.id, { type: 'manage_authenticators', action: 'add', kind: 'totp' });
    const code = (
      await t.api('POST', `/v1/operations/${op}/authenticate`, {
        factors: [
          { method: 'password', password: c.password },
          { method: 'totp', code: c.nextCode() },
        ],
      })
    ).body.authenticationCode;
    const second = await t.api('POST', `/v1/customers/${c.id}/authenticators/totp`, { authenticationCode: code, label: 'spare' });
    expect(second.status).toBe(201);
    const spareCode = new TOTP({ secret: Secret.fromBase32(second.body.secret) }).generate({ timestamp: t.clock.now().getTime() });
    expect((await t.api('POST', `/v1/customers/${c.id}/authenticators/${second.body.id}/activate`, { code: spareCode })).status).toBe(200);
    await t.api('POST', `/v1/customers/${c.id}/authenticators/${second.body.id}/suspend`, {});
    const resume = await t.api('POST', `/v1/customers/${c.id}/authenticators/${second.body.id}/resume`, {});
    expect(resume.status).toBe(422);
    expect(resume.body.code).toBe('ERR_STEP_UP_REQUIRED');
  });
});

describe.each(databaseKinds)('key-encryption key rotation on %s', (kind) => {
  const k1 = { id: 'k1', key: randomBytes(32) };
  const k2 = { id: 'k2', key: randomBytes(32) };
  let t: TestSesame;
  beforeAll(async () => {
    t = await startSesame(kind, { SESAME_KEKS: `k1:${k1.key.toString('base64')}` });
  });
  afterAll(() => t?.close());

  it('sesame keys reseal re-encrypts every secret under the new key, after which the old key can go', async () => {
    const c = await t.newCustomerWithPasswordAndTotp();
    const s = t.sesame.services;
    const sealedSeed = async () =>
      (await s.db.selectFrom('authenticators').select('secret_sealed').where('id', '=', c.totpId).executeTakeFirstOrThrow()).secret_sealed!;
    expect(Sealer.keyIdOf(await sealedSeed())).toBe('k1');
    // The server restarted with SESAME_KEKS="k2:…,k1:…".
    // A message in the outbox (an SMS enrolment code) is sealed too.
    const sms = await t.api('POST', `/v1/customers/${c.id}/authenticators/phone`, {
      method: 'sms',
      phone: '+33611223344',
      authenticationCode: await t.authorise(c, { type: 'manage_authenticators', action: 'add', kind: 'sms', target: '+33611223344' }),
    });
    expect(sms.status, JSON.stringify(sms.body)).toBe(201);
    const message = await s.db
      .selectFrom('messages')
      .select(['id', 'payload_sealed'])
      .where('customer_id', '=', c.id)
      .executeTakeFirstOrThrow();
    expect(Sealer.keyIdOf(message.payload_sealed!)).toBe('k1');
    const rotated = await createServices({ ...s.config, keks: [k2, k1] }, s.clock, s.store, null);
    const first = await resealAll(rotated);
    expect(first.resealed).toBeGreaterThanOrEqual(4); // TOTP seed, signing key, hash key, the message
    expect(first.remaining).toBe(0);
    expect(await resealAll(rotated)).toEqual({ resealed: 0, remaining: 0 });
    expect(Sealer.keyIdOf(await sealedSeed())).toBe('k2');
    const resealedMessage = await s.db
      .selectFrom('messages')
      .select('payload_sealed')
      .where('id', '=', message.id)
      .executeTakeFirstOrThrow();
    expect(new Sealer([k2]).open(resealedMessage.payload_sealed!, `message:${message.id}`).toString('utf8')).toContain('+33611223344');
    // Only the new key is needed from now on.
    expect(new Sealer([k2]).open(await sealedSeed(), `totp:${c.totpId}`).toString('utf8')).toBe(c.secret);
    const onlyK2 = await createServices({ ...s.config, keks: [k2] }, s.clock, s.store, null);
    expect(onlyK2.hashKey.equals(s.hashKey)).toBe(true);
  });
});
