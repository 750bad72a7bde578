import { sql, type Kysely } from 'kysely';

/**
 * Passkeys and security keys (WebAuthn). A credential is an `authenticators` row of kind `webauthn` (its
 * public key and signature counter in `params`); what is stored here is the single-use challenges of the
 * two ceremonies. An `authenticate` challenge is bound to one operation and derived from its link hash
 * (`challenge = base64url(SHA-256(link_hash ‖ nonce))`), so an assertion approves that amount and payee only.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`
    CREATE TABLE webauthn_challenges (
      id text PRIMARY KEY,
      customer_id text NOT NULL REFERENCES customers(id) ON DELETE CASCADE,
      operation_id text REFERENCES operations(id) ON DELETE CASCADE,
      purpose text NOT NULL CHECK (purpose IN ('register', 'authenticate')),
      challenge text NOT NULL UNIQUE,
      nonce text NOT NULL,
      params jsonb NOT NULL DEFAULT '{}',
      created_at timestamptz NOT NULL,
      expires_at timestamptz NOT NULL,
      used_at timestamptz,
      CHECK ((purpose = 'authenticate') = (operation_id IS NOT NULL))
    );
    CREATE INDEX webauthn_challenges_customer ON webauthn_challenges (customer_id, created_at);
    CREATE INDEX webauthn_challenges_operation ON webauthn_challenges (operation_id) WHERE operation_id IS NOT NULL;
    CREATE UNIQUE INDEX authenticators_webauthn_credential ON authenticators ((params->>'credentialId'))
      WHERE kind = 'webauthn' AND status <> 'revoked'`.execute(db);
}
