import { isSamePhone } from '../channels/index.js';
import { Conflict, InvalidRequest, NotFound, Unprocessable } from '../core/errors.js';
import { decide } from '../core/policy.js';
import { newId } from '../crypto/tokens.js';
import { hashPassword, passwordPolicyError } from '../methods/password/argon.js';
import { generateRecoveryCodes, hashRecoveryCode } from '../methods/recovery/codes.js';
import { totpSealContext, type StoredTotpParams } from '../methods/totp/index.js';
import { generateTotpSecret, matchTotp, qrSvg, totpUri, type TotpAlgorithm, type TotpDigits } from '../methods/totp/totp.js';
import { enrolledCategories, methodFor } from '../methods/registry.js';
import type { Services } from '../context.js';
import { appendAudit, customerChain } from '../store/audit.js';
import type { Db } from '../store/db.js';
import { enqueueEvent } from '../store/outbox.js';
import type { AuthenticatorRow } from '../store/schema.js';
import { recordRevoked } from '../store/authenticator-revocations.js';
import { lockSecurityState } from '../store/security-state.js';
import { consumeStepUp } from './authentication-codes.js';
import { findCustomer, iso } from './customers.js';

/**
 * Enrolment and removal of authenticators. Binding a new means of authentication to a customer who can
 * already do SCA needs SCA itself (RTS art. 24): an authentication code of a `manage_authenticators`
 * operation, consumed here. A customer who cannot do SCA yet is bootstrapped by the bank (audited).
 */
export interface AuthenticatorView {
  id: string;
  kind: string;
  category: string;
  status: string;
  label: string;
  createdAt: string;
  activatedAt: string | null;
  lastUsedAt: string | null;
}

export const authenticatorView = (a: AuthenticatorRow): AuthenticatorView => ({
  id: a.id,
  kind: a.kind,
  category: a.category,
  status: a.status,
  label: a.label,
  createdAt: iso(a.created_at)!,
  activatedAt: iso(a.activated_at),
  lastUsedAt: iso(a.last_used_at),
});

export const ENROLMENT_TTL_MS = 10 * 60 * 1000;

/** How long a pending enrolment waits for its first proof: a code sent by SMS or call lives what its message says. */
export function enrolmentTtlMs(kind: string, config: Services['config']): number {
  return kind === 'sms' || kind === 'voice' ? Math.min(ENROLMENT_TTL_MS, config.otp.ttlSeconds * 1000) : ENROLMENT_TTL_MS;
}

/** Whether a pending enrolment waited past its time for the first proof: it can no longer be activated. */
export function enrolmentExpired(a: { kind: string; created_at: Date | string }, now: Date, config: Services['config']): boolean {
  return now.getTime() - new Date(a.created_at).getTime() > enrolmentTtlMs(a.kind, config);
}
const MAX_ACTIVATION_TRIES = 5;

export async function listAuthenticators(s: Services, customerId: string): Promise<AuthenticatorView[]> {
  await findCustomer(s.db, customerId);
  const rows = await s.db
    .selectFrom('authenticators')
    .selectAll()
    .where('customer_id', '=', customerId)
    .where('status', '!=', 'revoked')
    .orderBy('created_at')
    .execute();
  return rows.map(authenticatorView);
}

interface Change {
  rpId: string;
  customerId: string;
  authenticationCode?: string | undefined;
  /** The number or token being added, that a step-up operation naming a `target` must name. */
  target?: StepUpTarget;
}

/**
 * The number or token an enrolment adds. A step-up operation that names a `target` authorises that one
 * only; `matches` compares it as the customer saw it (a phone number in any format, say).
 */
export interface StepUpTarget {
  value: string;
  matches(declared: string): boolean;
  /** Already the customer's (a method resumed or removed): a code that names nothing may do. */
  alreadyBound?: boolean;
}

/** A phone number as the target of a step-up: matched in whatever format the customer saw it. */
export function phoneTarget(s: Services, e164: string): StepUpTarget {
  return { value: e164, matches: (declared) => isSamePhone(declared, e164, s.config.channels.defaultCountry as never) };
}

/** A hardware token's serial as the target of a step-up. */
export function serialTarget(serial: string): StepUpTarget {
  return { value: serial, matches: (declared) => declared === serial };
}

/** The number or token an existing authenticator is bound to: what a step-up to resume or remove it names. */
function boundTarget(s: Services, a: Pick<AuthenticatorRow, 'params'>): StepUpTarget | undefined {
  const p = a.params as { phone?: string; serial?: string };
  const target = p.phone ? phoneTarget(s, p.phone) : p.serial ? serialTarget(p.serial) : undefined;
  return target && { ...target, alreadyBound: true };
}

/** Whether the customer's active means can authorise a change of them (then every change needs a step-up). */
async function canAuthenticate(tx: Db, s: Services, customerId: string): Promise<boolean> {
  const active = await tx
    .selectFrom('authenticators')
    .select(['kind', 'category'])
    .where('customer_id', '=', customerId)
    .where('status', '=', 'active')
    .execute();
  return decide(
    s.scaPolicy,
    'manage_authenticators',
    active.flatMap((a) => enrolledCategories(a.kind)),
  ).satisfied;
}

/**
 * An enrolment started without step-up because the customer could not authenticate yet, activated once
 * they can (another one activated first): binding it is a change of their means like any other, since
 * whoever started it chose what it binds (a secret shown to them, their number, their passkey). A token
 * from the bank's stock is the exception: the bank delivered it, and its first code proves the customer
 * holds it, as for the bank's delivery of two tokens together. Returns the refusal, or null; call it with
 * the customer's lock held.
 */
export async function bootstrapClosed(
  tx: Db,
  s: Services,
  customerId: string,
  kind: string,
  params: unknown,
): Promise<Unprocessable | null> {
  const p = params as { bootstrap?: boolean; serial?: string; phone?: string };
  if (p.bootstrap !== true || p.serial !== undefined || !(await canAuthenticate(tx, s, customerId))) return null;
  return new Unprocessable(
    'ERR_STEP_UP_REQUIRED',
    `This customer can authenticate now: this enrolment is void; enrol the ${kind} again, with the authentication code of a manage_authenticators operation.`,
    { operation: { type: 'manage_authenticators', action: 'add', kind, ...(p.phone && { target: p.phone }) } },
  );
}

/** Runs `body` in a transaction after the step-up check that a change of the customer's means requires. */
export async function underStepUp<T>(
  s: Services,
  c: Change,
  action: 'add' | 'remove' | 'regenerate',
  kind: string,
  body: (tx: Db, now: Date, bootstrap: boolean) => Promise<T>,
): Promise<T> {
  const { target } = c;
  return s.db.transaction().execute(async (tx) => {
    const now = s.clock.now();
    await lockSecurityState(tx, c.customerId);
    const canDoSca = await canAuthenticate(tx, s, c.customerId);
    if (canDoSca) {
      if (!c.authenticationCode) {
        throw new Unprocessable(
          'ERR_STEP_UP_REQUIRED',
          `This customer can already authenticate: ${action} of a ${kind} needs the authentication code of a manage_authenticators operation.`,
          {
            field: 'authenticationCode',
            operation: { type: 'manage_authenticators', action, kind, ...(target && { target: target.value }) },
          },
        );
      }
      await consumeStepUp(tx, s, c.rpId, c.customerId, c.authenticationCode, {
        type: 'manage_authenticators',
        action,
        kind,
        // A code that names a number or token binds that one only: never a change that names nothing. A
        // number or token is added only by a code that named it: the customer saw what they bound.
        data: (d) => {
          if (d.target !== undefined) return target !== undefined && target.matches(String(d.target));
          if (action !== 'add' || target === undefined || target.alreadyBound) return true;
          return `The authentication code must come from an operation whose target is the ${kind === 'sms' || kind === 'voice' ? 'number' : 'token'} added (${target.value}), so that the customer saw it.`;
        },
      });
    }
    return body(tx, now, !canDoSca);
  });
}

export async function setPassword(s: Services, c: Change & { password: string }): Promise<AuthenticatorView> {
  const problem = passwordPolicyError(c.password);
  if (problem) throw new InvalidRequest('ERR_PASSWORD_POLICY', problem, { field: 'password' });
  const digest = await hashPassword(c.password, s.config.argon2);
  return underStepUp(s, c, 'add', 'password', async (tx, now, bootstrap) => {
    const row = await replaceSingle(tx, { customerId: c.customerId, kind: 'password', label: 'Mot de passe', now, secretDigest: digest });
    await recordAdded(tx, c, row, now, bootstrap);
    return authenticatorView(row);
  });
}

export interface TotpEnrolment extends AuthenticatorView {
  secret: string;
  otpauthUri: string;
  qrSvg: string;
  algorithm: TotpAlgorithm;
  digits: TotpDigits;
  period: number;
  activateBefore: string;
}

/** Starts a TOTP enrolment: the authenticator stays pending until a first valid code proves the app has the seed. */
export async function enrolTotp(
  s: Services,
  c: Change & { label?: string | undefined; algorithm?: TotpAlgorithm | undefined; digits?: TotpDigits | undefined },
): Promise<TotpEnrolment> {
  const customer = await findCustomer(s.db, c.customerId);
  const params: StoredTotpParams = { algorithm: c.algorithm ?? 'SHA1', digits: c.digits ?? 6, period: 30 };
  const secret = generateTotpSecret();
  const row = await underStepUp(s, c, 'add', 'totp', async (tx, now, bootstrap) => {
    const id = newId();
    return insertAuthenticator(tx, {
      id,
      customerId: c.customerId,
      kind: 'totp',
      label: c.label ?? 'Application d’authentification',
      status: 'pending',
      now,
      secretSealed: s.sealer.seal(secret, totpSealContext(id)),
      // Kept until activation, which records whether this binding was the bank's bootstrap.
      params: { ...params, activationTries: 0, bootstrap },
    });
  });
  const otpauthUri = totpUri({ ...params, secretBase32: secret, issuer: s.config.totp.issuer, accountName: customer.external_ref });
  return {
    ...authenticatorView(row),
    secret,
    otpauthUri,
    qrSvg: await qrSvg(otpauthUri),
    ...params,
    activateBefore: new Date(new Date(row.created_at).getTime() + ENROLMENT_TTL_MS).toISOString(),
  };
}

/** Activates a pending TOTP with its first code; too many wrong codes or too late and the enrolment is void. */
export async function activateTotp(
  s: Services,
  c: { rpId: string; customerId: string; authenticatorId: string; code: string },
): Promise<AuthenticatorView> {
  return activatePending(s, c, 'totp', 'Check the time on the device and try the current code.', (a, now) => {
    const params = a.params as unknown as StoredTotpParams;
    const secretBase32 = s.sealer.open(a.secret_sealed!, totpSealContext(a.id)).toString('utf8');
    const match = matchTotp({ ...params, secretBase32, code: c.code, now, window: s.config.totp.window, lastUsedStep: null });
    return match.ok ? { ok: true, lastUsedStep: match.step } : { ok: false };
  });
}

/** Whether a pending authenticator's first proof is right, and the single-use state it leaves (step, counter). */
export type FirstProof = (a: AuthenticatorRow, now: Date) => { ok: true; lastUsedStep: number | null } | { ok: false };

/** Activates a pending authenticator of `kind` with its first proof (TOTP, hardware tokens), same tries and expiry for all. */
export async function activatePending(
  s: Services,
  c: { rpId: string; customerId: string; authenticatorId: string },
  kind: string,
  hint: string,
  firstProof: FirstProof,
): Promise<AuthenticatorView> {
  return s.db
    .transaction()
    .execute(async (tx) => {
      const now = s.clock.now();
      // The customer's lock first, as every change of their means takes it: another enrolment may be
      // activated meanwhile, and with it the customer able to authenticate.
      await lockSecurityState(tx, c.customerId);
      const a = await tx
        .selectFrom('authenticators')
        .selectAll()
        .where('id', '=', c.authenticatorId)
        .where('customer_id', '=', c.customerId)
        .forUpdate()
        .executeTakeFirst();
      if (!a || a.kind !== kind || a.status === 'revoked') throw new NotFound('Authenticator');
      if (a.status !== 'pending') throw new Conflict('ERR_ALREADY_ACTIVE', 'This authenticator is already active.');
      if (enrolmentExpired(a, now, s.config)) {
        throw new Conflict('ERR_ENROLMENT_EXPIRED', 'This enrolment has expired; start a new one.');
      }
      const closed = await bootstrapClosed(tx, s, c.customerId, kind, a.params);
      if (closed) {
        // Void, so that it is not listed as waiting for a code that can no longer bind it.
        await tx.updateTable('authenticators').set({ status: 'revoked', revoked_at: now }).where('id', '=', a.id).execute();
        return { error: closed };
      }
      const params = a.params as { activationTries?: number };
      const match = firstProof(a, now);
      if (!match.ok) {
        const tries = (params.activationTries ?? 0) + 1;
        const voided = tries >= MAX_ACTIVATION_TRIES;
        await tx
          .updateTable('authenticators')
          .set({ params: JSON.stringify({ ...params, activationTries: tries }), ...(voided ? { status: 'revoked', revoked_at: now } : {}) })
          .where('id', '=', a.id)
          .execute();
        // Committed on purpose: the counter must survive the error, thrown once the transaction is over.
        return {
          error: voided
            ? new Conflict('ERR_ENROLMENT_EXPIRED', 'Too many wrong codes: this enrolment is void; start a new one.')
            : new Unprocessable('ERR_ACTIVATION_CODE', `The code does not match. ${hint}`, {
                field: 'code',
                remainingTries: MAX_ACTIVATION_TRIES - tries,
              }),
        };
      }
      const row = await tx
        .updateTable('authenticators')
        .set({ status: 'active', activated_at: now, last_used_step: match.lastUsedStep, last_used_at: now })
        .where('id', '=', a.id)
        .returningAll()
        .executeTakeFirstOrThrow();
      await recordAdded(tx, c, row, now, (a.params as { bootstrap?: boolean }).bootstrap === true);
      return authenticatorView(row);
    })
    .then((r) => {
      if ('error' in r) throw r.error;
      return r;
    });
}

/** Issues a fresh set of recovery codes, shown once; any previous set stops working. */
export async function regenerateRecoveryCodes(s: Services, c: Change): Promise<AuthenticatorView & { codes: string[] }> {
  const codes = generateRecoveryCodes(10);
  return underStepUp(s, c, 'regenerate', 'recovery', async (tx, now, bootstrap) => {
    const row = await replaceSingle(tx, { customerId: c.customerId, kind: 'recovery', label: 'Codes de secours', now });
    await tx
      .insertInto('recovery_codes')
      .values(
        codes.map((code, idx) => ({ authenticator_id: row.id, idx, code_hash: hashRecoveryCode(s.hashKey, row.id, code), used_at: null })),
      )
      .execute();
    await recordAdded(tx, c, row, now, bootstrap);
    return { ...authenticatorView(row), codes };
  });
}

export async function revokeAuthenticator(s: Services, c: Change & { authenticatorId: string }): Promise<AuthenticatorView> {
  const a = await s.db
    .selectFrom('authenticators')
    .selectAll()
    .where('id', '=', c.authenticatorId)
    .where('customer_id', '=', c.customerId)
    .executeTakeFirst();
  if (!a || a.status === 'revoked') throw new NotFound('Authenticator');
  // A pending enrolment is abandoned without step-up: it never proved anything.
  const run =
    a.status === 'pending'
      ? (body: (tx: Db, now: Date) => Promise<AuthenticatorView>) => s.db.transaction().execute((tx) => body(tx, s.clock.now()))
      : (body: (tx: Db, now: Date) => Promise<AuthenticatorView>) =>
          underStepUp(s, { ...c, target: boundTarget(s, a) }, 'remove', a.kind, body);
  return run(async (tx, now) => {
    const row = await tx
      .updateTable('authenticators')
      .set({ status: 'revoked', revoked_at: now })
      .where('id', '=', a.id)
      // As it was read: a pending enrolment activated meanwhile is not removed without the step-up.
      .where('status', '=', a.status)
      .returningAll()
      .executeTakeFirst();
    if (!row) {
      const current = await tx.selectFrom('authenticators').select('status').where('id', '=', a.id).executeTakeFirst();
      if (!current || current.status === 'revoked') throw new NotFound('Authenticator');
      throw new Conflict('ERR_CONCURRENT_CHANGE', 'This authenticator changed during the request: read it again and retry.');
    }
    await recordRevoked(tx, now, `rp:${c.rpId}`, { ...a, customerId: c.customerId, wasActive: a.status === 'active' });
    return authenticatorView(row);
  });
}

/** Kinds a customer has at most one of (password, recovery codes): the new one replaces the old. */
async function replaceSingle(
  tx: Db,
  a: { customerId: string; kind: string; label: string; now: Date; secretDigest?: string },
): Promise<AuthenticatorRow> {
  await tx
    .updateTable('authenticators')
    .set({ status: 'revoked', revoked_at: a.now })
    .where('customer_id', '=', a.customerId)
    .where('kind', '=', a.kind)
    .where('status', '!=', 'revoked')
    .execute();
  return insertAuthenticator(tx, { ...a, status: 'active' });
}

export async function insertAuthenticator(
  tx: Db,
  a: {
    id?: string;
    customerId: string;
    kind: string;
    label: string;
    status: 'pending' | 'active';
    now: Date;
    secretDigest?: string;
    secretSealed?: string;
    params?: Record<string, unknown>;
  },
): Promise<AuthenticatorRow> {
  const method = methodFor(a.kind)!;
  return tx
    .insertInto('authenticators')
    .values({
      id: a.id ?? newId(),
      customer_id: a.customerId,
      kind: a.kind,
      category: method.category,
      status: a.status,
      label: a.label,
      secret_sealed: a.secretSealed ?? null,
      secret_digest: a.secretDigest ?? null,
      params: JSON.stringify(a.params ?? {}),
      last_used_step: null,
      created_at: a.now,
      activated_at: a.status === 'active' ? a.now : null,
      last_used_at: null,
      revoked_at: null,
    })
    .returningAll()
    .executeTakeFirstOrThrow();
}

export async function recordAdded(
  tx: Db,
  c: { rpId: string; customerId: string },
  a: AuthenticatorRow,
  now: Date,
  bootstrap: boolean,
): Promise<void> {
  const data = { customerId: c.customerId, authenticatorId: a.id, kind: a.kind, category: a.category, bootstrap };
  await appendAudit(tx, customerChain(c.customerId), now, { type: 'authenticator.added', actor: `rp:${c.rpId}`, data });
  await enqueueEvent(tx, now, { type: 'authenticator.added', rpId: null, data });
}

/**
 * Suspends an active authenticator (a phone reported lost, a suspicion): protective, so no SCA is asked.
 * It stops counting for SCA at once; resuming it is binding it again, under step-up.
 */
export async function suspendAuthenticator(
  s: Services,
  c: Change & { authenticatorId: string; reason?: string | undefined },
): Promise<AuthenticatorView> {
  return s.db.transaction().execute(async (tx) => {
    const now = s.clock.now();
    const row = await tx
      .updateTable('authenticators')
      .set({ status: 'suspended' })
      .where('id', '=', c.authenticatorId)
      .where('customer_id', '=', c.customerId)
      .where('status', '=', 'active')
      .returningAll()
      .executeTakeFirst();
    if (!row) throw await notInState(tx, c, 'active');
    const data = { customerId: c.customerId, authenticatorId: row.id, kind: row.kind, category: row.category, reason: c.reason ?? null };
    await appendAudit(tx, customerChain(c.customerId), now, { type: 'authenticator.suspended', actor: `rp:${c.rpId}`, data });
    await enqueueEvent(tx, now, { type: 'authenticator.suspended', rpId: null, data });
    return authenticatorView(row);
  });
}

export async function resumeAuthenticator(s: Services, c: Change & { authenticatorId: string }): Promise<AuthenticatorView> {
  const a = await s.db
    .selectFrom('authenticators')
    .select(['kind', 'status', 'params'])
    .where('id', '=', c.authenticatorId)
    .where('customer_id', '=', c.customerId)
    .executeTakeFirst();
  if (!a || a.status === 'revoked') throw new NotFound('Authenticator');
  // Say what is wrong with the request before asking for a step-up it would not need.
  if (a.status !== 'suspended')
    throw new Conflict('ERR_AUTHENTICATOR_STATE', `The authenticator is ${a.status}, not suspended.`, { authenticatorStatus: a.status });
  return underStepUp(s, { ...c, target: boundTarget(s, a) }, 'add', a.kind, async (tx, now, bootstrap) => {
    const row = await tx
      .updateTable('authenticators')
      .set({ status: 'active' })
      .where('id', '=', c.authenticatorId)
      .where('status', '=', 'suspended')
      .returningAll()
      .executeTakeFirst();
    if (!row) throw await notInState(tx, c, 'suspended');
    const data = { customerId: c.customerId, authenticatorId: row.id, kind: row.kind, category: row.category, bootstrap };
    await appendAudit(tx, customerChain(c.customerId), now, { type: 'authenticator.resumed', actor: `rp:${c.rpId}`, data });
    await enqueueEvent(tx, now, { type: 'authenticator.resumed', rpId: null, data });
    return authenticatorView(row);
  });
}

async function notInState(tx: Db, c: Change & { authenticatorId: string }, expected: string): Promise<Error> {
  const row = await tx
    .selectFrom('authenticators')
    .select('status')
    .where('id', '=', c.authenticatorId)
    .where('customer_id', '=', c.customerId)
    .executeTakeFirst();
  if (!row || row.status === 'revoked') return new NotFound('Authenticator');
  return new Conflict('ERR_AUTHENTICATOR_STATE', `The authenticator is ${row.status}, not ${expected}.`, {
    authenticatorStatus: row.status,
  });
}
