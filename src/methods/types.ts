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
 *  - `precheck` runs before the transaction on the authenticator as read then (may be slow, no writes);
 *  - `verify` runs inside the transaction that holds the customer's security row, on the authenticator
 *    re-read under that lock, and applies single-use state (TOTP step, consumed recovery code).
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
  /** Decides under the customer's lock and applies single-use state. Never throws for a wrong proof. */
  verify(ctx: VerifyContext, authenticator: AuthenticatorRow | null, proof: Proof, pre: Pre | undefined): Promise<boolean>;
}
