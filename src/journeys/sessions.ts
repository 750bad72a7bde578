import { NotFound, SessionExpired } from '../core/errors.js';
import { sessionExpiresAt, sessionVerdict, type SessionPolicy } from '../core/sessions.js';
import { newId, newToken, tokenDigest } from '../crypto/tokens.js';
import type { Services } from '../context.js';
import { appendAudit, customerChain } from '../store/audit.js';
import type { SessionRow } from '../store/schema.js';
import { iso } from './customers.js';

/**
 * Sessions opened by a login SCA. The token (256 random bits) is given once to the relying party and
 * stored only as its SHA-256. Every use refreshes the idle timer; idle for the configured time (≤ 5 min)
 * or past the absolute lifetime, the session is over.
 */
export interface SessionView {
  id: string;
  customerId: string;
  createdAt: string;
  lastSeenAt: string;
  expiresAt: string;
  userAgent: string | null;
}

export function sessionView(row: SessionRow, policy: SessionPolicy): SessionView {
  return {
    id: row.id,
    customerId: row.customer_id,
    createdAt: iso(row.created_at)!,
    lastSeenAt: iso(row.last_seen_at)!,
    expiresAt: sessionExpiresAt(times(row), policy).toISOString(),
    userAgent: row.user_agent,
  };
}

const times = (row: Pick<SessionRow, 'created_at' | 'last_seen_at' | 'revoked_at'>) => ({
  createdAt: new Date(row.created_at),
  lastSeenAt: new Date(row.last_seen_at),
  revokedAt: row.revoked_at ? new Date(row.revoked_at) : null,
});

export interface NewSession {
  row: Omit<SessionRow, 'created_at' | 'last_seen_at' | 'revoked_at'> & { created_at: Date; last_seen_at: Date; revoked_at: null };
  /** The digest of the token this login replaces (re-authentication gets a new token: no fixation). */
  replacesDigest: string | null;
  view: { id: string; token: string; expiresAt: string; idleTimeoutSeconds: number };
}

/** The session a login opens, written with the login's outcome (see `store/attempts.ts`). */
export function newSession(
  s: Services,
  at: Date,
  input: { customerId: string; rpId: string; operationId: string; userAgent?: string | undefined; replaceToken?: string | undefined },
): NewSession {
  const token = newToken('ses');
  const row = {
    id: newId(),
    token_digest: tokenDigest(token),
    customer_id: input.customerId,
    rp_id: input.rpId,
    operation_id: input.operationId,
    created_at: at,
    last_seen_at: at,
    revoked_at: null,
    revoke_reason: null,
    user_agent: input.userAgent?.slice(0, 300) ?? null,
  };
  return {
    row,
    replacesDigest: input.replaceToken ? tokenDigest(input.replaceToken) : null,
    view: {
      id: row.id,
      token,
      expiresAt: sessionExpiresAt(times(row), s.config.session).toISOString(),
      idleTimeoutSeconds: s.config.session.inactivitySeconds,
    },
  };
}

/** A session found by its token must be this bank's, this customer's and still active; any other answers the same. */
export function checkActiveSession<R extends Pick<SessionRow, 'rp_id' | 'customer_id' | 'created_at' | 'last_seen_at' | 'revoked_at'>>(
  s: Services,
  row: R | null,
  rpId: string,
  customerId: string,
): R {
  if (
    !row ||
    row.rp_id !== rpId ||
    row.customer_id !== customerId ||
    sessionVerdict(times(row), s.clock.now(), s.config.session) !== 'active'
  ) {
    throw new SessionExpired();
  }
  return row;
}

/** Checks a token and refreshes its idle timer. Any ended session answers the same. */
export async function introspectSession(s: Services, rpId: string, token: string): Promise<SessionView> {
  const now = s.clock.now();
  const row = await s.db.selectFrom('sessions').selectAll().where('token_digest', '=', tokenDigest(token)).executeTakeFirst();
  if (!row || row.rp_id !== rpId) throw new SessionExpired();
  const verdict = sessionVerdict(times(row), now, s.config.session);
  if (verdict !== 'active') {
    if (verdict !== 'revoked') await endSession(s, now, { id: row.id }, verdict, 'system');
    throw new SessionExpired();
  }
  const touched = await s.db
    .updateTable('sessions')
    .set({ last_seen_at: now })
    .where('id', '=', row.id)
    .where('revoked_at', 'is', null)
    .returningAll()
    .executeTakeFirst();
  if (!touched) throw new SessionExpired();
  return sessionView(touched, s.config.session);
}

export async function logout(s: Services, rpId: string, token: string): Promise<void> {
  await endSession(s, s.clock.now(), { tokenDigest: tokenDigest(token), rpId }, 'logout', `rp:${rpId}`);
}

export async function listSessions(s: Services, customerId: string): Promise<SessionView[]> {
  const now = s.clock.now();
  const rows = await s.db
    .selectFrom('sessions')
    .selectAll()
    .where('customer_id', '=', customerId)
    .where('revoked_at', 'is', null)
    .orderBy('created_at', 'desc')
    .execute();
  return rows.filter((r) => sessionVerdict(times(r), now, s.config.session) === 'active').map((r) => sessionView(r, s.config.session));
}

/** Ends one of the customer's sessions ("sign out that other device"). */
export async function revokeSession(s: Services, customerId: string, sessionId: string, actor: string): Promise<void> {
  if (!(await endSession(s, s.clock.now(), { id: sessionId, customerId }, 'revoked', actor))) throw new NotFound('Session');
}

/**
 * Ends the matching live session and records it in the customer's audit chain, in one transaction: no
 * session ends unrecorded (logout, revocation, or found idle or past its lifetime). False when none matched.
 */
async function endSession(
  s: Services,
  now: Date,
  match: { id?: string; tokenDigest?: string; rpId?: string; customerId?: string },
  reason: string,
  actor: string,
): Promise<boolean> {
  return s.db.transaction().execute(async (tx) => {
    let q = tx.updateTable('sessions').set({ revoked_at: now, revoke_reason: reason }).where('revoked_at', 'is', null);
    if (match.id) q = q.where('id', '=', match.id);
    if (match.tokenDigest) q = q.where('token_digest', '=', match.tokenDigest);
    if (match.rpId) q = q.where('rp_id', '=', match.rpId);
    if (match.customerId) q = q.where('customer_id', '=', match.customerId);
    const row = await q.returning(['id', 'customer_id']).executeTakeFirst();
    if (!row) return false;
    await appendAudit(tx, customerChain(row.customer_id), now, { type: 'session.ended', actor, data: { sessionId: row.id, reason } });
    return true;
  });
}
