import { compactVerify, createLocalJWKSet, type JSONWebKeySet } from 'jose';
import { sha256, toBase64Url } from './encoding.js';
import { generatePossessionKey, hmac, hmacKey, randomKeyBytes, randomNonce, signWithPossession } from './keys.js';
import { approvalPayload, linkHashOf, offlinePayload, requestSigningInput, truncateToDigits, type OperationData } from './payload.js';
import { DEFAULT_PIN_ITERATIONS, newKnowledgeKey, PIN_PATTERN, unlockKnowledgeKey } from './pin-vault.js';
import type { DeviceState, DeviceStore } from './store.js';

/** An operation waiting for the customer's decision, as the app shows it. */
export interface PendingApproval {
  approvalId: string;
  operationId: string;
  /** The operation's canonical data: type, amount, payee(s). Shown as is, and signed (via its link hash). */
  data: OperationData;
  linkHash: string;
  nonce: string;
  /** Logins: the numbers to choose from; the web page shows the right one. Null otherwise. */
  numberOptions: number[] | null;
  requester: string;
  createdAt: string;
  expiresAt: string;
}

export interface DeviceInfo {
  authenticatorId: string;
  status: string;
  deviceName: string;
  customer: { displayName: string };
  activatedAt: string | null;
  trusted: boolean;
  biometrics: { enrolled: boolean; login: boolean; operations: boolean };
  /** How many times the PIN was changed (the server's count). */
  pinChanges: number;
}

/** A problem+json answer of the device API. */
export class DeviceApiError extends Error {
  constructor(
    readonly status: number,
    readonly problem: { type?: string; title?: string; detail?: string; code?: string; [k: string]: unknown },
  ) {
    super(problem.detail ?? problem.title ?? `HTTP ${status}`);
    this.name = 'DeviceApiError';
  }
  get code(): string | undefined {
    return this.problem.code;
  }
}

/** A PIN change's answer was lost and the server could not be asked yet: the PIN in force is not known. */
export class PinChangeUnconfirmed extends Error {
  constructor() {
    super('Your last PIN change could not be confirmed yet: connect to the network, then try again.');
    this.name = 'PinChangeUnconfirmed';
  }
}

/** A PIN change whose answer was lost turned out to be made: the new PIN is the one to type. */
export class NewPinInForce extends Error {
  constructor() {
    super('Your PIN change went through: type your new PIN.');
    this.name = 'NewPinInForce';
  }
}

/**
 * The platform's biometric key: a WebAuthn credential with user verification (in a browser,
 * `navigator.credentials` through @simplewebauthn/browser; in a native app, the platform's passkey API).
 */
export interface BiometricAuthenticator {
  register(options: Record<string, unknown>): Promise<Record<string, unknown>>;
  /** Asserts `challenge` (base64url) with the given credential after user verification. */
  assert(options: { challenge: string; credentialId: string; rpId?: string }): Promise<Record<string, unknown>>;
}

export interface ActivateInput {
  /** The activation code shown by the web banking (or sent by SMS after a branch initiation). */
  activationCode: string;
  /** The PIN the customer chose (6 digits). Never sent: it wraps the knowledge key. */
  pin: string;
  deviceName: string;
  platform: 'web' | 'android' | 'ios' | 'node';
  /** Device integrity evidence for the server's attestation verifier (Play Integrity token, App Attest…). */
  attestation?: { format: string; evidence: string };
}

export interface ActivationStarted {
  activationId: string;
  authenticatorId: string;
  status: 'awaiting_confirmation' | 'active';
  /** Where the confirmation code went (masked), when one is needed. */
  confirmation: { channel: 'sms'; destination: string } | null;
}

/**
 * How the customer approves: the PIN, a PIN already unlocked for this user action ({@link SesameDevice.unlock}),
 * or biometrics.
 */
export type Approval = { pin: string } | { unlocked: UnlockedPin } | { biometric: BiometricAuthenticator };

/** The knowledge key as the PIN typed decrypted it (right or wrong: only the server can tell). */
export interface UnlockedPin {
  readonly key: CryptoKey;
}

/** A device API request, signed, ready to send. */
export interface SignedRequest {
  method: string;
  path: string;
  headers: Record<string, string>;
  body: string | null;
}

export interface SesameDeviceOptions {
  serverUrl: string;
  store: DeviceStore;
  /** PBKDF2 iterations for a new PIN (tests and load clients lower it; the default is OWASP's). */
  pinIterations?: number;
  fetch?: typeof fetch;
}

/**
 * One installation of the authenticator app. Every call to the device API is signed with the possession
 * key (method, path, time, nonce, body digest), so the server knows which installation asks and refuses
 * replays; every approval signs the operation's data as displayed.
 *
 * @example
 * const device = new SesameDevice({ serverUrl: 'https://sca.bank.example', store: new IndexedDbDeviceStore() });
 * const started = await device.activate({ activationCode, pin: '482913', deviceName: 'Pixel 8', platform: 'android' });
 * if (started.status === 'awaiting_confirmation') await device.confirmActivation(codeFromSms);
 * for (const a of await device.pendingApprovals()) await device.approve(a, { pin: '482913' });
 */
export class SesameDevice {
  private readonly fetch: typeof fetch;
  private readonly iterations: number;
  private state: DeviceState | null = null;
  /** Approvals go one at a time: each takes the next counter value. */
  private queue: Promise<unknown> = Promise.resolve();
  /** Time correction learned from the server's Date header (a phone's clock may be off). */
  private clockSkewMs = 0;

  constructor(private readonly opts: SesameDeviceOptions) {
    this.fetch = opts.fetch ?? globalThis.fetch.bind(globalThis);
    this.iterations = opts.pinIterations ?? DEFAULT_PIN_ITERATIONS;
  }

  /** Loads the installation from the store; false when this device was never activated. */
  async load(): Promise<boolean> {
    this.state = await this.opts.store.load();
    return this.state !== null;
  }

  get authenticatorId(): string | null {
    return this.state?.authenticatorId ?? null;
  }

  get status(): DeviceState['status'] | null {
    return this.state?.status ?? null;
  }

  /** First step of activation, transfer and reinstall alike: new keys, sent with the activation code. */
  async activate(input: ActivateInput): Promise<ActivationStarted> {
    if (!PIN_PATTERN.test(input.pin)) throw new TypeError('The PIN is 6 digits.');
    const possession = await generatePossessionKey();
    const knowledge = await newKnowledgeKey(input.pin, this.iterations);
    const offlineRaw = randomKeyBytes();
    const body = {
      activationCode: input.activationCode.trim(),
      possessionKey: possession.publicJwk,
      knowledgeKey: toBase64Url(knowledge.raw),
      offlineKey: toBase64Url(offlineRaw),
      deviceName: input.deviceName,
      platform: input.platform,
      ...(input.attestation ? { attestation: input.attestation } : {}),
    };
    // Signed with the new key: the server learns it and the proof of its possession together.
    const res = await this.send<ActivationStarted & { customer: { displayName: string } }>('POST', '/v1/device/activations', body, {
      id: 'new',
      key: possession.privateKey,
    });
    this.state = {
      serverUrl: this.opts.serverUrl,
      authenticatorId: res.authenticatorId,
      activationId: res.activationId,
      status: res.status,
      possessionKey: possession.privateKey,
      possessionPublicJwk: possession.publicJwk,
      offlineKey: await hmacKey(offlineRaw),
      knowledge: knowledge.wrapped,
      pinChanges: 0,
      counter: 0,
      biometricCredentialId: null,
      customerName: res.customer.displayName,
    };
    await this.opts.store.save(this.state);
    return { activationId: res.activationId, authenticatorId: res.authenticatorId, status: res.status, confirmation: res.confirmation };
  }

  /** Second step of a self-service activation: the code sent to the secure mobile number. */
  async confirmActivation(code: string): Promise<DeviceInfo> {
    const s = this.need();
    if (!s.activationId) throw new TypeError('No activation is waiting for confirmation.');
    await this.send('POST', `/v1/device/activations/${encodeURIComponent(s.activationId)}/confirm`, { code: code.trim() });
    s.status = 'active';
    s.activationId = null;
    await this.opts.store.save(s);
    // Kept for offline mode; best effort (the next use online fetches them again).
    await this.refreshBankKeys().catch(() => undefined);
    return this.info();
  }

  info(): Promise<DeviceInfo> {
    return this.send<DeviceInfo>('GET', '/v1/device/me');
  }

  /** Operations waiting for this customer's decision; `waitSeconds` long-polls until one arrives. */
  async pendingApprovals(opts: { waitSeconds?: number } = {}): Promise<PendingApproval[]> {
    const q = opts.waitSeconds ? `?wait=${Math.floor(opts.waitSeconds)}` : '';
    return (await this.send<{ approvals: PendingApproval[] }>('GET', `/v1/device/approvals${q}`)).approvals;
  }

  /**
   * Approves what the app displayed, with the PIN (possession + knowledge) or biometrics (possession +
   * inherence). The link hash is recomputed here from the data shown: if anything altered the data on its
   * way to the screen, the signature covers the altered data and the server refuses it.
   */
  approve(approval: PendingApproval, how: Approval, opts: { numberChoice?: number } = {}): Promise<{ status: 'approved' }> {
    return this.serial(async () => this.sendSigned<{ status: 'approved' }>(await this.signApprovalNow(approval, how, opts)));
  }

  /**
   * The approval, signed now and sent later (a queue of approvals made while offline, or a load client
   * that separates the device's work from the server's). Sent with {@link sendSigned}, in the order signed:
   * the counter must go forward. The request signature is valid for 5 minutes.
   */
  signApproval(approval: PendingApproval, how: Approval, opts: { numberChoice?: number } = {}): Promise<SignedRequest> {
    return this.serial(() => this.signApprovalNow(approval, how, opts));
  }

  private async signApprovalNow(approval: PendingApproval, how: Approval, opts: { numberChoice?: number }): Promise<SignedRequest> {
    if ('pin' in how) await this.settleBeforePinUse();
    const s = this.need();
    const { payload, counter, numberChoice } = await this.payloadFor(approval, 'approve', opts.numberChoice);
    const possession = await signWithPossession(s.possessionKey, payload);
    const second =
      'pin' in how || 'unlocked' in how
        ? { knowledge: toBase64Url(await hmac('pin' in how ? await unlockKnowledgeKey(s.knowledge, how.pin) : how.unlocked.key, payload)) }
        : { biometric: await how.biometric.assert({ challenge: toBase64Url(await sha256(payload)), credentialId: this.biometricId() }) };
    return this.sign('POST', `/v1/device/approvals/${encodeURIComponent(approval.approvalId)}`, {
      decision: 'approve',
      counter,
      ...(numberChoice !== null ? { numberChoice } : {}),
      possession,
      ...second,
    });
  }

  /**
   * Derives the knowledge key from the PIN once, for one user action that approves several operations
   * (a batch the customer reviewed together). Keep it no longer than that action.
   */
  unlock(pin: string): Promise<UnlockedPin> {
    return this.serial(async () => {
      await this.settleBeforePinUse();
      return { key: await unlockKnowledgeKey(this.need().knowledge, pin) };
    });
  }

  /** Refuses: for an online card payment, this declares it as fraud (the bank is told). */
  refuse(approval: PendingApproval): Promise<{ status: 'refused'; fraudDeclared: boolean; message: string }> {
    return this.serial(async () => {
      const s = this.need();
      const { payload, counter } = await this.payloadFor(approval, 'refuse', undefined);
      return this.send('POST', `/v1/device/approvals/${encodeURIComponent(approval.approvalId)}`, {
        decision: 'refuse',
        counter,
        possession: await signWithPossession(s.possessionKey, payload),
      });
    });
  }

  /**
   * Changes the PIN: the old one confirms (checked by the server, a wrong one counts as a failed attempt);
   * the new knowledge key replaces the old one on the server in the same step. The change is sent once,
   * so a wrong old PIN counts once. When its answer is lost (no network, a gateway, a server error after
   * the change was saved), the new key is kept aside and the server's count of PIN changes says which key
   * it holds: now if it can be asked, else before the PIN is next used ({@link PinChangeUnconfirmed} until
   * then; {@link NewPinInForce} when it turns out the change was made).
   */
  changePin(oldPin: string, newPin: string): Promise<void> {
    if (!PIN_PATTERN.test(newPin)) throw new TypeError('The PIN is 6 digits.');
    return this.serial(async () => {
      const s = this.need();
      await this.settlePinChange();
      // Changed again before the last change is known, the new PIN's key would be wrapped over the wrong one.
      if (s.pendingPin) throw new PinChangeUnconfirmed();
      const before = s.pinChanges ?? (await this.info()).pinChanges;
      const { proof: confirmation, expiresAt } = await this.pinConfirmation('app', oldPin);
      const next = await newKnowledgeKey(newPin, this.iterations);
      // Until when the change may still land: the confirmation's lifetime, with a wide margin for a request
      // held up on its way or waiting for a lock.
      s.pendingPin = { wrapped: next.wrapped, pinChanges: before + 1, until: Date.parse(expiresAt) + 10 * 60_000 };
      await this.opts.store.save(s);
      try {
        await this.send('POST', '/v1/device/pin', { ...confirmation, newKnowledgeKey: toBase64Url(next.raw) });
      } catch (err) {
        // Only the server's own refusal (a wrong old PIN, an expired confirmation) says nothing changed.
        if (err instanceof DeviceApiError && err.status < 500 && err.code) {
          s.pendingPin = null;
          await this.opts.store.save(s);
          throw err;
        }
        const outcome = await this.settlePinChange().catch(() => 'pending' as const);
        if (outcome === 'changed') return;
        if (outcome === 'pending') throw new PinChangeUnconfirmed();
        throw err;
      }
      s.knowledge = next.wrapped;
      s.pinChanges = before + 1;
      s.pendingPin = null;
      await this.opts.store.save(s);
    });
  }

  /** Whether a PIN change's outcome is still to be learnt from the server (the app may say so). */
  get pinChangePending(): boolean {
    return !!this.state?.pendingPin;
  }

  /**
   * After a PIN change whose answer was lost: keeps the key the server holds, which its count of changes
   * tells (`changed`: the new key, `unchanged`: the old one). `pending` while the change may still land.
   * Runs inside `serial`, like every use of the PIN.
   */
  private async settlePinChange(): Promise<'changed' | 'unchanged' | 'pending' | 'none'> {
    const s = this.need();
    const pending = s.pendingPin;
    if (!pending) return 'none';
    const { pinChanges } = await this.info();
    const changed = pinChanges >= pending.pinChanges;
    if (!changed && pending.until > this.now()) return 'pending';
    if (changed) s.knowledge = pending.wrapped;
    s.pinChanges = pinChanges;
    s.pendingPin = null;
    await this.opts.store.save(s);
    return changed ? 'changed' : 'unchanged';
  }

  /**
   * Before the PIN typed is used: settles a lost change first. Offline, which PIN is in force is not known
   * ({@link PinChangeUnconfirmed}); if the change turns out made, the PIN typed may be the old one, so it is
   * not used ({@link NewPinInForce}): either way no failure is counted for a PIN the app could not know.
   */
  private async settleBeforePinUse(): Promise<void> {
    if (!this.need().pendingPin) return;
    const outcome = await this.settlePinChange().catch(() => {
      throw new PinChangeUnconfirmed();
    });
    if (outcome === 'changed') throw new NewPinInForce();
  }

  /**
   * Enrols the platform's biometric key (a WebAuthn credential with user verification), confirmed with
   * the PIN: holding the phone is not enough to add a way to approve.
   */
  enrolBiometrics(biometric: BiometricAuthenticator, uses: { login: boolean; operations: boolean }, pin: string): Promise<DeviceInfo> {
    return this.serial(async () => {
      const s = this.need();
      const options = await this.send<Record<string, unknown>>('POST', '/v1/device/biometrics/registration-options');
      const credential = await biometric.register(options);
      const confirmation = await this.confirmWithPin('app_biometric', pin);
      const res = await this.send<{ credentialId: string }>('POST', '/v1/device/biometrics', { credential, ...uses, confirmation });
      s.biometricCredentialId = res.credentialId;
      await this.opts.store.save(s);
      return this.info();
    });
  }

  /**
   * Biometrics for logins, for operations, both or neither, independently. Turning a use on needs the PIN;
   * turning one off does not.
   */
  setBiometricUses(uses: { login: boolean; operations: boolean }, pin?: string): Promise<DeviceInfo> {
    return this.serial(async () => {
      const confirmation = pin === undefined ? undefined : await this.confirmWithPin('app_biometric', pin);
      return this.send<DeviceInfo>('PUT', '/v1/device/biometrics', { ...uses, ...(confirmation ? { confirmation } : {}) });
    });
  }

  /** A confirmation with the PIN for a change of this installation (`app`: the PIN; `app_biometric`: biometrics). */
  private async confirmWithPin(kind: 'app' | 'app_biometric', pin: string) {
    return (await this.pinConfirmation(kind, pin)).proof;
  }

  /** The PIN's answer to a confirmation the server asks for, and until when that confirmation may be answered. */
  private async pinConfirmation(kind: 'app' | 'app_biometric', pin: string) {
    await this.settleBeforePinUse();
    const s = this.need();
    const approval = await this.send<PendingApproval>('POST', '/v1/device/pin-confirmations', { for: kind });
    const { payload, counter } = await this.payloadFor(approval, 'approve', undefined);
    const proof = {
      approvalId: approval.approvalId,
      counter,
      possession: await signWithPossession(s.possessionKey, payload),
      knowledge: toBase64Url(await hmac(await unlockKnowledgeKey(s.knowledge, pin), payload)),
    };
    return { proof, expiresAt: approval.expiresAt };
  }

  /** Registers this installation's Web Push subscription (from `PushManager.subscribe`). */
  async subscribePush(subscription: { endpoint: string; keys: { p256dh: string; auth: string } }): Promise<void> {
    await this.send('POST', '/v1/device/push-subscription', subscription);
  }

  /** Closes the app authenticator: the server revokes it and the customer falls back to SMS codes. */
  async close(): Promise<{ fallback: { method: string; destination: string | null } }> {
    const res = await this.send<{ fallback: { method: string; destination: string | null } }>('DELETE', '/v1/device');
    await this.forget();
    return res;
  }

  /** Forgets the installation locally (after a transfer elsewhere, or a close). */
  async forget(): Promise<void> {
    this.state = null;
    await this.opts.store.clear();
  }

  /**
   * Offline mode: `qr` is the server-signed operation the web page showed as a QR code. The signature and
   * the data's link hash are checked, then possession and knowledge each give 8 digits the customer types.
   */
  offlineCode(qr: string, pin: string): Promise<{ data: OperationData; code: string }> {
    return this.serial(() => this.offlineCodeNow(qr, pin));
  }

  private async offlineCodeNow(qr: string, pin: string): Promise<{ data: OperationData; code: string }> {
    const s = this.need();
    let claims: {
      typ: string;
      challengeId: string;
      operationId: string;
      authenticatorId: string;
      data: OperationData;
      linkHash: string;
      nonce: string;
      exp: number;
    };
    try {
      claims = JSON.parse(new TextDecoder().decode(await this.verifiedByBank(qr.trim())));
    } catch {
      throw new TypeError('This QR code was not issued by your bank.');
    }
    if (claims.typ !== 'sesame-offline' || claims.authenticatorId !== s.authenticatorId)
      throw new TypeError('This QR code is for another device.');
    if (claims.exp * 1000 < this.now()) throw new TypeError('This QR code has expired.');
    if ((await linkHashOf(claims.data)) !== claims.linkHash) throw new TypeError('This QR code does not match its operation.');
    const payload = offlinePayload({
      authenticatorId: s.authenticatorId,
      challengeId: claims.challengeId,
      operationId: claims.operationId,
      linkHash: claims.linkHash,
      nonce: claims.nonce,
    });
    await this.settleBeforePinUse();
    const possession = truncateToDigits(await hmac(s.offlineKey, payload));
    const knowledge = truncateToDigits(await hmac(await unlockKnowledgeKey(s.knowledge, pin), payload));
    return { data: claims.data, code: `${possession}-${knowledge}` };
  }

  private async payloadFor(approval: PendingApproval, decision: 'approve' | 'refuse', numberChoice: number | undefined) {
    const s = this.need();
    const linkHash = await linkHashOf(approval.data);
    s.counter += 1;
    await this.opts.store.save(s);
    const choice = approval.numberOptions ? (numberChoice ?? null) : null;
    if (decision === 'approve' && approval.numberOptions && choice === null) throw new TypeError('Pick the number shown on the web page.');
    const payload = approvalPayload({
      authenticatorId: s.authenticatorId,
      approvalId: approval.approvalId,
      operationId: approval.operationId,
      linkHash,
      nonce: approval.nonce,
      counter: s.counter,
      decision,
      numberChoice: choice,
    });
    return { payload, counter: s.counter, numberChoice: choice };
  }

  private biometricId(): string {
    const id = this.need().biometricCredentialId;
    if (!id) throw new TypeError('Biometrics are not enrolled on this device.');
    return id;
  }

  private need(): DeviceState {
    if (!this.state) throw new TypeError('This device is not activated.');
    return this.state;
  }

  private serial<T>(task: () => Promise<T>): Promise<T> {
    const run = this.queue.then(task, task);
    this.queue = run.catch(() => undefined);
    return run;
  }

  private now(): number {
    return Date.now() + this.clockSkewMs;
  }

  /**
   * The payload of a JWS the bank signed. Checked against the keys saved while online first (offline mode
   * is for when the phone has no network); if they do not verify it (a key the bank rotated in since, or
   * none saved yet), against the bank's current keys, which are then saved.
   */
  private async verifiedByBank(jws: string): Promise<Uint8Array> {
    const saved = this.need().bankKeys;
    if (saved) {
      try {
        return (await compactVerify(jws, createLocalJWKSet(saved as JSONWebKeySet))).payload;
      } catch {
        // Fall through to the current keys.
      }
    }
    return (await compactVerify(jws, createLocalJWKSet(await this.refreshBankKeys()))).payload;
  }

  private async refreshBankKeys(): Promise<JSONWebKeySet> {
    const jwks = await this.fetchJson<JSONWebKeySet>('/.well-known/jwks.json');
    const s = this.need();
    s.bankKeys = { keys: jwks.keys as JsonWebKey[] };
    await this.opts.store.save(s);
    return jwks;
  }

  private async fetchJson<T>(path: string): Promise<T> {
    const res = await this.fetch(new URL(path, this.opts.serverUrl));
    if (!res.ok) throw new DeviceApiError(res.status, await res.json().catch(() => ({})));
    return (await res.json()) as T;
  }

  /** A signed request to the device API; problem+json answers become DeviceApiError. */
  private async send<T = unknown>(method: string, path: string, body?: unknown, as?: { id: string; key: CryptoKey }): Promise<T> {
    try {
      return await this.sendOnce<T>(method, path, body, as);
    } catch (err) {
      // A clock far off: the answer's Date header corrected it; sign again with the right time, once.
      if (err instanceof DeviceApiError && err.code === 'ERR_DEVICE_CLOCK') return this.sendOnce<T>(method, path, body, as);
      throw err;
    }
  }

  private async sendOnce<T>(method: string, path: string, body?: unknown, as?: { id: string; key: CryptoKey }): Promise<T> {
    return this.sendSigned<T>(await this.sign(method, path, body, as));
  }

  /** Signs a request to the device API with the installation's key (or `as`, for the activation's new key). */
  private async sign(method: string, path: string, body?: unknown, as?: { id: string; key: CryptoKey }): Promise<SignedRequest> {
    const signer = as ?? { id: this.need().authenticatorId, key: this.need().possessionKey };
    const text = body === undefined ? '' : JSON.stringify(body);
    const ts = Math.round(this.now());
    const nonce = randomNonce();
    const sig = await signWithPossession(signer.key, await requestSigningInput({ method, path, ts, nonce, body: text }));
    return {
      method,
      path,
      headers: {
        authorization: `SesameDevice id="${signer.id}", ts="${ts}", nonce="${nonce}", sig="${sig}"`,
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
      },
      body: body === undefined ? null : text,
    };
  }

  /** Sends a signed request; problem+json answers become DeviceApiError. */
  async sendSigned<T>(r: SignedRequest): Promise<T> {
    const res = await this.fetch(new URL(r.path, this.opts.serverUrl), {
      method: r.method,
      headers: r.headers,
      ...(r.body === null ? {} : { body: r.body }),
    });
    const date = res.headers.get('date');
    // The Date header has a one-second resolution: correct only a clock that is clearly off.
    const skew = date ? Date.parse(date) - Date.now() : NaN;
    if (Number.isFinite(skew)) this.clockSkewMs = Math.abs(skew) > 30_000 ? skew : 0;
    const json = res.status === 204 ? undefined : await res.json().catch(() => undefined);
    if (!res.ok) throw new DeviceApiError(res.status, (json as DeviceApiError['problem']) ?? {});
    return json as T;
  }
}
