import type { TOTP } from 'otpauth';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Sesame } from '../../src/app.js';
import type { ManualClock } from '../../src/core/clock.js';
import { SesameApiError, SesameClient } from '../../src/demo-bank/sesame-client.js';
import { webauthnRelyingParty } from '../../src/methods/webauthn/challenges.js';
import { startDemoSesame } from '../support/demo-sesame.js';
import { SoftAuthenticator } from '../support/soft-webauthn.js';

/**
 * The demo bank's back-end and its Sésame client at the HTTP level, without a browser: what a relying
 * party integrating Sésame relies on (typed errors, dynamic linking at consumption, single use) and what
 * the bank's page relies on (no user enumeration, a session cookie the page cannot read).
 */
describe('the demo bank back-end and its Sésame client', () => {
  let sesame: Sesame;
  let clock: ManualClock;
  let client: SesameClient;
  let alice: { id: string; ref: string; password: string; totpSecret: string };
  let totp: TOTP;

  const freshCode = () => {
    clock.advanceSeconds(30);
    return totp.generate({ timestamp: clock.now().getTime() });
  };

  /** A browser in miniature: one cookie jar, JSON in and out. */
  function bankBrowser() {
    let cookie = '';
    return async (method: 'GET' | 'POST', path: string, body?: unknown) => {
      const res = await fetch(sesame.url + '/bank/api' + path, {
        method,
        headers: { ...(body ? { 'content-type': 'application/json' } : {}), ...(cookie ? { cookie } : {}) },
        body: body ? JSON.stringify(body) : null,
      });
      const setCookie = res.headers.getSetCookie();
      for (const c of setCookie) {
        const [pair] = c.split(';');
        cookie = pair!.endsWith('=') ? '' : pair!;
      }
      const text = await res.text();
      return { status: res.status, setCookie, json: text ? (JSON.parse(text) as Record<string, unknown>) : null };
    };
  }

  beforeAll(async () => {
    ({ sesame, clock, customer: alice, totp } = await startDemoSesame());
    client = new SesameClient({ baseUrl: sesame.url, apiKey: sesame.demo!.apiKey });
  }, 120_000);

  afterAll(async () => {
    await sesame?.close();
  });

  it('keeps its session in an HttpOnly, SameSite=Strict cookie scoped to the bank API', async () => {
    const bank = bankBrowser();
    const res = await bank('POST', '/login/start', { ref: alice.ref });
    expect(res.status).toBe(200);
    const cookie = res.setCookie.find((c) => c.startsWith('bank_session='))!;
    expect(cookie).toMatch(/; HttpOnly/i);
    expect(cookie).toMatch(/; SameSite=Strict/i);
    expect(cookie).toMatch(/; Path=\/bank\/api/i);
  });

  it('gives a new session id at login and never the Sésame session token to the browser', async () => {
    const bank = bankBrowser();
    const start = await bank('POST', '/login/start', { ref: alice.ref });
    const before = start.setCookie[0]!.split(';')[0];
    const finish = await bank('POST', '/login/finish', { password: alice.password, code: freshCode() });
    expect(finish.status).toBe(200);
    expect(finish.setCookie[0]!.split(';')[0]).not.toBe(before);
    expect(JSON.stringify(finish.json)).not.toMatch(/token/i);
    expect((await bank('GET', '/me')).json).toMatchObject({ customer: { ref: alice.ref, displayName: 'Alice Martin' } });
  });

  it('answers an unknown identifier with the same shapes as a known one, at both steps', async () => {
    const known = bankBrowser();
    const unknown = bankBrowser();
    const a = await known('POST', '/login/start', { ref: alice.ref });
    const b = await unknown('POST', '/login/start', { ref: 'nobody-here' });
    expect([b.status, b.json]).toEqual([a.status, a.json]);
    const code = freshCode();
    const c = await known('POST', '/login/finish', { password: 'wrong password', code });
    const d = await unknown('POST', '/login/finish', { password: 'wrong password', code });
    expect(c.status).toBe(401);
    expect([d.status, d.json]).toEqual([c.status, c.json]);
    expect(Object.keys(c.json!).sort()).toEqual(['code', 'nextBlockPermanent', 'remainingAttempts', 'status', 'title', 'type']);
  });

  it('offers the possession methods of the customer’s ways-in; an unknown identifier looks like an app-only customer', async () => {
    const methodsOf = async (ref: string) => {
      const bank = bankBrowser();
      await bank('POST', '/login/start', { ref });
      const res = await bank('GET', '/login/methods');
      const sms = await bank('POST', '/login/challenge', { method: 'sms' });
      return { methods: res.json, sms: [sms.status, sms.json] };
    };
    expect((await methodsOf('alice')).methods).toEqual({
      methods: [{ kind: 'totp' }, { kind: 'sms', destination: expect.stringMatching(/78$/) }],
    });
    expect((await methodsOf('chantal')).methods).toEqual({
      methods: [{ kind: 'voice', destination: expect.stringMatching(/00$/), voiceMode: 'read-out' }],
    });
    const bruno = await methodsOf('bruno');
    const nobody = await methodsOf('nobody-here');
    expect(bruno.methods).toEqual({ methods: [{ kind: 'totp' }] });
    expect(nobody).toEqual(bruno);
  });

  it('refuses its own API without a session, and a transfer to an invalid IBAN before any SCA', async () => {
    expect((await bankBrowser()('GET', '/accounts')).json).toMatchObject({ code: 'ERR_NOT_LOGGED_IN' });
    const bank = bankBrowser();
    await bank('POST', '/login/start', { ref: alice.ref });
    await bank('POST', '/login/finish', { password: alice.password, code: freshCode() });
    const res = await bank('POST', '/transfers', {
      fromAccount: 'current',
      payeeName: 'Léa Dubois',
      iban: 'FR76 3000 6000 0112 3456 7890 188',
      amountCents: 25_000,
      currency: 'EUR',
    });
    expect(res.status).toBe(400);
    expect(res.json).toMatchObject({ code: 'ERR_INVALID_IBAN' });
  });

  it('a passkey login answers only the challenge this browser was given, and once', async () => {
    const rp = webauthnRelyingParty(sesame.services.config);
    const key = new SoftAuthenticator({ rpId: rp.rpId, origin: rp.origins[0]! });
    // A customer whose only means is this passkey (the bank binds a first means without step-up).
    const ref = `pk-${Math.random().toString(36).slice(2, 8)}`;
    const sesameApi = async (path: string, body: unknown) => {
      const res = await fetch(sesame.url + path, {
        method: 'POST',
        headers: { authorization: `Bearer ${sesame.demo!.apiKey}`, 'content-type': 'application/json' },
        body: JSON.stringify(body),
      });
      return { status: res.status, body: (await res.json()) as Record<string, unknown> };
    };
    const id = (await sesameApi('/v1/customers', { ref, displayName: 'Paul Clé' })).body.id as string;
    const regOptions = await sesameApi(`/v1/customers/${id}/authenticators/webauthn/registration-options`, {});
    const registered = await sesameApi(`/v1/customers/${id}/authenticators/webauthn`, {
      ...key.create(regOptions.body as never),
      label: 'Clé',
    });
    expect(registered.status, JSON.stringify(registered.body)).toBe(201);

    const mine = bankBrowser();
    const theirs = bankBrowser();
    const myOptions = (await mine('POST', '/login/passkey/options')).json as never;
    const theirOptions = (await theirs('POST', '/login/passkey/options')).json as never;
    // Signed over the challenge handed to another browser: refused here, and this browser's is spent.
    const crossed = await mine('POST', '/login/passkey', { credential: key.get(theirOptions) });
    expect(crossed.status).toBe(422);
    expect(crossed.json).toMatchObject({ code: 'ERR_PASSKEY_CHALLENGE' });
    expect((await mine('POST', '/login/passkey', { credential: key.get(myOptions) })).status).toBe(409);
    // The other browser's own answer logs its customer in, once.
    const ok = await theirs('POST', '/login/passkey', { credential: key.get(theirOptions) });
    expect(ok.status, JSON.stringify(ok.json)).toBe(200);
    expect(ok.json).toMatchObject({ customer: { ref, displayName: 'Paul Clé' } });
    expect((await theirs('POST', '/login/passkey', { credential: key.get(theirOptions) })).status).toBe(409);
  });

  it('client: an authentication code is refused for another amount or payee, accepted for its own, then only once', async () => {
    const data = {
      type: 'payment' as const,
      amount: { value: 25_000, currency: 'EUR' },
      payee: { name: 'Léa Dubois', iban: 'FR7630006000011234567890189' },
    };
    const op = await client.createOperation(alice.id, data);
    expect(op.data).toMatchObject({ amount: data.amount, payee: { name: 'Léa Dubois' } });
    const { authenticationCode } = await client.authenticate(op.id, [
      { method: 'password', password: alice.password },
      { method: 'totp', code: freshCode() },
    ]);

    for (const altered of [
      { ...data, amount: { value: 25_001, currency: 'EUR' } },
      { ...data, payee: { ...data.payee, iban: 'DE89370400440532013000' } },
      { ...data, payee: { ...data.payee, name: 'Mallory' } },
    ]) {
      expect(await refused(client.consumeCode(authenticationCode, altered))).toMatchObject({ status: 409, code: 'ERR_LINK_MISMATCH' });
    }

    expect(await client.consumeCode(authenticationCode, data)).toMatchObject({
      operationId: op.id,
      customerId: alice.id,
      amount: data.amount,
    });
    await expect(client.consumeCode(authenticationCode, data)).rejects.toMatchObject({ code: 'ERR_CODE_ALREADY_USED' });
  });

  it('client: a failed authentication is one typed error with the attempts left, whichever element was wrong', async () => {
    const op = await client.createOperation(alice.id, { type: 'login' });
    const wrongPassword = await refused(
      client.authenticate(op.id, [
        { method: 'password', password: 'not it' },
        { method: 'totp', code: freshCode() },
      ]),
    );
    const wrongCode = await refused(
      client.authenticate(op.id, [
        { method: 'password', password: alice.password },
        { method: 'totp', code: otherThan(totp, clock.now()) },
      ]),
    );
    for (const e of [wrongPassword, wrongCode]) expect(e).toMatchObject({ status: 401, code: 'ERR_AUTHENTICATION_FAILED' });
    expect(wrongPassword.title).toBe(wrongCode.title);
    expect(wrongPassword.detail).toBe(wrongCode.detail);
    expect(wrongPassword.details.remainingAttempts).toBe((wrongCode.details.remainingAttempts as number) + 1);
    // Back to a clean slate for the other tests.
    await client.authenticate(op.id, [
      { method: 'password', password: alice.password },
      { method: 'totp', code: freshCode() },
    ]);
  });
});

/** The typed error a call was refused with (fails the test if the call succeeded). */
async function refused(call: Promise<unknown>): Promise<SesameApiError> {
  try {
    await call;
  } catch (e) {
    if (e instanceof SesameApiError) return e;
    throw e;
  }
  throw new Error('expected Sésame to refuse the call');
}

/** A well-formed code that is none of the codes the server would accept right now. */
function otherThan(totp: TOTP, now: Date): string {
  const valid = new Set([-1, 0, 1].map((d) => totp.generate({ timestamp: now.getTime() + d * 30_000 })));
  return ['000000', '111111', '222222', '333333'].find((c) => !valid.has(c))!;
}
