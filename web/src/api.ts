/**
 * The page's only way out: JSON calls to the demo bank's back-end under `/bank/api`. The session lives
 * in an HttpOnly cookie the page never sees; the page never talks to Sésame directly.
 */

export interface Me {
  customer: { ref: string; displayName: string };
  expiresAt: string;
  idleTimeoutSeconds: number;
}

export interface Money {
  value: number;
  currency: string;
}

export interface Account {
  id: string;
  kind: 'current' | 'savings';
  iban: string;
  balanceCents: number;
  currency: string;
}

export interface Transaction {
  id: string;
  accountId: string;
  at: string;
  kind: 'salary' | 'rent' | 'card' | 'transfer_out';
  counterparty: string;
  amountCents: number;
  currency: string;
}

export interface PendingTransfer {
  operationId: string;
  fromAccount: { id: string; kind: Account['kind']; iban: string };
  amount: Money;
  payee: { name: string; iban?: string };
  expiresAt: string;
}

export interface TransferDone {
  transaction: Transaction;
  balanceCents: number;
  amount: Money;
  payee: { name: string; iban?: string };
}

export interface Authenticator {
  id: string;
  kind: string;
  category: string;
  status: string;
  label: string | null;
  createdAt: string;
  activatedAt: string | null;
  lastUsedAt: string | null;
}

export interface Security {
  authenticators: Authenticator[];
  status: { remainingAttempts: number; blocked: boolean; blockedUntil: string | null; permanent: boolean };
  canDoSca: boolean;
}

export interface TotpEnrolment {
  authenticatorId: string;
  secret: string;
  otpauthUri: string;
  qrSvg: string;
}

/** A problem+json answer: `code` is what the page branches on. */
export class ApiError extends Error {
  readonly status: number;
  readonly code: string;
  readonly remainingAttempts: number | undefined;
  readonly nextBlockPermanent: boolean;
  readonly blockedUntil: string | null;
  readonly permanent: boolean;
  constructor(status: number, body: Record<string, unknown>) {
    super(typeof body.title === 'string' ? body.title : `HTTP ${status}`);
    this.status = status;
    this.code = typeof body.code === 'string' ? body.code : `HTTP_${status}`;
    this.remainingAttempts = typeof body.remainingAttempts === 'number' ? body.remainingAttempts : undefined;
    this.nextBlockPermanent = body.nextBlockPermanent === true;
    this.blockedUntil = typeof body.blockedUntil === 'string' ? body.blockedUntil : null;
    this.permanent = body.permanent === true;
  }
}

/** Codes that mean "you are not (or no longer) logged in". */
const SESSION_LOST = new Set(['ERR_SESSION_EXPIRED', 'ERR_NOT_LOGGED_IN']);

type Listener<T> = (value: T) => void;
const activityListeners = new Set<Listener<void>>();
const sessionLostListeners = new Set<Listener<{ expired: boolean }>>();

/** Called after every answer that proves the session is alive (it reset the server's idle timer). */
export function onActivity(fn: Listener<void>): () => void {
  activityListeners.add(fn);
  return () => activityListeners.delete(fn);
}

/** Called when a call that needs a session finds none: the page goes back to the login screen. */
export function onSessionLost(fn: Listener<{ expired: boolean }>): () => void {
  sessionLostListeners.add(fn);
  return () => sessionLostListeners.delete(fn);
}

async function call<T>(method: 'GET' | 'POST', path: string, body?: unknown, opts: { session?: boolean } = {}): Promise<T> {
  let res: Response;
  try {
    res = await fetch(`/bank/api${path}`, {
      method,
      credentials: 'same-origin',
      headers: { accept: 'application/json', ...(method === 'POST' ? { 'content-type': 'application/json' } : {}) },
      body: method === 'POST' ? JSON.stringify(body ?? {}) : null,
    });
  } catch {
    throw new ApiError(0, { code: 'ERR_NETWORK' });
  }
  const text = await res.text();
  let json: unknown = undefined;
  try {
    json = text ? JSON.parse(text) : undefined;
  } catch {
    // not JSON: handled below as a generic error
  }
  if (!res.ok) {
    const err = new ApiError(res.status, typeof json === 'object' && json !== null ? (json as Record<string, unknown>) : {});
    if (opts.session !== false && SESSION_LOST.has(err.code)) {
      for (const fn of sessionLostListeners) fn({ expired: err.code === 'ERR_SESSION_EXPIRED' });
    }
    throw err;
  }
  if (opts.session !== false) for (const fn of activityListeners) fn();
  return json as T;
}

export const api = {
  /** `session: false`: the caller handles "not logged in" itself (page load). */
  me: () => call<Me>('GET', '/me', undefined, { session: false }),
  loginStart: (ref: string) => call<{ next: string }>('POST', '/login/start', { ref }, { session: false }),
  loginFinish: (password: string, code: string) => call<Me>('POST', '/login/finish', { password, code }, { session: false }),
  logout: () => call<void>('POST', '/logout', {}, { session: false }),
  accounts: () => call<{ accounts: Account[]; transactions: Transaction[] }>('GET', '/accounts'),
  createTransfer: (t: { fromAccount: string; payeeName: string; iban: string; amountCents: number; currency: 'EUR' }) =>
    call<PendingTransfer>('POST', '/transfers', t),
  confirmTransfer: (operationId: string, password: string, code: string) =>
    call<TransferDone>('POST', `/transfers/${encodeURIComponent(operationId)}/confirm`, { password, code }),
  security: () => call<Security>('GET', '/security'),
  enrolTotp: (body: { label?: string; password?: string; code?: string }) => call<TotpEnrolment>('POST', '/security/totp', body),
  activateTotp: (authenticatorId: string, code: string) =>
    call<{ authenticatorId: string; status: string }>('POST', `/security/totp/${encodeURIComponent(authenticatorId)}/activate`, { code }),
};
