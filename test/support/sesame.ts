import { Secret, TOTP } from 'otpauth';
import { createSesame, type Sesame } from '../../src/app.js';
import { loadConfig } from '../../src/config.js';
import { ManualClock } from '../../src/core/clock.js';
import { createRelyingParty } from '../../src/journeys/principals.js';
import { createTestDatabase, type DatabaseKind, type TestDatabase } from './databases.js';

/**
 * A whole Sésame server started in-process for one database kind, driven through `app.inject` (no
 * socket, fast) with a clock the test moves. Each call gets a fresh database: in-memory PGlite, or a new
 * PostgreSQL database on the `TEST_DATABASE_URL` server.
 *
 * @example
 * const t = await startSesame('pglite', { SESAME_BLOCK_LADDER: '1m' });
 * const alice = await t.newCustomerWithPasswordAndTotp();
 * const res = await t.api('POST', '/v1/operations', { customerId: alice.id, data: { type: 'login' } });
 * await t.close();
 */
export interface ApiResponse<B = any> {
  status: number;
  body: B;
  headers: Record<string, string | string[] | number | undefined>;
}

export interface TestCustomer {
  id: string;
  ref: string;
  password: string;
  /** base32 TOTP seed. */
  secret: string;
  totpId: string;
  /** The TOTP code of the ManualClock's current time step, moved by `offsetSteps` steps (pure: nothing advances). */
  code(offsetSteps?: number): string;
  /**
   * A code this customer has not used yet: the next time step after the last one handed out, within the
   * server's ±1 step window, advancing the clock by 30 s only when that step is not yet reachable.
   * A TOTP code is single-use (the last used step is remembered), so every authentication takes a fresh one.
   */
  nextCode(): string;
}

export interface TestSesame {
  sesame: Sesame;
  clock: ManualClock;
  rpId: string;
  apiKey: string;
  kind: DatabaseKind;
  /** One request as the relying party (or with `auth`: another `Authorization` bearer, `null` for none). */
  api<B = any>(method: string, path: string, body?: unknown, opts?: { auth?: string | null }): Promise<ApiResponse<B>>;
  newCustomerWithPasswordAndTotp(opts?: { password?: string }): Promise<TestCustomer>;
  /** A login with password + a fresh TOTP code; returns the 200 body (authentication code and session). */
  login(c: TestCustomer, extra?: Record<string, unknown>): Promise<ApiResponse>;
  /** Authorises an operation of this data with password + a fresh TOTP code (200 expected); returns its authentication code. */
  authorise(c: TestCustomer, data: Record<string, unknown>): Promise<string>;
  /** Creates an operation (201 expected) and returns its id. */
  createOperation(customerId: string, data: Record<string, unknown>, sessionToken?: string): Promise<string>;
  /** Every secret this helper handed out or received (passwords, seeds, codes, tokens), for leak checks. */
  secrets: Set<string>;
  close(): Promise<void>;
}

const PERIOD_MS = 30_000;
let customerSeq = 0;

export async function startSesame(kind: DatabaseKind, env: Record<string, string> = {}): Promise<TestSesame> {
  const tdb: TestDatabase = await createTestDatabase(kind);
  const clock = new ManualClock('2026-01-15T09:00:00Z');
  let sesame: Sesame;
  try {
    const config = loadConfig({ PORT: '0', SESAME_DEMO: 'false', ...env }, { databaseUrl: tdb.databaseUrl });
    sesame = await createSesame({ config, clock, logger: false, webhooks: false, dataDir: null });
  } catch (e) {
    await tdb.cleanup();
    throw e;
  }
  const rp = await createRelyingParty(sesame.services, 'Test bank');
  const secrets = new Set<string>();

  const api = async <B = any>(method: string, path: string, body?: unknown, opts: { auth?: string | null } = {}) => {
    const auth = opts.auth === undefined ? rp.apiKey : opts.auth;
    const res = await sesame.app.inject({
      method: method as 'GET',
      url: path,
      headers: {
        ...(auth ? { authorization: `Bearer ${auth}` } : {}),
        ...(body !== undefined ? { 'content-type': 'application/json' } : {}),
      },
      ...(body !== undefined ? { payload: JSON.stringify(body) } : {}),
    });
    const text = res.body;
    const parsed = text && /json/.test(String(res.headers['content-type'] ?? '')) ? JSON.parse(text) : text;
    return { status: res.statusCode, body: parsed as B, headers: res.headers };
  };

  const expectStatus = (res: ApiResponse, status: number, what: string) => {
    if (res.status !== status) throw new Error(`${what}: expected ${status}, got ${res.status} ${JSON.stringify(res.body)}`);
    return res;
  };

  async function newCustomerWithPasswordAndTotp(opts: { password?: string } = {}): Promise<TestCustomer> {
    const ref = `c${++customerSeq}-${Math.random().toString(36).slice(2, 8)}`;
    const password = opts.password ?? `pw ${ref} correct horse battery`;
    const created = expectStatus(await api('POST', '/v1/customers', { ref, displayName: `Customer ${ref}` }), 201, 'create customer');
    const id = created.body.id as string;
    expectStatus(await api('POST', `/v1/customers/${id}/authenticators/password`, { password }), 201, 'set password');
    const enrol = expectStatus(await api('POST', `/v1/customers/${id}/authenticators/totp`, {}), 201, 'enrol totp');
    const secret = enrol.body.secret as string;
    const totp = new TOTP({ secret: Secret.fromBase32(secret), digits: 6, period: 30, algorithm: 'SHA1' });
    const step = () => Math.floor(clock.now().getTime() / PERIOD_MS);
    const atStep = (s: number) => totp.generate({ timestamp: s * PERIOD_MS });
    let lastStep = -1;
    const customer: TestCustomer = {
      id,
      ref,
      password,
      secret,
      totpId: enrol.body.id,
      code: (offsetSteps = 0) => atStep(step() + offsetSteps),
      nextCode() {
        let s = Math.max(step(), lastStep + 1);
        if (s > step() + 1) {
          clock.advance(PERIOD_MS);
          s = Math.max(step(), lastStep + 1);
        }
        lastStep = s;
        const code = atStep(s);
        secrets.add(code);
        return code;
      },
    };
    secrets.add(password);
    secrets.add(secret);
    expectStatus(
      await api('POST', `/v1/customers/${id}/authenticators/${customer.totpId}/activate`, { code: customer.nextCode() }),
      200,
      'activate totp',
    );
    return customer;
  }

  /** Password + a fresh TOTP code on an operation of this data. */
  async function passwordAndTotp(c: TestCustomer, data: Record<string, unknown>, extra: Record<string, unknown> = {}) {
    const opId = await createOperation(c.id, data);
    const res = await api('POST', `/v1/operations/${opId}/authenticate`, {
      factors: [
        { method: 'password', password: c.password },
        { method: 'totp', code: c.nextCode() },
      ],
      ...extra,
    });
    if (res.status === 200) {
      secrets.add(res.body.authenticationCode);
      if (res.body.session) secrets.add(res.body.session.token);
    }
    return res;
  }

  const login = (c: TestCustomer, extra: Record<string, unknown> = {}) => passwordAndTotp(c, { type: 'login' }, extra);

  async function authorise(c: TestCustomer, data: Record<string, unknown>) {
    return expectStatus(await passwordAndTotp(c, data), 200, `authorise ${String(data.type)}`).body.authenticationCode as string;
  }

  async function createOperation(customerId: string, data: Record<string, unknown>, sessionToken?: string) {
    const res = await api('POST', '/v1/operations', { customerId, data, ...(sessionToken ? { sessionToken } : {}) });
    return expectStatus(res, 201, `create ${String(data.type)} operation`).body.id as string;
  }

  return {
    sesame,
    clock,
    rpId: rp.id,
    apiKey: rp.apiKey,
    kind,
    api,
    newCustomerWithPasswordAndTotp,
    login,
    authorise,
    createOperation,
    secrets,
    async close() {
      try {
        await sesame.close();
      } finally {
        await tdb.cleanup();
      }
    },
  };
}
