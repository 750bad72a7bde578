import fs from 'node:fs';
import path from 'node:path';
import type { Services } from '../context.js';
import { activateTotp, enrolTotp, setPassword } from '../journeys/authenticators.js';
import { createCustomer } from '../journeys/customers.js';
import { createRelyingParty, relyingPartyByKey } from '../journeys/principals.js';
import { totpSealContext } from '../methods/totp/index.js';
import { codeAtStep, stepAt } from '../methods/totp/totp.js';

/**
 * Development only: the demo bank's API key and two demo customers, so that `npm start` shows a working
 * bank at once. The key is kept in the data folder (`dev-api-key.txt`) so later starts reuse it.
 */
export interface DemoCustomer {
  id: string;
  ref: string;
  displayName: string;
  password: string;
  totpSecret: string;
}

export interface DemoData {
  apiKey: string;
  customers: DemoCustomer[];
  created: boolean;
}

const CUSTOMERS = [
  {
    ref: 'alice',
    displayName: 'Alice Martin',
    password: 'alice-demo-2026',
    email: 'alice@example.com',
    mobilePhone: '+33612345678',
    hasActiveCard: true,
  },
  {
    ref: 'bruno',
    displayName: 'Bruno Lefèvre',
    password: 'bruno-demo-2026',
    email: 'bruno@example.com',
    landline: '+33145678901',
    hasActiveCard: true,
  },
];

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
  if (!rp.created) return { apiKey: rp.apiKey, customers: await readDemoCustomers(s), created: false };
  const customers: DemoCustomer[] = [];
  for (const c of CUSTOMERS) {
    const { password, ...facts } = c;
    const existingCustomer = await s.db.selectFrom('customers').select('id').where('external_ref', '=', c.ref).executeTakeFirst();
    if (existingCustomer) continue;
    const customer = await createCustomer(s, facts, 'system:demo');
    const ctx = { rpId: rp.rpId, customerId: customer.id };
    await setPassword(s, { ...ctx, password });
    const totp = await enrolTotp(s, { ...ctx, label: 'oathtool' });
    const code = codeAtStep({ secretBase32: totp.secret, algorithm: totp.algorithm, digits: totp.digits }, stepAt(s.clock.now(), 30));
    await activateTotp(s, { ...ctx, authenticatorId: totp.id, code });
    customers.push({ id: customer.id, ref: c.ref, displayName: c.displayName, password, totpSecret: totp.secret });
  }
  return { apiKey: rp.apiKey, customers, created: true };
}

/** Re-reads the demo customers' TOTP seeds (development convenience: the dev KEK is on this disk). */
async function readDemoCustomers(s: Services): Promise<DemoCustomer[]> {
  const out: DemoCustomer[] = [];
  for (const c of CUSTOMERS) {
    const row = await s.db
      .selectFrom('customers')
      .innerJoin('authenticators', 'authenticators.customer_id', 'customers.id')
      .select(['customers.id', 'authenticators.id as aid', 'authenticators.secret_sealed'])
      .where('customers.external_ref', '=', c.ref)
      .where('authenticators.kind', '=', 'totp')
      .where('authenticators.status', '=', 'active')
      .orderBy('authenticators.created_at')
      .executeTakeFirst();
    if (!row?.secret_sealed) continue;
    const totpSecret = s.sealer.open(row.secret_sealed, totpSealContext(row.aid)).toString('utf8');
    out.push({ id: row.id, ref: c.ref, displayName: c.displayName, password: c.password, totpSecret });
  }
  return out;
}
