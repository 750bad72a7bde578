import fs from 'node:fs';
import path from 'node:path';
import type { Services } from '../context.js';
import { parsePhone } from '../channels/index.js';
import { activateTotp, enrolTotp, insertAuthenticator, recordAdded, setPassword } from '../journeys/authenticators.js';
import { createCustomer } from '../journeys/customers.js';
import { createRelyingParty, relyingPartyByKey } from '../journeys/principals.js';
import { totpSealContext } from '../methods/totp/index.js';
import { codeAtStep, stepAt } from '../methods/totp/totp.js';

/**
 * Development only: the demo bank's API key and three demo customers, so that `npm start` shows a working
 * bank at once. The key is kept in the data folder (`dev-api-key.txt`) so later starts reuse it.
 *  - alice: password, an authenticator app, and SMS codes to her secure mobile (an adult: she may change it);
 *  - bruno: password and an authenticator app;
 *  - chantal: no mobile at all: password and calls to her landline, the code read out.
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
}

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
    const { password, totp: withTotp, phones, ...facts } = c;
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
    });
  }
  return out;
}
