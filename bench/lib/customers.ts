import { randomBytes } from 'node:crypto';
import { HttpError, type Client } from './http.js';
import { base32Decode, codeAt, SLACK_MS, stepOf, usableStep } from './totp.js';

/**
 * The customers a benchmark authenticates: each has a password, K activated TOTP authenticators and a
 * login session. A TOTP code is accepted once per 30 s step per authenticator (window ±1), so the
 * number of (authenticator, step) pairs bounds how many authentications a run can do: K × customers
 * authenticators give about 2 uses at once, then one more every 30 s.
 */
export const PASSWORD = 'bench horse battery staple';

export interface Totp {
  id: string;
  key: Buffer;
  lastStep: number;
}

export interface Customer {
  id: string;
  sessionToken: string;
  totps: Totp[];
  /** Rotates over the TOTPs so that each is used in turn. */
  next: number;
}

export interface Factor {
  method: 'totp';
  authenticatorId: string;
  code: string;
}

/** The next TOTP of this customer that has a usable step now, marking that step used; null when none has. */
export function takeTotp(c: Customer, nowMs = Date.now()): Factor | null {
  for (let i = 0; i < c.totps.length; i++) {
    const t = c.totps[(c.next + i) % c.totps.length]!;
    const step = usableStep(t.lastStep, nowMs);
    if (step === null) continue;
    c.next = (c.next + i + 1) % c.totps.length;
    t.lastStep = step;
    return { method: 'totp', authenticatorId: t.id, code: codeAt(t.key, step) };
  }
  return null;
}

/**
 * How many TOTP uses this customer can count on for the rest of the current step: steps current and
 * current+1 not used yet. (Step current−1 is usable too, but stops being safe a little before the
 * step ends, so it is not counted.)
 */
export function availableUses(c: Customer, nowMs = Date.now()): number {
  let n = 0;
  const now = stepOf(nowMs);
  for (const t of c.totps) n += Math.max(0, now + 1 - Math.max(t.lastStep + 1, now) + 1);
  return n;
}

export const PAYMENT = {
  type: 'payment',
  amount: { value: 25000, currency: 'EUR' },
  payee: { name: 'Plomberie Martin', iban: 'FR76 3000 6000 0112 3456 7890 189' },
} as const;

/** Runs `fn` over `items` with at most `concurrency` at a time; the first failure stops new work and rejects. */
export async function parallel<T>(items: readonly T[], concurrency: number, fn: (item: T, i: number) => Promise<void>): Promise<void> {
  let next = 0;
  let failed: unknown = null;
  await Promise.all(
    Array.from({ length: Math.min(concurrency, items.length) }, async () => {
      while (failed === null && next < items.length) {
        const i = next++;
        try {
          await fn(items[i]!, i);
        } catch (e) {
          failed ??= e;
        }
      }
    }),
  );
  if (failed !== null) throw failed;
}

export interface SetupReport {
  customers: number;
  totpsPerCustomer: number;
  seconds: number;
  /** Seconds spent registering customers and TOTPs, and on passwords + logins (argon2). */
  totpSeconds: number;
  passwordSeconds: number;
  /** Logins tried again because their TOTP step expired while they waited (should be 0). */
  retriedLogins: number;
}

/**
 * Through the API, as tour.sh does: register the customers, enrol and activate their TOTPs round by
 * round (before the password: once a customer can do SCA, adding an authenticator needs a step-up)
 * until `totpsPerCustomer` rounds, or until one more round would leave less than `passwordPhaseMs` of
 * `budgetMs`; then set each password and log in with
 * password + TOTP, keeping the session: payments started in it need only the TOTP.
 */
export async function setUpCustomers(
  client: Client,
  opts: { customers: number; totpsPerCustomer: number; budgetMs: number; passwordPhaseMs: number; concurrency: number; tag: string },
): Promise<{ customers: Customer[]; report: SetupReport }> {
  const t0 = performance.now();
  const customers: Customer[] = new Array(opts.customers);
  const ids = Array.from({ length: opts.customers }, (_, i) => i);
  await parallel(ids, opts.concurrency, async (i) => {
    const ref = `bench-${opts.tag}-${i}-${randomBytes(3).toString('hex')}`;
    const c = await client.request<{ id: string }>(
      'POST',
      '/v1/customers',
      { ref, displayName: `Bench ${i}`, email: `bench${i}@example.com`, hasActiveCard: true },
      201,
    );
    customers[i] = { id: c.id, sessionToken: '', totps: [], next: 0 };
  });
  let rounds = 0;
  let roundMs = 0;
  const roomForAnother = () => performance.now() - t0 + roundMs + opts.passwordPhaseMs < opts.budgetMs;
  while (rounds < opts.totpsPerCustomer && (rounds < 2 || roomForAnother())) {
    const r0 = performance.now();
    await parallel(customers, opts.concurrency, async (c) => {
      const e = await client.request<{ id: string; secret: string }>(
        'POST',
        `/v1/customers/${c.id}/authenticators/totp`,
        { label: `bench ${rounds}` },
        201,
      );
      const key = base32Decode(e.secret);
      // The earliest step the server still accepts: the later ones stay free for the benchmark.
      const step = stepOf(Date.now() + SLACK_MS) - 1;
      await client.request('POST', `/v1/customers/${c.id}/authenticators/${e.id}/activate`, { code: codeAt(key, step) }, 200);
      c.totps.push({ id: e.id, key, lastStep: step });
    });
    rounds++;
    roundMs = performance.now() - r0;
  }
  const t1 = performance.now();
  let retriedLogins = 0;
  await parallel(customers, opts.concurrency, async (c) => {
    await client.request('POST', `/v1/customers/${c.id}/authenticators/password`, { password: PASSWORD }, 201);
    // A login that took too long (argon2 queue) may find its TOTP step gone: try again, twice at most
    // (the customer is blocked after five failures in a row).
    for (let attempt = 1; ; attempt++) {
      const login = await client.request<{ id: string }>('POST', '/v1/operations', { customerId: c.id, data: { type: 'login' } }, 201);
      const totp = takeTotp(c);
      if (!totp) throw new Error('no TOTP step left for the login');
      try {
        const auth = await client.request<{ session: { token: string } }>(
          'POST',
          `/v1/operations/${login.id}/authenticate`,
          { factors: [{ method: 'password', password: PASSWORD }, totp] },
          200,
        );
        c.sessionToken = auth.session.token;
        break;
      } catch (e) {
        if (!(e instanceof HttpError && e.status === 401) || attempt === 3) throw e;
        retriedLogins++;
      }
    }
  });
  const t2 = performance.now();
  return {
    customers,
    report: {
      customers: customers.length,
      totpsPerCustomer: rounds,
      seconds: (t2 - t0) / 1000,
      totpSeconds: (t1 - t0) / 1000,
      passwordSeconds: (t2 - t1) / 1000,
      retriedLogins,
    },
  };
}
