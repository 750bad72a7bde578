/**
 * A small typed client for Sésame's relying-party API — the part of the demo bank to copy into a real
 * back-end. It speaks plain HTTP with `fetch`: a relying party needs nothing else (no SDK, no shared
 * database, no import from the server's code).
 *
 * Every call sends the bank's API key as `Authorization: Bearer sk_…`. The key identifies the bank, so
 * it lives on the bank's server only and never reaches a browser.
 *
 * Errors come back as RFC 9457 `application/problem+json`; the client turns them into
 * {@link SesameApiError} with the stable `code` (`ERR_AUTHENTICATION_FAILED`, `ERR_CUSTOMER_BLOCKED`, …)
 * and the problem's extension members (`remainingAttempts`, `blockedUntil`, …) in `details`, so callers
 * branch on codes, never on messages.
 *
 * @example
 * const sesame = new SesameClient({ baseUrl: 'http://localhost:8080', apiKey: process.env.SESAME_API_KEY! });
 * const customer = await sesame.customerByRef('C-0001');
 * const op = await sesame.createOperation(customer.id, { type: 'login' });
 * try {
 *   const result = await sesame.authenticate(op.id, [
 *     { method: 'password', password },
 *     { method: 'totp', code },
 *   ]);
 *   // result.session.token is the customer's logged-in session
 * } catch (e) {
 *   if (e instanceof SesameApiError && e.code === 'ERR_AUTHENTICATION_FAILED') {
 *     // the same answer whichever element was wrong; e.details.remainingAttempts says how many are left
 *   }
 * }
 */

// ---------------------------------------------------------------------------------------------------
// Types of the API (see /openapi.json on the server for the full reference)
// ---------------------------------------------------------------------------------------------------

export type ElementCategory = 'knowledge' | 'possession' | 'inherence';

export interface Customer {
  id: string;
  ref: string;
  displayName: string;
  locale?: 'fr' | 'en';
}

export interface Authenticator {
  id: string;
  kind: string;
  category: ElementCategory;
  status: 'pending' | 'active' | 'suspended' | 'revoked';
  label: string | null;
  createdAt: string;
  activatedAt: string | null;
  lastUsedAt: string | null;
}

export interface Money {
  /** Minor units (cents). */
  value: number;
  currency: string;
}

/** Who is paid: an account (IBAN) or a merchant; Sésame refuses a name alone. */
export interface Payee {
  name: string;
  iban?: string;
  merchantId?: string;
}

/** The operations the demo bank asks Sésame to authenticate. Sésame knows more types. */
export type OperationData =
  | { type: 'login' }
  | { type: 'payment'; amount: Money; payee: Payee }
  | { type: 'manage_authenticators'; action: 'add' | 'remove' | 'regenerate'; kind: string; target?: string }
  | { type: 'change_phone'; phone: string }
  /** A card payment on a merchant's website, sent to the customer's app (refusing it declares fraud). */
  | { type: 'online_card_payment'; amount: Money; payee: Payee };

export interface Operation {
  id: string;
  customerId: string;
  type: string;
  status: 'pending' | 'authorised' | 'failed' | 'expired' | 'cancelled';
  /** The operation data as Sésame normalised it: this is what the customer must be shown. */
  data: OperationData;
  linkHash: string;
  expiresAt: string;
  availableMethods: { kind: string; category: ElementCategory; authenticatorId: string }[];
}

/** One element proven by the customer. Send all of them in one call: a failure never says which was wrong. */
export type Factor =
  | { method: 'password'; password: string }
  | { method: 'totp'; code: string }
  /** A hardware token's code; `authenticatorId` picks one token when the customer has several. */
  | { method: 'hotp'; code: string; authenticatorId?: string }
  /** An OCRA token's response to the operation's challenge ({@link SesameClient.ocraChallenge}). */
  | { method: 'ocra'; code: string; authenticatorId?: string }
  | { method: 'recovery'; code: string }
  /** A code received by SMS or heard in a call; no code after a keypad call (typed on the handset). */
  | { method: 'sms' | 'voice'; code?: string }
  /** A passkey or security key: the browser's assertion; one gesture with user verification proves two elements. */
  | { method: 'webauthn'; credential: Record<string, unknown> };

/** Codes by SMS or by voice call (a landline too). */
export type PhoneMethod = 'sms' | 'voice';

/** One of the customer's ways in, as Sésame describes it (`GET /v1/customers/{id}/ways-in`). */
export interface WayIn {
  id: string;
  kind: string;
  category: ElementCategory;
  /** Every element one use proves (a passkey: possession and inherence). */
  categories: ElementCategory[];
  status: string;
  label: string;
  /** The number, masked, for SMS and voice. */
  destination?: string;
  voiceMode?: 'read-out' | 'keypad';
  /** Operation types this method may be used for. */
  usableFor: string[];
}

/** The one answer every channel renders: what the customer has, what each is for, what they could add. */
export interface WaysIn {
  customerId: string;
  methods: WayIn[];
  canLogIn: boolean;
  canPay: boolean;
  canAdd: { kind: string; category: ElementCategory; needs: string; setup: 'self-service' | 'bank' }[];
  securePhone: { number: string | null; checkDue: boolean; coolingOff: boolean };
}

/** A code sent for an operation. `displayCode` only for keypad calls: show it, it is typed on the handset. */
export interface Challenge {
  id: string;
  method: PhoneMethod;
  mode: 'code' | 'read-out' | 'keypad';
  destination: string;
  expiresAt: string;
  displayCode?: string;
}

/** What to show beside the amount and payee for an OCRA token: type `challenge` on it, give the response. */
export interface OcraChallenge {
  operationId: string;
  authenticatorId: string;
  challenge: string;
  suite: string;
}

export interface PhoneEnrolment extends Authenticator {
  phone: string;
  lineType: string;
  voiceMode: 'read-out' | 'keypad' | null;
  activateBefore: string;
}

/** A code sent to a number to prove it (a change of secure number, or its yearly check). */
export interface PhoneProof {
  id: string;
  destination: string;
  expiresAt: string;
}

export interface SessionGrant {
  id: string;
  /** Opaque bearer token of the customer's session: keep it server-side. */
  token: string;
  expiresAt: string;
  idleTimeoutSeconds: number;
}

export interface AuthenticateResult {
  status: 'authorised';
  /** Single-use proof of SCA for this operation (a JWS). Consume it before acting on the operation. */
  authenticationCode: string;
  expiresAt: string;
  /** Only for `login` operations. */
  session?: SessionGrant;
}

export interface ConsumedCode {
  operationId: string;
  customerId: string;
  type: string;
  linkHash: string;
  amount?: Money;
  payees?: Payee[];
  methods: string[];
  categories: ElementCategory[];
}

export interface SessionInfo {
  id: string;
  customerId: string;
  expiresAt: string;
}

export interface TotpEnrolment {
  id: string;
  status: 'pending';
  /** Base32 seed, to show for manual entry (or `oathtool --totp -b`). */
  secret: string;
  otpauthUri: string;
  /** The QR code of `otpauthUri` as an SVG document. */
  qrSvg: string;
}

export interface SecurityStatus {
  failedCount: number;
  remainingAttempts: number;
  blocked: boolean;
  blockedUntil: string | null;
  permanent: boolean;
  nextBlockPermanent: boolean;
}

// ---------------------------------------------------------------------------------------------------
// Errors
// ---------------------------------------------------------------------------------------------------

/** Sésame answered with a problem+json error. `code` is stable; branch on it. */
export class SesameApiError extends Error {
  readonly status: number;
  readonly code: string;
  readonly title: string;
  readonly detail: string | undefined;
  /** The problem's extension members: `remainingAttempts`, `blockedUntil`, `permanent`, … */
  readonly details: Readonly<Record<string, unknown>>;

  constructor(status: number, problem: Record<string, unknown>) {
    const title = typeof problem.title === 'string' ? problem.title : `HTTP ${status}`;
    super(title);
    this.name = 'SesameApiError';
    this.status = status;
    this.code = typeof problem.code === 'string' ? problem.code : `HTTP_${status}`;
    this.title = title;
    this.detail = typeof problem.detail === 'string' ? problem.detail : undefined;
    const { type: _t, title: _ti, status: _s, detail: _d, code: _c, instance: _i, ...details } = problem;
    this.details = details;
  }
}

/** Sésame could not be reached or did not answer in time: nothing is known about the request's outcome. */
export class SesameUnavailableError extends Error {
  constructor(cause: unknown) {
    super('Sésame is unreachable.', { cause });
    this.name = 'SesameUnavailableError';
  }
}

// ---------------------------------------------------------------------------------------------------
// The client
// ---------------------------------------------------------------------------------------------------

export interface SesameClientOptions {
  /**
   * Where Sésame listens, e.g. `https://sca.bank.example`. A function is read at each call, for a
   * server that learns its own port only once it listens (`PORT=0` in tests).
   */
  baseUrl: string | (() => string);
  /** The relying party's API key (`sk_…`). */
  apiKey: string;
  /** Per-request timeout. Default 10 s. */
  timeoutMs?: number;
  /** For tests: another `fetch`. */
  fetch?: typeof fetch;
}

export class SesameClient {
  readonly #baseUrl: () => string;
  readonly #apiKey: string;
  readonly #timeoutMs: number;
  readonly #fetch: typeof fetch;

  constructor(opts: SesameClientOptions) {
    const { baseUrl } = opts;
    this.#baseUrl = typeof baseUrl === 'function' ? () => baseUrl().replace(/\/+$/, '') : () => baseUrl.replace(/\/+$/, '');
    this.#apiKey = opts.apiKey;
    this.#timeoutMs = opts.timeoutMs ?? 10_000;
    this.#fetch = opts.fetch ?? fetch;
  }

  // Customers and their authenticators

  customerByRef(ref: string): Promise<Customer> {
    return this.#call('GET', `/v1/customers/by-ref/${enc(ref)}`);
  }

  customer(customerId: string): Promise<Customer> {
    return this.#call('GET', `/v1/customers/${enc(customerId)}`);
  }

  async authenticators(customerId: string): Promise<Authenticator[]> {
    const res = await this.#call<{ items: Authenticator[] }>('GET', `/v1/customers/${enc(customerId)}/authenticators`);
    return res.items;
  }

  security(customerId: string): Promise<SecurityStatus> {
    return this.#call('GET', `/v1/customers/${enc(customerId)}/security`);
  }

  /**
   * Starts a TOTP enrolment. Once the customer can already do SCA, Sésame requires the unconsumed
   * `authenticationCode` of an operation this customer just authenticated (it consumes it), so that a
   * stolen session alone cannot add an authenticator.
   */
  enrolTotp(customerId: string, body: { label?: string; authenticationCode?: string } = {}): Promise<TotpEnrolment> {
    return this.#call('POST', `/v1/customers/${enc(customerId)}/authenticators/totp`, body);
  }

  /** Activates a pending authenticator with its first code (proves the customer's app holds the seed). */
  activateAuthenticator(customerId: string, authenticatorId: string, code: string): Promise<{ id: string; status: 'active' }> {
    return this.#call('POST', `/v1/customers/${enc(customerId)}/authenticators/${enc(authenticatorId)}/activate`, { code });
  }

  /** The customer's ways in: the one truth web banking, the SCA screen and the advisor render. */
  waysIn(customerId: string): Promise<WaysIn> {
    return this.#call('GET', `/v1/customers/${enc(customerId)}/ways-in`);
  }

  /**
   * Registers a number: a mobile for SMS codes or any line (a landline too) for voice calls. A code is
   * sent to it; activate with {@link activateAuthenticator}. Needs a step-up code like {@link enrolTotp}.
   */
  enrolPhone(
    customerId: string,
    body: {
      method: PhoneMethod;
      phone: string;
      voiceMode?: 'read-out' | 'keypad';
      locale?: 'fr' | 'en';
      label?: string;
      authenticationCode?: string;
    },
  ): Promise<PhoneEnrolment> {
    return this.#call('POST', `/v1/customers/${enc(customerId)}/authenticators/phone`, body);
  }

  // The secure mobile number

  /** Needs the code of a `change_phone` operation for this number, authorised without the old number. */
  startPhoneChange(customerId: string, body: { phone: string; authenticationCode: string; locale?: 'fr' | 'en' }): Promise<PhoneProof> {
    return this.#call('POST', `/v1/customers/${enc(customerId)}/secure-phone/change`, body);
  }

  /** The yearly check: a code is sent to the current secure number. */
  startPhoneReconfirm(customerId: string, body: { locale?: 'fr' | 'en' } = {}): Promise<PhoneProof> {
    return this.#call('POST', `/v1/customers/${enc(customerId)}/secure-phone/reconfirm`, body);
  }

  /** The code received on the number: the change (or the yearly check) takes effect at once. */
  confirmPhone(customerId: string, body: { id: string; code: string }): Promise<{ mobilePhone: string | null }> {
    return this.#call('POST', `/v1/customers/${enc(customerId)}/secure-phone/confirm`, body);
  }

  /** "This is no longer my number": a case for an advisor, and what happens next. */
  reportLostNumber(customerId: string): Promise<{ caseId: string; nextStep: string }> {
    return this.#call('POST', `/v1/customers/${enc(customerId)}/secure-phone/lost`);
  }

  // Operations

  /** Declares what the customer is about to do; Sésame answers with the normalised data to display. */
  createOperation(customerId: string, data: OperationData): Promise<Operation> {
    return this.#call('POST', '/v1/operations', { customerId, data });
  }

  operation(operationId: string): Promise<Operation> {
    return this.#call('GET', `/v1/operations/${enc(operationId)}`);
  }

  /**
   * Submits all the customer's elements for an operation in one call. Throws `SesameApiError` with
   * `ERR_AUTHENTICATION_FAILED` (401, `remainingAttempts`) or `ERR_CUSTOMER_BLOCKED` (423, `blockedUntil`).
   */
  authenticate(
    operationId: string,
    factors: Factor[],
    extra: { userAgent?: string; replaceSessionToken?: string } = {},
  ): Promise<AuthenticateResult> {
    return this.#call('POST', `/v1/operations/${enc(operationId)}/authenticate`, { factors, ...extra });
  }

  /**
   * Sends a one-time code for this operation by SMS or voice call; the message states what is authorised.
   * Submit it as `{ method, code }`; after a keypad call, as `{ method: 'voice' }` without a code.
   */
  sendChallenge(operationId: string, body: { method: PhoneMethod; authenticatorId?: string; locale?: 'fr' | 'en' }): Promise<Challenge> {
    return this.#call('POST', `/v1/operations/${enc(operationId)}/challenges`, body);
  }

  /**
   * The challenge to show for an OCRA token (a reader): derived from the operation, so the response the
   * customer types back signs this operation (its amount and payee) and no other.
   */
  ocraChallenge(operationId: string, authenticatorId: string): Promise<OcraChallenge> {
    return this.#call('GET', `/v1/operations/${enc(operationId)}/ocra-challenge?authenticatorId=${enc(authenticatorId)}`);
  }

  cancelOperation(operationId: string): Promise<unknown> {
    return this.#call('POST', `/v1/operations/${enc(operationId)}/cancel`, {});
  }

  // Authentication codes and sessions

  /**
   * Verifies and burns an authentication code. Pass `data`, the bank's own copy of what it is about to
   * execute: Sésame refuses with `ERR_LINK_MISMATCH` if amount or payee differ from what the customer
   * authenticated (dynamic linking), and with `ERR_CODE_ALREADY_USED` on a second use.
   */
  consumeCode(code: string, data?: OperationData): Promise<ConsumedCode> {
    return this.#call('POST', '/v1/authentication-codes/consume', data ? { code, data } : { code });
  }

  /** Checks a session and counts as activity (resets the inactivity timer). `ERR_SESSION_EXPIRED` when over. */
  introspectSession(token: string): Promise<SessionInfo> {
    return this.#call('POST', '/v1/sessions/introspect', { token });
  }

  async logout(token: string): Promise<void> {
    await this.#call('POST', '/v1/sessions/logout', { token });
  }

  // The app authenticator (docs/app-authenticator.md)

  /** Whether the customer may activate the app, and which condition is missing if not. */
  appEligibility(customerId: string): Promise<AppEligibility> {
    return this.#call('GET', `/v1/customers/${enc(customerId)}/app-eligibility`);
  }

  /** Self-service activation: the code and QR code to show; `422 ERR_NOT_ELIGIBLE` with `missing` otherwise. */
  startAppActivation(customerId: string, body: { purpose?: 'activate' | 'transfer' | 'reinstall' } = {}): Promise<AppActivationStarted> {
    return this.#call('POST', `/v1/customers/${enc(customerId)}/app-activations`, body);
  }

  async appActivations(customerId: string): Promise<AppActivation[]> {
    const res = await this.#call<AppActivation[] | { items?: AppActivation[]; activations?: AppActivation[] }>(
      'GET',
      `/v1/customers/${enc(customerId)}/app-activations`,
    );
    return Array.isArray(res) ? res : (res.items ?? res.activations ?? []);
  }

  /** Sends a pending operation to the customer's app (push and polling); `429` when asked too often. */
  requestAppApproval(operationId: string): Promise<AppApprovalRequest> {
    return this.#call('POST', `/v1/operations/${enc(operationId)}/app-approvals`, {});
  }

  /** Where the app approval stands; once `approved`, `authenticationCode` is consumed like any other. */
  appApproval(operationId: string, approvalId: string): Promise<AppApprovalStatus> {
    return this.#call('GET', `/v1/operations/${enc(operationId)}/app-approvals/${enc(approvalId)}`);
  }

  // Passkeys and security keys (WebAuthn)

  /**
   * Options for the browser's `startRegistration()`. Once the customer can already do SCA, pass the
   * authentication code of a `manage_authenticators` operation (action `add`, kind `webauthn`).
   */
  webauthnRegistrationOptions(
    customerId: string,
    body: {
      label?: string;
      authenticatorAttachment?: 'platform' | 'cross-platform';
      residentKey?: 'discouraged' | 'preferred' | 'required';
      authenticationCode?: string;
    } = {},
  ): Promise<Record<string, unknown>> {
    return this.#call('POST', `/v1/customers/${enc(customerId)}/authenticators/webauthn/registration-options`, body);
  }

  /** The browser's registration response: the key is active at once. */
  registerWebAuthn(customerId: string, response: Record<string, unknown>, label?: string): Promise<Authenticator> {
    return this.#call('POST', `/v1/customers/${enc(customerId)}/authenticators/webauthn`, { ...response, ...(label ? { label } : {}) });
  }

  /** Options for `startAuthentication()` bound to this operation, and what to show the customer. */
  webauthnOptions(
    operationId: string,
  ): Promise<{ options: Record<string, unknown>; operation: { type: string; amount?: Money; payee?: Payee } }> {
    return this.#call('POST', `/v1/operations/${enc(operationId)}/webauthn/options`);
  }

  /** Options for a passkey login without a username: the browser offers the customer's passkeys for this site. */
  passkeyLoginOptions(): Promise<{ options: Record<string, unknown> & { challenge: string }; expiresAt: string }> {
    return this.#call('POST', '/v1/passkey-logins/options');
  }

  /**
   * Logs in whoever the passkey belongs to. Throws `SesameApiError` with `ERR_PASSKEY_NOT_RECOGNISED` (401),
   * `ERR_WEBAUTHN_CHALLENGE` (422), or as `authenticate` does.
   */
  passkeyLogin(
    credential: Record<string, unknown>,
    extra: { userAgent?: string } = {},
  ): Promise<AuthenticateResult & { customerId: string; operationId: string }> {
    return this.#call('POST', '/v1/passkey-logins', { credential, ...extra });
  }

  // Transport

  async #call<T>(method: 'GET' | 'POST' | 'DELETE', path: string, body?: unknown): Promise<T> {
    const headers: Record<string, string> = {
      authorization: `Bearer ${this.#apiKey}`,
      accept: 'application/json, application/problem+json',
    };
    if (body !== undefined) headers['content-type'] = 'application/json';
    let res: Response;
    try {
      res = await this.#fetch(this.#baseUrl() + path, {
        method,
        headers,
        body: body === undefined ? null : JSON.stringify(body),
        signal: AbortSignal.timeout(this.#timeoutMs),
        redirect: 'error',
      });
    } catch (e) {
      throw new SesameUnavailableError(e);
    }
    if (res.status === 204) return undefined as T;
    const payload = await readJson(res);
    if (!res.ok) throw new SesameApiError(res.status, isObject(payload) ? payload : {});
    return payload as T;
  }
}

const enc = encodeURIComponent;

async function readJson(res: Response): Promise<unknown> {
  const text = await res.text();
  if (!text) return undefined;
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

// ---------------------------------------------------------------------------------------------------
// The app authenticator
// ---------------------------------------------------------------------------------------------------

export type AppEligibilityGap = 'remote_banking' | 'secure_phone' | 'card_or_email_72h' | 'secure_phone_cooling_off';

export interface AppEligibility {
  customerId: string;
  eligible: boolean;
  missing: AppEligibilityGap[];
  hasApp?: boolean;
}

export interface AppActivation {
  activationId: string;
  channel: 'self' | 'branch';
  purpose: 'activate' | 'transfer' | 'reinstall';
  /** pending, awaiting_confirmation, initiated (branch, 24 h), subscribed, expired, cancelled. */
  status: string;
  createdAt: string;
  expiresAt: string;
  subscribedAt: string | null;
  deviceName: string | null;
}

export interface AppActivationStarted extends AppActivation {
  /** Shown once: typed in the app, or read from the QR code. */
  activationCode: string;
  /** Opens the app with the code (`…/app/#activate=…`); the QR code carries it. */
  activationUrl: string;
  qrSvg: string;
}

export interface AppApprovalRequest {
  approvalId: string;
  status: 'pending';
  /** Logins: the number the web page shows, that the customer picks in the app. */
  number: number | null;
  expiresAt: string;
}

export interface AppApprovalStatus {
  /** `failed`: a wrong number was picked (a blind approval); `replaced`: a newer request for the same operation. */
  status: 'pending' | 'approved' | 'refused' | 'expired' | 'failed' | 'replaced';
  /** Once approved: single-use proof of SCA for the operation, consumed like the others. */
  authenticationCode?: string;
  /** A refused online card payment: the customer declared it as fraud. */
  fraudDeclared?: boolean;
  /** Logins: the customer's session, when Sésame opens one with the approval. */
  session?: SessionGrant;
}
