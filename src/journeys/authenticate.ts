import { decide, methodAllowed, REUSABLE_CATEGORY } from '../core/policy.js';
import { AuthenticationFailed, Conflict, InvalidRequest, Unprocessable } from '../core/errors.js';
import type { ElementCategory } from '../core/elements.js';
import { assertNotBlocked, registerFailure, registerSuccess, type LockoutState } from '../core/lockout.js';
import type { OperationType } from '../core/operations.js';
import { methodFor } from '../methods/registry.js';
import type { AuthMethod, Proof } from '../methods/types.js';
import type { Services } from '../context.js';
import { appendAudit, customerChain } from '../store/audit.js';
import type { Db } from '../store/db.js';
import { enqueueEvent } from '../store/outbox.js';
import type { AuthenticatorRow, OperationRow, SecurityStateRow } from '../store/schema.js';
import { issueAuthenticationCode } from './authentication-codes.js';
import { assertPending, findOperation } from './operations.js';
import { isActive, openSession } from './sessions.js';

export interface AuthenticateInput {
  factors: Proof[];
  userAgent?: string | undefined;
  /** On a login: the session this one replaces (re-authentication gets a new token). */
  replaceSessionToken?: string | undefined;
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
  /** Authenticator ids this proof may match (several TOTP apps may be enrolled). */
  candidateIds: string[];
  pre: unknown;
}

/**
 * One SCA attempt on one operation: every element is submitted together and checked, and the answer is
 * either the authentication code or one generic failure that never says which element was wrong.
 * All counting, single-use state and the block happen in one transaction holding the customer's
 * security row, so any number of server processes on one PostgreSQL count exactly.
 */
export async function authenticateOperation(s: Services, rpId: string, operationId: string, input: AuthenticateInput): Promise<AuthenticateResult> {
  const op = await findOperation(s.db, rpId, operationId);
  const type = op.type as OperationType;
  const carried = await carriedCategories(s, op);
  const factors = await prepareFactors(s, op, type, input.factors, carried);

  const outcome = await s.db.transaction().execute(async (tx) => {
    const now = s.clock.now();
    const state = await lockSecurityState(tx, op.customer_id);
    assertNotBlocked(toLockout(state), now, s.lockoutPolicy);
    const current = await tx.selectFrom('operations').selectAll().where('id', '=', op.id).forUpdate().executeTakeFirstOrThrow();
    await assertPending(tx, current, now);
    if (carried.length) await assertSessionStillActive(tx, s, current, now);

    const proven = await verifyFactors(tx, s, current, factors, now);
    if (proven && decide(s.scaPolicy, type, [...carried, ...proven.map((p) => p.category)]).satisfied) {
      return { ok: true as const, result: await succeed(tx, s, current, state, proven, carried, now, input), proven };
    }
    return { ok: false as const, failure: await fail(tx, s, current, state, factors, now) };
  });
  if (!outcome.ok) throw new AuthenticationFailed(outcome.failure);
  await afterSuccess(s, factors, outcome.proven);
  return outcome.result;
}

/** Maintenance the methods want once the attempt is committed (never fails the attempt). */
async function afterSuccess(s: Services, factors: PreparedFactor[], proven: Proven[]): Promise<void> {
  for (const [i, f] of factors.entries()) {
    if (!f.method.afterSuccess) continue;
    await f.method.afterSuccess(s, s.db, proven[i]!.authenticator, f.proof).catch(() => undefined);
  }
}

/** Checks the request's shape against the policy (no secret involved), then does the slow work outside the lock. */
/**
 * The element an operation started in a login session borrows from that login (EBA Q&A 2018_4141):
 * the knowledge element, if the login proved one. The session must still be active when the other
 * element is applied.
 */
async function carriedCategories(s: Services, op: OperationRow): Promise<ElementCategory[]> {
  if (!op.session_id || !s.scaPolicy.sessionReuse.has(op.type as OperationType)) return [];
  const login = await s.db
    .selectFrom('sessions')
    .innerJoin('operations', 'operations.id', 'sessions.operation_id')
    .select('operations.categories')
    .where('sessions.id', '=', op.session_id)
    .executeTakeFirst();
  return login?.categories.includes(REUSABLE_CATEGORY) ? [REUSABLE_CATEGORY] : [];
}

async function assertSessionStillActive(tx: Db, s: Services, op: OperationRow, now: Date): Promise<void> {
  const session = await tx.selectFrom('sessions').selectAll().where('id', '=', op.session_id!).executeTakeFirst();
  if (!session || !isActive(session, now, s.config.session)) {
    throw new Conflict('ERR_SESSION_EXPIRED', 'The session this operation was started in has ended: start a new operation and apply every element.');
  }
}

async function prepareFactors(s: Services, op: OperationRow, type: OperationType, proofs: Proof[], carried: ElementCategory[]): Promise<PreparedFactor[]> {
  const methods = proofs.map((proof, i) => {
    const method = methodFor(proof.method);
    if (!method) throw new InvalidRequest('ERR_UNKNOWN_METHOD', `factors/${i}/method "${proof.method}" is not a known method.`, { field: `factors/${i}/method` });
    if (!methodAllowed(s.scaPolicy, type, method.kind)) {
      throw new Unprocessable('ERR_METHOD_NOT_ALLOWED', `The method "${method.kind}" cannot be used for a ${type} operation.`, { field: `factors/${i}/method` });
    }
    return method;
  });
  const declared = decide(s.scaPolicy, type, [...carried, ...methods.map((m) => m.category)]);
  if (!declared.satisfied || new Set(methods.map((m) => m.kind)).size !== methods.length) {
    throw new Unprocessable(
      'ERR_POLICY_NOT_MET',
      `A ${type} needs ${declared.required} elements of different categories (knowledge, possession, inherence), each method once.`,
      { required: declared.required, categories: declared.categories, ...(carried.length ? { fromSession: carried } : {}) },
    );
  }
  const active = await s.db
    .selectFrom('authenticators')
    .selectAll()
    .where('customer_id', '=', op.customer_id)
    .where('status', '=', 'active')
    .execute();
  return Promise.all(
    proofs.map(async (proof, i) => {
      const method = methods[i]!;
      const candidates = active.filter((a) => a.kind === method.kind && (!proof.authenticatorId || a.id === proof.authenticatorId));
      const pre = method.precheck ? await method.precheck(s, candidates[0] ?? null, proof) : undefined;
      return { proof, method, candidateIds: candidates.map((c) => c.id), pre };
    }),
  );
}

/** Verifies every factor (no early exit: equal work whatever fails). Null when any failed. */
async function verifyFactors(
  tx: Db,
  s: Services,
  op: OperationRow,
  factors: PreparedFactor[],
  now: Date,
): Promise<Proven[] | null> {
  const ids = factors.flatMap((f) => f.candidateIds);
  const rows = ids.length
    ? await tx.selectFrom('authenticators').selectAll().where('id', 'in', ids).where('status', '=', 'active').execute()
    : [];
  const byId = new Map(rows.map((r) => [r.id, r]));
  const proven: Proven[] = [];
  for (const f of factors) {
    const candidates: (AuthenticatorRow | null)[] = f.candidateIds.map((id) => byId.get(id) ?? null);
    if (candidates.length === 0) candidates.push(null);
    for (const a of candidates) {
      if (await f.method.verify({ tx, deps: s, now, operation: op }, a, f.proof, f.pre)) {
        proven.push({ kind: f.method.kind, category: f.method.category, authenticator: a! });
        break;
      }
    }
  }
  return proven.length === factors.length ? proven : null;
}

interface Proven {
  kind: string;
  category: ElementCategory;
  authenticator: AuthenticatorRow;
}

async function succeed(
  tx: Db,
  s: Services,
  op: OperationRow,
  state: SecurityStateRow,
  proven: Proven[],
  carried: ElementCategory[],
  now: Date,
  input: AuthenticateInput,
): Promise<AuthenticateResult> {
  if (state.failed_count !== 0 || state.block_level !== 0) await saveLockout(tx, op.customer_id, registerSuccess(), now);
  const methods = proven.map((p) => p.kind);
  const categories = decide(s.scaPolicy, op.type as OperationType, [...carried, ...proven.map((p) => p.category)]).categories;
  // Using an operation is activity in its session.
  if (carried.length) await tx.updateTable('sessions').set({ last_seen_at: now }).where('id', '=', op.session_id!).execute();
  const code = await issueAuthenticationCode(tx, s, op, { methods, categories, reused: carried, now });
  const session =
    op.type === 'login'
      ? await openSession(tx, s, now, {
          customerId: op.customer_id,
          rpId: op.rp_id,
          operationId: op.id,
          userAgent: input.userAgent,
          replaceToken: input.replaceSessionToken,
        })
      : undefined;
  await appendAudit(tx, customerChain(op.customer_id), now, {
    type: 'sca.succeeded',
    actor: `customer:${op.customer_id}`,
    data: { operationId: op.id, operationType: op.type, linkHash: op.link_hash, methods, categories, reusedFromSession: carried, sessionId: session?.id ?? op.session_id },
  });
  return { status: 'authorised', authenticationCode: code.token, expiresAt: code.expiresAt, methods, categories, ...(session ? { session } : {}) };
}

async function fail(tx: Db, s: Services, op: OperationRow, state: SecurityStateRow, factors: PreparedFactor[], now: Date) {
  const outcome = registerFailure(toLockout(state), now, s.lockoutPolicy);
  await saveLockout(tx, op.customer_id, outcome.state, now);
  const chain = customerChain(op.customer_id);
  const actor = `customer:${op.customer_id}`;
  await appendAudit(tx, chain, now, {
    type: 'sca.failed',
    actor,
    data: { operationId: op.id, operationType: op.type, methods: factors.map((f) => f.method.kind), consecutiveFailures: state.failed_count + 1 },
  });
  if (outcome.blocked) {
    const data = {
      customerId: op.customer_id,
      blockedUntil: outcome.blocked.until?.toISOString() ?? null,
      permanent: outcome.blocked.permanent,
      nextBlockPermanent: outcome.nextBlockPermanent,
    };
    await appendAudit(tx, chain, now, { type: 'customer.blocked', actor: 'system', data });
    await enqueueEvent(tx, now, { type: 'customer.blocked', rpId: null, data });
    // RTS art. 4(3)(b): the payer is warned before a block becomes permanent.
    if (outcome.nextBlockPermanent) await enqueueEvent(tx, now, { type: 'customer.block_warning', rpId: null, data });
  }
  return { remainingAttempts: outcome.remainingAttempts, nextBlockPermanent: outcome.nextBlockPermanent };
}

export async function lockSecurityState(tx: Db, customerId: string): Promise<SecurityStateRow> {
  const row = await tx.selectFrom('security_states').selectAll().where('customer_id', '=', customerId).forUpdate().executeTakeFirst();
  if (!row) throw new Conflict('ERR_CUSTOMER_STATE', 'The customer has no security state.');
  return row;
}

export function toLockout(row: SecurityStateRow): LockoutState {
  return {
    failedCount: row.failed_count,
    blockLevel: row.block_level,
    blockedUntil: row.blocked_until ? new Date(row.blocked_until) : null,
    permanentlyBlocked: row.permanently_blocked,
  };
}

export async function saveLockout(tx: Db, customerId: string, state: LockoutState, now: Date): Promise<void> {
  await tx
    .updateTable('security_states')
    .set({
      failed_count: state.failedCount,
      block_level: state.blockLevel,
      blocked_until: state.blockedUntil,
      permanently_blocked: state.permanentlyBlocked,
      updated_at: now,
    })
    .where('customer_id', '=', customerId)
    .execute();
}

