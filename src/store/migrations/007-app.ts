import { sql, type Kysely } from 'kysely';

/**
 * The app authenticator (issue #4): activations (self-service, branch, transfer, reinstall), approval
 * requests sent to the app, offline challenges, Web Push subscriptions, the seen nonces of signed device
 * requests, and the advisor's lifting of the 72 h delay. The installation itself is an `authenticators`
 * row of kind `app` (public key in params, knowledge and offline keys sealed).
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`
    ALTER TABLE customers ADD COLUMN app_delay_lifted_at timestamptz;
    CREATE TABLE app_activations (
      id text PRIMARY KEY,
      customer_id text NOT NULL REFERENCES customers(id),
      rp_id text NOT NULL,
      channel text NOT NULL CHECK (channel IN ('self', 'branch')),
      purpose text NOT NULL CHECK (purpose IN ('activate', 'transfer', 'reinstall')),
      status text NOT NULL,
      code_digest text NOT NULL UNIQUE,
      confirm_hash text,
      tries integer NOT NULL DEFAULT 0,
      authenticator_id text REFERENCES authenticators(id),
      advisor_id text,
      created_at timestamptz NOT NULL,
      expires_at timestamptz NOT NULL,
      completed_at timestamptz
    );
    CREATE INDEX app_activations_customer ON app_activations (customer_id, created_at);
    CREATE TABLE app_approvals (
      id text PRIMARY KEY,
      operation_id text NOT NULL REFERENCES operations(id),
      customer_id text NOT NULL REFERENCES customers(id),
      authenticator_id text NOT NULL REFERENCES authenticators(id),
      nonce text NOT NULL,
      number_match integer,
      number_options integer[],
      status text NOT NULL,
      created_at timestamptz NOT NULL,
      expires_at timestamptz NOT NULL,
      decided_at timestamptz,
      code_sealed text,
      fraud_declared boolean NOT NULL DEFAULT false
    );
    CREATE INDEX app_approvals_device ON app_approvals (authenticator_id, status);
    CREATE INDEX app_approvals_customer ON app_approvals (customer_id, created_at);
    CREATE INDEX app_approvals_operation ON app_approvals (operation_id);
    CREATE TABLE app_offline_challenges (
      id text PRIMARY KEY,
      operation_id text NOT NULL REFERENCES operations(id),
      authenticator_id text NOT NULL REFERENCES authenticators(id),
      nonce text NOT NULL,
      created_at timestamptz NOT NULL,
      expires_at timestamptz NOT NULL,
      used_at timestamptz
    );
    CREATE INDEX app_offline_challenges_operation ON app_offline_challenges (operation_id);
    CREATE TABLE app_push_subscriptions (
      authenticator_id text PRIMARY KEY REFERENCES authenticators(id),
      endpoint text NOT NULL,
      keys_sealed text NOT NULL,
      created_at timestamptz NOT NULL
    );
    CREATE TABLE device_request_nonces (
      authenticator_id text NOT NULL,
      nonce text NOT NULL,
      expires_at timestamptz NOT NULL,
      PRIMARY KEY (authenticator_id, nonce)
    )`.execute(db);
}
