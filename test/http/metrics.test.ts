import Fastify from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Services } from '../../src/context.js';
import { trackAllowedMethods } from '../../src/http/allowed-methods.js';
import { noRouteFor } from '../../src/http/problem.js';
import { metricsRoutes } from '../../src/http/routes/metrics.js';
import { databaseKinds } from '../support/databases.js';
import { startSesame, type TestSesame } from '../support/sesame.js';

/**
 * `GET /metrics` (Prometheus text format): what an operator alerts on — SCA outcomes by operation type,
 * blocks, answer times by route, the outbox backlog — with bounded labels only, and behind a token when
 * one is configured.
 */
const TOKEN = 'metrics-token-0123456789abcdef0123456789';

/** The value of one sample line (`name{labels} value`), or 0 when the series does not exist yet. */
function sample(text: string, series: string): number {
  const line = text.split('\n').find((l) => l.startsWith(`${series} `));
  return line ? Number(line.slice(series.length + 1)) : 0;
}

describe.each(databaseKinds)('metrics on %s', (kind) => {
  let t: TestSesame;
  beforeAll(async () => {
    t = await startSesame(kind, { SESAME_METRICS_TOKEN: TOKEN });
  });
  afterAll(() => t?.close());

  const scrape = async () => {
    const res = await t.api('GET', '/metrics', undefined, { auth: TOKEN });
    expect(res.status).toBe(200);
    expect(res.headers['content-type']).toMatch(/^text\/plain; version=0\.0\.4/);
    return res.body as string;
  };
  const attempts = (text: string, type: string, outcome: string) =>
    sample(text, `sesame_sca_attempts_total{operation_type="${type}",outcome="${outcome}"}`);

  it('counts SCA attempts by operation type and outcome, and the blocks the failures cause', async () => {
    const before = await scrape();
    const c = await t.newCustomerWithPasswordAndTotp();
    expect((await t.login(c)).status).toBe(200);
    for (let i = 0; i < 5; i++) {
      const op = await t.createOperation(c.id, { type: 'login' });
      const res = await t.api('POST', `/v1/operations/${op}/authenticate`, {
        factors: [
          { method: 'password', password: 'not the password' },
          { method: 'totp', code: c.nextCode() },
        ],
      });
      expect(res.status).toBe(401);
    }
    const refused = await t.api('POST', `/v1/operations/${await t.createOperation(c.id, { type: 'login' })}/authenticate`, {
      factors: [
        { method: 'password', password: c.password },
        { method: 'totp', code: c.nextCode() },
      ],
    });
    expect(refused.status).toBe(423);

    const after = await scrape();
    const delta = (series: string) => sample(after, series) - sample(before, series);
    expect(attempts(after, 'login', 'success') - attempts(before, 'login', 'success')).toBe(1);
    expect(attempts(after, 'login', 'failure') - attempts(before, 'login', 'failure')).toBe(5);
    expect(attempts(after, 'login', 'blocked') - attempts(before, 'login', 'blocked')).toBe(1);
    expect(delta('sesame_customer_blocks_total{permanent="false"}')).toBe(1);
    // Labels are bounded: no customer, operation, code or password ever appears.
    expect(after).not.toContain(c.id);
    for (const secret of t.secrets) expect(after).not.toContain(secret);
  });

  it('counts a block caused by failed resyncs of a hardware token too', async () => {
    // RFC 4226 Appendix D's key, imported as a token of this test's own and bound to a password-only customer.
    const seedHex = '3132333435363738393031323334353637383930';
    const serial = `M-${Math.random().toString(36).slice(2, 10)}`;
    const imported = await t.api('POST', '/v1/hardware-tokens/import', {
      format: 'csv',
      content: `serial,secret,type,digits,extra\n${serial},hex:${seedHex},hotp,6,0`,
    });
    expect(imported.status).toBe(201);
    const customer = await t.api('POST', '/v1/customers', { ref: serial, displayName: `Customer ${serial}` });
    const id = customer.body.id as string;
    expect((await t.api('POST', `/v1/customers/${id}/authenticators/password`, { password: `pw ${serial} correct horse` })).status).toBe(
      201,
    );
    const aid = (await t.api('POST', `/v1/customers/${id}/authenticators/token`, { serial })).body.id as string;
    // RFC 4226 Appendix D, counter 0.
    expect((await t.api('POST', `/v1/customers/${id}/authenticators/${aid}/activate`, { code: '755224' })).status).toBe(200);

    const before = await scrape();
    for (let i = 0; i < 5; i++) {
      const res = await t.api('POST', `/v1/customers/${id}/authenticators/${aid}/resync`, { code1: '000000', code2: '000001' });
      expect(res.status).toBe(401);
    }
    const after = await scrape();
    expect(
      sample(after, 'sesame_customer_blocks_total{permanent="false"}') - sample(before, 'sesame_customer_blocks_total{permanent="false"}'),
    ).toBe(1);
  });

  it('times answers by route template, never by the ids in the path', async () => {
    const c = await t.newCustomerWithPasswordAndTotp();
    const op = await t.createOperation(c.id, { type: 'login' });
    expect((await t.api('GET', `/v1/operations/${op}`)).status).toBe(200);
    expect((await t.api('GET', '/v1/no-such-route')).status).toBe(404);
    const text = await scrape();
    expect(
      sample(text, 'sesame_http_request_duration_seconds_count{method="GET",route="/v1/operations/:id",status="200"}'),
    ).toBeGreaterThanOrEqual(1);
    expect(sample(text, 'sesame_http_request_duration_seconds_count{method="GET",route="unmatched",status="404"}')).toBeGreaterThanOrEqual(
      1,
    );
    expect(text).not.toContain(op);
    // The process's own figures are there too.
    expect(text).toMatch(/^sesame_nodejs_eventloop_lag_seconds /m);
  });

  it('reports the webhook backlog as it is in the database', async () => {
    const pending = await t.sesame.services.db
      .selectFrom('outbox_events')
      .select((eb) => eb.fn.countAll<string>().as('n'))
      .where('status', '=', 'pending')
      .executeTakeFirstOrThrow();
    // This server's webhook loop is off: every enrolment of this file waits there.
    expect(Number(pending.n)).toBeGreaterThan(0);
    const text = await scrape();
    expect(sample(text, 'sesame_outbox_pending{outbox="webhooks"}')).toBe(Number(pending.n));
    expect(sample(text, 'sesame_outbox_pending{outbox="messages"}')).toBe(0);
  });

  it('answers only with the token; without one configured, only in development', async () => {
    for (const auth of [null, 'wrong-token-0123456789abcdef0123456789', t.apiKey]) {
      const res = await t.api('GET', '/metrics', undefined, { auth });
      expect(res.status).toBe(401);
      expect(res.body.code).toBe('ERR_UNAUTHORIZED');
      expect(JSON.stringify(res.body)).not.toContain('sesame_');
    }
    // The scheme's name is case-insensitive (RFC 9110 §11.1).
    const lower = await t.sesame.app.inject({ method: 'GET', url: '/metrics', headers: { authorization: `bearer ${TOKEN}` } });
    expect(lower.statusCode).toBe(200);
    const open = await startSesame(kind);
    try {
      expect((await open.api('GET', '/metrics', undefined, { auth: null })).status).toBe(200);
    } finally {
      await open.close();
    }
    // Production without a token: no route at all, so no method's answer tells it exists.
    const app = Fastify();
    const noRoute = noRouteFor(trackAllowedMethods(app));
    const production = { config: { mode: 'production', metricsToken: null }, metrics: { answered: () => {} } };
    await metricsRoutes(app, production as unknown as Services);
    app.setNotFoundHandler(noRoute);
    for (const method of ['GET', 'POST', 'DELETE'] as const) {
      const hidden = await app.inject({ method, url: '/metrics' });
      expect(hidden.statusCode, method).toBe(404);
      expect(hidden.headers.allow).toBeUndefined();
    }
    await app.close();
  });
});
