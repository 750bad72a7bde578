import { decide, methodAllowed, REUSABLE_CATEGORY } from '../core/policy.js';
import { AuthenticationFailed, Conflict, InvalidRequest, NotFound, Unprocessable } from '../core/errors.js';
import type { ElementCategory } from '../core/elements.js';
import { assertNotBlocked, isBlocked, registerFailure } from '../core/lockout.js';
import type { OperationType } from '../core/operations.js';
import { sessionVerdict } from '../core/sessions.js';
import { approvalCodeSealContext } from '../methods/app/keys.js';
import { methodFor } from '../methods/registry.js';
import { categoriesOf, rowKindOf, type AuthenticatorChange, type AuthMethod, type Decision, type Proof } from '../methods/types.js';
import type { Services } from '../context.js';
import { appendAudit, customerChain, type ChainHead } from '../store/audit.js';
import { commitSuccess, lockAttempt as lockAttemptRows, readAttempt, type AttemptSnapshot } from '../store/attempts.js';
import type { Db } from '../store/db.js';
import { rememberNonce, type DeviceNonce } from '../store/device-nonces.js';
import { enqueueEvent } from '../store/outbox.js';
import { saveLockout, toLockout } from '../store/security-state.js';
import type { AuthenticatorRow, OperationRow, SecurityStateRow } from '../store/schema.js';
import { signAuthenticationCode } from './authentication-codes.js';
import { assertPending } from './operations.js';
import { newSession } from './sessions.js';

export interface AuthenticateInput {
  factors: Proof[];
  userAgent?: string | undefined;
  /** On a login: the session this one replaces (re-authentication gets a new token). */
  replaceSessionToken?: string | undefined;
  /** The app approval request this attempt answers: marked approved with the code in the success's statement. */
  appApproval?: { id: string; waiting: 'pending' | 'pin_confirmation' } | undefined;
  /** Already read with the request (an app approval reads it with its installation): not read again. */
  snapshot?: AttemptSnapshot | undefined;
  /** The signed device request that carries the proof: its nonce is kept with the outcome, success or failure. */
  deviceNonce?: DeviceNonce | undefined;
}

export interface AuthenticateResult {
  status: 'authorised';
  authenticationCode: string;
  expiresAt: string;
  methods: string[];
  categories: ElementCategory[];
  session?: { id: string; token: string; expiresAt: string; idleTimeoutSeconds: number };
}

interface PreparedFactor {
  proof: Proof;
  method: AuthMethod<unknown>;
  pre: unknown;
}

interface Proven {
  kind: string;
  /** What the proof proved: one category, or two for one gesture that proves both (a passkey with user verification). */
  categories: ElementCategory[];
  authenticator: AuthenticatorRow;
  /** What the proof changes on its authenticator; null when the method wrote it itself (recovery). */
  change: AuthenticatorChange | null;
}

/**
 * One SCA attempt on one operation: every element is submitted together and checked, and the answer is
 * either the authentication code or one generic failure that never says which element was wrong.
 *
 * This is the hot path. One statement reads everything the decision needs; slow work (argon2) follows,
 * outside any lock. A success is then written in one guarded statement that applies only if nothing it
 * was decided on changed meanwhile (`store/attempts.ts`). Anything else — a failure to count, a block,
 * a concurrent change, a method that consumes its proof in the database — takes the locking path: one
 * transaction holding the customer's security row, so any number of server processes on one PostgreSQL
 * count exactly.
 */
export async function authenticateOperation(
  s: Services,
  rpId: string,
  operationId: string,
  input: AuthenticateInput,
): Promise<AuthenticateResult> {
  const snap =
    input.snapshot ??
    (await readAttempt(s.db, operationId, {
      kinds: input.factors.filter((f) => !f.authenticatorId).map((f) => rowKindFor(f.method)),
      ids: input.factors.flatMap((f) => (f.authenticatorId ? [f.authenticatorId] : [])),
    }));
  // Another relying party's operation does not exist for this caller.
  if (!snap || snap.op.rp_id !== rpId) throw new NotFound('Operation');
  const { op } = snap;
  // Checked again under the lock; here so that an expired operation is marked so (outside any rollback).
  await assertPending(s.db, op, s.clock.now());
  const type = op.type as OperationType;
  const carried =
    op.session_id && s.scaPolicy.sessionReuse.has(type) && snap.loginCategories?.includes(REUSABLE_CATEGORY) ? [REUSABLE_CATEGORY] : [];
  const factors = await prepareFactors(s, snap, type, input.factors, carried);

  const fast = await tryFastSuccess(s, snap, factors, carried, input);
  if (fast) {
    s.metrics.scaAttempt(type, 'success');
    await afterSuccess(s, factors, fast.proven);
    return fast.result;
  }

  const outcome = await s.db.transaction().execute(async (tx) => {
    const now = s.clock.now();
    // Kept first: a replayed request is refused before it counts anything.
    if (input.deviceNonce) await rememberNonce(tx, input.deviceNonce);
    const locked = await lockAttempt(tx, op.customer_id, op.id);
    try {
      assertNotBlocked(toLockout(locked.state), now, s.lockoutPolicy);
    } catch (e) {
      s.metrics.scaAttempt(type, 'blocked');
      throw e;
    }
    await assertPending(tx, locked.operation, now);
    // The reused element is only as good as the session it was proven in.
    if (carried.length && !(locked.session && sessionVerdict(locked.session, now, s.config.session) === 'active')) {
      throw new Conflict(
        'ERR_SESSION_EXPIRED',
        'The session this operation was started in has ended: start a new operation and apply every element.',
      );
    }
    const proven = await verifyFactors(tx, s, locked, factors, now);
    if (proven && decide(s.scaPolicy, type, [...carried, ...proven.flatMap((p) => p.categories)]).satisfied) {
      // The nonce is kept already, by this transaction.
      const result = await succeed(tx, s, locked, proven, carried, now, { ...input, deviceNonce: undefined });
      // Under the lock only a change outside it (a password rehash finishing) can move a guard.
      if (!result) throw new Conflict('ERR_CONCURRENT_CHANGE', "The customer's authenticators changed during this attempt: try again.");
      return { ok: true as const, result, proven };
    }
    return { ok: false as const, ...(await fail(tx, s, locked, factors, now)) };
  });
  s.metrics.scaAttempt(type, outcome.ok ? 'success' : 'failure');
  if (!outcome.ok) {
    if (outcome.blocked) s.metrics.customerBlocked(outcome.blocked.permanent);
    throw new AuthenticationFailed(outcome.failure);
  }
  await afterSuccess(s, factors, outcome.proven);
  return outcome.result;
}

/**
 * The common case, without a lock: every element checks out on the snapshot, the customer is not blocked
 * and the success commits in one statement. Null sends the attempt to the locking path, which decides
 * again from scratch (and counts a failure).
 */
async function tryFastSuccess(
  s: Services,
  snap: AttemptSnapshot,
  factors: PreparedFactor[],
  carried: ElementCategory[],
  input: AuthenticateInput,
): Promise<{ result: AuthenticateResult; proven: Proven[] } | null> {
  const now = s.clock.now();
  if (!snap.head || isBlocked(toLockout(snap.state), now) || !factors.every((f) => f.method.check)) return null;
  if (carried.length && !(snap.session && sessionVerdict(snap.session, now, s.config.session) === 'active')) return null;
  const proven = checkFactors(s, snap.op, snap.authenticators, factors, now);
  if (!proven || !decide(s.scaPolicy, snap.op.type as OperationType, [...carried, ...proven.flatMap((p) => p.categories)]).satisfied)
    return null;
  const result = await succeed(s.db, s, { state: snap.state, operation: snap.op, head: snap.head }, proven, carried, now, input);
  return result ? { result, proven } : null;
}

interface Locked {
  state: SecurityStateRow;
  operation: OperationRow;
  head: ChainHead;
  session: { createdAt: Date; lastSeenAt: Date; revokedAt: Date | null } | null;
}

/** The locking path: the rows locked, with a head that must exist (the customer's creation is audited). */
async function lockAttempt(tx: Db, customerId: string, operationId: string): Promise<Locked> {
  const locked = await lockAttemptRows(tx, customerId, operationId);
  if (!locked?.head) throw new Conflict('ERR_CUSTOMER_STATE', 'The customer has no security state.');
  return { state: locked.state, operation: locked.op, head: locked.head, session: locked.session };
}

/** Maintenance the methods want once the attempt is committed (never fails the attempt). */
async function afterSuccess(s: Services, factors: PreparedFactor[], proven: Proven[]): Promise<void> {
  for (const [i, f] of factors.entries()) {
    if (!f.method.afterSuccess) continue;
    await f.method.afterSuccess(s, s.db, proven[i]!.authenticator, f.proof).catch(() => undefined);
  }
}

/** Checks the request's shape against the policy (no secret involved), then does the slow work outside any lock. */
async function prepareFactors(
  s: Services,
  snap: AttemptSnapshot,
  type: OperationType,
  proofs: Proof[],
  carried: ElementCategory[],
): Promise<PreparedFactor[]> {
  const methods = proofs.map((proof, i) => {
    const method = methodFor(proof.method);
    if (!method)
      throw new InvalidRequest('ERR_UNKNOWN_METHOD', `factors/${i}/method "${proof.method}" is not a known method.`, {
        field: `factors/${i}/method`,
      });
    if (!methodAllowed(s.scaPolicy, type, method.kind)) {
      throw new Unprocessable('ERR_METHOD_NOT_ALLOWED', `The method "${method.kind}" cannot be used for a ${type} operation.`, {
        field: `factors/${i}/method`,
      });
    }
    return method;
  });
  const declared = decide(s.scaPolicy, type, [...carried, ...methods.flatMap((m, i) => categoriesOf(m, proofs[i]!))]);
  if (!declared.satisfied || new Set(methods.map((m) => m.kind)).size !== methods.length) {
    throw new Unprocessable(
      'ERR_POLICY_NOT_MET',
      `A ${type} needs ${declared.required} elements of different categories (knowledge, possession, inherence), each method once.`,
      { required: declared.required, categories: declared.categories, ...(carried.length ? { fromSession: carried } : {}) },
    );
  }
  return Promise.all(
    proofs.map(async (proof, i) => {
      const method = methods[i]!;
      const candidate = candidatesFor(snap.authenticators, method, proof)[0] ?? null;
      const pre = method.precheck ? await method.precheck(s, candidate, proof, snap.op) : undefined;
      return { proof, method, pre };
    }),
  );
}

/** The row kind a named method reads (an unknown name is refused later, with its field). */
const rowKindFor = (name: string) => {
  const m = methodFor(name);
  return m ? rowKindOf(m) : name;
};

/** The authenticators a proof may be checked against: the one it names, or every one of its kind. */
const candidatesFor = (active: AuthenticatorRow[], method: AuthMethod, proof: Proof) =>
  active.filter((a) => a.kind === rowKindOf(method) && (!proof.authenticatorId || a.id === proof.authenticatorId));

/** The active authenticators the proofs may use: the one named, or every one of the method's kind. */
function activeAuthenticators(db: Db, customerId: string, factors: PreparedFactor[]): Promise<AuthenticatorRow[]> {
  const ids = factors.flatMap((f) => (f.proof.authenticatorId ? [f.proof.authenticatorId] : []));
  const kinds = factors.filter((f) => !f.proof.authenticatorId).map((f) => rowKindOf(f.method));
  return db
    .selectFrom('authenticators')
    .selectAll()
    .where('customer_id', '=', customerId)
    .where('status', '=', 'active')
    .where((eb) => eb.or([...(kinds.length ? [eb('kind', 'in', kinds)] : []), ...(ids.length ? [eb('id', 'in', ids)] : [])]))
    .orderBy('created_at')
    .execute();
}

/** Decides every factor without I/O (only methods with `check`). Null when any failed. */
function checkFactors(s: Services, op: OperationRow, active: AuthenticatorRow[], factors: PreparedFactor[], now: Date): Proven[] | null {
  const proven = factors.map((f) => checkFactor(s, op, active, f, now));
  return proven.every((p) => p !== null) ? (proven as Proven[]) : null;
}

/** One factor of a method with `check`, against its candidate authenticators; null when none accepts it. */
function checkFactor(s: Services, op: OperationRow, active: AuthenticatorRow[], f: PreparedFactor, now: Date): Proven | null {
  const found = firstAccepted(candidatesFor(active, f.method, f.proof), (a) =>
    f.method.check!({ deps: s, now, operation: op }, a, f.proof, f.pre),
  );
  return found
    ? { kind: f.method.kind, categories: categoriesOf(f.method, f.proof), authenticator: found.authenticator, change: found.change }
    : null;
}

/**
 * Several TOTP apps may be enrolled: the first that accepts the proof. None enrolled still runs the
 * method once (equal work whatever is wrong).
 */
function firstAccepted(candidates: AuthenticatorRow[], decide: (a: AuthenticatorRow | null) => Decision) {
  for (const a of candidates.length ? candidates : [null]) {
    const d = decide(a);
    if (d.ok && a) return { authenticator: a, change: d.change };
  }
  return null;
}

/** Under the lock: verifies every factor (no early exit: equal work whatever fails). Null when any failed. */
async function verifyFactors(tx: Db, s: Services, locked: Locked, factors: PreparedFactor[], now: Date): Promise<Proven[] | null> {
  const op = locked.operation;
  // A statement of its own, after the lock: its snapshot sees the single-use state (the last TOTP step)
  // committed by the attempt we waited for. Read in the locking statement, it would be stale.
  const active = await activeAuthenticators(tx, op.customer_id, factors);
  const proven: Proven[] = [];
  for (const f of factors) {
    if (f.method.check) {
      const found = checkFactor(s, op, active, f, now);
      if (found) proven.push(found);
      continue;
    }
    const candidates = candidatesFor(active, f.method, f.proof);
    for (const a of candidates.length ? candidates : [null]) {
      if ((await f.method.verify!({ tx, deps: s, now, operation: op }, a, f.proof, f.pre)) && a) {
        proven.push({ kind: f.method.kind, categories: categoriesOf(f.method, f.proof), authenticator: a, change: null });
        break;
      }
    }
  }
  return proven.length === factors.length ? proven : null;
}

/** Signs the authentication code and writes the success in one guarded statement; null if a guard tripped. */
async function succeed(
  db: Db,
  s: Services,
  { state, operation: op, head }: Pick<Locked, 'state' | 'operation' | 'head'>,
  proven: Proven[],
  carried: ElementCategory[],
  now: Date,
  input: AuthenticateInput,
): Promise<AuthenticateResult | null> {
  const methods = proven.map((p) => p.kind);
  const categories = decide(s.scaPolicy, op.type as OperationType, [...carried, ...proven.flatMap((p) => p.categories)]).categories;
  const code = await signAuthenticationCode(s, op, { methods, categories, reused: carried, now });
  const session =
    op.type === 'login'
      ? newSession(s, now, {
          customerId: op.customer_id,
          rpId: op.rp_id,
          operationId: op.id,
          userAgent: input.userAgent,
          replaceToken: input.replaceSessionToken,
        })
      : null;
  const committed = await commitSuccess(db, {
    op,
    now,
    head,
    audit: {
      type: 'sca.succeeded',
      actor: `customer:${op.customer_id}`,
      data: {
        operationId: op.id,
        operationType: op.type,
        linkHash: op.link_hash,
        methods,
        categories,
        reusedFromSession: carried,
        sessionId: session?.row.id ?? op.session_id,
      },
    },
    resetLockout: state.failed_count !== 0 || state.block_level !== 0,
    deviceNonce: input.deviceNonce,
    used: proven.flatMap((p) => (p.change ? [{ authenticator: p.authenticator, change: p.change }] : [])),
    codeId: code.id,
    methods,
    categories,
    // Using an operation is activity in its session.
    touchSession: carried.length ? op.session_id : null,
    // What the bank fetches from the approval: the code, and for a login its new session (sealed at rest).
    appApproval: input.appApproval
      ? {
          ...input.appApproval,
          codeSealed: s.sealer.seal(
            JSON.stringify({ authenticationCode: code.token, ...(session ? { session: session.view } : {}) }),
            approvalCodeSealContext(input.appApproval.id),
          ),
        }
      : undefined,
    session,
  });
  if (!committed) return null;
  return {
    status: 'authorised',
    authenticationCode: code.token,
    expiresAt: code.expiresAt.toISOString(),
    methods,
    categories,
    ...(session ? { session: session.view } : {}),
  };
}

async function fail(tx: Db, s: Services, { state, operation: op, head }: Locked, factors: PreparedFactor[], now: Date) {
  const outcome = registerFailure(toLockout(state), now, s.lockoutPolicy);
  await saveLockout(tx, op.customer_id, outcome.state, now);
  const chain = customerChain(op.customer_id);
  const actor = `customer:${op.customer_id}`;
  const next = await appendAudit(
    tx,
    chain,
    now,
    {
      type: 'sca.failed',
      actor,
      data: {
        operationId: op.id,
        operationType: op.type,
        methods: factors.map((f) => f.method.kind),
        consecutiveFailures: state.failed_count + 1,
      },
    },
    head,
  );
  if (outcome.blocked) {
    const data = {
      customerId: op.customer_id,
      blockedUntil: outcome.blocked.until?.toISOString() ?? null,
      permanent: outcome.blocked.permanent,
      nextBlockPermanent: outcome.nextBlockPermanent,
    };
    await appendAudit(tx, chain, now, { type: 'customer.blocked', actor: 'system', data }, next);
    await enqueueEvent(tx, now, { type: 'customer.blocked', rpId: null, data });
    // RTS art. 4(3)(b): the payer is warned before a block becomes permanent.
    if (outcome.nextBlockPermanent) await enqueueEvent(tx, now, { type: 'customer.block_warning', rpId: null, data });
  }
  return {
    failure: { remainingAttempts: outcome.remainingAttempts, nextBlockPermanent: outcome.nextBlockPermanent },
    blocked: outcome.blocked ? { permanent: outcome.blocked.permanent } : null,
  };
}
