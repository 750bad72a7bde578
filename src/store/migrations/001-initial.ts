import { sql, type Kysely } from 'kysely';

/** The first schema. One dialect (PostgreSQL) for the embedded database and the server alike. */
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`
    CREATE TABLE relying_parties (
      id text PRIMARY KEY,
      name text NOT NULL,
      api_key_digest text NOT NULL UNIQUE,
      webhook_url text,
      webhook_secret_sealed text,
      created_at timestamptz NOT NULL,
      revoked_at timestamptz
    );
    CREATE TABLE advisors (
      id text PRIMARY KEY,
      name text NOT NULL,
      roles text[] NOT NULL,
      channel text NOT NULL,
      token_digest text NOT NULL UNIQUE,
      created_at timestamptz NOT NULL,
      revoked_at timestamptz
    );
    CREATE TABLE customers (
      id text PRIMARY KEY,
      external_ref text NOT NULL UNIQUE,
      display_name text NOT NULL,
      email text,
      email_since timestamptz,
      mobile_phone text,
      mobile_confirmed_at timestamptz,
      landline text,
      has_active_card boolean NOT NULL DEFAULT false,
      remote_banking boolean NOT NULL DEFAULT true,
      locale text NOT NULL DEFAULT 'fr',
      created_at timestamptz NOT NULL,
      updated_at timestamptz NOT NULL
    );
    CREATE TABLE security_states (
      customer_id text PRIMARY KEY REFERENCES customers(id) ON DELETE CASCADE,
      failed_count integer NOT NULL DEFAULT 0,
      block_level integer NOT NULL DEFAULT 0,
      blocked_until timestamptz,
      permanently_blocked boolean NOT NULL DEFAULT false,
      updated_at timestamptz NOT NULL
    );
    CREATE TABLE authenticators (
      id text PRIMARY KEY,
      customer_id text NOT NULL REFERENCES customers(id) ON DELETE CASCADE,
      kind text NOT NULL,
      category text NOT NULL CHECK (category IN ('knowledge', 'possession', 'inherence')),
      status text NOT NULL CHECK (status IN ('pending', 'active', 'suspended', 'revoked')),
      label text NOT NULL,
      secret_sealed text,
      secret_digest text,
      params jsonb NOT NULL DEFAULT '{}',
      last_used_step bigint,
      created_at timestamptz NOT NULL,
      activated_at timestamptz,
      last_used_at timestamptz,
      revoked_at timestamptz
    );
    CREATE INDEX authenticators_customer ON authenticators (customer_id);
    CREATE TABLE recovery_codes (
      authenticator_id text NOT NULL REFERENCES authenticators(id) ON DELETE CASCADE,
      idx integer NOT NULL,
      code_hash text NOT NULL,
      used_at timestamptz,
      PRIMARY KEY (authenticator_id, idx)
    );
    CREATE TABLE operations (
      id text PRIMARY KEY,
      customer_id text NOT NULL REFERENCES customers(id) ON DELETE CASCADE,
      rp_id text NOT NULL,
      type text NOT NULL,
      status text NOT NULL,
      data jsonb NOT NULL,
      link_hash text NOT NULL,
      created_at timestamptz NOT NULL,
      expires_at timestamptz NOT NULL,
      completed_at timestamptz,
      methods jsonb NOT NULL DEFAULT '[]',
      categories text[] NOT NULL DEFAULT '{}',
      auth_code_id text
    );
    CREATE INDEX operations_customer ON operations (customer_id, created_at);
    CREATE TABLE authentication_codes (
      id text PRIMARY KEY,
      operation_id text NOT NULL REFERENCES operations(id) ON DELETE CASCADE,
      customer_id text NOT NULL,
      rp_id text NOT NULL,
      issued_at timestamptz NOT NULL,
      expires_at timestamptz NOT NULL,
      consumed_at timestamptz
    );
    CREATE TABLE sessions (
      id text PRIMARY KEY,
      token_digest text NOT NULL UNIQUE,
      customer_id text NOT NULL REFERENCES customers(id) ON DELETE CASCADE,
      rp_id text NOT NULL,
      operation_id text NOT NULL,
      created_at timestamptz NOT NULL,
      last_seen_at timestamptz NOT NULL,
      revoked_at timestamptz,
      revoke_reason text,
      user_agent text
    );
    CREATE INDEX sessions_customer ON sessions (customer_id);
    CREATE TABLE audit_events (
      id bigserial PRIMARY KEY,
      chain text NOT NULL,
      seq integer NOT NULL,
      type text NOT NULL,
      actor text NOT NULL,
      at timestamptz NOT NULL,
      data jsonb NOT NULL,
      prev_hash text NOT NULL,
      hash text NOT NULL,
      UNIQUE (chain, seq)
    );
    CREATE TABLE audit_heads (
      chain text PRIMARY KEY,
      seq integer NOT NULL,
      hash text NOT NULL
    );
    -- Audit events are append-only: the database itself refuses to change or delete them.
    CREATE FUNCTION audit_events_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
      RAISE EXCEPTION 'audit_events is append-only';
    END $$;
    CREATE TRIGGER audit_events_no_change BEFORE UPDATE OR DELETE ON audit_events
      FOR EACH ROW EXECUTE FUNCTION audit_events_append_only();
    CREATE TABLE outbox_events (
      id text PRIMARY KEY,
      rp_id text,
      type text NOT NULL,
      payload jsonb NOT NULL,
      created_at timestamptz NOT NULL,
      status text NOT NULL DEFAULT 'pending',
      attempts integer NOT NULL DEFAULT 0,
      next_attempt_at timestamptz NOT NULL,
      delivered_at timestamptz,
      last_error text
    );
    CREATE INDEX outbox_pending ON outbox_events (next_attempt_at) WHERE status = 'pending';
    CREATE TABLE signing_keys (
      kid text PRIMARY KEY,
      alg text NOT NULL,
      public_jwk jsonb NOT NULL,
      private_sealed text NOT NULL,
      created_at timestamptz NOT NULL,
      retired_at timestamptz
    );
    CREATE TABLE server_secrets (
      name text PRIMARY KEY,
      sealed text NOT NULL
    );
  `.execute(db);
}
