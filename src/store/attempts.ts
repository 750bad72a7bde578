import { CompiledQuery } from 'kysely';
import type { AuthenticatorChange } from '../methods/types.js';
import { chainEvent, customerChain, type AuditEntry, type ChainHead } from './audit.js';
import type { Db } from './db.js';
import type { DeviceNonce } from './device-nonces.js';
import type { AuthenticatorRow, OperationRow, SecurityStateRow, SessionRow } from './schema.js';

/**
 * The two statements of an SCA attempt's fast path: one read of everything the decision needs, and one
 * guarded write of a success. Between them nothing is locked; the write applies only if what the
 * decision was taken on is still true (the customer's audit head — every security-relevant change of a
 * customer appends to it —, the operation still pending, each authenticator's single-use state), else
 * it changes nothing and the caller takes the locking path. Failures always take the locking path, so
 * counting stays exact under any concurrency.
 */

export interface AttemptSnapshot {
  op: OperationRow;
  /** What the login of the operation's session proved, when it was started in one. */
  loginCategories: string[] | null;
  state: SecurityStateRow;
  head: ChainHead | null;
  session: { createdAt: Date; lastSeenAt: Date; revokedAt: Date | null } | null;
  /** The customer's active authenticators the proofs may use, oldest first. */
  authenticators: AuthenticatorRow[];
}

export interface AuthenticatorFilter {
  kinds: string[];
  ids: string[];
}

/**
 * One statement: the operation, its session, the customer's security state, audit head and authenticators.
 * Written out once rather than built per call: it runs on every attempt. The authenticators are filtered
 * by the proofs' named ids, by row kind, or both: three fixed texts, so three prepared statements per
 * connection at most. Named ids are looked up one by one by primary key, behind `OFFSET 0` so that the
 * planner cannot go through the customer's index instead: that plan read every authenticator of the
 * customer to keep the named ones, and an attempt cost grew with how many the customer has.
 */
const ATTEMPT_COLUMNS = `o.*, ss.failed_count, ss.block_level, ss.blocked_until, ss.permanently_blocked, ss.updated_at AS ss_updated_at,
         h.seq AS head_seq, h.hash AS head_hash,
         se.created_at AS se_created_at, se.last_seen_at AS se_last_seen_at, se.revoked_at AS se_revoked_at,
         lo.categories AS login_categories`;
const ATTEMPT_JOINS = (join: 'JOIN' | 'LEFT JOIN') => `
    ${join} security_states ss ON ss.customer_id = o.customer_id
    LEFT JOIN audit_heads h ON h.chain = 'customer:' || o.customer_id
    LEFT JOIN sessions se ON se.id = o.session_id
    LEFT JOIN operations lo ON lo.id = se.operation_id`;
const readAttemptSql = (authenticators: string, filter: string) => `
  SELECT ${ATTEMPT_COLUMNS},
         (SELECT coalesce(json_agg(a ORDER BY a.created_at), '[]')
            FROM ${authenticators}
           WHERE a.customer_id = o.customer_id AND a.status = 'active' AND ${filter}) AS authenticators
    FROM operations o ${ATTEMPT_JOINS('JOIN')}
   WHERE o.id = $1`;
const READ_BY_IDS = readAttemptSql(
  `(SELECT DISTINCT unnest($2::text[]) AS id) w
             CROSS JOIN LATERAL (SELECT * FROM authenticators x WHERE x.id = w.id OFFSET 0) a`,
  'TRUE',
);
const READ_BY_KINDS = readAttemptSql('authenticators a', 'a.kind = ANY($2::text[])');
const READ_BY_KINDS_OR_IDS = readAttemptSql('authenticators a', '(a.kind = ANY($2::text[]) OR a.id = ANY($3::text[]))');

type AttemptRow = OperationRow & StateColumns & { login_categories: string[] | null; authenticators: AsJson<AuthenticatorRow>[] };

export async function readAttempt(db: Db, operationId: string, wanted: AuthenticatorFilter): Promise<AttemptSnapshot | null> {
  const query = !wanted.kinds.length
    ? CompiledQuery.raw(READ_BY_IDS, [operationId, wanted.ids])
    : !wanted.ids.length
      ? CompiledQuery.raw(READ_BY_KINDS, [operationId, wanted.kinds])
      : CompiledQuery.raw(READ_BY_KINDS_OR_IDS, [operationId, wanted.kinds, wanted.ids]);
  const { rows } = await db.executeQuery<AttemptRow>(query);
  const row = rows[0];
  if (!row) return null;
  const { login_categories, authenticators, ...rest } = row;
  const { op, state, head, session } = splitState(rest);
  return { op, loginCategories: login_categories, state, head, session, authenticators: authenticators.map(fromJson) };
}

/**
 * An app's approval in one statement: the installation (active), the request it answers (if it is this
 * installation's) and everything the attempt on its operation needs. The installation is the only
 * authenticator the proof names. Undefined when the installation is unknown or not active.
 */
const READ_APPROVAL = `
  SELECT to_json(d) AS device, a.id AS approval_id, a.status AS approval_status, a.nonce AS approval_nonce,
         a.number_match AS approval_number_match, a.expires_at AS approval_expires_at, ${ATTEMPT_COLUMNS}
    FROM authenticators d
    LEFT JOIN app_approvals a ON a.id = $2 AND a.authenticator_id = d.id
    LEFT JOIN operations o ON o.id = a.operation_id ${ATTEMPT_JOINS('LEFT JOIN')}
   WHERE d.id = $1 AND d.kind = 'app' AND d.status = 'active'`;

export interface ApprovalRead {
  device: AuthenticatorRow;
  /** Null when no such request was sent to this installation. */
  approval: { id: string; status: string; nonce: string; numberMatch: number | null; expiresAt: Date } | null;
  /** The attempt's snapshot, with the installation as its authenticator; null without a request. */
  attempt: AttemptSnapshot | null;
}

type ApprovalRow = Partial<AttemptRow> & {
  device: AsJson<AuthenticatorRow>;
  approval_id: string | null;
  approval_status: string;
  approval_nonce: string;
  approval_number_match: number | null;
  approval_expires_at: Date;
};

export async function readApproval(db: Db, deviceId: string, approvalId: string): Promise<ApprovalRead | undefined> {
  const { rows } = await db.executeQuery<ApprovalRow>(CompiledQuery.raw(READ_APPROVAL, [deviceId, approvalId]));
  const row = rows[0];
  if (!row) return undefined;
  const { device, approval_id, approval_status, approval_nonce, approval_number_match, approval_expires_at, login_categories, ...rest } =
    row;
  const dev = fromJson(device);
  if (approval_id === null) return { device: dev, approval: null, attempt: null };
  const approval = {
    id: approval_id,
    status: approval_status,
    nonce: approval_nonce,
    numberMatch: approval_number_match,
    expiresAt: new Date(approval_expires_at),
  };
  // No security state (never the case for a customer's operation): no attempt to snapshot.
  if (rest.failed_count == null) return { device: dev, approval, attempt: null };
  const { op, state, head, session } = splitState(rest as OperationRow & StateColumns);
  const mine = op.customer_id === dev.customer_id ? [dev] : [];
  return { device: dev, approval, attempt: { op, loginCategories: login_categories ?? null, state, head, session, authenticators: mine } };
}

/**
 * The locking path's one statement: the customer's security row, the operation and the customer's audit
 * head, all `FOR UPDATE` (every security-relevant change of a customer appends to that head).
 */
export async function lockAttempt(tx: Db, customerId: string, operationId: string) {
  const row = await tx
    .selectFrom('security_states as ss')
    .innerJoin('operations as o', 'o.customer_id', 'ss.customer_id')
    .innerJoin('audit_heads as h', (j) => j.on('h.chain', '=', customerChain(customerId)))
    .leftJoin('sessions as se', 'se.id', 'o.session_id')
    .selectAll('o')
    .select(STATE_COLUMNS)
    .where('ss.customer_id', '=', customerId)
    .where('o.id', '=', operationId)
    .forUpdate(['ss', 'o', 'h'])
    .executeTakeFirst();
  return row ? splitState(row) : null;
}

/** What both statements read beside the operation: security state, audit head, the operation's session. */
const STATE_COLUMNS = [
  'ss.failed_count',
  'ss.block_level',
  'ss.blocked_until',
  'ss.permanently_blocked',
  'ss.updated_at as ss_updated_at',
  'h.seq as head_seq',
  'h.hash as head_hash',
  'se.created_at as se_created_at',
  'se.last_seen_at as se_last_seen_at',
  'se.revoked_at as se_revoked_at',
] as const;

interface StateColumns {
  failed_count: number;
  block_level: number;
  blocked_until: Date | null;
  permanently_blocked: boolean;
  ss_updated_at: Date;
  head_seq: number | null;
  head_hash: string | null;
  se_created_at: Date | null;
  se_last_seen_at: Date | null;
  se_revoked_at: Date | null;
}

function splitState<T extends StateColumns & OperationRow>(row: T) {
  const {
    failed_count,
    block_level,
    blocked_until,
    permanently_blocked,
    ss_updated_at,
    head_seq,
    head_hash,
    se_created_at,
    se_last_seen_at,
    se_revoked_at,
    ...op
  } = row;
  const state: SecurityStateRow = {
    customer_id: op.customer_id,
    failed_count,
    block_level,
    blocked_until,
    permanently_blocked,
    updated_at: ss_updated_at,
  };
  return {
    op: op as OperationRow,
    state,
    head: head_seq === null || head_hash === null ? null : { seq: Number(head_seq), hash: head_hash },
    session: se_created_at
      ? {
          createdAt: new Date(se_created_at),
          lastSeenAt: new Date(se_last_seen_at!),
          revokedAt: se_revoked_at ? new Date(se_revoked_at) : null,
        }
      : null,
  };
}

/** Rows aggregated as JSON carry timestamps as text. */
type AsJson<T> = { [K in keyof T]: T[K] extends Date ? string : T[K] extends Date | null ? string | null : T[K] };

function fromJson(a: AsJson<AuthenticatorRow>): AuthenticatorRow {
  const date = (v: string | null) => (v === null ? null : new Date(v));
  return {
    ...a,
    last_used_step: a.last_used_step === null ? null : Number(a.last_used_step),
    created_at: new Date(a.created_at),
    activated_at: date(a.activated_at),
    last_used_at: date(a.last_used_at),
    revoked_at: date(a.revoked_at),
  };
}

export interface SuccessRecord {
  op: OperationRow;
  now: Date;
  /** The head the decision was taken on: the write applies only if it is still the head. */
  head: ChainHead;
  audit: AuditEntry;
  /** Consecutive failures (or a past block level) to clear. */
  resetLockout: boolean;
  /** Each authenticator used, as read, with what its proof changes. */
  used: { authenticator: AuthenticatorRow; change: AuthenticatorChange }[];
  /** The id of the authentication code issued (its single use is kept on the operation). */
  codeId: string;
  methods: string[];
  categories: string[];
  /** The session the operation was started in, when its element is reused: using it is activity. */
  touchSession: string | null;
  /** The signed device request that carried the proof: its nonce is kept in the same statement (a replay fails). */
  deviceNonce?: DeviceNonce | undefined;
  /** An app approval request answered by this success: marked approved with the code, in the same statement. */
  appApproval?: { id: string; waiting: string; codeSealed: string } | undefined;
  /** A login's new session (and the token it replaces). */
  session: {
    row: Pick<SessionRow, 'id' | 'token_digest' | 'customer_id' | 'rp_id' | 'operation_id' | 'user_agent'>;
    replacesDigest: string | null;
  } | null;
}

/**
 * Writes a success in one statement: the operation authorised with its code's id, the authenticators' new
 * single-use state, the session, the audit event and the new head. Returns false, having changed
 * nothing, when any guard found the state moved on since it was read.
 */
export async function commitSuccess(db: Db, r: SuccessRecord): Promise<boolean> {
  // Built as text with numbered parameters rather than through the query builder: this runs on every
  // success, and only values ever go in as parameters.
  const values: unknown[] = [];
  const $ = (v: unknown) => `$${values.push(v)}`;
  const chain = customerChain(r.op.customer_id);
  const event = chainEvent(chain, r.head, r.now, r.audit);
  // Values used in several places are bound once (each bound value must appear in the text).
  const [now, chainP, seq, hash, opId] = [r.now, chain, event.seq, event.hash, r.op.id].map($);
  let customerP: string | undefined;
  const customer = () => (customerP ??= $(r.op.customer_id));
  const ctes = [
    `h AS (UPDATE audit_heads SET seq = ${seq}, hash = ${hash} WHERE chain = ${chainP} AND seq = ${$(r.head.seq)} RETURNING 1)`,
    `e AS (INSERT INTO audit_events (chain, seq, type, actor, at, data, prev_hash, hash)
           VALUES (${chainP}, ${seq}, ${$(event.type)}, ${$(event.actor)}, ${now}, ${$(event.data)}::jsonb, ${$(event.prev_hash)}, ${hash}))`,
    `o AS (UPDATE operations SET status = 'authorised', completed_at = ${now}, methods = ${$(JSON.stringify(r.methods))}::jsonb,
                  categories = ${$(r.categories)}, auth_code_id = ${$(r.codeId)}
           WHERE id = ${opId} AND status = 'pending' AND expires_at > ${now} RETURNING 1)`,
  ];
  const guards = ['(SELECT count(*) FROM h) = 1', '(SELECT count(*) FROM o) = 1'];
  if (r.resetLockout) {
    ctes.push(`l AS (UPDATE security_states SET failed_count = 0, block_level = 0, blocked_until = NULL, updated_at = ${now}
                     WHERE customer_id = ${customer()})`);
  }
  r.used.forEach(({ authenticator: a, change }, i) => {
    const step = change.lastUsedStep ?? a.last_used_step;
    // Guarded by what the proof was checked against: still active, same secret, same last used step.
    // A new secret (the app's PIN change) is written only over the one the proof was checked against.
    const rekey = change.secretSealed ? `, secret_sealed = ${$(change.secretSealed)}` : '';
    const sameSecret = change.secretSealed ? ` AND secret_sealed = ${$(a.secret_sealed)}` : '';
    ctes.push(`a${i} AS (UPDATE authenticators SET last_used_at = ${now}, last_used_step = ${$(step)}${rekey}
                WHERE id = ${$(a.id)} AND status = 'active' AND secret_digest IS NOT DISTINCT FROM ${$(a.secret_digest)}
                  AND last_used_step IS NOT DISTINCT FROM ${$(a.last_used_step)}${sameSecret} RETURNING 1)`);
    guards.push(`(SELECT count(*) FROM a${i}) = 1`);
  });
  if (r.appApproval) {
    const p = r.appApproval;
    ctes.push(`p AS (UPDATE app_approvals SET status = 'approved', decided_at = ${now}, code_sealed = ${$(p.codeSealed)}
                     WHERE id = ${$(p.id)} AND operation_id = ${opId} AND status = ${$(p.waiting)} RETURNING 1)`);
    guards.push('(SELECT count(*) FROM p) = 1');
  }
  if (r.deviceNonce) {
    const n = r.deviceNonce;
    ctes.push(`dn AS (INSERT INTO device_request_nonces (authenticator_id, nonce, expires_at)
                      VALUES (${$(n.who)}, ${$(n.nonce)}, ${$(n.expiresAt)}) ON CONFLICT DO NOTHING RETURNING 1)`);
    guards.push('(SELECT count(*) FROM dn) = 1');
  }
  if (r.touchSession) {
    // Not a guard: sessions are not under the customer's lock, a logout may land at any time either way.
    ctes.push(`s AS (UPDATE sessions SET last_seen_at = ${now} WHERE id = ${$(r.touchSession)} AND revoked_at IS NULL)`);
  }
  if (r.session) {
    const n = r.session.row;
    if (r.session.replacesDigest) {
      ctes.push(`r AS (UPDATE sessions SET revoked_at = ${now}, revoke_reason = 'reauthenticated'
                       WHERE token_digest = ${$(r.session.replacesDigest)} AND customer_id = ${customer()} AND revoked_at IS NULL)`);
    }
    ctes.push(`n AS (INSERT INTO sessions (id, token_digest, customer_id, rp_id, operation_id, created_at, last_seen_at, user_agent)
                     VALUES (${$(n.id)}, ${$(n.token_digest)}, ${$(n.customer_id)}, ${$(n.rp_id)}, ${$(n.operation_id)}, ${now}, ${now}, ${$(n.user_agent)}))`);
  }
  try {
    await db.executeQuery(CompiledQuery.raw(`WITH ${ctes.join(',\n')} SELECT sesame_guard(${guards.join(' AND ')})`, values));
    return true;
  } catch (e) {
    if ((e as { code?: string }).code === GUARD_TRIPPED) return false;
    throw e;
  }
}

/** SQLSTATE raised by `sesame_guard` (migration 004): the whole statement is rolled back. */
export const GUARD_TRIPPED = 'SE409';
