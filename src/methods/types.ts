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
}

export type Decision = { ok: false } | { ok: true; change: AuthenticatorChange };

export interface AuthMethod<Pre = unknown> {
  readonly kind: string;
  /** The element category this kind proves. */
  readonly category: ElementCategory;
  /** Whether several active authenticators of this kind may coexist for one customer. */
  readonly multiple: boolean;
  /** Slow, stateless part of the check; `null` authenticator means "none enrolled": do the same work anyway. */
  precheck?(deps: MethodDeps, authenticator: AuthenticatorRow | null, proof: Proof): Promise<Pre>;
  /** After a successful attempt is committed, outside any lock (e.g. rehash a password with new parameters). */
  afterSuccess?(deps: MethodDeps, db: Db, authenticator: AuthenticatorRow, proof: Proof): Promise<void>;
  /** Decides without I/O on the authenticator as read. Never throws for a wrong proof. */
  check?(ctx: CheckContext, authenticator: AuthenticatorRow | null, proof: Proof, pre: Pre | undefined): Decision;
  /** For proofs consumed in the database: decides under the customer's lock and writes single-use state. */
  verify?(ctx: VerifyContext, authenticator: AuthenticatorRow | null, proof: Proof, pre: Pre | undefined): Promise<boolean>;
}
