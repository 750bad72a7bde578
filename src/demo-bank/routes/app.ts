import { Type, type Static } from '@sinclair/typebox';
import type { FastifyInstance } from 'fastify';
import { requireCustomer, type BankContext } from '../context.js';
import { BankError } from '../errors.js';
import { SesameApiError, type AppApprovalStatus, type OperationData } from '../sesame-client.js';
import type { BankSession } from '../sessions.js';
import { executeTransfer } from './transfers.js';

/**
 * The app authenticator seen from the bank: "Activate the app" on "My security" (eligibility, QR code
 * and activation code, the list of activations), and "Approve in my app" on the login and transfer
 * screens. The bank sends the operation to the app, the page polls the bank, the bank polls Sésame, and
 * once the customer approved the bank consumes the authentication code like for any other method — the
 * app's approval alone is two elements (possession of the installation's key and the PIN, or biometrics),
 * so no password goes with it. A demo button also sends an online card payment to the app.
 */

const IdParam = Type.String({ minLength: 1, maxLength: 64 });
const ApprovalParams = Type.Object({ approvalId: IdParam });
const TransferApprovalParams = Type.Object({ operationId: IdParam, approvalId: IdParam });
const TransferParams = Type.Object({ operationId: IdParam });

/** The demo's card payment: a merchant website, a plausible basket. */
const DEMO_CARD_PAYMENT: Extract<OperationData, { type: 'online_card_payment' }> = {
  type: 'online_card_payment',
  amount: { value: 4199, currency: 'EUR' },
  payee: { name: 'showroomprive.com', merchantId: 'FR-SRP-0001' },
};

interface SentToApp {
  operationId: string;
  data: OperationData;
  /** Set while a poll is consuming the code, so two polls never both try. */
  busy: boolean;
}

/** The approvals this bank session sent to the app, by approval id (kept beside the session, not in it). */
const sent = new WeakMap<BankSession, Map<string, SentToApp>>();
function sentBy(session: BankSession): Map<string, SentToApp> {
  let m = sent.get(session);
  if (!m) sent.set(session, (m = new Map()));
  return m;
}

export function appRoutes(app: FastifyInstance, ctx: BankContext): void {
  // "My security": activate the app.

  app.get('/bank/api/app/eligibility', async (request, reply) => {
    const { customer } = await requireCustomer(ctx, request, reply);
    return ctx.sesame.appEligibility(customer.id);
  });

  app.get('/bank/api/app/activations', async (request, reply) => {
    const { customer } = await requireCustomer(ctx, request, reply);
    return { activations: await ctx.sesame.appActivations(customer.id) };
  });

  /** The code and QR code are shown once, to the logged-in customer, and never kept by the bank. */
  app.post('/bank/api/app/activations', async (request, reply) => {
    const { customer } = await requireCustomer(ctx, request, reply);
    try {
      const a = await ctx.sesame.startAppActivation(customer.id);
      return reply.status(201).send({
        activationId: a.activationId,
        activationCode: a.activationCode,
        activationUrl: a.activationUrl,
        qrSvg: a.qrSvg,
        expiresAt: a.expiresAt,
        status: a.status,
      });
    } catch (e) {
      if (e instanceof SesameApiError && e.code === 'ERR_NOT_ELIGIBLE') {
        throw new BankError(422, 'ERR_NOT_ELIGIBLE', e.detail ?? e.title, { missing: e.details.missing ?? [] });
      }
      throw e;
    }
  });

  // Login: after the identifier screen, "approve in my app".

  /** Whether to offer "approve in my app" on the login screen: the customer has an active app for logins. */
  app.get('/bank/api/login/app', async (request) => {
    const pending = ctx.sessions.get(request)?.pendingLogin;
    if (!pending) throw new BankError(409, 'ERR_LOGIN_NOT_STARTED', 'Please enter your identifier again.');
    return { available: pending.kind === 'real' && (await hasApp(ctx, pending.customer.id, 'login')) };
  });

  app.post('/bank/api/login/app-approval', async (request) => {
    const session = ctx.sessions.get(request);
    const pending = session?.pendingLogin;
    if (!session || !pending) throw new BankError(409, 'ERR_LOGIN_NOT_STARTED', 'Please enter your identifier again.');
    // An unknown identifier is offered no app (its screen looks like an app-code customer's): same refusal as a method it lacks.
    if (pending.kind !== 'real') throw new BankError(422, 'ERR_NO_SUCH_METHOD', 'This method is not available.');
    return sendToApp(ctx, session, pending.operationId, { type: 'login' });
  });

  app.get<{ Params: Static<typeof ApprovalParams> }>(
    '/bank/api/login/app-approval/:approvalId',
    { schema: { params: ApprovalParams } },
    async (request, reply) => {
      const session = ctx.sessions.get(request);
      const pending = session?.pendingLogin;
      const entry = session ? sentBy(session).get(request.params.approvalId) : undefined;
      if (!session || !pending || pending.kind !== 'real' || !entry || entry.operationId !== pending.operationId) {
        throw new BankError(409, 'ERR_LOGIN_NOT_STARTED', 'Please enter your identifier again.');
      }
      const outcome = await settle(ctx, session, request.params.approvalId, entry, async (status, code) => {
        if (!status.session) throw new BankError(502, 'ERR_UPSTREAM', 'The login did not open a session.');
        // Burn the login's authentication code: the bank checks the proof rather than trusting the status.
        const proof = await ctx.sesame.consumeCode(code, { type: 'login' });
        if (proof.customerId !== pending.customer.id) throw new BankError(409, 'ERR_LINK_MISMATCH', 'The approval is not this customer’s.');
        const fresh = ctx.sessions.rotate(session, reply, request, {
          pendingLogin: null,
          customer: pending.customer,
          sesameToken: status.session.token,
          idleTimeoutSeconds: status.session.idleTimeoutSeconds,
        });
        return {
          me: {
            customer: { ref: pending.customer.ref, displayName: pending.customer.displayName },
            expiresAt: status.session.expiresAt,
            idleTimeoutSeconds: fresh.idleTimeoutSeconds ?? 300,
          },
        };
      });
      // A refused or expired login starts again on a fresh operation, like a failed code.
      if (outcome.status !== 'pending' && outcome.status !== 'approved') session.pendingLogin = null;
      return outcome;
    },
  );

  // Transfers: "approve in my app" instead of password + code.

  app.get('/bank/api/app/available', async (request, reply) => {
    const { customer } = await requireCustomer(ctx, request, reply);
    return { available: await hasApp(ctx, customer.id, 'payment') };
  });

  app.post<{ Params: Static<typeof TransferParams> }>(
    '/bank/api/transfers/:operationId/app-approval',
    { schema: { params: TransferParams } },
    async (request, reply) => {
      const { session } = await requireCustomer(ctx, request, reply);
      const pending = session.transfers.get(request.params.operationId);
      if (!pending) throw new BankError(404, 'ERR_TRANSFER_NOT_FOUND', 'This transfer is no longer pending.');
      return sendToApp(ctx, session, pending.operationId, pending.data);
    },
  );

  app.get<{ Params: Static<typeof TransferApprovalParams> }>(
    '/bank/api/transfers/:operationId/app-approval/:approvalId',
    { schema: { params: TransferApprovalParams } },
    async (request, reply) => {
      const { customer, session } = await requireCustomer(ctx, request, reply);
      const pending = session.transfers.get(request.params.operationId);
      const entry = sentBy(session).get(request.params.approvalId);
      if (!pending || !entry || entry.operationId !== pending.operationId) {
        throw new BankError(404, 'ERR_TRANSFER_NOT_FOUND', 'This transfer is no longer pending.');
      }
      return settle(ctx, session, request.params.approvalId, entry, async (_status, code) => ({
        done: await executeTransfer(ctx, session, customer, pending, code),
      }));
    },
  );

  // Demo: a card payment on a merchant's website, sent to the app (a refusal declares fraud).

  app.post('/bank/api/card-payments/simulate', async (request, reply) => {
    const { customer, session } = await requireCustomer(ctx, request, reply);
    const op = await ctx.sesame.createOperation(customer.id, DEMO_CARD_PAYMENT);
    const approval = await sendToApp(ctx, session, op.id, DEMO_CARD_PAYMENT);
    const shown = op.data.type === 'online_card_payment' ? op.data : DEMO_CARD_PAYMENT;
    return reply.status(201).send({ operationId: op.id, amount: shown.amount, payee: shown.payee, ...approval });
  });

  app.get<{ Params: Static<typeof TransferApprovalParams> }>(
    '/bank/api/card-payments/:operationId/app-approval/:approvalId',
    { schema: { params: TransferApprovalParams } },
    async (request, reply) => {
      const { session } = await requireCustomer(ctx, request, reply);
      const entry = sentBy(session).get(request.params.approvalId);
      if (!entry || entry.operationId !== request.params.operationId) {
        throw new BankError(404, 'ERR_PAYMENT_NOT_FOUND', 'This payment is no longer pending.');
      }
      return settle(ctx, session, request.params.approvalId, entry, async (_status, code) => {
        await ctx.sesame.consumeCode(code, entry.data);
        return {};
      });
    },
  );
}

/** An active app authenticator among the customer's ways in, usable for this operation type. */
async function hasApp(ctx: BankContext, customerId: string, operationType: string): Promise<boolean> {
  const ways = await ctx.sesame.waysIn(customerId);
  return ways.methods.some(
    (m) => m.kind === 'app' && m.status === 'active' && (!m.usableFor?.length || m.usableFor.includes(operationType)),
  );
}

/** Sends the operation to the customer's app; the page shows the number (logins) and waits. */
async function sendToApp(ctx: BankContext, session: BankSession, operationId: string, data: OperationData) {
  const a = await ctx.sesame.requestAppApproval(operationId);
  sentBy(session).set(a.approvalId, { operationId, data, busy: false });
  return { approvalId: a.approvalId, number: a.number, expiresAt: a.expiresAt };
}

/**
 * One poll of the page: asks Sésame where the approval stands and, the first time it is approved, runs
 * `complete` with the authentication code (consume it, then act). Refused and expired are final.
 */
async function settle<T extends Record<string, unknown>>(
  ctx: BankContext,
  session: BankSession,
  approvalId: string,
  entry: SentToApp,
  complete: (status: AppApprovalStatus, code: string) => Promise<T>,
): Promise<{ status: 'pending' } | { status: 'refused' | 'expired' | 'failed'; fraudDeclared: boolean } | ({ status: 'approved' } & T)> {
  if (entry.busy) return { status: 'pending' };
  const status = await ctx.sesame.appApproval(entry.operationId, approvalId);
  if (status.status === 'pending') return { status: 'pending' };
  if (status.status !== 'approved') {
    // Refused, expired, failed (a wrong number picked: a blind approval) or replaced by a newer request.
    sentBy(session).delete(approvalId);
    const final = status.status === 'refused' || status.status === 'expired' ? status.status : 'failed';
    return { status: final, fraudDeclared: status.fraudDeclared === true };
  }
  if (!status.authenticationCode) throw new BankError(502, 'ERR_UPSTREAM', 'The approval came without an authentication code.');
  entry.busy = true;
  try {
    const result = await complete(status, status.authenticationCode);
    sentBy(session).delete(approvalId);
    return { status: 'approved', ...result };
  } finally {
    entry.busy = false;
  }
}
