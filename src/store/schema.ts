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
  /** Eligibility to self-service changes (seed 001: adult or emancipated minor). */
  birth_date: ColumnType<string | null, string | null, string | null>;
  emancipated: Generated<boolean>;
  secure_phone_changed_at: Timestamp | null;
  /** An advisor lifted the 72 h email delay of the app's activation after a reinforced identity check. */
  app_delay_lifted_at: ColumnType<Date | null, Date | string | null | undefined, Date | string | null>;
}

/** An activation of the app authenticator: self-service, or initiated in a branch (24 h to finish). */
export interface AppActivationsTable {
  id: string;
  customer_id: string;
  rp_id: string;
  channel: 'self' | 'branch';
  purpose: 'activate' | 'transfer' | 'reinstall';
  /** pending → awaiting_confirmation → subscribed; initiated (branch) → subscribed; expired; cancelled. */
  status: string;
  /** Keyed hash of the activation code (looked up by it). */
  code_digest: string;
  /** Keyed hash of the confirmation code sent to the secure mobile. */
  confirm_hash: string | null;
  tries: Generated<number>;
  authenticator_id: string | null;
  advisor_id: string | null;
  created_at: Timestamp;
  expires_at: Timestamp;
  completed_at: Timestamp | null;
}

/** An operation sent to the app for the customer's decision. */
export interface AppApprovalsTable {
  id: string;
  operation_id: string;
  customer_id: string;
  authenticator_id: string;
  nonce: string;
  number_match: number | null;
  number_options: number[] | null;
  /** pending, approved, refused, expired, failed. */
  status: string;
  created_at: Timestamp;
  expires_at: Timestamp;
  decided_at: Timestamp | null;
  /** The authentication code once approved, sealed: the bank fetches it from the approval. */
  code_sealed: string | null;
  fraud_declared: Generated<boolean>;
}

export interface AppOfflineChallengesTable {
  id: string;
  operation_id: string;
  authenticator_id: string;
  nonce: string;
  created_at: Timestamp;
  expires_at: Timestamp;
  used_at: Timestamp | null;
}

export interface AppPushSubscriptionsTable {
  authenticator_id: string;
  endpoint: string;
  keys_sealed: string;
  created_at: Timestamp;
}

export interface DeviceRequestNoncesTable {
  authenticator_id: string;
  nonce: string;
  expires_at: Timestamp;
}

export interface PhoneChangesTable {
  id: string;
  customer_id: string;
  rp_id: string;
  purpose: 'change' | 'reconfirm';
  new_phone: string;
  code_hash: string;
  tries: number;
  created_at: Timestamp;
  expires_at: Timestamp;
  completed_at: Timestamp | null;
}

export interface AdvisorCasesTable {
  id: string;
  customer_id: string;
  kind: string;
  status: string;
  data: Json<Record<string, unknown>>;
  created_at: Timestamp;
  closed_at: Timestamp | null;
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
  /** When the relying party consumed the authentication code (it is single use). */
  code_consumed_at: Timestamp | null;
  /** The login session the operation was started in, if any (element reuse). */
  session_id: string | null;
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

/** The durable delivery outbox (SMS, voice calls, email); the payload holds a code, so it is sealed. */
export interface MessagesTable {
  id: string;
  customer_id: string | null;
  channel: 'sms' | 'voice' | 'email';
  destination: string;
  purpose: string;
  /** NULL once erased, an hour after it went out (see `eraseSentPayloads`). */
  payload_sealed: string | null;
  status: string;
  provider_id: string | null;
  attempts: number;
  next_attempt_at: Timestamp;
  last_error: string | null;
  challenge_id: string | null;
  created_at: Timestamp;
  updated_at: Timestamp;
}

/** A one-time code sent for one operation, kept as a keyed hash bound to the operation and link hash. */
export interface OtpChallengesTable {
  id: string;
  operation_id: string;
  customer_id: string;
  authenticator_id: string;
  channel: 'sms' | 'voice';
  /** 'code' (the customer types what they received) or 'keypad' (they type on the handset what the screen shows). */
  mode: string;
  code_hash: string;
  created_at: Timestamp;
  expires_at: Timestamp;
  /** Keypad mode: when the right code was typed on the handset. */
  confirmed_at: Timestamp | null;
  used_at: Timestamp | null;
  delivery: string;
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

/** A hardware OATH token in the bank's stock (migration 006); its seed sealed under `token:<serial>`. */
export interface HardwareTokensTable {
  serial: string;
  algorithm: 'hotp' | 'totp' | 'ocra';
  secret_sealed: string;
  /** digits, hash, counter, timeStep, ocraSuite, manufacturer, model: never the seed. */
  params: Json<Record<string, unknown>>;
  imported_at: Timestamp;
  assigned_to_authenticator: string | null;
  revoked_at: Timestamp | null;
}

/** A single-use WebAuthn challenge (migration 008): registration, or an assertion for one operation. */
export interface WebauthnChallengesTable {
  id: string;
  /** None for a discoverable login's challenge until a passkey names its customer. */
  customer_id: string | null;
  /** The relying party a discoverable login's challenge was issued to. */
  rp_id: string | null;
  operation_id: string | null;
  purpose: 'register' | 'authenticate' | 'discover';
  /** base64url, as the browser echoes it in clientDataJSON. */
  challenge: string;
  /** base64url random bytes mixed with the operation's link hash. */
  nonce: string;
  params: Json<Record<string, unknown>>;
  created_at: Timestamp;
  expires_at: Timestamp;
  used_at: Timestamp | null;
}

export interface Database {
  relying_parties: RelyingPartiesTable;
  advisors: AdvisorsTable;
  customers: CustomersTable;
  security_states: SecurityStatesTable;
  authenticators: AuthenticatorsTable;
  recovery_codes: RecoveryCodesTable;
  operations: OperationsTable;
  sessions: SessionsTable;
  messages: MessagesTable;
  phone_changes: PhoneChangesTable;
  advisor_cases: AdvisorCasesTable;
  otp_challenges: OtpChallengesTable;
  audit_events: AuditEventsTable;
  audit_heads: AuditHeadsTable;
  outbox_events: OutboxEventsTable;
  signing_keys: SigningKeysTable;
  server_secrets: ServerSecretsTable;
  hardware_tokens: HardwareTokensTable;
  app_activations: AppActivationsTable;
  app_approvals: AppApprovalsTable;
  app_offline_challenges: AppOfflineChallengesTable;
  app_push_subscriptions: AppPushSubscriptionsTable;
  device_request_nonces: DeviceRequestNoncesTable;
  webauthn_challenges: WebauthnChallengesTable;
}

export type CustomerRow = Selectable<CustomersTable>;
export type AuthenticatorRow = Selectable<AuthenticatorsTable>;
export type NewAuthenticator = Insertable<AuthenticatorsTable>;
export type OperationRow = Selectable<OperationsTable>;
export type SessionRow = Selectable<SessionsTable>;
export type SecurityStateRow = Selectable<SecurityStatesTable>;
