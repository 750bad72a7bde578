import { sql, type Kysely } from 'kysely';

/**
 * The bank's stock of hardware OATH tokens (issue #3 §2), imported from the vendor's PSKC or CSV file
 * before any customer holds one. The seed is sealed under `token:<serial>`; assigning a token to a
 * customer copies it, re-sealed, onto an authenticator row, which is what authentication reads.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`
    CREATE TABLE hardware_tokens (
      serial text PRIMARY KEY,
      algorithm text NOT NULL CHECK (algorithm IN ('hotp', 'totp', 'ocra')),
      secret_sealed text NOT NULL,
      params jsonb NOT NULL DEFAULT '{}',
      imported_at timestamptz NOT NULL,
      assigned_to_authenticator text REFERENCES authenticators(id) ON DELETE SET NULL,
      revoked_at timestamptz
    );
    CREATE UNIQUE INDEX hardware_tokens_assigned ON hardware_tokens (assigned_to_authenticator)`.execute(db);
}
