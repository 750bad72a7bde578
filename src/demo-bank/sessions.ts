import { randomBytes } from 'node:crypto';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { OperationData } from './sesame-client.js';

/**
 * The bank's own web sessions, in memory. The browser holds only a random id in an HttpOnly,
 * SameSite=Strict cookie scoped to the bank's API; the Sésame session token stays on the server. The
 * Sésame session is the authority on expiry (5-minute inactivity): the bank asks it on every request.
 */

export const COOKIE_NAME = 'bank_session';
const COOKIE_PATH = '/bank/api';
/** Forget bank sessions nobody used for this long (Sésame's own timeout is far shorter). */
const PRUNE_AFTER_MS = 30 * 60_000;

export interface LoggedInCustomer {
  id: string;
  ref: string;
  displayName: string;
}

/** Between the two login screens: what the identifier led to, unknown identifiers included. */
export type PendingLogin =
  | { kind: 'real'; operationId: string; customer: LoggedInCustomer }
  | { kind: 'unknown'; ref: string }
  | { kind: 'deferred-error'; error: Error };

export interface PendingTransfer {
  operationId: string;
  fromAccountId: string;
  /** The bank's own copy of what the customer asked for, checked again at consumption (dynamic linking). */
  data: Extract<OperationData, { type: 'payment' }>;
  busy: boolean;
}

export interface BankSession {
  id: string;
  lastSeenMs: number;
  pendingLogin: PendingLogin | null;
  /** The challenge of the passkey login this browser was given options for: answered once, here only. */
  passkeyChallenge: string | null;
  customer: LoggedInCustomer | null;
  sesameToken: string | null;
  idleTimeoutSeconds: number | null;
  transfers: Map<string, PendingTransfer>;
  /** TOTP authenticators enrolled from this session and not yet activated. */
  pendingTotp: Set<string>;
  /** SMS and voice authenticators enrolled from this session and not yet activated. */
  pendingPhone: Set<string>;
  /** Step-up operations started from this session (adding a method, changing the secure number), by id. */
  stepUps: Map<string, OperationData>;
  /** Codes sent to a number from this session (secure number change or yearly check), not yet confirmed. */
  phoneProofs: Set<string>;
}

export class BankSessions {
  readonly #sessions = new Map<string, BankSession>();
  readonly #now: () => Date;
  #prunedAtMs = 0;

  constructor(now: () => Date) {
    this.#now = now;
  }

  /** The session named by the request's cookie, if any. */
  get(request: FastifyRequest): BankSession | undefined {
    this.#prune();
    const id = request.cookies[COOKIE_NAME];
    const session = id ? this.#sessions.get(id) : undefined;
    if (session) session.lastSeenMs = this.#now().getTime();
    return session;
  }

  /** A fresh session with a new id (also used at login, so an id known before login is worthless after). */
  create(reply: FastifyReply, request: FastifyRequest): BankSession {
    const session: BankSession = {
      id: randomBytes(32).toString('base64url'),
      lastSeenMs: this.#now().getTime(),
      pendingLogin: null,
      passkeyChallenge: null,
      customer: null,
      sesameToken: null,
      idleTimeoutSeconds: null,
      transfers: new Map(),
      pendingTotp: new Set(),
      pendingPhone: new Set(),
      stepUps: new Map(),
      phoneProofs: new Set(),
    };
    this.#sessions.set(session.id, session);
    reply.setCookie(COOKIE_NAME, session.id, cookieOptions(request));
    return session;
  }

  /** Replaces `old` by a session with a new id carrying `patch`. */
  rotate(old: BankSession, reply: FastifyReply, request: FastifyRequest, patch: Partial<BankSession>): BankSession {
    this.#sessions.delete(old.id);
    const fresh = this.create(reply, request);
    Object.assign(fresh, patch);
    return fresh;
  }

  destroy(session: BankSession | undefined, reply: FastifyReply, request: FastifyRequest): void {
    if (session) this.#sessions.delete(session.id);
    reply.clearCookie(COOKIE_NAME, cookieOptions(request));
  }

  #prune(): void {
    const nowMs = this.#now().getTime();
    if (nowMs - this.#prunedAtMs < 60_000) return;
    this.#prunedAtMs = nowMs;
    const limit = nowMs - PRUNE_AFTER_MS;
    for (const [id, s] of this.#sessions) if (s.lastSeenMs < limit) this.#sessions.delete(id);
  }
}

function cookieOptions(request: FastifyRequest) {
  return {
    path: COOKIE_PATH,
    httpOnly: true,
    sameSite: 'strict' as const,
    // Browsers refuse Secure cookies over plain http (except on localhost), so follow the scheme.
    secure: request.protocol === 'https',
  };
}
