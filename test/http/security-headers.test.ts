import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { securityHeadersFor } from '../../src/http/server.js';
import { startSesame, type TestSesame } from '../support/sesame.js';

// Headers do not depend on the database: the embedded one is enough.
describe('security headers on every answer', () => {
  let t: TestSesame;
  beforeAll(async () => {
    t = await startSesame('pglite');
  });
  afterAll(() => t?.close());

  it('an API answer, an error and an unknown route all carry the policy, and API answers are never cached', async () => {
    const c = await t.newCustomerWithPasswordAndTotp();
    const answers = [
      await t.api('GET', `/v1/customers/${c.id}/security`),
      await t.api('POST', '/v1/operations', { customerId: c.id, data: { type: 'nonsense' } }),
      await t.api('GET', '/v1/no-such-route'),
    ];
    expect(answers.map((a) => a.status)).toEqual([200, 400, 404]);
    for (const { headers } of answers) {
      const csp = String(headers['content-security-policy']);
      expect(csp).toContain("default-src 'self'");
      expect(csp).toContain("script-src 'self'");
      expect(csp).toContain("frame-ancestors 'self'");
      expect(headers['x-content-type-options']).toBe('nosniff');
      expect(headers['x-frame-options']).toBe('SAMEORIGIN');
      expect(headers['referrer-policy']).toBe('no-referrer');
      // Development runs on plain http: no HSTS and no upgrade of requests to https.
      expect(headers['strict-transport-security']).toBeUndefined();
      expect(csp).not.toContain('upgrade-insecure-requests');
    }
    expect(answers[0]!.headers['cache-control']).toBe('no-store');
  });
});

describe('security headers in production', () => {
  it('production adds HSTS for a year with subdomains and upgrades insecure requests; development sends neither', () => {
    const prod = securityHeadersFor('production');
    expect(prod.get('strict-transport-security')).toBe('max-age=31536000; includeSubDomains');
    expect(prod.get('content-security-policy')).toContain('upgrade-insecure-requests');
    const dev = securityHeadersFor('development');
    expect(dev.has('strict-transport-security')).toBe(false);
    expect(dev.get('content-security-policy')).not.toContain('upgrade-insecure-requests');
    for (const h of [prod, dev]) expect(h.get('content-security-policy')).toContain("default-src 'self'");
  });
});
