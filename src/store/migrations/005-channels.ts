import { sql, type Kysely } from 'kysely';

/**
 * Delivery of one-time codes by SMS and voice call, and notices by email.
 * - `messages`: the durable delivery outbox. A code's message is written in the same transaction as the
 *   code, so nothing is lost if the process dies before sending; the payload (which holds the code) is
 *   sealed, never stored in clear.
 * - `otp_challenges`: one code sent for one operation, kept only as a keyed hash bound to the operation
 *   and its link hash; single use, short-lived, with the limits counted from these rows.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`
    CREATE TABLE messages (
      id text PRIMARY KEY,
      customer_id text REFERENCES customers(id) ON DELETE CASCADE,
      channel text NOT NULL CHECK (channel IN ('sms', 'voice', 'email')),
      destination text NOT NULL,
      purpose text NOT NULL,
      payload_sealed text NOT NULL,
      status text NOT NULL,
      provider_id text,
      attempts integer NOT NULL DEFAULT 0,
      next_attempt_at timestamptz NOT NULL,
      last_error text,
      challenge_id text,
      created_at timestamptz NOT NULL,
      updated_at timestamptz NOT NULL
    );
    CREATE INDEX messages_due ON messages (next_attempt_at) WHERE status = 'pending';
    CREATE INDEX messages_destination ON messages (destination, created_at);
    CREATE TABLE otp_challenges (
      id text PRIMARY KEY,
      operation_id text NOT NULL REFERENCES operations(id) ON DELETE CASCADE,
      customer_id text NOT NULL REFERENCES customers(id) ON DELETE CASCADE,
      authenticator_id text NOT NULL REFERENCES authenticators(id) ON DELETE CASCADE,
      channel text NOT NULL CHECK (channel IN ('sms', 'voice')),
      mode text NOT NULL,
      code_hash text NOT NULL,
      created_at timestamptz NOT NULL,
      expires_at timestamptz NOT NULL,
      confirmed_at timestamptz,
      used_at timestamptz,
      delivery text NOT NULL DEFAULT 'pending'
    );
    CREATE INDEX otp_challenges_operation ON otp_challenges (operation_id, created_at);
    CREATE INDEX otp_challenges_customer ON otp_challenges (customer_id, created_at);
    -- Seed 001: who may change the secure number alone, and when it last changed (cooling-off).
    ALTER TABLE customers ADD COLUMN birth_date text CHECK (birth_date ~ '^[0-9]{4}-[0-9]{2}-[0-9]{2}$');
    ALTER TABLE customers ADD COLUMN emancipated boolean NOT NULL DEFAULT false;
    ALTER TABLE customers ADD COLUMN secure_phone_changed_at timestamptz;
    -- A change of secure number in progress: the new number is proven by a code sent to it.
    CREATE TABLE phone_changes (
      id text PRIMARY KEY,
      customer_id text NOT NULL REFERENCES customers(id) ON DELETE CASCADE,
      rp_id text NOT NULL,
      purpose text NOT NULL CHECK (purpose IN ('change', 'reconfirm')),
      new_phone text NOT NULL,
      code_hash text NOT NULL,
      tries integer NOT NULL DEFAULT 0,
      created_at timestamptz NOT NULL,
      expires_at timestamptz NOT NULL,
      completed_at timestamptz
    );
    CREATE INDEX phone_changes_customer ON phone_changes (customer_id, created_at);
    -- Cases an advisor must handle ("this is no longer my number"), consumed by the advisor console.
    CREATE TABLE advisor_cases (
      id text PRIMARY KEY,
      customer_id text NOT NULL REFERENCES customers(id) ON DELETE CASCADE,
      kind text NOT NULL,
      status text NOT NULL,
      data jsonb NOT NULL DEFAULT '{}',
      created_at timestamptz NOT NULL,
      closed_at timestamptz
    );
    CREATE INDEX advisor_cases_open ON advisor_cases (status, created_at);
  `.execute(db);
}
