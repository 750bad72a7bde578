import { availableUses, parallel, PASSWORD, PAYMENT, takeTotp, type Customer } from './customers.js';
import type { Client } from './http.js';
import { closedLoop, openLoop, type Flow } from './load.js';
import { ocraFactor, type OcraCustomer, type SmsCustomer } from './sms-ocra.js';
import type { RunResult } from './stats.js';

/**
 * The scenarios of the issue. Each customer keeps a queue of operations created ahead of the run (for
 * "an existing operation") and its TOTPs; a closed-loop worker owns the customers whose index ≡ worker
 * (mod concurrency), so two workers never wait on the same customer's lock.
 */
export type Queues = Map<Customer, string[]>;

export const newQueues = (customers: Customer[]): Queues => new Map(customers.map((c) => [c, []]));
export const queued = (q: Queues) => [...q.values()].reduce((n, ops) => n + ops.length, 0);

/**
 * Creates `total` operations spread evenly over the customers (payments in each one's login session,
 * or logins), never more per customer than it has TOTP uses now, and none started after `budgetMs`.
 * Returns how many were created and the seconds it took.
 */
export async function createOperations(
  client: Client,
  queues: Queues,
  kind: 'payment' | 'login',
  total: number,
  concurrency: number,
  budgetMs = Number.POSITIVE_INFINITY,
): Promise<{ created: number; seconds: number }> {
  const customers = [...queues.keys()];
  const perCustomer = Math.ceil(total / customers.length);
  const jobs: Customer[] = [];
  for (let round = 0; round < perCustomer && jobs.length < total; round++) {
    for (const c of customers) {
      const q = queues.get(c)!;
      if (jobs.length < total && round + q.length < availableUses(c)) jobs.push(c);
    }
  }
  const t = performance.now();
  let created = 0;
  await parallel(jobs, concurrency, async (c) => {
    if (performance.now() - t > budgetMs) return;
    const body =
      kind === 'payment'
        ? { customerId: c.id, sessionToken: c.sessionToken, data: PAYMENT }
        : { customerId: c.id, data: { type: 'login' } };
    const op = await client.request<{ id: string }>('POST', '/v1/operations', body, 201);
    queues.get(c)!.push(op.id);
    created++;
  });
  return { created, seconds: (performance.now() - t) / 1000 };
}

/** A customer (from `mine`, in turn) that has a queued operation and a TOTP step, with both taken. */
function picker(mine: Customer[], queues: Queues | null) {
  let next = 0;
  return () => {
    for (let i = 0; i < mine.length; i++) {
      const c = mine[(next + i) % mine.length]!;
      const q = queues?.get(c);
      if (q && q.length === 0) continue;
      const totp = takeTotp(c);
      if (!totp) continue;
      next = (next + i + 1) % mine.length;
      return { c, totp, op: q ? q.shift()! : null };
    }
    return null;
  };
}

/** The customers worker `worker` of `workers` owns; with fewer customers than workers, some share one. */
export function share<C>(customers: C[], worker: number, workers: number): C[] {
  if (customers.length === 0) return [];
  if (customers.length < workers) return [customers[worker % customers.length]!];
  return customers.filter((_, i) => i % workers === worker);
}

/** (a) One SCA attempt on an existing payment operation started in the login session: the TOTP alone. */
function totpFlow(client: Client, pick: ReturnType<typeof picker>): Flow {
  return async () => {
    const p = pick();
    if (!p) return false;
    await client.request('POST', `/v1/operations/${p.op}/authenticate`, { factors: [p.totp] }, 200);
    return true;
  };
}

export function runTotpClosed(client: Client, queues: Queues, concurrency: number, seconds: number): Promise<RunResult> {
  const customers = [...queues.keys()];
  return closedLoop(concurrency, seconds, (w) => totpFlow(client, picker(share(customers, w, concurrency), queues)));
}

export function runTotpOpen(client: Client, queues: Queues, rate: number, seconds: number) {
  return openLoop(rate, seconds, totpFlow(client, picker([...queues.keys()], queues)));
}

/** (b) The whole payment: create the operation in the session → TOTP → consume the authentication code. */
export function runFullFlow(client: Client, customers: Customer[], concurrency: number, seconds: number): Promise<RunResult> {
  return closedLoop(concurrency, seconds, (w) => {
    const pick = picker(share(customers, w, concurrency), null);
    return async () => {
      const p = pick();
      if (!p) return false;
      const op = await client.request<{ id: string }>(
        'POST',
        '/v1/operations',
        { customerId: p.c.id, sessionToken: p.c.sessionToken, data: PAYMENT },
        201,
      );
      const auth = await client.request<{ authenticationCode: string }>(
        'POST',
        `/v1/operations/${op.id}/authenticate`,
        { factors: [p.totp] },
        200,
      );
      await client.request('POST', '/v1/authentication-codes/consume', { code: auth.authenticationCode, data: PAYMENT }, 200);
      return true;
    };
  });
}

/**
 * How many login operations (c) prepares: one per login the raw argon2id rate allows over the run, half as
 * many again (the server never beats the raw rate), and two per worker in hand.
 */
export const loginOperationsFor = (argon2PerSecond: number, seconds: number, concurrency: number) =>
  Math.ceil(argon2PerSecond * seconds * 1.5) + concurrency * 2;

/** (c) A login attempt on an existing login operation: password (argon2id) + TOTP. */
export function runPassword(client: Client, queues: Queues, concurrency: number, seconds: number): Promise<RunResult> {
  const customers = [...queues.keys()];
  return closedLoop(concurrency, seconds, (w) => {
    const pick = picker(share(customers, w, concurrency), queues);
    return async () => {
      const p = pick();
      if (!p) return false;
      await client.request(
        'POST',
        `/v1/operations/${p.op}/authenticate`,
        { factors: [{ method: 'password', password: PASSWORD }, p.totp] },
        200,
      );
      return true;
    };
  });
}

/** A customer (from `mine`, in turn) with a prepared operation, which is taken. */
function preparedPicker<C extends { ready: { op: string; code: string }[] }>(mine: C[]) {
  let next = 0;
  return () => {
    for (let i = 0; i < mine.length; i++) {
      const c = mine[(next + i) % mine.length]!;
      if (c.ready.length === 0) continue;
      next = (next + i + 1) % mine.length;
      return { c, ...c.ready.shift()! };
    }
    return null;
  };
}

/** (d) The SMS code received for an existing payment operation started in the login session: the code alone. */
export function runSms(client: Client, customers: SmsCustomer[], concurrency: number, seconds: number): Promise<RunResult> {
  return closedLoop(concurrency, seconds, (w) => {
    const pick = preparedPicker(share(customers, w, concurrency));
    return async () => {
      const p = pick();
      if (!p) return false;
      await client.request('POST', `/v1/operations/${p.op}/authenticate`, { factors: [{ method: 'sms', code: p.code }] }, 200);
      return true;
    };
  });
}

/** (e) The OCRA response (computed here) to the challenge of an existing payment operation started in the login session. */
export function runOcra(client: Client, customers: OcraCustomer[], concurrency: number, seconds: number): Promise<RunResult> {
  return closedLoop(concurrency, seconds, (w) => {
    const pick = preparedPicker(share(customers, w, concurrency));
    return async () => {
      const p = pick();
      if (!p) return false;
      await client.request('POST', `/v1/operations/${p.op}/authenticate`, { factors: [ocraFactor(p.c, p.code)] }, 200);
      return true;
    };
  });
}
