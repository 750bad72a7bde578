import { randomBytes, randomInt } from 'node:crypto';
import { generateOcra } from '../../src/methods/ocra/ocra.js';
import { parallel, PASSWORD, PAYMENT } from './customers.js';
import type { Client } from './http.js';

/**
 * Customers for (d) SMS-OTP and (e) OCRA verification, set up through the API, and the operations they
 * authorise, prepared ahead of the run. Each has a password and one possession authenticator (an SMS
 * number or an OCRA hardware token), and a login session (password + that authenticator): payments
 * started in it reuse the knowledge element, so the SMS code or the OCRA response alone is applied.
 *
 * SMS codes are read from the development dev outbox (`GET /dev/phone/api/entries?to=`: in memory,
 * the newest 1000 messages, at most 100 per answer) — so at most `OUTBOX_BATCH` codes wait there at
 * once — and each payment names a payee of its own ("Payee 17"), which the SMS states: a code is
 * matched to its operation by number and payee, whatever order the dispatcher sends in.
 */
export const OCRA_SUITE = 'OCRA-1:HOTP-SHA1-6:QN08';
/** Codes a number may be sent for payments: 100 an hour (the server's maximum) less enrolment and login. */
export const SMS_PER_CUSTOMER = 95;
/** Codes asked for before reading them back: below the dev outbox's 1000 messages. */
const OUTBOX_BATCH = 600;
/** Challenges sent at once while preparing (d). */
const SEND_CONCURRENCY = 4;
/** How long a code may take to reach the dev outbox (the dispatcher sends 20 at a time). */
const DELIVERY_TIMEOUT_MS = 30_000;

export interface Prepared {
  op: string;
  /** SMS: the code received; OCRA: the challenge (the response is computed in the flow). */
  code: string;
}

export interface SmsCustomer {
  id: string;
  phone: string;
  authenticatorId: string;
  sessionToken: string;
  /** Codes sent to this number for payments so far. */
  sent: number;
  /** Dev outbox entries already read. */
  seen: Set<string>;
  ready: Prepared[];
}

export interface OcraCustomer {
  id: string;
  authenticatorId: string;
  key: Buffer;
  sessionToken: string;
  ready: Prepared[];
}

interface OutboxEntry {
  id: string;
  kind: string;
  to: string;
  text?: string;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const payment = (tag: number) => ({ ...PAYMENT, payee: { ...PAYMENT.payee, name: `Payee ${tag}` } });

/** Distinct French mobile numbers: +336, then 0–8 but not 3 (not mobile ranges), then 7 digits. */
function phones(n: number): string[] {
  const out = new Set<string>();
  const second = '01245678';
  while (out.size < n) out.add(`+336${second[randomInt(second.length)]}${randomInt(1_000_000, 10_000_000)}`);
  return [...out];
}

/** The SMS this number received that were not read yet, oldest first, marked read. */
async function unread(client: Client, c: SmsCustomer): Promise<{ code: string; text: string }[]> {
  const { entries } = await client.request<{ entries: OutboxEntry[] }>(
    'GET',
    `/dev/phone/api/entries?to=${encodeURIComponent(c.phone)}`,
    undefined,
    200,
  );
  const out: { code: string; text: string }[] = [];
  for (const e of entries.reverse()) {
    if (e.kind !== 'sms' || c.seen.has(e.id)) continue;
    c.seen.add(e.id);
    const code = /Code (\d{4,10})/.exec(e.text ?? '')?.[1];
    if (code) out.push({ code, text: e.text! });
  }
  return out;
}

/** The next code sent to this number (polling the dev outbox). */
async function nextCode(client: Client, c: SmsCustomer): Promise<string> {
  const deadline = Date.now() + DELIVERY_TIMEOUT_MS;
  for (;;) {
    const [first] = await unread(client, c);
    if (first) return first.code;
    if (Date.now() > deadline) throw new Error(`no SMS reached ${c.phone} after ${DELIVERY_TIMEOUT_MS / 1000} s`);
    await sleep(200);
  }
}

async function newCustomer(client: Client, tag: string, i: number): Promise<string> {
  const ref = `bench-${tag}-${i}-${randomBytes(3).toString('hex')}`;
  const c = await client.request<{ id: string }>(
    'POST',
    '/v1/customers',
    { ref, displayName: `Bench ${tag} ${i}`, hasActiveCard: true },
    201,
  );
  return c.id;
}

/**
 * (d) customers: each registers a number for SMS (activated with the code it receives), then a
 * password, then logs in with password + SMS code.
 */
export async function setUpSmsCustomers(client: Client, n: number, concurrency: number, tag: string): Promise<SmsCustomer[]> {
  const numbers = phones(n);
  const customers: SmsCustomer[] = new Array(n);
  await parallel(numbers, concurrency, async (phone, i) => {
    const id = await newCustomer(client, `${tag}-sms`, i);
    const a = await client.request<{ id: string }>(
      'POST',
      `/v1/customers/${id}/authenticators/phone`,
      { method: 'sms', phone, locale: 'en' },
      201,
    );
    customers[i] = { id, phone, authenticatorId: a.id, sessionToken: '', sent: 0, seen: new Set(), ready: [] };
  });
  await parallel(customers, concurrency, async (c) => {
    const code = await nextCode(client, c);
    await client.request('POST', `/v1/customers/${c.id}/authenticators/${c.authenticatorId}/activate`, { code }, 200);
  });
  await parallel(customers, concurrency, async (c) => {
    await client.request('POST', `/v1/customers/${c.id}/authenticators/password`, { password: PASSWORD }, 201);
    const login = await client.request<{ id: string }>('POST', '/v1/operations', { customerId: c.id, data: { type: 'login' } }, 201);
    await client.request('POST', `/v1/operations/${login.id}/challenges`, { method: 'sms', locale: 'en' }, 201);
    const code = await nextCode(client, c);
    const auth = await client.request<{ session: { token: string } }>(
      'POST',
      `/v1/operations/${login.id}/authenticate`,
      {
        factors: [
          { method: 'password', password: PASSWORD },
          { method: 'sms', code },
        ],
      },
      200,
    );
    c.sessionToken = auth.session.token;
  });
  return customers;
}

/**
 * Up to `total` payment operations in the customers' sessions, each with an SMS code sent and read back
 * from the dev outbox, in batches of at most `OUTBOX_BATCH` codes; none started after `budgetMs`.
 */
export async function prepareSms(
  client: Client,
  customers: SmsCustomer[],
  total: number,
  concurrency: number,
  budgetMs: number,
): Promise<{ created: number; seconds: number; lost: number }> {
  const t0 = performance.now();
  let created = 0;
  let lost = 0;
  let tag = 0;
  while (created < total && performance.now() - t0 < budgetMs) {
    // One batch: a few payments per customer, each naming its own payee.
    const perCustomer = Math.max(1, Math.floor(Math.min(OUTBOX_BATCH, total - created) / customers.length));
    const jobs: { c: SmsCustomer; tag: number }[] = [];
    for (let k = 0; k < perCustomer; k++)
      for (const c of customers) if (c.sent + jobs.filter((j) => j.c === c).length < SMS_PER_CUSTOMER) jobs.push({ c, tag: tag++ });
    if (jobs.length === 0) break;
    const ops: { c: SmsCustomer; tag: number; op: string }[] = [];
    await parallel(jobs, concurrency, async ({ c, tag: t }) => {
      if (performance.now() - t0 > budgetMs) return;
      const op = await client.request<{ id: string }>(
        'POST',
        '/v1/operations',
        { customerId: c.id, sessionToken: c.sessionToken, data: payment(t) },
        201,
      );
      ops.push({ c, tag: t, op: op.id });
    });
    // The codes are asked for a few at a time, as customers would: the dispatcher sends each batch it claims together.
    const pending = new Map<SmsCustomer, Map<string, string>>(); // customer → payee name → operation
    await parallel(ops, SEND_CONCURRENCY, async ({ c, tag: t, op }) => {
      c.sent++;
      await client.request('POST', `/v1/operations/${op}/challenges`, { method: 'sms', locale: 'en' }, 201);
      if (!pending.has(c)) pending.set(c, new Map());
      pending.get(c)!.set(`Payee ${t}`, op);
    });
    // Read the codes back: each SMS states its payee.
    const deadline = Date.now() + DELIVERY_TIMEOUT_MS;
    while (pending.size > 0 && Date.now() < deadline) {
      await parallel([...pending.keys()], concurrency, async (c) => {
        const mine = pending.get(c)!;
        for (const { code, text } of await unread(client, c)) {
          const payee = /Payee \d+\b/.exec(text)?.[0];
          const op = payee ? mine.get(payee) : undefined;
          if (!op) continue;
          mine.delete(payee!);
          c.ready.push({ op, code });
          created++;
        }
        if (mine.size === 0) pending.delete(c);
      });
      if (pending.size > 0) await sleep(250);
    }
    for (const mine of pending.values()) lost += mine.size;
    if (created === 0 && lost > 0) throw new Error(`no SMS code came back from the dev outbox (${lost} asked for)`);
  }
  return { created, seconds: (performance.now() - t0) / 1000, lost };
}

/**
 * (e) customers: OCRA tokens (random 20-byte seeds, `OCRA_SUITE`) imported as CSV, one assigned to each
 * customer and activated with its response to the activation challenge (before the password: once a
 * customer can do SCA, adding one needs a step-up), then a password and a login with password + OCRA.
 */
export async function setUpOcraCustomers(client: Client, n: number, concurrency: number, tag: string): Promise<OcraCustomer[]> {
  const run = randomBytes(4).toString('hex');
  const tokens = Array.from({ length: n }, (_, i) => ({ serial: `bench-${tag}-${run}-${i}`, key: randomBytes(20) }));
  const chunks: (typeof tokens)[] = [];
  for (let i = 0; i < tokens.length; i += 400) chunks.push(tokens.slice(i, i + 400));
  for (const chunk of chunks) {
    const content = [
      'serial,secret,type,digits,extra',
      ...chunk.map((t) => `${t.serial},hex:${t.key.toString('hex')},ocra,6,${OCRA_SUITE}`),
    ].join('\n');
    await client.request('POST', '/v1/hardware-tokens/import', { format: 'csv', content }, 201);
  }
  const customers: OcraCustomer[] = new Array(n);
  await parallel(tokens, concurrency, async (t, i) => {
    const id = await newCustomer(client, `${tag}-ocra`, i);
    const a = await client.request<{ id: string; activationChallenge: string }>(
      'POST',
      `/v1/customers/${id}/authenticators/token`,
      { serial: t.serial },
      201,
    );
    const code = generateOcra({ suite: OCRA_SUITE, key: t.key, question: a.activationChallenge });
    await client.request('POST', `/v1/customers/${id}/authenticators/${a.id}/activate`, { code }, 200);
    customers[i] = { id, authenticatorId: a.id, key: t.key, sessionToken: '', ready: [] };
  });
  await parallel(customers, concurrency, async (c) => {
    await client.request('POST', `/v1/customers/${c.id}/authenticators/password`, { password: PASSWORD }, 201);
    const login = await client.request<{ id: string }>('POST', '/v1/operations', { customerId: c.id, data: { type: 'login' } }, 201);
    const { challenge } = await client.request<{ challenge: string }>(
      'GET',
      `/v1/operations/${login.id}/ocra-challenge?authenticatorId=${c.authenticatorId}`,
      undefined,
      200,
    );
    const auth = await client.request<{ session: { token: string } }>(
      'POST',
      `/v1/operations/${login.id}/authenticate`,
      { factors: [{ method: 'password', password: PASSWORD }, ocraFactor(c, challenge)] },
      200,
    );
    c.sessionToken = auth.session.token;
  });
  return customers;
}

/** The factor a customer types after keying `challenge` into the token (computed in the load generator). */
export function ocraFactor(c: OcraCustomer, challenge: string) {
  return { method: 'ocra', authenticatorId: c.authenticatorId, code: generateOcra({ suite: OCRA_SUITE, key: c.key, question: challenge }) };
}

/** `total` payment operations in the customers' sessions, spread evenly, with their OCRA challenges. */
export async function prepareOcra(
  client: Client,
  customers: OcraCustomer[],
  total: number,
  concurrency: number,
  budgetMs: number,
): Promise<{ created: number; seconds: number }> {
  const t0 = performance.now();
  const jobs = Array.from({ length: total }, (_, i) => customers[i % customers.length]!);
  let created = 0;
  await parallel(jobs, concurrency, async (c) => {
    if (performance.now() - t0 > budgetMs) return;
    const op = await client.request<{ id: string }>(
      'POST',
      '/v1/operations',
      { customerId: c.id, sessionToken: c.sessionToken, data: PAYMENT },
      201,
    );
    const { challenge } = await client.request<{ challenge: string }>(
      'GET',
      `/v1/operations/${op.id}/ocra-challenge?authenticatorId=${c.authenticatorId}`,
      undefined,
      200,
    );
    c.ready.push({ op: op.id, code: challenge });
    created++;
  });
  return { created, seconds: (performance.now() - t0) / 1000 };
}
