/**
 * (f) WebAuthn assertions per second: a payment operation approved by one passkey gesture (the assertion
 * is checked under the customer's lock, its single-use challenge consumed and the signature counter
 * stored in the same transaction). The operations, their options and the signed assertions are made
 * beforehand; the load generator only posts them. Beside it, raw ECDSA P-256 verifies/s on one core,
 * measured in the same run.
 *
 * Part of `npm run bench`; on its own (PGlite, a few seconds): `npx tsx bench/webauthn.ts [--seconds=3]`.
 */
import { createPublicKey, generateKeyPairSync, sign, verify } from 'node:crypto';
import { SoftAuthenticator } from '../test/support/soft-webauthn.js';
import { Client } from './lib/http.js';
import type { Limit } from './lib/limits.js';
import { closedLoop } from './lib/load.js';
import { runStandalone } from './lib/standalone.js';
import type { RunResult } from './lib/stats.js';

const PAYMENT = {
  type: 'payment',
  amount: { value: 4_200, currency: 'EUR' },
  payee: { name: 'Boulangerie Dupont', iban: 'FR7630006000011234567890189' },
};

export interface WebAuthnCustomer {
  id: string;
  key: SoftAuthenticator;
}

/** One prepared flow: the operation and the assertion that approves it. */
interface Prepared {
  operationId: string;
  credential: Record<string, unknown>;
}

/** Customers whose only means is one passkey (bound by the bank as their first means: no step-up). */
export async function setUpWebAuthnCustomers(
  client: Client,
  opts: { count: number; concurrency: number; tag: string; serverUrl: string },
): Promise<WebAuthnCustomer[]> {
  const origin = `http://localhost:${new URL(opts.serverUrl).port}`;
  const out: WebAuthnCustomer[] = [];
  let next = 0;
  await Promise.all(
    Array.from({ length: opts.concurrency }, async () => {
      while (next < opts.count) {
        const i = next++;
        const ref = `bench-wa-${opts.tag}-${i}-${Math.random().toString(36).slice(2, 8)}`;
        const { id } = await client.request<{ id: string }>('POST', '/v1/customers', { ref, displayName: `Bench ${i}` }, 201);
        const key = new SoftAuthenticator({ rpId: 'localhost', origin });
        const options = await client.request('POST', `/v1/customers/${id}/authenticators/webauthn/registration-options`, {}, 200);
        await client.request('POST', `/v1/customers/${id}/authenticators/webauthn`, key.create(options), 201);
        out.push({ id, key });
      }
    }),
  );
  return out;
}

/**
 * Operations with their assertion, one queue per worker. A customer belongs to one worker, and its
 * assertions are queued in the order their counters were signed: the server sees counters go forward.
 */
export async function prepareWebAuthn(
  client: Client,
  customers: WebAuthnCustomer[],
  opts: { want: number; concurrency: number; budgetMs: number },
): Promise<{ queues: Prepared[][]; created: number; seconds: number }> {
  const t0 = performance.now();
  const queues: Prepared[][] = Array.from({ length: opts.concurrency }, () => []);
  const perCustomer = Math.ceil(opts.want / customers.length);
  let created = 0;
  await Promise.all(
    customers.map(async (c, i) => {
      const queue = queues[i % opts.concurrency]!;
      for (let n = 0; n < perCustomer && performance.now() - t0 < opts.budgetMs; n++) {
        const op = await client.request<{ id: string }>('POST', '/v1/operations', { customerId: c.id, data: PAYMENT }, 201);
        const { options } = await client.request('POST', `/v1/operations/${op.id}/webauthn/options`, undefined, 200);
        queue.push({ operationId: op.id, credential: c.key.get(options) });
        created++;
      }
    }),
  );
  // Interleave customers within a queue (same-customer order is kept): workers do not wait on one lock.
  return { queues: queues.map(interleave), created, seconds: (performance.now() - t0) / 1000 };
}

function interleave(queue: Prepared[]): Prepared[] {
  const byOp = new Map<string, Prepared[]>();
  for (const p of queue) {
    const k = String((p.credential as { id: string }).id);
    byOp.set(k, [...(byOp.get(k) ?? []), p]);
  }
  const lanes = [...byOp.values()];
  const out: Prepared[] = [];
  for (let i = 0; out.length < queue.length; i++) for (const lane of lanes) if (lane[i]) out.push(lane[i]!);
  return out;
}

/** The measured loop: each flow posts one assertion and expects the authentication code. */
export function runWebAuthn(client: Client, queues: Prepared[][], concurrency: number, seconds: number): Promise<RunResult> {
  return closedLoop(concurrency, seconds, (w) => async () => {
    const p = queues[w % queues.length]!.shift();
    if (!p) return false;
    await client.request(
      'POST',
      `/v1/operations/${p.operationId}/authenticate`,
      { factors: [{ method: 'webauthn', credential: p.credential }] },
      200,
    );
    return true;
  });
}

/** Raw ECDSA P-256 / SHA-256 signature verifications per second on one core (node:crypto). */
export function ecdsaVerifyLimit(seconds: number): Limit {
  const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const key = createPublicKey(publicKey.export({ format: 'pem', type: 'spki' }));
  const data = Buffer.alloc(37 + 32, 7);
  const sig = sign('sha256', data, privateKey);
  const end = performance.now() + seconds * 1000;
  let n = 0;
  while (performance.now() < end) {
    for (let i = 0; i < 50; i++) verify('sha256', data, key, sig);
    n += 50;
  }
  return { what: 'ECDSA P-256 verifies/s (1 core)', perSecond: n / seconds };
}

runStandalone(import.meta.url, {
  tag: 'webauthn',
  scenario: '(f) WebAuthn assertion on an existing payment op → auth code',
  async run({ client, srv, concurrency, seconds, measure }) {
    const ecdsa = ecdsaVerifyLimit(1);
    const customers = await setUpWebAuthnCustomers(client, { count: 2 * concurrency, concurrency, tag: 'solo', serverUrl: srv.url });
    const prep = await prepareWebAuthn(client, customers, { want: 400 * seconds, concurrency, budgetMs: 20_000 });
    process.stderr.write(`[webauthn] ${prep.created} operations with their assertion ready in ${prep.seconds.toFixed(1)} s\n`);
    const result = await measure(() => runWebAuthn(client, prep.queues, concurrency, seconds));
    return {
      result,
      notes: [`Raw ${ecdsa.what}: ${Math.round(ecdsa.perSecond)} (ratio ${(result.perSecond / ecdsa.perSecond).toFixed(3)}).`],
    };
  },
});
