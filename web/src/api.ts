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

/** A possession method the SCA screen offers, from Sésame's ways-in. */
export type ScaMethod = 'totp' | 'hotp' | 'ocra' | 'sms' | 'voice' | 'webauthn';
export interface ScaChoice {
  kind: ScaMethod;
  /** OCRA: the token whose challenge to ask for. */
  authenticatorId?: string;
  destination?: string;
  voiceMode?: 'read-out' | 'keypad';
}

/** A code sent by SMS or call. Keypad calls: `displayCode` is shown, and typed on the handset. */
export interface Challenge {
  method: 'sms' | 'voice';
  mode: 'code' | 'read-out' | 'keypad';
  destination: string;
  expiresAt: string;
  displayCode?: string;
}

/** The challenge to type on an OCRA token (a reader): derived from the operation, amount and payee included. */
export interface OcraChallenge {
  authenticatorId: string;
  challenge: string;
}

/** The second element as the customer gave it. */
export interface Possession {
  method: ScaMethod;
  code?: string;
  /** OCRA: the token whose challenge was answered. */
  authenticatorId?: string;
  /** A passkey or security key: the browser's assertion. */
  credential?: Record<string, unknown>;
}

export interface StepUp extends Possession {
  operationId?: string;
  password: string;
}

export interface WayIn {
  id: string;
  kind: string;
  category: string;
  categories: string[];
  status: string;
  label: string;
  destination?: string;
  voiceMode?: string;
  usableFor: string[];
}

export interface WaysIn {
  customerId: string;
  methods: WayIn[];
  canLogIn: boolean;
  canPay: boolean;
  canAdd: { kind: string; category: string; needs: string; setup: 'self-service' | 'bank' }[];
  securePhone: { number: string | null; checkDue: boolean; coolingOff: boolean };
}

export type StepUpOperation =
  | { type: 'manage_authenticators'; action: 'add'; kind: 'totp' | 'sms' | 'voice' | 'webauthn'; target?: string }
  | { type: 'change_phone'; phone: string };

export interface PhoneProof {
  id: string;
  destination: string;
  expiresAt: string;
}

export interface PendingTransfer {
  operationId: string;
  fromAccount: { id: string; kind: Account['kind']; iban: string };
  amount: Money;
  payee: { name: string; iban?: string };
  expiresAt: string;
  methods: ScaChoice[];
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
  waysIn: WaysIn;
}

export interface PhoneEnrolment {
  authenticatorId: string;
  kind: 'sms' | 'voice';
  destination: string;
  voiceMode: 'read-out' | 'keypad' | null;
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
  loginMethods: () => call<{ methods: ScaChoice[] }>('GET', '/login/methods', undefined, { session: false }),
  loginChallenge: (method: 'sms' | 'voice', locale: string) =>
    call<Challenge>('POST', '/login/challenge', { method, locale }, { session: false }),
  loginOcraChallenge: (authenticatorId: string) =>
    call<OcraChallenge>('GET', `/login/ocra-challenge?authenticatorId=${encodeURIComponent(authenticatorId)}`, undefined, {
      session: false,
    }),
  loginFinish: (password: string, p: Possession | string) =>
    call<Me>('POST', '/login/finish', { password, ...(typeof p === 'string' ? { code: p } : p) }, { session: false }),
  logout: () => call<void>('POST', '/logout', {}, { session: false }),
  accounts: () => call<{ accounts: Account[]; transactions: Transaction[] }>('GET', '/accounts'),
  createTransfer: (t: { fromAccount: string; payeeName: string; iban: string; amountCents: number; currency: 'EUR' }) =>
    call<PendingTransfer>('POST', '/transfers', t),
  transferChallenge: (operationId: string, method: 'sms' | 'voice', locale: string) =>
    call<Challenge>('POST', `/transfers/${encodeURIComponent(operationId)}/challenge`, { method, locale }),
  transferOcraChallenge: (operationId: string, authenticatorId: string) =>
    call<OcraChallenge>(
      'GET',
      `/transfers/${encodeURIComponent(operationId)}/ocra-challenge?authenticatorId=${encodeURIComponent(authenticatorId)}`,
    ),
  confirmTransfer: (operationId: string, password: string, p: Possession | string) =>
    call<TransferDone>('POST', `/transfers/${encodeURIComponent(operationId)}/confirm`, {
      password,
      ...(typeof p === 'string' ? { code: p } : p),
    }),
  security: () => call<Security>('GET', '/security'),
  enrolTotp: (body: { label?: string; password?: string; code?: string; stepUp?: StepUp }) =>
    call<TotpEnrolment>('POST', '/security/totp', body),
  startStepUp: (operation: StepUpOperation) => call<{ operationId: string }>('POST', '/security/step-up', operation),
  stepUpChallenge: (operationId: string, method: 'sms' | 'voice', locale: string) =>
    call<Challenge>('POST', `/security/step-up/${encodeURIComponent(operationId)}/challenge`, { method, locale }),
  enrolPhone: (body: {
    method: 'sms' | 'voice';
    phone: string;
    voiceMode?: 'read-out' | 'keypad';
    label?: string;
    locale?: string;
    stepUp?: StepUp;
  }) => call<PhoneEnrolment>('POST', '/security/phone', body),
  activatePhone: (authenticatorId: string, code: string) =>
    call<{ authenticatorId: string; status: string }>('POST', `/security/phone/${encodeURIComponent(authenticatorId)}/activate`, { code }),
  changePhone: (phone: string, locale: string, stepUp: StepUp) =>
    call<PhoneProof>('POST', '/security/secure-phone/change', { phone, locale, stepUp }),
  reconfirmPhone: (locale: string) => call<PhoneProof>('POST', '/security/secure-phone/reconfirm', { locale }),
  confirmPhone: (id: string, code: string) => call<{ number: string | null }>('POST', '/security/secure-phone/confirm', { id, code }),
  lostPhone: () => call<{ nextStep: string }>('POST', '/security/secure-phone/lost', {}),
  /** Passkey login without an identifier: options with no allow list, then the assertion that says who logs in. */
  passkeyLoginOptions: () => call<Record<string, unknown>>('POST', '/login/passkey/options', {}, { session: false }),
  passkeyLogin: (credential: Record<string, unknown>) => call<Me>('POST', '/login/passkey', { credential }, { session: false }),
  loginPasskeyOptions: () => call<Record<string, unknown>>('POST', '/login/passkey-options', {}, { session: false }),
  transferPasskeyOptions: (operationId: string) =>
    call<Record<string, unknown>>('POST', `/transfers/${encodeURIComponent(operationId)}/passkey-options`, {}),
  passkeyRegistrationOptions: (body: { label?: string; attachment?: 'platform' | 'cross-platform'; stepUp?: StepUp }) =>
    call<Record<string, unknown>>('POST', '/security/passkeys/options', body),
  registerPasskey: (credential: Record<string, unknown>, label?: string) =>
    call<{ id: string; kind: string; label: string; status: string }>('POST', '/security/passkeys', {
      credential,
      ...(label ? { label } : {}),
    }),
  activateTotp: (authenticatorId: string, code: string) =>
    call<{ authenticatorId: string; status: string }>('POST', `/security/totp/${encodeURIComponent(authenticatorId)}/activate`, { code }),
};

// The app authenticator: activation from "My security", approvals on the SCA screens (bank routes in
// src/demo-bank/routes/app.ts).

export type AppEligibilityGap = 'remote_banking' | 'secure_phone' | 'card_or_email_72h' | 'secure_phone_cooling_off';
export interface AppEligibility {
  eligible: boolean;
  missing: AppEligibilityGap[];
  hasApp?: boolean;
}
export interface AppActivation {
  activationId: string;
  channel: 'self' | 'branch';
  purpose: string;
  status: string;
  createdAt: string;
  expiresAt: string;
  subscribedAt: string | null;
  deviceName: string | null;
}
export interface AppActivationStarted {
  activationId: string;
  activationCode: string;
  activationUrl: string;
  qrSvg: string;
  expiresAt: string;
}
/** Sent to the app: logins carry the number the customer picks there. */
export interface AppApprovalSent {
  approvalId: string;
  number: number | null;
  expiresAt: string;
}
export type AppApprovalPoll<T> =
  { status: 'pending' } | { status: 'refused' | 'expired' | 'failed'; fraudDeclared: boolean } | ({ status: 'approved' } & T);
export interface CardPaymentSent extends AppApprovalSent {
  operationId: string;
  amount: Money;
  payee: { name: string };
}

export const appApi = {
  eligibility: () => call<AppEligibility>('GET', '/app/eligibility'),
  activations: () => call<{ activations: AppActivation[] }>('GET', '/app/activations'),
  startActivation: () => call<AppActivationStarted>('POST', '/app/activations', {}),
  available: () => call<{ available: boolean }>('GET', '/app/available'),
  loginAvailable: () => call<{ available: boolean }>('GET', '/login/app', undefined, { session: false }),
  loginApproval: () => call<AppApprovalSent>('POST', '/login/app-approval', {}, { session: false }),
  loginApprovalStatus: (approvalId: string) =>
    call<AppApprovalPoll<{ me: Me }>>('GET', `/login/app-approval/${encodeURIComponent(approvalId)}`, undefined, { session: false }),
  transferApproval: (operationId: string) =>
    call<AppApprovalSent>('POST', `/transfers/${encodeURIComponent(operationId)}/app-approval`, {}),
  transferApprovalStatus: (operationId: string, approvalId: string) =>
    call<AppApprovalPoll<{ done: TransferDone }>>(
      'GET',
      `/transfers/${encodeURIComponent(operationId)}/app-approval/${encodeURIComponent(approvalId)}`,
    ),
  simulateCardPayment: () => call<CardPaymentSent>('POST', '/card-payments/simulate', {}),
  cardPaymentStatus: (operationId: string, approvalId: string) =>
    call<AppApprovalPoll<Record<string, never>>>(
      'GET',
      `/card-payments/${encodeURIComponent(operationId)}/app-approval/${encodeURIComponent(approvalId)}`,
    ),
};
