import { randomBytes, randomInt } from 'node:crypto';
import type { PendingApproval } from '../../sdk/device/src/device.js';
import { numberMatch, recordUse } from '../core/app-lifecycle.js';
import { assertNotBlocked } from '../core/lockout.js';
import { AuthenticationFailed, Conflict, NotFound, TooManyRequests, Unprocessable } from '../core/errors.js';
import { methodAllowed } from '../core/policy.js';
import type { OperationType } from '../core/operations.js';
import { newId } from '../crypto/tokens.js';
import { payloadFor } from '../methods/app/index.js';
import { approvalCodeSealContext, verifyPossessionSignature, type AppParams } from '../methods/app/keys.js';
import type { Services } from '../context.js';
import { readApproval, type AttemptSnapshot } from '../store/attempts.js';
import { appendAudit, customerChain } from '../store/audit.js';
import { purgeNoncesNowAndThen, type DeviceNonce } from '../store/device-nonces.js';
import { enqueueEvent } from '../store/outbox.js';
import type { Db } from '../store/db.js';
import type { AuthenticatorRow, OperationRow } from '../store/schema.js';
import { lockSecurityState, toLockout } from '../store/security-state.js';
import { authenticateOperation } from './authenticate.js';
import { iso } from './customers.js';
import { assertPending, findOperation } from './operations.js';

/**
 * Sending an operation to the app and the customer's decision. The request wakes the app (Web Push, and
 * the app's long poll as the fallback); the app shows the operation's data, and the customer approves —
 * the signed approval goes through the same SCA attempt as any proof (`authenticate.ts`), so a wrong PIN
 * counts like any failure — or refuses. Refusing an online card payment declares it as fraud.
 *
 * Against push bombing: a few unanswered (or refused) requests per customer per window, and for logins
 * number matching (the web page shows a number; the customer picks it among three in the app, so a blind
 * "approve" fails).
 */

interface ApprovedResult {
  authenticationCode: string;
  session?: { id: string; token: string; expiresAt: string; idleTimeoutSeconds: number };
}

export interface ApprovalRequestView {
  approvalId: string;
  operationId: string;
  status: 'pending' | 'approved' | 'refused' | 'expired' | 'failed' | 'replaced';
  /** Logins: the number the web page shows; the customer picks it in the app. */
  number: number | null;
  expiresAt: string;
  decidedAt: string | null;
  /** Once approved: the authentication code, for the bank to verify and consume. */
  authenticationCode?: string;
  /** Once a login is approved: the customer's new session. */
  session?: ApprovedResult['session'];
  fraudDeclared: boolean;
}

/** The customer's app installation, if active (one at most). */
export function activeApp(db: Db, customerId: string): Promise<AuthenticatorRow | undefined> {
  return db
    .selectFrom('authenticators')
    .selectAll()
    .where('customer_id', '=', customerId)
    .where('kind', '=', 'app')
    .where('status', '=', 'active')
    .executeTakeFirst();
}

export async function requestApproval(s: Services, rpId: string, operationId: string): Promise<ApprovalRequestView> {
  const op = await findOperation(s.db, rpId, operationId);
  const now = s.clock.now();
  await assertPending(s.db, op, now);
  if (!methodAllowed(s.scaPolicy, op.type as OperationType, 'app')) {
    throw new Unprocessable('ERR_METHOD_NOT_ALLOWED', `The app cannot be used for a ${op.type} operation.`);
  }
  const app = await activeApp(s.db, op.customer_id);
  if (!app) throw new Conflict('ERR_NO_APP', 'The customer has no active app: offer another method (SMS, call, token, passkey).');
  const policy = s.config.app;
  const match = op.type === 'login' ? numberMatch(randomInt) : null;
  const id = newId();
  const expiresAt = new Date(Math.min(new Date(op.expires_at).getTime(), now.getTime() + policy.approvalSeconds * 1000));
  await s.db.transaction().execute(async (tx) => {
    // A blocked customer's approval could not be accepted: the phone is not woken for nothing.
    assertNotBlocked(toLockout(await lockSecurityState(tx, op.customer_id)), now, s.lockoutPolicy);
    const since = new Date(now.getTime() - policy.approvalWindowMinutes * 60_000);
    const recent = await tx
      .selectFrom('app_approvals')
      .select((eb) => eb.fn.countAll<string>().as('n'))
      .where('customer_id', '=', op.customer_id)
      .where('created_at', '>', since)
      // What bombing looks like: requests left unanswered, refused or answered with the wrong number.
      // A customer approving one payment after another is not limited.
      .where('status', 'not in', ['approved', 'pin_confirmation'])
      .executeTakeFirstOrThrow();
    if (Number(recent.n) >= policy.approvalRequestsPerWindow) {
      throw new TooManyRequests(
        'ERR_TOO_MANY_APPROVAL_REQUESTS',
        `At most ${policy.approvalRequestsPerWindow} unanswered requests to the app every ${policy.approvalWindowMinutes} min: wait, or use another method.`,
      );
    }
    // One request per operation waits at a time: a new one replaces the previous.
    await tx
      .updateTable('app_approvals')
      .set({ status: 'replaced' })
      .where('operation_id', '=', op.id)
      .where('status', '=', 'pending')
      .execute();
    await insertApproval(tx, {
      id,
      operationId: op.id,
      customerId: op.customer_id,
      authenticatorId: app.id,
      status: 'pending',
      numberMatch: match,
      now,
      expiresAt,
    });
  });
  s.deviceWakeups.wake(app.id);
  // Best effort: the app's long poll is the fallback, and a push failure must never fail the request.
  pushTo(s, app.id, { type: 'approval', approvalId: id }).catch((err: unknown) => console.warn(`web push: ${(err as Error).message}`));
  return {
    approvalId: id,
    operationId: op.id,
    status: 'pending',
    number: match?.number ?? null,
    expiresAt: expiresAt.toISOString(),
    decidedAt: null,
    fraudDeclared: false,
  };
}

/**
 * A request for one installation's decision: `pending` (listed to the app) or `pin_confirmation` (a
 * change the app asked for itself). Its fresh nonce is what the app signs. Returns the nonce.
 */
export async function insertApproval(
  db: Db,
  a: {
    id: string;
    operationId: string;
    customerId: string;
    authenticatorId: string;
    status: 'pending' | 'pin_confirmation';
    numberMatch: { number: number; options: number[] } | null;
    now: Date;
    expiresAt: Date;
  },
): Promise<string> {
  const nonce = randomBytes(16).toString('base64url');
  await db
    .insertInto('app_approvals')
    .values({
      id: a.id,
      operation_id: a.operationId,
      customer_id: a.customerId,
      authenticator_id: a.authenticatorId,
      nonce,
      number_match: a.numberMatch?.number ?? null,
      number_options: a.numberMatch?.options ?? null,
      status: a.status,
      created_at: a.now,
      expires_at: a.expiresAt,
      decided_at: null,
      code_sealed: null,
    })
    .execute();
  return nonce;
}

async function pushTo(s: Services, authenticatorId: string, payload: Record<string, unknown>): Promise<void> {
  if (!s.push) return;
  const sub = await s.db
    .selectFrom('app_push_subscriptions')
    .selectAll()
    .where('authenticator_id', '=', authenticatorId)
    .executeTakeFirst();
  if (!sub) return;
  const keys = JSON.parse(s.sealer.open(sub.keys_sealed, `push:${authenticatorId}`).toString('utf8')) as { p256dh: string; auth: string };
  await s.push.send({ endpoint: sub.endpoint, keys }, payload);
}

export async function approvalStatus(s: Services, rpId: string, operationId: string, approvalId: string): Promise<ApprovalRequestView> {
  const op = await findOperation(s.db, rpId, operationId);
  const a = await s.db
    .selectFrom('app_approvals')
    .selectAll()
    .where('id', '=', approvalId)
    .where('operation_id', '=', op.id)
    .executeTakeFirst();
  if (!a) throw new NotFound('Approval');
  const expired = a.status === 'pending' && new Date(a.expires_at) <= s.clock.now();
  return {
    approvalId: a.id,
    operationId: op.id,
    status: expired ? 'expired' : (a.status as ApprovalRequestView['status']),
    number: a.number_match,
    expiresAt: iso(a.expires_at)!,
    decidedAt: iso(a.decided_at),
    ...(a.status === 'approved' && a.code_sealed ? await approvedResult(s, a.id, a.code_sealed) : {}),
    fraudDeclared: a.fraud_declared,
  };
}

/**
 * What an approval produced. A login's session token is handed over once: it is dropped from the sealed
 * record when first read (the authentication code stays: it is single-use at the bank anyway).
 */
async function approvedResult(s: Services, approvalId: string, sealed: string): Promise<ApprovedResult> {
  const result = JSON.parse(s.sealer.open(sealed, approvalCodeSealContext(approvalId)).toString('utf8')) as ApprovedResult;
  if (result.session) {
    const rest = s.sealer.seal(JSON.stringify({ authenticationCode: result.authenticationCode }), approvalCodeSealContext(approvalId));
    const taken = await s.db
      .updateTable('app_approvals')
      .set({ code_sealed: rest })
      .where('id', '=', approvalId)
      .where('code_sealed', '=', sealed)
      .returning('id')
      .executeTakeFirst();
    // Another poll took it first.
    if (!taken) return { authenticationCode: result.authenticationCode };
  }
  return result;
}

/** An operation waiting in the app: the SDK's `PendingApproval`, one definition for both sides. */
export type PendingApprovalView = PendingApproval;

/** What waits for this installation (the app's list), oldest first. */
export async function pendingForDevice(s: Services, authenticatorId: string): Promise<PendingApprovalView[]> {
  const rows = await s.db
    .selectFrom('app_approvals as a')
    .innerJoin('operations as o', 'o.id', 'a.operation_id')
    .leftJoin('relying_parties as rp', 'rp.id', 'o.rp_id')
    .select(['a.id', 'a.operation_id', 'a.nonce', 'a.number_options', 'a.created_at', 'a.expires_at', 'o.data', 'o.link_hash', 'rp.name'])
    .where('a.authenticator_id', '=', authenticatorId)
    .where('a.status', '=', 'pending')
    .where('a.expires_at', '>', s.clock.now())
    .where('o.status', '=', 'pending')
    .orderBy('a.created_at')
    .limit(20)
    .execute();
  return rows.map((r) => ({
    approvalId: r.id,
    operationId: r.operation_id,
    data: r.data as PendingApproval['data'],
    linkHash: r.link_hash,
    nonce: r.nonce,
    numberOptions: r.number_options,
    requester: r.name ?? 'Sésame',
    createdAt: iso(r.created_at)!,
    expiresAt: iso(r.expires_at)!,
  }));
}

/** Long poll: returns at once when something waits, else when something arrives or after `seconds`. */
export async function waitForApprovals(
  s: Services,
  authenticatorId: string,
  seconds: number,
  signal?: AbortSignal,
): Promise<PendingApprovalView[]> {
  // Wall-clock time on purpose: this bounds how long the HTTP request is held, not a business rule.
  const deadline = Date.now() + seconds * 1000;
  for (;;) {
    const list = await pendingForDevice(s, authenticatorId);
    const left = deadline - Date.now();
    if (list.length || left <= 0 || signal?.aborted) return list;
    // Re-checked every 2 s: an approval created by another server process has no in-process wake-up.
    await s.deviceWakeups.wait(authenticatorId, Math.min(left, 2000), signal);
  }
}

/** What a confirmation with the PIN is for: its operation's `kind` (changing the PIN, biometrics). */
export type ConfirmationKind = 'app' | 'app_biometric';

export interface Decision {
  decision: 'approve' | 'refuse';
  counter: number;
  numberChoice?: number | undefined;
  possession: string;
  knowledge?: string | undefined;
  biometric?: Record<string, unknown> | undefined;
}

interface Answerable {
  a: { id: string; nonce: string; number_match: number | null };
  op: OperationRow;
}

async function pendingApproval(s: Services, device: AuthenticatorRow, approvalId: string, waiting = 'pending'): Promise<Answerable> {
  // One statement: the request and its operation.
  const row = await s.db
    .selectFrom('app_approvals as a')
    .innerJoin('operations as o', 'o.id', 'a.operation_id')
    .selectAll('o')
    .select([
      'a.id as approval_id',
      'a.authenticator_id',
      'a.status as approval_status',
      'a.nonce',
      'a.number_match',
      'a.expires_at as approval_expires_at',
    ])
    .where('a.id', '=', approvalId)
    .executeTakeFirst();
  if (!row || row.authenticator_id !== device.id) throw new NotFound('Approval');
  const { approval_id, authenticator_id, approval_status, nonce, number_match, approval_expires_at, ...op } = row;
  assertAnswerable(s, { status: approval_status, expiresAt: approval_expires_at }, op as OperationRow, waiting);
  return { a: { id: approval_id, nonce, number_match }, op: op as OperationRow };
}

/** A request can be answered while it waits for this kind of answer, has not expired, and its operation is pending. */
function assertAnswerable(s: Services, a: { status: string; expiresAt: Date }, op: OperationRow, waiting: string): void {
  if (a.status !== waiting) {
    const detail = ['pending', 'pin_confirmation'].includes(a.status)
      ? 'This request is not of this kind (an operation to approve, or a confirmation the app asked for).'
      : `This request was already ${a.status}.`;
    throw new Conflict('ERR_APPROVAL_STATE', detail, { approvalStatus: a.status });
  }
  if (new Date(a.expiresAt) <= s.clock.now()) throw new Conflict('ERR_APPROVAL_EXPIRED', 'This request has expired.');
  // Authorised by another means, cancelled by the bank, expired: nothing left to approve or refuse.
  if (op.status !== 'pending') {
    throw new Conflict('ERR_OPERATION_NOT_PENDING', `The operation is ${op.status}: there is nothing to decide.`, {
      operationStatus: op.status,
    });
  }
}

/**
 * The customer approved in the app: one SCA attempt with the app's proof. By default the request is one
 * the app lists (`pending`); a confirmation the app asked for itself (`pin_confirmation`: changing the PIN,
 * enrolling biometrics) names the kind of change its operation must be for, and a PIN change carries the
 * new knowledge key, written with the success.
 */
export async function approve(
  s: Services,
  device: AuthenticatorRow,
  approvalId: string,
  d: Decision,
  confirmation?: { kind: ConfirmationKind; newKnowledgeKey?: string },
): Promise<{ status: 'approved' }> {
  const waiting = confirmation ? 'pin_confirmation' : 'pending';
  const { a, op } = await pendingApproval(s, device, approvalId, waiting);
  if (confirmation && (op.data as { kind?: string }).kind !== confirmation.kind) {
    throw new Conflict('ERR_APPROVAL_STATE', 'This confirmation was asked for another change.');
  }
  return answerWithApproval(s, device, { a, op }, d, { waiting, newKnowledgeKey: confirmation?.newKnowledgeKey });
}

/**
 * The app's approval of a listed request, as the hot path: one read (the installation, the request, the
 * attempt's state: `readApproval`) and one write (the success, the request answered and the device
 * request's nonce kept, in `commitSuccess`'s statement). `signedBy` checks the device request's signature
 * with the installation read (throwing for none) before anything about the request is told, and returns
 * the nonce to keep.
 */
export async function approveSigned(
  s: Services,
  deviceId: string,
  approvalId: string,
  d: Decision,
  signedBy: (device: AuthenticatorRow | undefined) => DeviceNonce,
): Promise<{ status: 'approved' }> {
  const read = await readApproval(s.db, deviceId, approvalId);
  const deviceNonce = signedBy(read?.device);
  const { device, approval, attempt } = read!;
  if (!approval) throw new NotFound('Approval');
  if (!attempt) throw new Conflict('ERR_CUSTOMER_STATE', 'The customer has no security state.');
  assertAnswerable(s, approval, attempt.op, 'pending');
  const a = { id: approval.id, nonce: approval.nonce, number_match: approval.numberMatch };
  return answerWithApproval(s, device, { a, op: attempt.op }, d, { waiting: 'pending', snapshot: attempt, deviceNonce });
}

async function answerWithApproval(
  s: Services,
  device: AuthenticatorRow,
  { a, op }: Answerable,
  d: Decision,
  opts: {
    waiting: 'pending' | 'pin_confirmation';
    newKnowledgeKey?: string | undefined;
    snapshot?: AttemptSnapshot;
    deviceNonce?: DeviceNonce;
  },
): Promise<{ status: 'approved' }> {
  const proof = {
    method: 'app',
    authenticatorId: device.id,
    app: {
      approvalId: a.id,
      counter: d.counter,
      numberChoice: d.numberChoice,
      possession: d.possession,
      knowledge: d.knowledge,
      biometric: d.biometric,
      expected: { nonce: a.nonce, numberMatch: a.number_match, newKnowledgeKey: opts.newKnowledgeKey },
    },
  };
  try {
    await authenticateOperation(s, op.rp_id, op.id, {
      factors: [proof],
      appApproval: { id: a.id, waiting: opts.waiting },
      snapshot: opts.snapshot,
      deviceNonce: opts.deviceNonce,
    });
  } catch (err) {
    // A wrong number is a blind approval (push bombing): that request is over. A wrong PIN may be retyped.
    if (err instanceof AuthenticationFailed && a.number_match !== null && d.numberChoice !== a.number_match) {
      await s.db
        .updateTable('app_approvals')
        .set({ status: 'failed', decided_at: s.clock.now() })
        .where('id', '=', a.id)
        .where('status', '=', 'pending')
        .execute();
    }
    throw err;
  }
  const now = s.clock.now();
  const params = device.params as unknown as AppParams;
  // Housekeeping once the approval is committed: a failure here must not answer a done approval with an error.
  try {
    // Written once a day at most: the trusted-device rule counts days of use.
    if (!(params.useDays ?? []).includes(now.toISOString().slice(0, 10)))
      await recordDeviceUse(s, device, recordUse(params.useDays ?? [], now, s.config.app), now);
    if (opts.deviceNonce) await purgeNoncesNowAndThen(s.db, now);
  } catch (err) {
    console.warn(`app approval ${a.id}: use of the device not recorded (${(err as Error).name})`);
  }
  return { status: 'approved' };
}

/** A regularly used phone becomes a trusted device, recorded for later risk decisions (seed 003). */
async function recordDeviceUse(s: Services, device: AuthenticatorRow, use: { days: string[]; trusted: boolean }, now: Date): Promise<void> {
  const params = device.params as unknown as AppParams;
  const becomesTrusted = use.trusted && !params.trustedAt;
  await s.db
    .updateTable('authenticators')
    .set((eb) => ({
      params: eb.fn('jsonb_set', [
        eb.fn('jsonb_set', [eb.ref('params'), eb.val('{useDays}'), eb.val(JSON.stringify(use.days))]),
        eb.val('{trustedAt}'),
        eb.val(JSON.stringify(becomesTrusted ? now.toISOString() : (params.trustedAt ?? null))),
      ]) as never,
      last_used_at: now,
    }))
    .where('id', '=', device.id)
    .execute();
  if (becomesTrusted) {
    await s.db.transaction().execute((tx) =>
      appendAudit(tx, customerChain(device.customer_id), now, {
        type: 'app.trusted_device',
        actor: 'system',
        data: { authenticatorId: device.id, daysUsed: use.days.length },
      }),
    );
  }
}

const REFUSAL_MESSAGE = {
  fraud: {
    fr: "Paiement refusé et déclaré comme fraude. Votre banque est prévenue : elle vous contactera et peut faire opposition à votre carte. Vous n'avez rien d'autre à faire maintenant.",
    en: 'Payment refused and reported as fraud. Your bank has been told: it will contact you and may block your card. There is nothing else to do now.',
  },
  plain: { fr: 'Opération refusée : elle ne sera pas exécutée.', en: 'Operation refused: it will not be carried out.' },
};

/**
 * The customer refused in the app (signed by the installation; no PIN needed to say no). The operation
 * is cancelled; refusing an online card payment declares it as fraud: the bank receives `fraud.declared`
 * and the customer is told what happens next.
 */
export async function refuse(
  s: Services,
  device: AuthenticatorRow,
  approvalId: string,
  d: Decision,
  locale: 'fr' | 'en' = 'fr',
): Promise<{ status: 'refused'; fraudDeclared: boolean; message: string }> {
  const { a, op } = await pendingApproval(s, device, approvalId);
  const params = device.params as unknown as AppParams;
  const app = { approvalId: a.id, counter: d.counter, possession: d.possession, expected: { nonce: a.nonce, numberMatch: a.number_match } };
  const signed = verifyPossessionSignature(
    params.possessionKey,
    payloadFor(device.id, op, { ...app, numberChoice: null } as never, 'refuse'),
    d.possession,
  );
  if (!signed || !Number.isSafeInteger(d.counter) || d.counter <= (device.last_used_step ?? 0)) {
    throw new Unprocessable('ERR_APPROVAL_SIGNATURE', 'The refusal is not signed by this installation (or was already sent).');
  }
  const fraud = op.type === 'online_card_payment';
  await s.db.transaction().execute(async (tx) => {
    const now = s.clock.now();
    await lockSecurityState(tx, op.customer_id);
    const moved = await tx
      .updateTable('authenticators')
      .set({ last_used_step: d.counter })
      .where('id', '=', device.id)
      .where((eb) => eb.or([eb('last_used_step', 'is', null), eb('last_used_step', '<', d.counter)]))
      .returning('id')
      .executeTakeFirst();
    const claimed = await tx
      .updateTable('app_approvals')
      .set({ status: 'refused', decided_at: now, fraud_declared: fraud })
      .where('id', '=', a.id)
      .where('status', '=', 'pending')
      .returning('id')
      .executeTakeFirst();
    if (!moved || !claimed) throw new Conflict('ERR_APPROVAL_STATE', 'This request was already answered.');
    const cancelled = await tx
      .updateTable('operations')
      .set({ status: 'cancelled', completed_at: now })
      .where('id', '=', op.id)
      .where('status', '=', 'pending')
      .returning('id')
      .executeTakeFirst();
    // Authorised meanwhile (another method, another process): a refusal can no longer stop it.
    if (!cancelled) throw new Conflict('ERR_OPERATION_NOT_PENDING', 'The operation is no longer pending: it could not be refused.');
    await announceRefusal(tx, op, device.id, fraud, now);
  });
  return { status: 'refused', fraudDeclared: fraud, message: REFUSAL_MESSAGE[fraud ? 'fraud' : 'plain'][locale] };
}

async function announceRefusal(
  tx: Parameters<typeof appendAudit>[0],
  op: OperationRow,
  authenticatorId: string,
  fraud: boolean,
  now: Date,
): Promise<void> {
  const data = op.data as { amount?: unknown; payee?: unknown };
  const chain = customerChain(op.customer_id);
  const actor = `customer:${op.customer_id}`;
  const head = await appendAudit(tx, chain, now, {
    type: 'app.refused',
    actor,
    data: { operationId: op.id, operationType: op.type, authenticatorId },
  });
  if (!fraud) return;
  const event = {
    customerId: op.customer_id,
    operationId: op.id,
    operationType: op.type,
    amount: data.amount ?? null,
    payee: data.payee ?? null,
    declaredAt: now.toISOString(),
    channel: 'app',
  };
  await appendAudit(tx, chain, now, { type: 'fraud.declared', actor, data: event }, head);
  await enqueueEvent(tx, now, { type: 'fraud.declared', rpId: op.rp_id, data: event });
}
