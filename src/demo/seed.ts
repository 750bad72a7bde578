import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import type { Services } from '../context.js';
import { parsePhone } from '../channels/index.js';
import { activateTotp, enrolTotp, insertAuthenticator, recordAdded, setPassword } from '../journeys/authenticators.js';
import { createCustomer } from '../journeys/customers.js';
import { assignHardwareToken, importHardwareTokens } from '../journeys/hardware-tokens.js';
import { activateHardwareToken } from '../journeys/token-activation.js';
import { hotpSealContext, nextHotpCounter } from '../methods/hotp/index.js';
import { hotpCode } from '../methods/hotp/hotp.js';
import { ocraSealContext, type StoredOcraParams } from '../methods/ocra/index.js';
import { generateOcra } from '../methods/ocra/ocra.js';
import { createRelyingParty, relyingPartyByKey } from '../journeys/principals.js';
import { totpSealContext } from '../methods/totp/index.js';
import { codeAtStep, stepAt } from '../methods/totp/totp.js';

/**
 * Development only: the demo bank’s API key and four demo customers, so that `npm start` shows a working
 * bank at once. The key is kept in the data folder (`dev-api-key.txt`) so later starts reuse it.
 *  - alice: password, an authenticator app, and SMS codes to her secure mobile (an adult: she may change it);
 *  - bruno: password and an authenticator app;
 *  - chantal: no mobile at all: password and calls to her landline, the code read out;
 *  - denis: no phone app: password, a HOTP token (codes by button press) and an OCRA token (a reader:
 *    type the challenge shown, give its response), both imported into the token stock and assigned
 *    through the same journeys as the API.
 */
export interface DemoCustomer {
  id: string;
  ref: string;
  displayName: string;
  password: string;
  /** Null for a customer without an authenticator app. */
  totpSecret: string | null;
  /** Numbers codes go to by SMS or call, e.g. `voice +33142685300 (read-out)`. */
  phones: string[];
  /** Hardware tokens, so that codes can be computed without the hardware (development only). */
  tokens: DemoTokens | null;
}

export interface DemoTokens {
  /** `oathtool --hotp -c <nextCounter> <seedHex>`; the counter goes up by one per code used. */
  hotp: { authenticatorId: string; serial: string; seedHex: string; nextCounter: number } | null;
  /** RFC 6287: the response to the challenge shown, for this seed and suite. */
  ocra: { authenticatorId: string; serial: string; seedHex: string; suite: string } | null;
}

/** The demo's OCRA reader: 8-digit numeric challenge, 6-digit response, no counter, PIN or time. */
export const DEMO_OCRA_SUITE = 'OCRA-1:HOTP-SHA1-6:QN08';

interface DemoPhone {
  method: 'sms' | 'voice';
  phone: string;
  voiceMode?: 'read-out' | 'keypad';
  label: string;
}

export interface DemoData {
  apiKey: string;
  customers: DemoCustomer[];
  created: boolean;
}

const CUSTOMERS: {
  ref: string;
  displayName: string;
  password: string;
  email: string;
  mobilePhone?: string;
  landline?: string;
  birthDate?: string;
  hasActiveCard: boolean;
  totp: boolean;
  /** A HOTP and an OCRA token from the bank's stock. */
  tokens?: boolean;
  phones: DemoPhone[];
}[] = [
  {
    ref: 'alice',
    displayName: 'Alice Martin',
    password: 'alice-demo-2026',
    email: 'alice@example.com',
    mobilePhone: '+33612345678',
    birthDate: '1986-04-12',
    hasActiveCard: true,
    totp: true,
    phones: [{ method: 'sms', phone: '+33612345678', label: 'SMS' }],
  },
  {
    ref: 'bruno',
    displayName: 'Bruno Lefèvre',
    password: 'bruno-demo-2026',
    email: 'bruno@example.com',
    landline: '+33145678901',
    hasActiveCard: true,
    totp: true,
    phones: [],
  },
  {
    ref: 'chantal',
    displayName: 'Chantal Rousseau',
    password: 'chantal-demo-2026',
    email: 'chantal@example.com',
    landline: '+33142685300',
    birthDate: '1948-09-30',
    hasActiveCard: true,
    totp: false,
    phones: [{ method: 'voice', phone: '+33142685300', voiceMode: 'read-out', label: 'Téléphone fixe' }],
  },
  {
    // Eligible for the app authenticator (a card, a secure mobile) but without it yet: the demo of
    // activating it from "Ma sécurité" and approving payments in /app.
    ref: 'emma',
    displayName: 'Emma Petit',
    password: 'emma-demo-2026',
    email: 'emma@example.com',
    mobilePhone: '+33698765432',
    birthDate: '1994-07-08',
    hasActiveCard: true,
    totp: false,
    phones: [{ method: 'sms', phone: '+33698765432', label: 'SMS' }],
  },
  {
    ref: 'denis',
    displayName: 'Denis Garnier',
    password: 'denis-demo-2026',
    email: 'denis@example.com',
    birthDate: '1961-02-17',
    hasActiveCard: true,
    totp: false,
    tokens: true,
    phones: [],
  },
];

const phoneLine = (p: DemoPhone) => `${p.method} ${p.phone}${p.voiceMode ? ` (${p.voiceMode})` : ''}`;

/**
 * Development mode: the relying-party API key of the demo bank, created on first start and kept in
 * `<data dir>/dev-api-key.txt` so that scripts (the tour, `npm test`) find it.
 */
export async function ensureDevApiKey(s: Services, dataDir: string | null): Promise<{ rpId: string; apiKey: string; created: boolean }> {
  const keyFile = dataDir ? path.join(dataDir, 'dev-api-key.txt') : null;
  const existing = keyFile && fs.existsSync(keyFile) ? fs.readFileSync(keyFile, 'utf8').trim() : null;
  const rp = existing ? await relyingPartyByKey(s.db, existing) : null;
  if (existing && rp) return { rpId: rp.id, apiKey: existing, created: false };
  const created = await createRelyingParty(s, 'Banque Démo (web banking)');
  if (keyFile) {
    fs.mkdirSync(path.dirname(keyFile), { recursive: true });
    fs.writeFileSync(keyFile, created.apiKey + '\n', { mode: 0o600 });
  }
  return { rpId: created.id, apiKey: created.apiKey, created: true };
}

export async function seedDemo(s: Services, dataDir: string | null): Promise<DemoData> {
  const rp = await ensureDevApiKey(s, dataDir);
  // Customers added to the demo since the data folder was created are added at the next start.
  for (const c of CUSTOMERS) {
    const { password, totp: withTotp, tokens: withTokens, phones, ...facts } = c;
    const existingCustomer = await s.db.selectFrom('customers').select('id').where('external_ref', '=', c.ref).executeTakeFirst();
    if (existingCustomer) continue;
    const customer = await createCustomer(s, facts, 'system:demo');
    const ctx = { rpId: rp.rpId, customerId: customer.id };
    await setPassword(s, { ...ctx, password });
    if (withTotp) {
      const totp = await enrolTotp(s, { ...ctx, label: 'oathtool' });
      const code = codeAtStep({ secretBase32: totp.secret, algorithm: totp.algorithm, digits: totp.digits }, stepAt(s.clock.now(), 30));
      await activateTotp(s, { ...ctx, authenticatorId: totp.id, code });
    }
    // The numbers are the bank's own records (as if proven at the branch, like the secure mobile):
    // registered active directly, where the API would send a code to prove them.
    for (const p of phones) await addProvenPhone(s, ctx, p);
    if (withTokens) await addDemoTokens(s, ctx);
  }
  return { apiKey: rp.apiKey, customers: await readDemoCustomers(s), created: rp.created };
}

/** An SMS or voice authenticator on a number the bank already knows to be the customer's. */
async function addProvenPhone(s: Services, ctx: { rpId: string; customerId: string }, p: DemoPhone): Promise<void> {
  const parsed = parsePhone(p.phone);
  await s.db.transaction().execute(async (tx) => {
    const now = s.clock.now();
    const row = await insertAuthenticator(tx, {
      customerId: ctx.customerId,
      kind: p.method,
      label: p.label,
      status: 'active',
      now,
      params: { phone: parsed.e164, lineType: parsed.lineType, ...(p.voiceMode ? { voiceMode: p.voiceMode } : {}), locale: 'fr' },
    });
    await recordAdded(tx, ctx, row, now, false);
  });
}

/**
 * Two tokens handed over at the branch: random seeds imported into the stock (as a vendor's file would
 * be), assigned to the customer and activated by their first code, through the API's own journeys. Both
 * are assigned before either is active, so the customer cannot do SCA yet and no step-up is asked.
 * Activation uses the HOTP token's counter 0: the first code to log in with is counter 1.
 */
async function addDemoTokens(s: Services, ctx: { rpId: string; customerId: string }): Promise<void> {
  const hotpSeed = randomBytes(20);
  const ocraSeed = randomBytes(20);
  const tag = randomBytes(3).toString('hex').toUpperCase();
  const hotpSerial = `DEMO-HOTP-${tag}`;
  const ocraSerial = `DEMO-OCRA-${tag}`;
  const csv = [
    'serial,secret,type,digits,extra',
    `${hotpSerial},hex:${hotpSeed.toString('hex')},hotp,6,0`,
    `${ocraSerial},hex:${ocraSeed.toString('hex')},ocra,6,${DEMO_OCRA_SUITE}`,
  ].join('\n');
  await importHardwareTokens(s, 'system:demo', { format: 'csv', content: csv });
  const hotp = await assignHardwareToken(s, { ...ctx, serial: hotpSerial, label: 'Token' });
  const ocra = await assignHardwareToken(s, { ...ctx, serial: ocraSerial, label: 'Lecteur de token' });
  await activateHardwareToken(s, { ...ctx, authenticatorId: hotp.id, code: hotpCode({ secret: hotpSeed, digits: 6 }, 0) }, 'hotp');
  const response = generateOcra({ suite: DEMO_OCRA_SUITE, key: ocraSeed, question: ocra.activationChallenge! });
  await activateHardwareToken(s, { ...ctx, authenticatorId: ocra.id, code: response }, 'ocra');
}

/** The customer's active tokens, seeds opened (development convenience, like the TOTP seeds). */
async function readDemoTokens(s: Services, customerId: string): Promise<DemoTokens | null> {
  const rows = await s.db
    .selectFrom('authenticators')
    .selectAll()
    .where('customer_id', '=', customerId)
    .where('kind', 'in', ['hotp', 'ocra'])
    .where('status', '=', 'active')
    .orderBy('created_at')
    .execute();
  const h = rows.find((r) => r.kind === 'hotp' && r.secret_sealed);
  const o = rows.find((r) => r.kind === 'ocra' && r.secret_sealed);
  if (!h && !o) return null;
  return {
    hotp: h
      ? {
          authenticatorId: h.id,
          serial: (h.params as { serial: string }).serial,
          seedHex: s.sealer.open(h.secret_sealed!, hotpSealContext(h.id)).toString('hex'),
          nextCounter: nextHotpCounter(h),
        }
      : null,
    ocra: o
      ? {
          authenticatorId: o.id,
          serial: (o.params as unknown as StoredOcraParams).serial,
          seedHex: s.sealer.open(o.secret_sealed!, ocraSealContext(o.id)).toString('hex'),
          suite: (o.params as unknown as StoredOcraParams).suite,
        }
      : null,
  };
}

/** Re-reads the demo customers' TOTP seeds (development convenience: the dev KEK is on this disk). */
async function readDemoCustomers(s: Services): Promise<DemoCustomer[]> {
  const out: DemoCustomer[] = [];
  for (const c of CUSTOMERS) {
    const customer = await s.db.selectFrom('customers').select('id').where('external_ref', '=', c.ref).executeTakeFirst();
    if (!customer) continue;
    const row = await s.db
      .selectFrom('authenticators')
      .select(['id', 'secret_sealed'])
      .where('customer_id', '=', customer.id)
      .where('kind', '=', 'totp')
      .where('status', '=', 'active')
      .orderBy('created_at')
      .executeTakeFirst();
    if (c.totp && !row?.secret_sealed) continue;
    const totpSecret = row?.secret_sealed ? s.sealer.open(row.secret_sealed, totpSealContext(row.id)).toString('utf8') : null;
    out.push({
      id: customer.id,
      ref: c.ref,
      displayName: c.displayName,
      password: c.password,
      totpSecret,
      phones: c.phones.map(phoneLine),
      tokens: c.tokens ? await readDemoTokens(s, customer.id) : null,
    });
  }
  return out;
}
