import { sql, type Kysely } from 'kysely';

/**
 * Passkey login without a username: the challenge of a discoverable ceremony is issued before anyone is
 * known, to a relying party (`purpose = 'discover'`, no customer). When a passkey answers it, the credential
 * names its customer; the challenge is then bound to that customer's new login operation and consumed by
 * the ordinary assertion check. The challenge is derived from the login's link hash like any other.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`
    ALTER TABLE webauthn_challenges ALTER COLUMN customer_id DROP NOT NULL;
    ALTER TABLE webauthn_challenges ADD COLUMN rp_id text REFERENCES relying_parties(id) ON DELETE CASCADE;
    ALTER TABLE webauthn_challenges DROP CONSTRAINT webauthn_challenges_purpose_check;
    ALTER TABLE webauthn_challenges ADD CONSTRAINT webauthn_challenges_purpose_check
      CHECK (purpose IN ('register', 'authenticate', 'discover'));
    ALTER TABLE webauthn_challenges ADD CONSTRAINT webauthn_challenges_discover_check
      CHECK ((purpose = 'discover') = (customer_id IS NULL) AND (purpose <> 'discover' OR rp_id IS NOT NULL));
    CREATE INDEX webauthn_challenges_discover ON webauthn_challenges (rp_id, created_at) WHERE purpose = 'discover'`.execute(db);
}
