import { randomUUID } from 'node:crypto';
import { connect } from 'node:net';
import fc from 'fast-check';
import type { InjectOptions, LightMyRequestResponse } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createAdvisor } from '../../src/journeys/principals.js';
import {
  checkNoServerError,
  checkProblem,
  fillPath,
  openApiRoutes,
  routeKey,
  type ProblemCheck,
  type RouteInfo,
} from '../support/robust-routes.js';
import { activateTestDevice, signedDeviceHeader } from '../support/device.js';
import { startSesame, type TestCustomer, type TestSesame } from '../support/sesame.js';

/**
 * Whatever a client sends, the answer is a 4xx RFC 9457 problem (never a 5xx, never another format),
 * and a request refused halfway leaves nothing behind. Every route of the OpenAPI document is covered,
 * so a route added later is covered too. PGlite is enough: this is about the HTTP edge.
 */

const PAYMENT = {
  type: 'payment',
  amount: { value: 25000, currency: 'EUR' },
  payee: { name: 'Plomberie Martin', iban: 'FR7630006000011234567890189' },
};

/** A body each route accepts past validation, so that one added defect is the only thing wrong with it. */
function validBodies(f: Fixture): Record<string, Record<string, unknown>> {
  return {
    'POST /v1/customers': { ref: `valid-${randomUUID()}`, displayName: 'Valid Customer' },
    'PATCH /v1/customers/{id}': { locale: 'en' },
    'POST /v1/customers/{id}/authenticators/password': { password: 'a long enough password' },
    'POST /v1/customers/{id}/authenticators/totp': { label: 'phone' },
    'POST /v1/customers/{id}/authenticators/{authenticatorId}/activate': { code: '123456' },
    'POST /v1/customers/{id}/authenticators/recovery-codes': {},
    'POST /v1/customers/{id}/authenticators/{authenticatorId}/suspend': { reason: 'lost phone' },
    'POST /v1/customers/{id}/authenticators/{authenticatorId}/resume': {},
    'DELETE /v1/customers/{id}/authenticators/{authenticatorId}': {},
    'POST /v1/operations': { customerId: f.customer.id, data: { type: 'login' } },
    'POST /v1/operations/{id}/authenticate': { factors: [{ method: 'password', password: 'wrong password' }] },
    'POST /v1/authentication-codes/consume': { code: 'not-a-real-authentication-code' },
    'POST /v1/sessions/introspect': { token: 'ses_unknown' },
    'POST /v1/sessions/logout': { token: 'ses_unknown' },
    'PUT /v1/webhook': { url: null },
    'POST /v1/hardware-tokens/import': { format: 'csv', content: 'serial,secret,type,digits\n' },
    'POST /v1/customers/{id}/authenticators/token': { serial: 'no-such-token' },
    'POST /v1/customers/{id}/authenticators/{authenticatorId}/resync': { code1: '123456', code2: '654321' },
    'POST /v1/customers/{id}/authenticators/phone': { method: 'voice', phone: '01 42 68 53 00' },
    'POST /v1/operations/{id}/challenges': { method: 'sms' },
    'POST /v1/customers/{id}/authenticators/webauthn/registration-options': { label: 'YubiKey' },
    'POST /v1/customers/{id}/authenticators/webauthn': {
      id: 'AAAA',
      rawId: 'AAAA',
      type: 'public-key',
      response: { clientDataJSON: 'e30', attestationObject: 'oA' },
    },
    'POST /v1/passkey-logins': {
      credential: {
        id: 'AAAA',
        rawId: 'AAAA',
        type: 'public-key',
        response: { clientDataJSON: 'e30', authenticatorData: 'AAAA', signature: 'AAAA', userHandle: 'dXNlcg' },
      },
    },
    'POST /v1/customers/{id}/secure-phone/change': { phone: '06 12 34 56 78', authenticationCode: 'not-a-real-authentication-code' },
    'POST /v1/customers/{id}/secure-phone/reconfirm': { locale: 'fr' },
    'POST /v1/customers/{id}/secure-phone/confirm': { id: 'unknown', code: '123456' },
    'POST /dev/phone/api/calls/{id}/answer': { as: 'human' },
    'POST /dev/phone/api/calls/{id}/keys': { keys: '1' },
    'POST /v1/customers/{id}/app-activations': { purpose: 'activate' },
    'POST /v1/advisor/customers/{id}/app-activations': { faceToFace: true },
    'POST /v1/advisor/customers/{id}/app-delay-lift': { identityCheck: { method: 'branch-id-document', reference: 'ID-2026-2' } },
    'POST /v1/device/activations': {
      activationCode: 'ABCD-EFGH-JKLM',
      possessionKey: f.activationKey.jwk,
      knowledgeKey: 'A'.repeat(43),
      offlineKey: 'B'.repeat(43),
      deviceName: 'Robust phone',
      platform: 'node',
    },
    'POST /v1/device/activations/{activationId}/confirm': { code: '123456' },
    'POST /v1/device/approvals/{approvalId}': { decision: 'refuse', counter: 1, possession: 'A'.repeat(86) },
    'POST /v1/device/pin-confirmations': { for: 'app' },
    'POST /v1/device/pin': {
      approvalId: 'unknown',
      counter: 1,
      possession: 'A'.repeat(86),
      knowledge: 'A'.repeat(43),
      newKnowledgeKey: 'C'.repeat(43),
    },
    'POST /v1/device/biometrics': {
      credential: { id: 'AAAA' },
      login: true,
      operations: false,
      confirmation: { approvalId: 'unknown', counter: 1, possession: 'A'.repeat(86), knowledge: 'A'.repeat(43) },
    },
    'PUT /v1/device/biometrics': { login: false, operations: false },
    'POST /v1/device/push-subscription': { endpoint: 'https://fcm.googleapis.com/fcm/send/abc', keys: { p256dh: 'x', auth: 'y' } },
    'POST /v1/advisor/customers/{id}/unblock': {
      identityCheck: { method: 'branch-id-document', reference: 'ID-2026-1' },
      reason: 'identity checked at the branch',
    },
  };
}

interface Fixture {
  customer: TestCustomer;
  operationId: string;
  sessionId: string;
  /** An active app installation (a fresh one per fixture: a sweep may close it), and the key an activation request is signed with. */
  device: { id: string; key: CryptoKey };
  activationKey: { jwk: JsonWebKey; key: CryptoKey };
}

describe('bad input on every route of the OpenAPI document (PGlite)', () => {
  let t: TestSesame;
  let routes: RouteInfo[];
  let advisorToken: string;

  beforeAll(async () => {
    t = await startSesame('pglite');
    routes = await openApiRoutes(t.sesame.app);
    advisorToken = (await createAdvisor(t.sesame.services, { name: 'Robust Advisor', roles: ['unblock', 'read'], channel: 'branch' }))
      .token;
  });
  afterAll(() => t?.close());

  let current: Fixture | null = null;
  let phones = 0;
  /** A customer with password + TOTP, a pending operation, a live session and an app installation: the "existing ids". */
  async function fixture(): Promise<Fixture> {
    const customer = await t.newCustomerWithPasswordAndTotp();
    const login = await t.login(customer);
    expect(login.status).toBe(200);
    const operationId = await t.createOperation(customer.id, { type: 'login' });
    const mobile = `+336${String(20000000 + ++phones)}`;
    expect((await t.api('PATCH', `/v1/customers/${customer.id}`, { mobilePhone: mobile, hasActiveCard: true })).status).toBe(200);
    const { store } = await activateTestDevice(t.sesame.app, t.apiKey, { id: customer.id, mobile });
    const state = (await store.load())!;
    const pair = (await crypto.subtle.generateKey({ name: 'ECDSA', namedCurve: 'P-256' }, false, ['sign', 'verify'])) as CryptoKeyPair;
    const jwk = await crypto.subtle.exportKey('jwk', pair.publicKey);
    current = {
      customer,
      operationId,
      sessionId: login.body.session.id,
      device: { id: state.authenticatorId, key: state.possessionKey },
      activationKey: { jwk: { kty: 'EC', crv: 'P-256', x: jwk.x, y: jwk.y }, key: pair.privateKey },
    };
    return current;
  }

  const existingParams = (route: RouteInfo, f: Fixture): Record<string, string> => ({
    id: route.path.startsWith('/v1/operations') ? f.operationId : f.customer.id,
    authenticatorId: f.customer.totpId,
    sessionId: f.sessionId,
    ref: f.customer.ref,
    // No fixture has one: an unknown id must be a 404 like any other.
    challengeId: randomUUID(),
    activationId: randomUUID(),
    approvalId: randomUUID(),
  });

  /** Random, well-encoded values: whatever the ids, the body defect must be what is answered. */
  const randomParams = (): Record<string, string> => {
    const r = () => [randomUUID(), `r${Math.random().toString(36).slice(2)}`, 'é-😀-ü', "' OR 1=1 --"][Math.floor(Math.random() * 4)]!;
    return {
      id: r(),
      authenticatorId: r(),
      sessionId: r(),
      challengeId: r(),
      activationId: r(),
      approvalId: r(),
      ref: `ref-${Math.random().toString(36).slice(2)}`,
    };
  };

  const credential = (route: RouteInfo) => (route.auth === 'advisorToken' ? advisorToken : t.apiKey);

  /**
   * The request's credential: a bearer token, or for the device API a signature of this very request by
   * the fixture's installation (an app sending bad input is still an authenticated app).
   */
  async function authorization(route: RouteInfo, url: string, payload: unknown): Promise<string> {
    if (route.auth !== 'deviceSignature') return `Bearer ${credential(route)}`;
    const f = current ?? (await fixture());
    const activation = routeKey(route) === 'POST /v1/device/activations';
    const body =
      typeof payload === 'string'
        ? payload
        : Buffer.isBuffer(payload)
          ? payload.toString()
          : payload === undefined
            ? ''
            : JSON.stringify(payload);
    return signedDeviceHeader(activation ? { id: 'new', key: f.activationKey.key } : f.device, {
      method: route.method,
      url,
      body,
      ts: t.clock.now().getTime(),
    });
  }

  async function inject(route: RouteInfo, params: Record<string, string>, opts: Partial<InjectOptions> & { auth?: string | null } = {}) {
    const { auth, headers, ...rest } = opts;
    const url = fillPath(route.path, params);
    const authHeader = auth === undefined ? await authorization(route, url, rest.payload) : auth ? `Bearer ${auth}` : null;
    return t.sesame.app.inject({
      method: route.method as 'GET',
      url,
      ...rest,
      headers: { ...(authHeader ? { authorization: authHeader } : {}), ...(headers as Record<string, string> | undefined) },
    });
  }

  const withBody = () => routes.filter((r) => r.method !== 'GET');
  /** Runs `send` on every route × (existing ids, random ids) and lists every answer `verdict` refuses. */
  async function sweep(
    subset: RouteInfo[],
    what: string,
    send: (route: RouteInfo, params: Record<string, string>) => Promise<LightMyRequestResponse>,
    verdict: (route: RouteInfo, res: LightMyRequestResponse) => ProblemCheck,
  ): Promise<string[]> {
    const f = await fixture();
    const failures: string[] = [];
    for (const route of subset) {
      for (const [label, params] of [
        ['existing ids', existingParams(route, f)],
        ['random ids', randomParams()],
      ] as const) {
        const check = verdict(route, await send(route, params));
        if (!check.ok) failures.push(`${routeKey(route)} ${what} (${label}): ${check.why}`);
      }
    }
    return failures;
  }

  /** A route that declares a body must refuse a bad one with 400; one that declares none may ignore it. */
  const bodyVerdict = (status: number, code: string) => (route: RouteInfo, res: LightMyRequestResponse) => {
    if (!route.body) return checkNoServerError(res);
    const check = checkProblem(res, status);
    if (!check.ok) return check;
    const got = res.json().code;
    return got === code ? check : { ok: false, why: `code ${got}, expected ${code}` };
  };

  it('the OpenAPI document lists the routes under test, and every body route has a valid example here', async () => {
    expect(routes.length).toBeGreaterThanOrEqual(25);
    expect(routes.map(routeKey)).toContain('POST /v1/operations/{id}/authenticate');
    const f = await fixture();
    const known = validBodies(f);
    const missing = routes.filter((r) => r.body && !known[routeKey(r)]).map(routeKey);
    expect(missing, 'add a valid body for each new route to validBodies()').toEqual([]);
  });

  it('(a) malformed JSON is refused with 400 ERR_MALFORMED on every route that takes a body', async () => {
    const failures: string[] = [];
    for (const payload of ['{"ref":', '{ref: 1}', "{'a': 1}", '[1,]', '{"a":1}}', 'nul']) {
      failures.push(
        ...(await sweep(
          withBody(),
          `malformed ${payload}`,
          (route, params) => inject(route, params, { headers: { 'content-type': 'application/json' }, payload }),
          (_route, res) => {
            const check = checkProblem(res, 400);
            return check.ok && res.json().code !== 'ERR_MALFORMED' ? { ok: false, why: `code ${res.json().code}` } : check;
          },
        )),
      );
    }
    expect(failures).toEqual([]);
  });

  it('(a) a body that is not valid UTF-8 is refused with 400 ERR_MALFORMED, not read with its bytes replaced', async () => {
    const failures: string[] = [];
    // A Latin-1 "é", a truncated sequence, an overlong "/", and a UTF-8-encoded surrogate.
    for (const bad of [[0xe9], [0xc3], [0xc0, 0xaf], [0xed, 0xa0, 0x80]]) {
      const payload = Buffer.concat([Buffer.from('{"ref":"caf'), Buffer.from(bad), Buffer.from('","displayName":"x"}')]);
      failures.push(
        ...(await sweep(
          withBody(),
          `bytes ${Buffer.from(bad).toString('hex')}`,
          (route, params) => inject(route, params, { headers: { 'content-type': 'application/json' }, payload }),
          (_route, res) => {
            const check = checkProblem(res, 400);
            if (!check.ok) return check;
            const { code, detail } = res.json();
            return code === 'ERR_MALFORMED' && /UTF-8/.test(detail) ? check : { ok: false, why: `code ${code}: ${detail}` };
          },
        )),
      );
    }
    expect(failures).toEqual([]);
  });

  /** A body that is valid JSON but not an object: 400 ERR_VALIDATION on field "body". */
  const wrongTypeSweep = async (payloads: string[]) => {
    const failures: string[] = [];
    for (const payload of payloads) {
      failures.push(
        ...(await sweep(
          withBody(),
          `body ${payload}`,
          (route, params) => inject(route, params, { headers: { 'content-type': 'application/json' }, payload }),
          (route, res) => {
            const check = bodyVerdict(400, 'ERR_VALIDATION')(route, res);
            if (!check.ok || !route.body) return check;
            const field = res.json().field;
            return field === 'body' ? check : { ok: false, why: `field ${String(field)}, expected "body"` };
          },
        )),
      );
    }
    return failures;
  };

  it('(b) a body of the wrong type (array, string, number, boolean) is refused with 400 ERR_VALIDATION on field "body"', async () => {
    expect(await wrongTypeSweep(['[]', '[{"password":"a long enough password"}]', '"text"', '42', 'true'])).toEqual([]);
  });

  it('(b) a JSON null body is refused with 400 too, even where every field is optional (it is not "no body")', async () => {
    expect(await wrongTypeSweep(['null'])).toEqual([]);
  });

  it('(c) an unknown field, at the top or nested, is refused with 400 ERR_VALIDATION naming that field', async () => {
    const f = await fixture();
    const bodies = validBodies(f);
    const failures: string[] = [];
    const cases: { route: RouteInfo; body: unknown; field: string }[] = [];
    for (const route of routes.filter((r) => r.body)) {
      cases.push({ route, body: { ...bodies[routeKey(route)], zzUnknown: true }, field: 'zzUnknown' });
    }
    const byKey = (k: string) => routes.find((r) => routeKey(r) === k)!;
    cases.push(
      { route: byKey('POST /v1/operations'), body: { customerId: f.customer.id, data: { type: 'login', zz: 1 } }, field: 'data/zz' },
      {
        route: byKey('POST /v1/operations'),
        body: { customerId: f.customer.id, data: { ...PAYMENT, payee: { ...PAYMENT.payee, bic: 'X' } } },
        field: 'data/payee/bic',
      },
      {
        route: byKey('POST /v1/operations/{id}/authenticate'),
        body: { factors: [{ method: 'password', password: 'x', pin: '1' }] },
        field: 'factors/0/pin',
      },
      {
        route: byKey('POST /v1/advisor/customers/{id}/unblock'),
        body: {
          ...bodies['POST /v1/advisor/customers/{id}/unblock'],
          identityCheck: { method: 'postal-letter', reference: 'L1', extra: 1 },
        },
        field: 'identityCheck/extra',
      },
    );
    for (const { route, body, field } of cases) {
      const res = await inject(route, existingParams(route, f), { payload: body as object });
      const check = checkProblem(res, 400);
      if (!check.ok) failures.push(`${routeKey(route)} +${field}: ${check.why}`);
      else if (res.json().code !== 'ERR_VALIDATION' || res.json().field !== field) {
        failures.push(`${routeKey(route)} +${field}: answered ${res.json().code} field=${String(res.json().field)}`);
      }
    }
    expect(failures).toEqual([]);
  });

  it('(d) a 100 kB body is refused with 413 ERR_BODY_TOO_LARGE on every route that takes a body', async () => {
    const payload = JSON.stringify({ ref: 'big', displayName: 'x'.repeat(100 * 1024) });
    const failures = await sweep(
      withBody(),
      '100 kB body',
      (route, params) => inject(route, params, { headers: { 'content-type': 'application/json' }, payload }),
      (_route, res) => {
        const check = checkProblem(res, 413);
        return check.ok && res.json().code !== 'ERR_BODY_TOO_LARGE' ? { ok: false, why: `code ${res.json().code}` } : check;
      },
    );
    expect(failures).toEqual([]);
  });

  const mediaTypeSweep = async (contentTypes: (string | null)[]) => {
    const failures: string[] = [];
    for (const contentType of contentTypes) {
      failures.push(
        ...(await sweep(
          withBody(),
          `content-type ${contentType ?? '(none)'}`,
          (route, params) =>
            inject(route, params, {
              headers: contentType ? { 'content-type': contentType } : {},
              payload: JSON.stringify({ ref: 'ct', displayName: 'Content Type' }),
            }),
          (_route, res) => {
            const check = checkProblem(res, 415);
            return check.ok && res.json().code !== 'ERR_MEDIA_TYPE' ? { ok: false, why: `code ${res.json().code}` } : check;
          },
        )),
      );
    }
    return failures;
  };

  it('(e) a body sent as XML, a form, multipart or without content-type is refused with 415 ERR_MEDIA_TYPE', async () => {
    expect(await mediaTypeSweep(['application/xml', 'application/x-www-form-urlencoded', 'multipart/form-data; boundary=x', null])).toEqual(
      [],
    );
  });

  it('(e) a body sent as text/plain is refused with 415 ERR_MEDIA_TYPE too, not parsed as a string', async () => {
    expect(await mediaTypeSweep(['text/plain', 'text/plain; charset=utf-8'])).toEqual([]);
  });

  it('(e) JSON declared in another charset than UTF-8 is refused with 415 ERR_MEDIA_TYPE; UTF-8 however spelled is read', async () => {
    expect(await mediaTypeSweep(['application/json; charset=iso-8859-1', 'application/json; charset="utf-16"'])).toEqual([]);
    for (const contentType of [
      'application/json; charset=UTF-8',
      'application/json;charset="utf-8"',
      'application/json; charset=utf8',
      // Not a charset: the value of another parameter.
      'application/json; profile="x;charset=latin1"',
    ]) {
      const res = await t.sesame.app.inject({
        method: 'POST',
        url: '/v1/customers',
        headers: { authorization: `Bearer ${t.apiKey}`, 'content-type': contentType },
        payload: JSON.stringify({ ref: `cs-${randomUUID()}`, displayName: 'Hélène Müller' }),
      });
      expect(res.statusCode, contentType).toBe(201);
      expect(res.json().displayName).toBe('Hélène Müller');
    }
    // A byte order mark may lead the body (RFC 8259 §8.1 lets a parser skip it).
    const withBom = await t.sesame.app.inject({
      method: 'POST',
      url: '/v1/customers',
      headers: { authorization: `Bearer ${t.apiKey}`, 'content-type': 'application/json' },
      payload: Buffer.concat([
        Buffer.from([0xef, 0xbb, 0xbf]),
        Buffer.from(JSON.stringify({ ref: `bom-${randomUUID()}`, displayName: 'Bom' })),
      ]),
    });
    expect(withBom.statusCode).toBe(201);
  });

  it('(g) a known path with a method it does not answer is a 405 problem with Allow listing the ones it does', async () => {
    const failures: string[] = [];
    const f = await fixture();
    // A concrete URL can match a route with a parameter too: /v1/hardware-tokens/import is also GET /v1/hardware-tokens/{id}.
    const matches = (template: string, url: string) => new RegExp(`^${template.replace(/\{[^}]+\}/g, '[^/]+')}$`).test(url);
    for (const route of routes) {
      const params = existingParams(route, f);
      const url = fillPath(route.path, params);
      const methods = routes.filter((r) => matches(r.path, url)).map((r) => r.method);
      const expected = [...new Set([...methods, ...(methods.includes('GET') ? ['HEAD'] : [])])].sort();
      const other = ['PATCH', 'DELETE', 'PUT', 'POST'].find((m) => !methods.includes(m))!;
      const res = await inject({ ...route, method: other }, params);
      const check = checkProblem(res, 405);
      if (!check.ok) {
        failures.push(`${other} ${url}: ${check.why}`);
        continue;
      }
      const allow = String(res.headers.allow ?? '');
      if (res.json().code !== 'ERR_METHOD_NOT_ALLOWED' || allow !== expected.join(', ')) {
        failures.push(`${other} ${url}: ${res.json().code}, Allow ${allow} (expected ${expected.join(', ')})`);
      }
    }
    expect(failures).toEqual([]);
    // A path no route has stays a 404, whatever the method.
    const unknown = await t.sesame.app.inject({
      method: 'DELETE',
      url: '/v1/no-such-thing',
      headers: { authorization: `Bearer ${t.apiKey}` },
    });
    expect(unknown.statusCode).toBe(404);
    expect(unknown.headers.allow).toBeUndefined();
    // So does a path a route matched but found nothing at (a file the docs do not have).
    const missing = await t.sesame.app.inject({ method: 'GET', url: '/docs/static/no-such-file.js' });
    expect(missing.statusCode).toBe(404);
    expect(missing.json().code).toBe('ERR_NOT_FOUND');
  });

  it('(h) headers too large for the server are a 431 problem, on a real connection', async () => {
    const address = await t.sesame.app.listen({ port: 0, host: '127.0.0.1' });
    const res = await fetch(`${address}/v1/customers`, {
      headers: { authorization: `Bearer ${t.apiKey}`, cookie: 'x='.padEnd(20_000, 'y') },
    });
    expect(res.status).toBe(431);
    expect(res.headers.get('content-type')).toBe('application/problem+json');
    expect(await res.json()).toMatchObject({ status: 431, code: 'ERR_HEADERS_TOO_LARGE' });
    // Not HTTP at all: a 400 problem, not Node's bare answer.
    const raw = await new Promise<string>((resolve, reject) => {
      const socket = connect(Number(new URL(address).port), '127.0.0.1', () => socket.write('HELLO\r\n\r\n'));
      let text = '';
      socket.on('data', (d) => (text += d.toString()));
      socket.on('close', () => resolve(text));
      socket.on('error', reject);
    });
    expect(raw).toMatch(/^HTTP\/1\.1 400 /);
    expect(raw).toContain('"code":"ERR_MALFORMED"');
    expect(raw).toContain('application/problem+json');
  });

  it('(f) no credential, a wrong one, or the other audience’s is refused with 401 ERR_UNAUTHORIZED on every protected route', async () => {
    const f = await fixture();
    const bodies = validBodies(f);
    const protectedRoutes = routes.filter((r) => r.auth);
    expect(protectedRoutes.length).toBeGreaterThanOrEqual(20);
    const failures: string[] = [];
    for (const route of protectedRoutes) {
      const wrong: [string, string | null, Record<string, string>][] = [
        ['no Authorization', null, {}],
        ['unknown key', route.auth === 'apiKey' ? `sk_${randomUUID()}` : `adv_${randomUUID()}`, {}],
        ['other audience', route.auth === 'apiKey' ? advisorToken : t.apiKey, {}],
        ['Basic scheme', null, { authorization: `Basic ${Buffer.from(`x:${t.apiKey}`).toString('base64')}` }],
        ['key without Bearer', null, { authorization: credential(route) }],
        ['oversized key', `sk_${'a'.repeat(300)}`, {}],
      ];
      for (const [label, auth, headers] of wrong) {
        for (const params of [existingParams(route, f), randomParams()]) {
          const body = bodies[routeKey(route)];
          const res = await inject(route, params, { auth, headers, ...(body ? { payload: body } : {}) });
          const check = checkProblem(res, 401);
          if (!check.ok) failures.push(`${routeKey(route)} ${label}: ${check.why}`);
          else if (res.json().code !== 'ERR_UNAUTHORIZED') failures.push(`${routeKey(route)} ${label}: code ${res.json().code}`);
        }
      }
    }
    expect(failures).toEqual([]);
  });

  describe('validation errors name the field at fault', () => {
    it('a payment with a string amount names data/amount/value', async () => {
      const f = await fixture();
      const res = await t.api('POST', '/v1/operations', {
        customerId: f.customer.id,
        data: { ...PAYMENT, amount: { value: '25000', currency: 'EUR' } },
      });
      expect(res.status).toBe(400);
      expect(res.body).toMatchObject({ code: 'ERR_VALIDATION', field: 'data/amount/value', status: 400 });
    });

    it('a customer without ref names ref', async () => {
      const res = await t.api('POST', '/v1/customers', { displayName: 'No Ref' });
      expect(res.status).toBe(400);
      expect(res.body).toMatchObject({ code: 'ERR_VALIDATION', field: 'ref' });
    });

    it('an authentication without factors names factors; a factor without method names factors/0/method', async () => {
      const f = await fixture();
      const empty = await t.api('POST', `/v1/operations/${f.operationId}/authenticate`, { factors: [] });
      expect(empty.body).toMatchObject({ code: 'ERR_VALIDATION', field: 'factors' });
      const noMethod = await t.api('POST', `/v1/operations/${f.operationId}/authenticate`, { factors: [{ password: 'x' }] });
      expect(noMethod.body).toMatchObject({ code: 'ERR_VALIDATION', field: 'factors/0/method' });
      // Neither counted as a failed attempt: nothing was verified.
      expect((await t.api('GET', `/v1/customers/${f.customer.id}/security`)).body.failedCount).toBe(0);
    });

    it('a customer with an invalid mobile phone names mobilePhone', async () => {
      const res = await t.api('POST', '/v1/customers', { ref: `p-${randomUUID()}`, displayName: 'Phone', mobilePhone: '+33 1 23' });
      expect(res.status).toBe(400);
      expect(res.body).toMatchObject({ code: 'ERR_INVALID_PHONE', field: 'mobilePhone' });
    });

    it('an unblock with an unknown identity check names identityCheck/method', async () => {
      const f = await fixture();
      const res = await t.api(
        'POST',
        `/v1/advisor/customers/${f.customer.id}/unblock`,
        { identityCheck: { method: 'selfie', reference: 'X' }, reason: 'because' },
        { auth: advisorToken },
      );
      expect(res.status).toBe(400);
      expect(res.body).toMatchObject({ code: 'ERR_VALIDATION', field: 'identityCheck/method' });
    });

    it('a payment with a bad IBAN names data/payee/iban, the pointer into the request body', async () => {
      const f = await fixture();
      const res = await t.api('POST', '/v1/operations', {
        customerId: f.customer.id,
        data: { ...PAYMENT, payee: { name: 'Plomberie Martin', iban: 'FR7630006000011234567890188' } },
      });
      expect(res.status).toBe(400);
      expect(res.body).toMatchObject({ code: 'ERR_INVALID_IBAN', field: 'data/payee/iban' });
    });

    it('a payee known by its name alone names data/payee: the code must bind the account or merchant paid', async () => {
      const f = await fixture();
      const res = await t.api('POST', '/v1/operations', {
        customerId: f.customer.id,
        data: { type: 'payment', amount: { value: 1000, currency: 'EUR' }, payee: { name: 'EDF' } },
      });
      expect(res.status).toBe(400);
      expect(res.body).toMatchObject({ code: 'ERR_OPERATION_DATA', field: 'data/payee' });
      const inBatch = batch(200, [100, 100]);
      delete (inBatch.payees[1]!.payee as { merchantId?: string }).merchantId;
      const second = await t.api('POST', '/v1/operations', { customerId: f.customer.id, data: inBatch });
      expect(second.status).toBe(400);
      expect(second.body).toMatchObject({ code: 'ERR_OPERATION_DATA', field: 'data/payees/1/payee' });
    });

    it('a batch whose total is not the sum names data/total/value', async () => {
      const f = await fixture();
      const res = await t.api('POST', '/v1/operations', {
        customerId: f.customer.id,
        data: batch(30000, [10000, 10000]),
      });
      expect(res.status).toBe(400);
      expect(res.body).toMatchObject({ code: 'ERR_BATCH_TOTAL', field: 'data/total/value' });
    });
  });

  describe('odd path parameters', () => {
    it('an id longer than 64 characters is a 400 naming the parameter', async () => {
      const res = await t.sesame.app.inject({
        method: 'GET',
        url: `/v1/customers/${'a'.repeat(65)}`,
        headers: { authorization: `Bearer ${t.apiKey}` },
      });
      expect(checkProblem(res, 400).why).toBe('');
      expect(res.json()).toMatchObject({ code: 'ERR_VALIDATION', field: 'params/id' });
    });

    it('a NUL byte in an id is answered 404 (or 400), never 500', async () => {
      const failures: string[] = [];
      const f = await fixture();
      for (const route of routes.filter((r) => r.pathParams.length)) {
        const params = {
          id: 'a\u0000b',
          authenticatorId: 'x\u0000',
          sessionId: '\u0000',
          challengeId: 'c\u0000',
          activationId: 'a\u0000',
          approvalId: 'p\u0000',
          ref: 'r\u0000',
        };
        const body = validBodies(f)[routeKey(route)];
        const res = await inject(route, params, body ? { payload: body } : {});
        const check = checkProblem(res);
        if (!check.ok) failures.push(`${routeKey(route)}: ${check.why}`);
      }
      expect(failures).toEqual([]);
    });

    it('a badly percent-encoded URL is answered with a problem+json 400', async () => {
      for (const url of ['/v1/customers/%E0%A4%A', '/v1/customers/%ED%A0%80', '/v1/operations/%']) {
        const res = await t.sesame.app.inject({ method: 'GET', url, headers: { authorization: `Bearer ${t.apiKey}` } });
        const check = checkProblem(res, 400);
        expect(check.why, url).toBe('');
      }
    });
  });

  describe('a request refused halfway leaves no partial state', () => {
    const count = async (table: 'customers' | 'audit_events' | 'operations' | 'security_states' | 'authenticators' | 'outbox_events') => {
      const row = await t.sesame.services.db
        .selectFrom(table)
        .select((eb) => eb.fn.countAll().as('n'))
        .executeTakeFirstOrThrow();
      return Number(row.n);
    };
    const snapshot = async () => ({
      customers: await count('customers'),
      audit: await count('audit_events'),
      operations: await count('operations'),
      securityStates: await count('security_states'),
      authenticators: await count('authenticators'),
      outbox: await count('outbox_events'),
    });

    it('a customer with a valid ref but an invalid phone number is not created, nor audited', async () => {
      for (const facts of [{ mobilePhone: '0000' }, { mobilePhone: '+33612345678', landline: '+33 999' }]) {
        const ref = `half-${randomUUID()}`;
        const before = await snapshot();
        const res = await t.api('POST', '/v1/customers', { ref, displayName: 'Half Way', ...facts });
        expect(res.status).toBe(400);
        expect(res.body.code).toBe('ERR_INVALID_PHONE');
        expect((await t.api('GET', `/v1/customers/by-ref/${ref}`)).status).toBe(404);
        expect(await snapshot()).toEqual(before);
        // The ref is still free.
        expect((await t.api('POST', '/v1/customers', { ref, displayName: 'Second Try' })).status).toBe(201);
      }
    });

    it('text that is not valid Unicode (a lone surrogate) or a date the database has no room for is a 400 naming the field', async () => {
      const f = await fixture();
      const before = await snapshot();
      for (const name of ['Plomberie \ud800', 'a\udc00b', '\udbff']) {
        const res = await t.api('POST', '/v1/operations', {
          customerId: f.customer.id,
          data: { ...PAYMENT, payee: { ...PAYMENT.payee, name } },
        });
        expect(res.status, JSON.stringify(res.body)).toBe(400);
        expect(res.body).toMatchObject({ code: 'ERR_VALIDATION', field: 'data/payee/name' });
      }
      // A well-formed pair (an emoji) is fine.
      const emoji = await t.api('POST', '/v1/operations', {
        customerId: f.customer.id,
        data: { ...PAYMENT, payee: { ...PAYMENT.payee, name: 'Café 🥐' } },
      });
      expect(emoji.status, JSON.stringify(emoji.body)).toBe(201);
      const lonely = await t.api('PATCH', `/v1/customers/${f.customer.id}`, { displayName: 'Jeanne \ud83e' });
      expect(lonely.status).toBe(400);
      expect(lonely.body).toMatchObject({ code: 'ERR_VALIDATION', field: 'displayName' });
      for (const facts of [{ email: 'j@example.org', emailSince: '0000-01-01T00:00:00Z' }, { birthDate: '0000-02-29' }]) {
        const res = await t.api('PATCH', `/v1/customers/${f.customer.id}`, facts);
        expect(res.status, JSON.stringify(res.body)).toBe(400);
        expect(res.body.code).toBe('ERR_VALIDATION');
      }
      const after = await snapshot();
      // Only the emoji payment was written.
      expect({ ...after, operations: after.operations - 1, audit: before.audit }).toEqual(before);
    });

    it('a date whose offset carries it past the year 9999 is a 400 naming the field, with nothing written', async () => {
      const f = await fixture();
      const ref = `y10k-${randomUUID()}`;
      const before = await snapshot();
      const late = { email: 'y10k@example.org', emailSince: '9999-12-31T23:00:00-14:00' };
      const created = await t.api('POST', '/v1/customers', { ref, displayName: 'Late', ...late });
      expect(created.status, JSON.stringify(created.body)).toBe(400);
      expect(created.body).toMatchObject({ code: 'ERR_VALIDATION', field: 'emailSince' });
      const patched = await t.api('PATCH', `/v1/customers/${f.customer.id}`, { displayName: 'Changed', ...late });
      expect(patched.status, JSON.stringify(patched.body)).toBe(400);
      expect(patched.body).toMatchObject({ code: 'ERR_VALIDATION', field: 'emailSince' });
      expect(await snapshot()).toEqual(before);
      expect((await t.api('GET', `/v1/customers/by-ref/${ref}`)).status).toBe(404);
      expect((await t.api('GET', `/v1/customers/${f.customer.id}`)).body.displayName).not.toBe('Changed');
      // The last hour the database holds, written with an offset, is fine.
      const edge = await t.api('PATCH', `/v1/customers/${f.customer.id}`, {
        email: 'y10k@example.org',
        emailSince: '9999-12-31T22:00:00-01:00',
      });
      expect(edge.status, JSON.stringify(edge.body)).toBe(200);
    });

    it('a customer whose name the database cannot store is not created, nor audited', async () => {
      const ref = `nul-${randomUUID()}`;
      const before = await snapshot();
      const res = await t.api('POST', '/v1/customers', { ref, displayName: 'Null\u0000Byte' });
      expect((await t.api('GET', `/v1/customers/by-ref/${ref}`)).status).toBe(404);
      expect(await snapshot()).toEqual(before);
      // PostgreSQL text cannot hold U+0000: the client's mistake, so a 400 naming the field.
      expect(res.status).toBe(400);
      expect(res.body.field).toBe('displayName');
    });

    it('a batch payment whose total is not the sum creates no operation', async () => {
      const f = await fixture();
      const before = await snapshot();
      for (const data of [batch(30000, [10000, 10000]), batch(20000, [10000, 10000], 'USD'), batchBadIban()]) {
        const res = await t.api('POST', '/v1/operations', { customerId: f.customer.id, data });
        expect(res.status).toBe(400);
      }
      expect(await snapshot()).toEqual(before);
    });

    it('a duplicate ref leaves the first customer as it was, with one audit event', async () => {
      const ref = `dup-${randomUUID()}`;
      const first = await t.api('POST', '/v1/customers', { ref, displayName: 'First', email: 'first@example.com' });
      expect(first.status).toBe(201);
      const before = await snapshot();
      const again = await t.api('POST', '/v1/customers', { ref, displayName: 'Second', email: 'second@example.com' });
      expect(again.status).toBe(409);
      expect(await snapshot()).toEqual(before);
      expect((await t.api('GET', `/v1/customers/by-ref/${ref}`)).body).toMatchObject({ displayName: 'First', email: 'first@example.com' });
    });

    it('a TOTP enrolment refused for want of step-up leaves no pending authenticator', async () => {
      const f = await fixture();
      const before = await snapshot();
      const res = await t.api('POST', `/v1/customers/${f.customer.id}/authenticators/totp`, {});
      expect(res.status).toBe(422);
      expect(res.body.code).toBe('ERR_STEP_UP_REQUIRED');
      expect(await snapshot()).toEqual(before);
    });

    it('an authentication with an unknown method counts no failure and writes nothing', async () => {
      const f = await fixture();
      const before = await snapshot();
      const res = await t.api('POST', `/v1/operations/${f.operationId}/authenticate`, {
        factors: [
          { method: 'password', password: f.customer.password },
          { method: 'carrier-pigeon', code: '123456' },
        ],
      });
      expect(res.status).toBe(400);
      expect(res.body).toMatchObject({ code: 'ERR_UNKNOWN_METHOD', field: 'factors/1/method' });
      expect(await snapshot()).toEqual(before);
      expect((await t.api('GET', `/v1/customers/${f.customer.id}/security`)).body.failedCount).toBe(0);
    });
  });

  describe('fuzzing every route with random JSON (fast-check)', () => {
    it('never answers a 5xx, and every 4xx is a problem+json', async () => {
      const f = await fixture();
      const seeds = seedBodies(f, validBodies(f));
      // Any code point, NUL and controls included (a URL cannot carry a lone surrogate), plus a few
      // strings known to trouble databases and parsers, so that 300 runs meet them.
      const text = fc.oneof(
        fc.string({ unit: 'binary', maxLength: 40 }).filter(encodable),
        fc.constantFrom('\u0000', 'a\u0000b', '%', '%00', '..', '\uFEFF', 'é\u0301', "'; DROP TABLE customers; --", 'x'.repeat(300)),
      );

      const bodyFor = (route: RouteInfo): fc.Arbitrary<unknown> => {
        const names = route.fieldNames.length ? route.fieldNames : ['zz'];
        const leaf = fc.oneof(
          fc.jsonValue({ stringUnit: 'binary', maxDepth: 2 }),
          route.constants.length ? fc.constantFrom(...route.constants) : fc.constant(null),
          fc.constantFrom(f.customer.id, f.operationId, f.customer.totpId, 'FR7630006000011234567890189', 'EUR', '+33612345678'),
          fc.integer({ min: -1, max: 1e14 }),
          text,
        );
        const { node } = fc.letrec<{ node: unknown }>((tie) => ({
          node: fc.oneof(
            { depthSize: 'small', withCrossShrink: true },
            leaf,
            fc.dictionary(fc.constantFrom(...names), tie('node'), { maxKeys: 5 }),
            fc.array(tie('node'), { maxLength: 3 }),
          ),
        }));
        // A valid body with one value replaced or one field removed reaches the domain, not just the schema.
        const valid = seeds[routeKey(route)] ?? [];
        const mutated = valid.length
          ? fc
              .record({ seed: fc.constantFrom(...valid), pick: fc.nat(), value: fc.option(leaf, { nil: undefined }) })
              .map(({ seed, pick, value }) => mutate(seed, pick, value))
          : fc.constant({});
        return fc.oneof(
          fc.jsonValue({ stringUnit: 'binary' }),
          fc.dictionary(fc.constantFrom(...names), node, { minKeys: 1, maxKeys: 6 }),
          { arbitrary: mutated, weight: 3 },
        );
      };

      const paramsFor = (route: RouteInfo) =>
        fc.record(
          Object.fromEntries(
            route.pathParams.map((p) => [
              p,
              fc.oneof(
                fc.constant(existingParams(route, f)[p]!),
                text.filter((s) => s.length > 0),
              ),
            ]),
          ) as Record<string, fc.Arbitrary<string>>,
        );

      const queryFor = (route: RouteInfo) =>
        route.queryParams.length
          ? fc.option(fc.tuple(fc.constantFrom(...route.queryParams, 'zz'), text), { nil: undefined })
          : fc.constant(undefined);

      // Routes by key, so that a counterexample reads "GET /v1/operations/{id}", not a whole schema.
      const byKey = new Map(routes.map((r) => [routeKey(r), r]));
      const requests = fc.constantFrom(...byKey.keys()).chain((key) => {
        const route = byKey.get(key)!;
        return fc.record({ route: fc.constant(key), params: paramsFor(route), body: bodyFor(route), query: queryFor(route) });
      });

      await fc.assert(
        fc.asyncProperty(requests, async ({ route: key, params, body, query }) => {
          const route = byKey.get(key)!;
          const hasBody = route.method !== 'GET';
          const path = fillPath(route.path, params as Record<string, string>);
          const url = query ? `${path}?${encodeURIComponent(query[0])}=${encodeURIComponent(query[1])}` : path;
          const payload = hasBody ? (JSON.stringify(body) ?? 'null') : undefined;
          const res = await t.sesame.app.inject({
            method: route.method as 'GET',
            url,
            headers: {
              authorization: await authorization(route, url, payload),
              ...(hasBody ? { 'content-type': 'application/json' } : {}),
            },
            ...(payload !== undefined ? { payload } : {}),
          });
          const check = checkNoServerError(res);
          if (!check.ok) throw new Error(`${route.method} ${url} ${JSON.stringify(body)?.slice(0, 300)} → ${check.why}`);
        }),
        { numRuns: 300 },
      );
    }, 120_000);
  });
});

/** Several valid bodies per route, each a starting point for a one-value mutation. */
function seedBodies(f: Fixture, valid: Record<string, Record<string, unknown>>): Record<string, Record<string, unknown>[]> {
  const seeds: Record<string, Record<string, unknown>[]> = Object.fromEntries(Object.entries(valid).map(([k, v]) => [k, [v]]));
  seeds['POST /v1/customers']!.push({
    ref: `seed-${randomUUID()}`,
    displayName: 'Seed Customer',
    email: 'seed@example.com',
    emailSince: '2020-01-01T00:00:00Z',
    mobilePhone: '06 12 34 56 78',
    landline: '+33145678901',
    hasActiveCard: true,
    remoteBanking: true,
    locale: 'fr',
  });
  seeds['PATCH /v1/customers/{id}']!.push({ email: 'new@example.com', mobilePhone: '+33612345678', displayName: 'Renamed' });
  seeds['POST /v1/customers/{id}/authenticators/totp']!.push({ algorithm: 'SHA256', digits: 8, authenticationCode: 'x'.repeat(20) });
  seeds['POST /v1/operations']!.push(
    ...[
      PAYMENT,
      batch(20000, [10000, 10000]),
      { type: 'add_beneficiary', payee: { name: 'Beneficiary', iban: 'FR7630006000011234567890189' } },
      { type: 'change_phone', phone: '+33612345678' },
      { type: 'change_email', email: 'a@example.com' },
      { type: 'view_card_pin', card: { id: 'card-1' } },
      { type: 'card_limit_increase', card: { id: 'card-1' }, limit: { value: 100000, currency: 'EUR' } },
      { type: 'contract_signature', contract: { id: 'c1', title: 'Loan', documentSha256: 'a'.repeat(64) } },
      { type: 'card_wallet_enrolment', card: { id: 'card-1' }, wallet: 'apple' },
      { type: 'online_card_payment', amount: { value: 100, currency: 'EUR' }, payee: { name: 'Shop', merchantId: 'm1' } },
      { type: 'manage_authenticators', action: 'add', kind: 'totp' },
    ].map((data) => ({ customerId: f.customer.id, data })),
    { customerId: f.customer.id, data: PAYMENT, sessionToken: 'ses_unknown' },
  );
  seeds['POST /v1/operations/{id}/authenticate']!.push({
    factors: [
      { method: 'password', password: f.customer.password },
      { method: 'totp', code: '123456', authenticatorId: f.customer.totpId },
    ],
    userAgent: 'fuzz',
    replaceSessionToken: 'ses_unknown',
  });
  seeds['POST /v1/authentication-codes/consume']!.push({ code: 'eyJhbGciOiJFUzI1NiJ9.e30.sig', data: PAYMENT });
  seeds['PUT /v1/webhook']!.push({ url: 'https://bank.example/hooks' });
  return seeds;
}

/** The `pick`-th leaf (or field) of `seed` replaced by `value`, or removed when `value` is undefined. */
function mutate(seed: Record<string, unknown>, pick: number, value: unknown): unknown {
  const copy = structuredClone(seed) as Record<string, unknown>;
  const slots: [Record<string, unknown> | unknown[], string | number][] = [];
  const walk = (node: unknown) => {
    if (Array.isArray(node)) node.forEach((v, i) => (slots.push([node, i]), walk(v)));
    else if (node && typeof node === 'object')
      for (const [k, v] of Object.entries(node)) (slots.push([node as Record<string, unknown>, k]), walk(v));
  };
  walk(copy);
  if (!slots.length) return value === undefined ? copy : { zz: value };
  const [parent, key] = slots[pick % slots.length]!;
  if (value === undefined) {
    if (Array.isArray(parent)) parent.splice(key as number, 1);
    else delete parent[key as string];
  } else (parent as Record<string | number, unknown>)[key] = value;
  return copy;
}

function batch(total: number, amounts: number[], currency = 'EUR') {
  return {
    type: 'batch_payment',
    total: { value: total, currency: 'EUR' },
    payees: amounts.map((value, i) => ({ payee: { name: `Payee ${i}`, merchantId: `supplier-${i}` }, amount: { value, currency } })),
  };
}

function batchBadIban() {
  return {
    type: 'batch_payment',
    total: { value: 200, currency: 'EUR' },
    payees: [
      { payee: { name: 'Good', iban: 'FR7630006000011234567890189' }, amount: { value: 100, currency: 'EUR' } },
      { payee: { name: 'Bad', iban: 'FR7630006000011234567890188' }, amount: { value: 100, currency: 'EUR' } },
    ],
  };
}

function encodable(s: string): boolean {
  try {
    encodeURIComponent(s);
    return true;
  } catch {
    return false;
  }
}
