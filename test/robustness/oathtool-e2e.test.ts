import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createSesame, type Sesame } from '../../src/app.js';
import { loadConfig } from '../../src/config.js';
import { createRelyingParty } from '../../src/journeys/principals.js';
import { oathtool, requireOathtool } from '../support/robust-processes.js';

/**
 * TOTP with SHA-256 and 8 digits, end to end over real HTTP on 127.0.0.1, with every code computed by
 * GNU `oathtool` (the external truth, as in examples/tour.sh) against the server's real clock.
 */
const PASSWORD = 'correct horse battery staple';
const PERIOD = 30;

describe('TOTP SHA-256 / 8 digits over real HTTP, codes from oathtool', () => {
  let sesame: Sesame;
  let url: string;
  let apiKey: string;

  beforeAll(async () => {
    requireOathtool();
    const config = loadConfig({ PORT: '0', HOST: '127.0.0.1', SESAME_DEMO: 'false', SESAME_MODE: 'development' });
    sesame = await createSesame({ config, dataDir: null, logger: false, webhooks: false });
    url = await sesame.listen();
    expect(url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    apiKey = (await createRelyingParty(sesame.services, 'oathtool bank')).apiKey;
  });
  afterAll(() => sesame?.close());

  async function api(method: string, path: string, body?: unknown) {
    const res = await fetch(`${url}${path}`, {
      method,
      headers: { authorization: `Bearer ${apiKey}`, ...(body !== undefined ? { 'content-type': 'application/json' } : {}) },
      ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
    });
    const text = await res.text();
    return { status: res.status, body: text ? JSON.parse(text) : null, contentType: res.headers.get('content-type') };
  }

  /** oathtool's SHA-256 / 8-digit code for one time step (`-N @<unix>` picks the step). */
  const codeAt = (secret: string, step: number) => oathtool(['--totp=SHA256', '-d', '8', '-b', secret, '-N', `@${step * PERIOD}`]);
  const currentStep = () => Math.floor(Date.now() / 1000 / PERIOD);

  it('enrols, activates and logs in with codes from oathtool; a replayed code and a SHA-1 code are refused', async () => {
    const customer = await api('POST', '/v1/customers', { ref: `oath-${Date.now()}`, displayName: 'Oath Tool' });
    expect(customer.status).toBe(201);
    const id = customer.body.id as string;
    expect((await api('POST', `/v1/customers/${id}/authenticators/password`, { password: PASSWORD })).status).toBe(201);

    const enrol = await api('POST', `/v1/customers/${id}/authenticators/totp`, { algorithm: 'SHA256', digits: 8, label: 'oathtool' });
    expect(enrol.status).toBe(201);
    expect(enrol.body).toMatchObject({ algorithm: 'SHA256', digits: 8, period: PERIOD, status: 'pending' });
    const uri = new URL(enrol.body.otpauthUri);
    expect(uri.protocol).toBe('otpauth:');
    expect(uri.searchParams.get('algorithm')).toBe('SHA256');
    expect(uri.searchParams.get('digits')).toBe('8');
    expect(uri.searchParams.get('period')).toBe('30');
    const secret = enrol.body.secret as string;
    expect(uri.searchParams.get('secret')).toBe(secret);

    // oathtool's default (current time) code, 8 digits.
    const activationCode = oathtool(['--totp=SHA256', '-d', '8', '-b', secret]);
    expect(activationCode).toMatch(/^\d{8}$/);
    const activated = await api('POST', `/v1/customers/${id}/authenticators/${enrol.body.id}/activate`, { code: activationCode });
    expect(activated.status, JSON.stringify(activated.body)).toBe(200);
    expect(activated.body.status).toBe('active');
    const activationStep = currentStep();

    const login = async (code: string) => {
      const op = await api('POST', '/v1/operations', { customerId: id, data: { type: 'login' } });
      expect(op.status).toBe(201);
      return api('POST', `/v1/operations/${op.body.id}/authenticate`, {
        factors: [
          { method: 'password', password: PASSWORD },
          { method: 'totp', code },
        ],
      });
    };

    // The activation code was used once: the same code again is refused (generic failure).
    const replay = await login(activationCode);
    expect(replay.status).toBe(401);
    expect(replay.body.code).toBe('ERR_AUTHENTICATION_FAILED');
    expect(replay.contentType).toMatch(/^application\/problem\+json/);

    // A SHA-1 / 6-digit code of the same secret for the next step is not this authenticator's code.
    const sha1 = await login(oathtool(['--totp', '-b', secret, '-N', `@${(activationStep + 1) * PERIOD}`]));
    expect(sha1.status).toBe(401);

    // The next time step's code (within the server's ±1 step window) logs in.
    const next = Math.max(currentStep(), activationStep + 1);
    const ok = await login(codeAt(secret, next));
    expect(ok.status, JSON.stringify(ok.body)).toBe(200);
    expect(ok.body).toMatchObject({ status: 'authorised', methods: ['password', 'totp'], categories: ['knowledge', 'possession'] });
    expect(ok.body.session.token).toMatch(/^ses_/);

    // That code is spent too; a step already passed is refused.
    expect((await login(codeAt(secret, next))).status).toBe(401);
    expect((await login(codeAt(secret, next - 1))).status).toBe(401);
    const security = await api('GET', `/v1/customers/${id}/security`);
    // The success reset the counter: the two refusals after it are the only failures counted.
    expect(security.body.failedCount).toBe(2);
    expect(security.body.blocked).toBe(false);
  });
});
