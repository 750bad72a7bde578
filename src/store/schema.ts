import type { ColumnType, Generated, Insertable, Selectable } from 'kysely';

/** Kysely's view of the tables created by `migrations/`. Timestamps are timestamptz, read as Date. */
type Timestamp = ColumnType<Date, Date | string, Date | string>;
type Json<T> = ColumnType<T, string, string>;

export interface RelyingPartiesTable {
  id: string;
  name: string;
  api_key_digest: string;
  webhook_url: string | null;
  webhook_secret_sealed: string | null;
  created_at: Timestamp;
  revoked_at: Timestamp | null;
}

export interface AdvisorsTable {
  id: string;
  name: string;
  roles: string[];
  channel: string;
  token_digest: string;
  created_at: Timestamp;
  revoked_at: Timestamp | null;
}

export interface CustomersTable {
  id: string;
  external_ref: string;
  display_name: string;
  email: string | null;
  email_since: Timestamp | null;
  mobile_phone: string | null;
  mobile_confirmed_at: Timestamp | null;
  landline: string | null;
  has_active_card: boolean;
  remote_banking: boolean;
  locale: string;
  created_at: Timestamp;
  updated_at: Timestamp;
}

/** The narrow row every security-relevant transaction locks first (`FOR UPDATE`). */
export interface SecurityStatesTable {
  customer_id: string;
  failed_count: number;
  block_level: number;
  blocked_until: Timestamp | null;
  permanently_blocked: boolean;
  updated_at: Timestamp;
}

export interface AuthenticatorsTable {
  id: string;
  customer_id: string;
  kind: string;
  category: string;
  status: string;
  label: string;
  secret_sealed: string | null;
  secret_digest: string | null;
  params: Json<Record<string, unknown>>;
  last_used_step: number | null;
  created_at: Timestamp;
  activated_at: Timestamp | null;
  last_used_at: Timestamp | null;
  revoked_at: Timestamp | null;
}

export interface RecoveryCodesTable {
  authenticator_id: string;
  idx: number;
  code_hash: string;
  used_at: Timestamp | null;
}

export interface OperationsTable {
  id: string;
  customer_id: string;
  rp_id: string;
  type: string;
  status: string;
  data: Json<Record<string, unknown>>;
  link_hash: string;
  created_at: Timestamp;
  expires_at: Timestamp;
  completed_at: Timestamp | null;
  methods: Json<string[]>;
  categories: string[];
  auth_code_id: string | null;
  /** The login session the operation was started in, if any (element reuse). */
  session_id: string | null;
}

export interface AuthenticationCodesTable {
  id: string;
  operation_id: string;
  customer_id: string;
  rp_id: string;
  issued_at: Timestamp;
  expires_at: Timestamp;
  consumed_at: Timestamp | null;
}

export interface SessionsTable {
  id: string;
  token_digest: string;
  customer_id: string;
  rp_id: string;
  operation_id: string;
  created_at: Timestamp;
  last_seen_at: Timestamp;
  revoked_at: Timestamp | null;
  revoke_reason: string | null;
  user_agent: string | null;
}

export interface AuditEventsTable {
  id: Generated<number>;
  chain: string;
  seq: number;
  type: string;
  actor: string;
  at: Timestamp;
  data: Json<Record<string, unknown>>;
  prev_hash: string;
  hash: string;
}

export interface AuditHeadsTable {
  chain: string;
  seq: number;
  hash: string;
}

export interface OutboxEventsTable {
  id: string;
  rp_id: string | null;
  type: string;
  payload: Json<Record<string, unknown>>;
  created_at: Timestamp;
  status: Generated<string>;
  attempts: Generated<number>;
  next_attempt_at: Timestamp;
  delivered_at: Timestamp | null;
  last_error: string | null;
  /** Relying parties that acknowledged the event (a broadcast is retried only for the others). */
  delivered_to: Generated<string[]>;
}

export interface SigningKeysTable {
  kid: string;
  alg: string;
  public_jwk: Json<Record<string, unknown>>;
  private_sealed: string;
  created_at: Timestamp;
  retired_at: Timestamp | null;
}

export interface ServerSecretsTable {
  name: string;
  sealed: string;
}

export interface Database {
  relying_parties: RelyingPartiesTable;
  advisors: AdvisorsTable;
  customers: CustomersTable;
  security_states: SecurityStatesTable;
  authenticators: AuthenticatorsTable;
  recovery_codes: RecoveryCodesTable;
  operations: OperationsTable;
  authentication_codes: AuthenticationCodesTable;
  sessions: SessionsTable;
  audit_events: AuditEventsTable;
  audit_heads: AuditHeadsTable;
  outbox_events: OutboxEventsTable;
  signing_keys: SigningKeysTable;
  server_secrets: ServerSecretsTable;
}

export type CustomerRow = Selectable<CustomersTable>;
export type AuthenticatorRow = Selectable<AuthenticatorsTable>;
export type NewAuthenticator = Insertable<AuthenticatorsTable>;
export type OperationRow = Selectable<OperationsTable>;
export type SessionRow = Selectable<SessionsTable>;
export type SecurityStateRow = Selectable<SecurityStatesTable>;
