import type { Clock } from '../core/clock.js';
import type { ElementCategory } from '../core/elements.js';
import type { Config } from '../config.js';
import type { Sealer } from '../crypto/seal.js';
import type { Db } from '../store/db.js';
import type { AuthenticatorRow, OperationRow } from '../store/schema.js';

/**
 * What every authenticator kind implements. A new kind is a new folder under `methods/` and one line in
 * `registry.ts`, not edits across the codebase.
 *
 * Verification has two phases so that slow, stateless work (argon2) never holds the customer's lock or
 * the embedded database's single connection:
 *  - `precheck` runs before any write on the authenticator as read then (may be slow, no writes);
 *  - `check` decides without I/O and says what accepting the proof changes (the TOTP step now used).
 *    The change is written with the attempt's outcome, guarded by the values it was decided on, so the
 *    decision may be taken on a snapshot and still holds only if nobody used that step meanwhile.
 *    Methods whose proof is consumed in the database itself (recovery codes) implement `verify`
 *    instead, which runs under the customer's lock and writes its own single-use state.
 */
export interface MethodDeps {
  clock: Clock;
  config: Config;
  sealer: Sealer;
  /** Key for keyed hashes of low-entropy secrets (one-time and recovery codes). */
  hashKey: Buffer;
}

/** A proof as submitted: the kind says which method, the rest is method-specific. */
export interface Proof {
  method: string;
  authenticatorId?: string | undefined;
  /** One-time code, recovery code. */
  code?: string | undefined;
  /** Password (knowledge). */
  password?: string | undefined;
  /** The app authenticator's signed approval (see `methods/app`). */
  app?: AppApprovalProof | undefined;
  /** A WebAuthn assertion (passkey, security key, or the app's biometric key): the browser's JSON. */
  credential?: Record<string, unknown> | undefined;
}

/** What the app sends when the customer approves: signatures over the payload it displayed. */
export interface AppApprovalProof {
  /** The approval request answered (its nonce is in the signed payload). */
  approvalId: string;
  /** The device's counter, strictly increasing: a replayed approval is refused. */
  counter: number;
  /** Number matching: the number the customer picked in the app. */
  numberChoice?: number | undefined;
  /** ECDSA P-256 over the payload with the possession key (base64url, IEEE P1363). */
  possession: string;
  /** HMAC-SHA-256 over the payload with the PIN-unlocked knowledge key (base64url). */
  knowledge?: string | undefined;
  /** WebAuthn assertion of the app's biometric key, its challenge = SHA-256 of the payload. */
  biometric?: Record<string, unknown> | undefined;
  /** Set by the server while checking: the biometric key's signature counter, stored after a success. */
  observedBiometricCounter?: number | undefined;
  /** Set by the server from the approval request, never by the caller: what the device must have signed. */
  expected?: { nonce: string; numberMatch: number | null; newKnowledgeKey?: string | undefined } | undefined;
}

export interface VerifyContext {
  tx: Db;
  deps: MethodDeps;
  now: Date;
  operation: OperationRow;
}

export interface CheckContext {
  deps: MethodDeps;
  now: Date;
  operation: OperationRow;
}

/** What accepting a proof changes on its authenticator, applied together with the attempt's outcome. */
export interface AuthenticatorChange {
  /** One-time-password methods: the time step or counter now used (never accepted again). */
  lastUsedStep?: number;
  /** A new sealed secret replacing the one the proof was checked against (the app's PIN change). */
  secretSealed?: string;
}

export type Decision = { ok: false } | { ok: true; change: AuthenticatorChange };

export interface AuthMethod<Pre = unknown> {
  readonly kind: string;
  /** The element category this kind proves. */
  readonly category: ElementCategory;
  /**
   * The categories one proof proves, when a single gesture proves two (a passkey with user verification,
   * the app's possession key + PIN). Default: `[category]`.
   */
  proofCategories?(proof: Proof): ElementCategory[];
  /** The categories an enrolled authenticator of this kind can prove on its own. Default: `[category]`. */
  readonly enrolledCategories?: readonly ElementCategory[];
  /** The kind of authenticator row this method checks proofs against, when not its own (`app_offline` → `app`). */
  readonly authenticatorKind?: string;
  /** Whether several active authenticators of this kind may coexist for one customer. */
  readonly multiple: boolean;
  /** Slow, stateless part of the check; `null` authenticator means "none enrolled": do the same work anyway. */
  precheck?(deps: MethodDeps, authenticator: AuthenticatorRow | null, proof: Proof, operation: OperationRow): Promise<Pre>;
  /** After a successful attempt is committed, outside any lock (e.g. rehash a password with new parameters). */
  afterSuccess?(deps: MethodDeps, db: Db, authenticator: AuthenticatorRow, proof: Proof): Promise<void>;
  /** Decides without I/O on the authenticator as read. Never throws for a wrong proof. */
  check?(ctx: CheckContext, authenticator: AuthenticatorRow | null, proof: Proof, pre: Pre | undefined): Decision;
  /** For proofs consumed in the database: decides under the customer's lock and writes single-use state. */
  verify?(ctx: VerifyContext, authenticator: AuthenticatorRow | null, proof: Proof, pre: Pre | undefined): Promise<boolean>;
}

/** The categories a proof of this method proves. */
export const categoriesOf = (m: AuthMethod<any>, proof: Proof): ElementCategory[] => m.proofCategories?.(proof) ?? [m.category];

/** The kind of authenticator rows a method's proofs are checked against. */
export const rowKindOf = (m: AuthMethod<any>): string => m.authenticatorKind ?? m.kind;
