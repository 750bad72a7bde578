import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import { Secret, TOTP } from 'otpauth';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, type TestDatabase } from '../support/databases.js';
import { baseEnv, runCli, startServerProcess, tempDir, type ServerProcess } from '../support/robust-processes.js';

/**
 * RTS art. 4(3)(b) under real concurrency: two server processes on one PostgreSQL database receive 200
 * simultaneous wrong attempts for one customer. The count is kept in the database under a row lock, so
 * exactly `maxAttempts` failures are counted and everything after them meets the block, whichever
 * process answers. Needs a PostgreSQL server: the embedded database belongs to one process.
 */
const pgUrl = process.env.TEST_DATABASE_URL;
const ATTEMPTS = 200;
const MAX_ATTEMPTS = 5;
const PASSWORD = 'correct horse battery staple';

const suite = pgUrl ? describe : describe.skip;
const title = pgUrl
  ? 'two server processes on one PostgreSQL count exactly 5 failures out of 200 concurrent wrong attempts'
  : 'two server processes on one PostgreSQL (SKIPPED: set TEST_DATABASE_URL to a PostgreSQL server to run it)';

suite(title, () => {
  let tdb: TestDatabase;
  const servers: ServerProcess[] = [];
  const dirs: string[] = [];
  let apiKey: string;
  let env: Record<string, string>;

  beforeAll(async () => {
    tdb = await createTestDatabase('postgres');
    const kek = randomBytes(32).toString('base64');
    const dataDir = () => {
      const d = tempDir('sesame-conc-');
      dirs.push(d);
      return d;
    };
    env = baseEnv({
      DATABASE_URL: tdb.databaseUrl!,
      SESAME_MODE: 'development',
      SESAME_DEMO: 'false',
      SESAME_KEKS: `k1:${kek}`,
      LOG_LEVEL: 'warn',
      SESAME_DATA_DIR: dataDir(),
      // One service behind a load balancer: one public URL (the codes' issuer), whichever process answers.
      SESAME_PUBLIC_URL: 'http://sesame.test',
    });
    // The CLI migrates the database first, so the two servers start on a ready schema.
    const rp = await runCli(['rp', 'create', '--name', 'test'], env);
    expect(rp.code, rp.stderr).toBe(0);
    apiKey = /API key \(shown once\): (sk_\S+)/.exec(rp.stdout)?.[1] ?? '';
    expect(apiKey, rp.stdout).toMatch(/^sk_/);
    servers.push(
      ...(await Promise.all([
        startServerProcess({ ...env, SESAME_DATA_DIR: dataDir() }),
        startServerProcess({ ...env, SESAME_DATA_DIR: dataDir() }),
      ])),
    );
  }, 240_000);

  afterAll(async () => {
    await Promise.all(servers.map((s) => s.stop()));
    await tdb?.cleanup();
    for (const d of dirs) fs.rmSync(d, { recursive: true, force: true });
  }, 60_000);

  async function api(server: ServerProcess, method: string, path: string, body?: unknown) {
    const res = await fetch(`${server.url}${path}`, {
      method,
      headers: { authorization: `Bearer ${apiKey}`, ...(body !== undefined ? { 'content-type': 'application/json' } : {}) },
      ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
    });
    const text = await res.text();
    return { status: res.status, body: text ? JSON.parse(text) : null };
  }

  it('answers exactly 5 × 401 then 195 × 423, audits exactly 5 failures, and refuses the right elements afterwards', async () => {
    const [a, b] = servers as [ServerProcess, ServerProcess];

    // A customer with password + TOTP, through the HTTP API of both processes.
    const created = await api(a, 'POST', '/v1/customers', { ref: `conc-${Date.now()}`, displayName: 'Concurrent Customer' });
    expect(created.status).toBe(201);
    const id = created.body.id as string;
    expect((await api(b, 'POST', `/v1/customers/${id}/authenticators/password`, { password: PASSWORD })).status).toBe(201);
    const enrol = await api(a, 'POST', `/v1/customers/${id}/authenticators/totp`, {});
    expect(enrol.status).toBe(201);
    const totp = new TOTP({ secret: Secret.fromBase32(enrol.body.secret), algorithm: 'SHA1', digits: 6, period: 30 });
    const step = () => Math.floor(Date.now() / 30_000);
    const codeAt = (s: number) => totp.generate({ timestamp: s * 30_000 });
    const activationStep = step();
    const activated = await api(b, 'POST', `/v1/customers/${id}/authenticators/${enrol.body.id}/activate`, {
      code: codeAt(activationStep),
    });
    expect(activated.status, JSON.stringify(activated.body)).toBe(200);

    // A well-formed code that is none of the codes the server could accept during the test.
    const near = new Set(Array.from({ length: 9 }, (_, i) => codeAt(step() - 2 + i)));
    const wrongCode = ['000000', '111111', '222222', '333333'].find((c) => !near.has(c))!;

    // Each attempt on its own login operation, created beforehand on either process.
    const serverOf = (i: number) => (i % 2 === 0 ? a : b);
    const ops = await Promise.all(
      Array.from({ length: ATTEMPTS }, async (_, i) => {
        const op = await api(serverOf(i), 'POST', '/v1/operations', { customerId: id, data: { type: 'login' } });
        expect(op.status).toBe(201);
        return op.body.id as string;
      }),
    );

    // All at once: the password is right, the TOTP is wrong.
    const results = await Promise.all(
      ops.map((op, i) =>
        api(serverOf(i), 'POST', `/v1/operations/${op}/authenticate`, {
          factors: [
            { method: 'password', password: PASSWORD },
            { method: 'totp', code: wrongCode },
          ],
        }),
      ),
    );

    const tally = new Map<string, number>();
    for (const r of results) tally.set(`${r.status} ${r.body?.code}`, (tally.get(`${r.status} ${r.body?.code}`) ?? 0) + 1);
    expect(Object.fromEntries(tally)).toEqual({
      '401 ERR_AUTHENTICATION_FAILED': MAX_ATTEMPTS,
      '423 ERR_CUSTOMER_BLOCKED': ATTEMPTS - MAX_ATTEMPTS,
    });
    // The five failures were counted one after the other: 4, 3, 2, 1, then 0 remaining.
    const remaining = results.filter((r) => r.status === 401).map((r) => r.body.remainingAttempts as number);
    expect(remaining.sort()).toEqual([0, 1, 2, 3, 4]);
    // Both processes took part.
    for (const parity of [0, 1]) {
      expect(results.filter((_, i) => i % 2 === parity).length).toBe(ATTEMPTS / 2);
    }

    const audit = await api(a, 'GET', `/v1/customers/${id}/audit?limit=500`);
    expect(audit.status).toBe(200);
    const types = (audit.body.items as { type: string }[]).map((e) => e.type);
    expect(types.filter((t) => t === 'sca.failed')).toHaveLength(MAX_ATTEMPTS);
    expect(types.filter((t) => t === 'customer.blocked')).toHaveLength(1);

    const security = await api(b, 'GET', `/v1/customers/${id}/security`);
    expect(security.body).toMatchObject({ blocked: true, permanent: false, remainingAttempts: 0 });

    // The right password and a right, unused TOTP code are refused while the block lasts, on both processes.
    for (const server of [a, b]) {
      const op = await api(server, 'POST', '/v1/operations', { customerId: id, data: { type: 'login' } });
      const right = await api(server, 'POST', `/v1/operations/${op.body.id}/authenticate`, {
        factors: [
          { method: 'password', password: PASSWORD },
          { method: 'totp', code: codeAt(Math.max(step(), activationStep + 1)) },
        ],
      });
      expect(right.status).toBe(423);
      expect(right.body.code).toBe('ERR_CUSTOMER_BLOCKED');
    }
    // Still exactly five counted failures: attempts during a block are not failures.
    const after = await api(b, 'GET', `/v1/customers/${id}/audit?limit=500`);
    expect((after.body.items as { type: string }[]).filter((e) => e.type === 'sca.failed')).toHaveLength(MAX_ATTEMPTS);
  }, 180_000);

  it('one right TOTP code sent 40 times at once, to both processes, authorises exactly one payment', async () => {
    const [a, b] = servers as [ServerProcess, ServerProcess];
    const created = await api(a, 'POST', '/v1/customers', { ref: `conc-ok-${Date.now()}`, displayName: 'Racing Customer' });
    const id = created.body.id as string;
    const enrol = await api(a, 'POST', `/v1/customers/${id}/authenticators/totp`, {});
    const totp = new TOTP({ secret: Secret.fromBase32(enrol.body.secret), algorithm: 'SHA1', digits: 6, period: 30 });
    const step = () => Math.floor(Date.now() / 30_000);
    const codeAt = (s: number) => totp.generate({ timestamp: s * 30_000 });
    // Steps used one after the other, all within the server's ±1 window now: previous, current, next.
    const activationStep = step() - 1;
    expect(
      (await api(b, 'POST', `/v1/customers/${id}/authenticators/${enrol.body.id}/activate`, { code: codeAt(activationStep) })).status,
    ).toBe(200);
    expect((await api(b, 'POST', `/v1/customers/${id}/authenticators/password`, { password: PASSWORD })).status).toBe(201);
    // A login session, so that each payment needs the TOTP alone (its knowledge element is the login's).
    const login = await api(a, 'POST', '/v1/operations', { customerId: id, data: { type: 'login' } });
    const loginStep = activationStep + 1;
    const loggedIn = await api(a, 'POST', `/v1/operations/${login.body.id}/authenticate`, {
      factors: [
        { method: 'password', password: PASSWORD },
        { method: 'totp', code: codeAt(loginStep) },
      ],
    });
    expect(loggedIn.status, JSON.stringify(loggedIn.body)).toBe(200);
    const payment = {
      type: 'payment',
      amount: { value: 25000, currency: 'EUR' },
      payee: { name: 'Plomberie Martin', iban: 'FR7630006000011234567890189' },
    };
    const serverOf = (i: number) => (i % 2 === 0 ? a : b);
    const ops = await Promise.all(
      Array.from({ length: 40 }, async (_, i) => {
        const op = await api(serverOf(i), 'POST', '/v1/operations', {
          customerId: id,
          data: payment,
          sessionToken: loggedIn.body.session.token,
        });
        expect(op.status, JSON.stringify(op.body)).toBe(201);
        return op.body.id as string;
      }),
    );

    const code = codeAt(loginStep + 1);
    const results = await Promise.all(
      ops.map((op, i) => api(serverOf(i), 'POST', `/v1/operations/${op}/authenticate`, { factors: [{ method: 'totp', code }] })),
    );

    expect(results.filter((r) => r.status === 200)).toHaveLength(1);
    // The others are failures (the code was used), counted like any: five, then the block.
    expect(results.filter((r) => r.status !== 200).every((r) => r.status === 401 || r.status === 423)).toBe(true);
    const audit = await api(b, 'GET', `/v1/customers/${id}/audit?limit=500`);
    const items = audit.body.items as { type: string; data: { operationType?: string } }[];
    expect(items.filter((e) => e.type === 'sca.succeeded' && e.data.operationType === 'payment')).toHaveLength(1);
    const authorised = await Promise.all(ops.map((op) => api(a, 'GET', `/v1/operations/${op}`)));
    expect(authorised.filter((r) => r.body.status === 'authorised')).toHaveLength(1);
  }, 120_000);
  it('eight authentication codes of one customer, each consumed twice at once over both processes: each exactly once, and the audit chain stays whole', async () => {
    const [a, b] = servers as [ServerProcess, ServerProcess];
    const created = await api(a, 'POST', '/v1/customers', { ref: `conc-consume-${Date.now()}`, displayName: 'Consuming Customer' });
    const id = created.body.id as string;
    const step = () => Math.floor(Date.now() / 30_000);
    const s0 = step();
    // Eight TOTP apps (each accepts one code per step), enrolled before the password so no step-up is needed.
    const totps: { id: string; at(s: number): string }[] = [];
    for (let i = 0; i < 8; i++) {
      const enrol = await api(a, 'POST', `/v1/customers/${id}/authenticators/totp`, {});
      const totp = new TOTP({ secret: Secret.fromBase32(enrol.body.secret), algorithm: 'SHA1', digits: 6, period: 30 });
      const at = (s: number) => totp.generate({ timestamp: s * 30_000 });
      expect((await api(b, 'POST', `/v1/customers/${id}/authenticators/${enrol.body.id}/activate`, { code: at(s0 - 1) })).status).toBe(200);
      totps.push({ id: enrol.body.id as string, at });
    }
    expect((await api(b, 'POST', `/v1/customers/${id}/authenticators/password`, { password: PASSWORD })).status).toBe(201);
    const login = await api(a, 'POST', '/v1/operations', { customerId: id, data: { type: 'login' } });
    const loggedIn = await api(a, 'POST', `/v1/operations/${login.body.id}/authenticate`, {
      factors: [
        { method: 'password', password: PASSWORD },
        { method: 'totp', authenticatorId: totps[0]!.id, code: totps[0]!.at(s0) },
      ],
    });
    expect(loggedIn.status, JSON.stringify(loggedIn.body)).toBe(200);
    const codes: string[] = [];
    for (const [i, t] of totps.entries()) {
      const op = await api(i % 2 ? a : b, 'POST', '/v1/operations', {
        customerId: id,
        data: { type: 'payment', amount: { value: 1000 + i, currency: 'EUR' }, payee: { name: `Payee ${i}`, merchantId: `merchant-${i}` } },
        sessionToken: loggedIn.body.session.token,
      });
      const auth = await api(i % 2 ? b : a, 'POST', `/v1/operations/${op.body.id}/authenticate`, {
        factors: [{ method: 'totp', authenticatorId: t.id, code: t.at(s0 + 1) }],
      });
      expect(auth.status, JSON.stringify(auth.body)).toBe(200);
      codes.push(auth.body.authenticationCode as string);
    }

    // Sixteen consumptions at once: every code twice, to each process once.
    const results = await Promise.all(
      codes.flatMap((code) => [a, b].map((server) => api(server, 'POST', '/v1/authentication-codes/consume', { code }))),
    );
    expect(results.filter((r) => r.status === 200)).toHaveLength(8);
    expect(results.filter((r) => r.status === 409).map((r) => r.body.code)).toEqual(Array(8).fill('ERR_CODE_ALREADY_USED'));
    const consumedOps = results.filter((r) => r.status === 200).map((r) => r.body.operationId as string);
    expect(new Set(consumedOps).size).toBe(8);
    const audit = await api(b, 'GET', `/v1/customers/${id}/audit?limit=500`);
    expect((audit.body.items as { type: string }[]).filter((e) => e.type === 'authentication_code.consumed')).toHaveLength(8);
    // Every consumption appended to the customer's chain in turn: the chain verifies.
    const verify = await runCli(['audit', 'verify'], env);
    expect(verify.code, verify.stdout + verify.stderr).toBe(0);
  }, 120_000);
});
