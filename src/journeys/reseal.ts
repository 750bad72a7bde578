import { sql } from 'kysely';
import { Sealer } from '../crypto/seal.js';
import { tokenSealContext } from './hardware-tokens.js';
import { messageSealContext } from './messages.js';
import { approvalCodeSealContext } from '../methods/app/keys.js';
import type { Services } from '../context.js';

/**
 * Every column that holds a value sealed under a key-encryption key, with the context its value was
 * sealed for (AES-GCM associated data: a value moved to another row does not open). A sealed column added
 * to the schema belongs here, or `sesame keys reseal` would leave it under the old key.
 */
const SEALED_COLUMNS: {
  table: string;
  key: string;
  column: string;
  /** Other columns the context needs. */
  also?: string[];
  context: (row: Record<string, string>) => string;
}[] = [
  // Each kind of authenticator seals under "<kind>:<id>" (totp, hotp, ocra, app).
  { table: 'authenticators', key: 'id', column: 'secret_sealed', also: ['kind'], context: (r) => `${r.kind}:${r.id}` },
  { table: 'signing_keys', key: 'kid', column: 'private_sealed', context: (r) => `signing-key:${r.kid}` },
  { table: 'relying_parties', key: 'id', column: 'webhook_secret_sealed', context: (r) => `webhook:${r.id}` },
  { table: 'hardware_tokens', key: 'serial', column: 'secret_sealed', context: (r) => tokenSealContext(r.serial!) },
  { table: 'server_secrets', key: 'name', column: 'sealed', context: (r) => `server-secret:${r.name}` },
  { table: 'messages', key: 'id', column: 'payload_sealed', context: (r) => messageSealContext(r.id!) },
  { table: 'app_push_subscriptions', key: 'authenticator_id', column: 'keys_sealed', context: (r) => `push:${r.authenticator_id}` },
  { table: 'app_approvals', key: 'id', column: 'code_sealed', context: (r) => approvalCodeSealContext(r.id!) },
];

/**
 * Re-encrypts every secret at rest with the active key-encryption key, after a new key was put first in
 * SESAME_KEKS. Each value is replaced only if it is still the one read (a secret changed meanwhile — a
 * PIN change, a new webhook secret — is sealed under the active key already and is not overwritten).
 * `remaining` counts values still under another key afterwards: the old key can be removed once it is 0.
 * Idempotent.
 */
export async function resealAll(s: Services): Promise<{ resealed: number; remaining: number }> {
  const active = s.sealer.activeKeyId;
  const stale = (sealed: string | null | undefined): sealed is string => !!sealed && Sealer.keyIdOf(sealed) !== active;
  let resealed = 0;
  for (const c of SEALED_COLUMNS) {
    // Table and column names come from the list above, never from input.
    const columns = [c.key, c.column, ...(c.also ?? [])].map((name) => sql.ref(name));
    const rows = await sql<Record<string, string>>`SELECT ${sql.join(columns)} FROM ${sql.table(c.table)}
      WHERE ${sql.ref(c.column)} IS NOT NULL`.execute(s.db);
    for (const row of rows.rows) {
      const old = row[c.column];
      if (!stale(old)) continue;
      const context = c.context(row);
      const fresh = s.sealer.seal(s.sealer.open(old, context), context);
      const moved = await sql`UPDATE ${sql.table(c.table)} SET ${sql.ref(c.column)} = ${fresh}
        WHERE ${sql.ref(c.key)} = ${row[c.key]} AND ${sql.ref(c.column)} = ${old}`.execute(s.db);
      if (Number(moved.numAffectedRows ?? 0) === 1) resealed++;
    }
  }
  let remaining = 0;
  for (const c of SEALED_COLUMNS) {
    const rows = await sql<{
      v: string;
    }>`SELECT ${sql.ref(c.column)} AS v FROM ${sql.table(c.table)} WHERE ${sql.ref(c.column)} IS NOT NULL`.execute(s.db);
    remaining += rows.rows.filter((r) => stale(r.v)).length;
  }
  return { resealed, remaining };
}
