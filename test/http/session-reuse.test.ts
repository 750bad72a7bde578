import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { databaseKinds } from '../support/databases.js';
import { startSesame, type TestSesame } from '../support/sesame.js';

const PAYMENT = {
  type: 'payment',
  amount: { value: 25000, currency: 'EUR' },
  payee: { name: 'Plomberie Martin', iban: 'FR7630006000011234567890189' },
};

describe.each(databaseKinds)('a payment inside a login session (EBA Q&A 2018_4141), on %s', (kind) => {
  let t: TestSesame;
  beforeAll(async () => {
    // A 2-minute idle timeout, so that a session ends before its operations (5 minutes) expire.
    t = await startSesame(kind, { SESAME_SESSION_IDLE_SECONDS: '120' });
  });
  afterAll(() => t?.close());

  it('reuses the knowledge element of the login and applies the TOTP now, saying so in the code', async () => {
    const c = await t.newCustomerWithPasswordAndTotp();
    const session = (await t.login(c)).body.session.token;
    const op = await t.createOperation(c.id, PAYMENT, session);
    const res = await t.api('POST', `/v1/operations/${op}/authenticate`, { factors: [{ method: 'totp', code: c.nextCode() }] });
    expect(res.status).toBe(200);
    expect(res.body.categories).toEqual(['knowledge', 'possession']);
    const consumed = await t.api('POST', '/v1/authentication-codes/consume', { code: res.body.authenticationCode, data: PAYMENT });
    expect(consumed.status).toBe(200);
    expect(consumed.body).toMatchObject({ methods: ['totp'], reusedFromSession: ['knowledge'], amount: PAYMENT.amount });
  });

  it('refuses the TOTP alone once the session has ended by inactivity, without counting a failure', async () => {
    const c = await t.newCustomerWithPasswordAndTotp();
    const session = (await t.login(c)).body.session.token;
    const op = await t.createOperation(c.id, PAYMENT, session);
    t.clock.advanceSeconds(120);
    const res = await t.api('POST', `/v1/operations/${op}/authenticate`, { factors: [{ method: 'totp', code: c.nextCode() }] });
    expect(res.status).toBe(409);
    expect(res.body.code).toBe('ERR_SESSION_EXPIRED');
    expect((await t.api('GET', `/v1/customers/${c.id}/security`)).body.failedCount).toBe(0);
  });

  it('refuses to start a payment in an ended or foreign session', async () => {
    const c = await t.newCustomerWithPasswordAndTotp();
    const other = await t.newCustomerWithPasswordAndTotp();
    const session = (await t.login(c)).body.session.token;
    const foreign = await t.api('POST', '/v1/operations', { customerId: other.id, data: PAYMENT, sessionToken: session });
    expect(foreign.status).toBe(401);
    expect(foreign.body.code).toBe('ERR_SESSION_EXPIRED');
    await t.api('POST', '/v1/sessions/logout', { token: session });
    const ended = await t.api('POST', '/v1/operations', { customerId: c.id, data: PAYMENT, sessionToken: session });
    expect(ended.body.code).toBe('ERR_SESSION_EXPIRED');
  });

  it('never lets a login, an authenticator binding or a contact change borrow from a session', async () => {
    const c = await t.newCustomerWithPasswordAndTotp();
    const session = (await t.login(c)).body.session.token;
    for (const data of [
      { type: 'login' },
      { type: 'manage_authenticators', action: 'add', kind: 'totp' },
      { type: 'change_phone', phone: '+33612345678' },
    ]) {
      const res = await t.api('POST', '/v1/operations', { customerId: c.id, data, sessionToken: session });
      expect(res.status, data.type).toBe(422);
      expect(res.body.code).toBe('ERR_SESSION_REUSE_NOT_ALLOWED');
    }
  });

  it('without a session, the TOTP alone is not enough (422, nothing counted)', async () => {
    const c = await t.newCustomerWithPasswordAndTotp();
    const op = await t.createOperation(c.id, PAYMENT);
    const res = await t.api('POST', `/v1/operations/${op}/authenticate`, { factors: [{ method: 'totp', code: c.nextCode() }] });
    expect(res.status).toBe(422);
    expect(res.body.code).toBe('ERR_POLICY_NOT_MET');
    expect((await t.api('GET', `/v1/customers/${c.id}/security`)).body.failedCount).toBe(0);
  });
});

describe('session element reuse can be turned off', () => {
  it('with SESAME_SESSION_ELEMENT_REUSE=false a payment refuses a session token', async () => {
    const t = await startSesame('pglite', { SESAME_SESSION_ELEMENT_REUSE: 'false' });
    try {
      const c = await t.newCustomerWithPasswordAndTotp();
      const session = (await t.login(c)).body.session.token;
      const res = await t.api('POST', '/v1/operations', { customerId: c.id, data: PAYMENT, sessionToken: session });
      expect(res.body.code).toBe('ERR_SESSION_REUSE_NOT_ALLOWED');
    } finally {
      await t.close();
    }
  });
});
