import { Type, type Static } from '@sinclair/typebox';
import type { FastifyInstance } from 'fastify';
import { requireCustomer, type BankContext } from '../context.js';
import { BankError } from '../errors.js';
import { isValidIban, normaliseIban } from '../iban.js';
import { ChallengeBody, choicesFor, ocraChallenge, OcraQuery, possessionFactor, sendCode, ScaProofBody } from '../sca.js';
import type { BankSession, LoggedInCustomer, PendingTransfer } from '../sessions.js';

const TransferBody = Type.Object({
  fromAccount: Type.String({ minLength: 1, maxLength: 32 }),
  payeeName: Type.String({ minLength: 1, maxLength: 70 }),
  iban: Type.String({ minLength: 15, maxLength: 42 }),
  amountCents: Type.Integer({ minimum: 1, maximum: 100_000_000 }),
  currency: Type.Literal('EUR'),
});
const ConfirmParams = Type.Object({ operationId: Type.String({ minLength: 1, maxLength: 64 }) });
const ConfirmBody = ScaProofBody;

/**
 * A transfer with dynamic linking, the way a relying party should do it:
 *  1. declare the payment to Sésame and show the customer the amount and payee *as Sésame normalised
 *     them* (that is what the proof will be bound to);
 *  2. authenticate with all elements at once;
 *  3. consume the authentication code passing the bank's own copy of the payment: if anything changed
 *     on the way (amount, payee), Sésame refuses and nothing is executed;
 *  4. only then move the money.
 */
export function transferRoutes(app: FastifyInstance, ctx: BankContext): void {
  app.post<{ Body: Static<typeof TransferBody> }>('/bank/api/transfers', { schema: { body: TransferBody } }, async (request, reply) => {
    const { customer, session } = await requireCustomer(ctx, request, reply);
    const { fromAccount, payeeName, iban, amountCents, currency } = request.body;
    const account = ctx.ledger.account(customer.ref, fromAccount);
    if (!account) throw new BankError(404, 'ERR_ACCOUNT_NOT_FOUND', 'Account not found.');
    if (!isValidIban(iban)) throw new BankError(400, 'ERR_INVALID_IBAN', 'The IBAN is not valid.');
    if (normaliseIban(iban) === account.iban) throw new BankError(400, 'ERR_SAME_ACCOUNT', 'The payee is the debited account.');
    if (account.balanceCents < amountCents) {
      throw new BankError(422, 'ERR_INSUFFICIENT_FUNDS', 'The balance is too low for this transfer.');
    }

    const data: PendingTransfer['data'] = {
      type: 'payment',
      amount: { value: amountCents, currency },
      payee: { name: payeeName.trim(), iban: normaliseIban(iban) },
    };
    const [op, ways] = await Promise.all([ctx.sesame.createOperation(customer.id, data), ctx.sesame.waysIn(customer.id)]);
    session.transfers.set(op.id, { operationId: op.id, fromAccountId: account.id, data, busy: false });

    const shown = op.data.type === 'payment' ? op.data : data;
    return reply.status(201).send({
      operationId: op.id,
      fromAccount: { id: account.id, kind: account.kind, iban: account.iban },
      amount: shown.amount,
      payee: shown.payee,
      expiresAt: op.expiresAt,
      methods: choicesFor(ways, 'payment'),
    });
  });

  /** A code by SMS or call for this transfer: the message states the amount and the payee. */
  app.post<{ Params: Static<typeof ConfirmParams>; Body: Static<typeof ChallengeBody> }>(
    '/bank/api/transfers/:operationId/challenge',
    { schema: { params: ConfirmParams, body: ChallengeBody } },
    async (request, reply) => {
      const { session } = await requireCustomer(ctx, request, reply);
      const pending = session.transfers.get(request.params.operationId);
      if (!pending) throw new BankError(404, 'ERR_TRANSFER_NOT_FOUND', 'This transfer is no longer pending.');
      return sendCode(ctx, pending.operationId, request.body);
    },
  );

  /** An OCRA token's challenge for this transfer: bound to its amount and payee, shown beside them. */
  app.get<{ Params: Static<typeof ConfirmParams>; Querystring: Static<typeof OcraQuery> }>(
    '/bank/api/transfers/:operationId/ocra-challenge',
    { schema: { params: ConfirmParams, querystring: OcraQuery } },
    async (request, reply) => {
      const { session } = await requireCustomer(ctx, request, reply);
      const pending = session.transfers.get(request.params.operationId);
      if (!pending) throw new BankError(404, 'ERR_TRANSFER_NOT_FOUND', 'This transfer is no longer pending.');
      return ocraChallenge(ctx, pending.operationId, request.query.authenticatorId);
    },
  );

  app.post<{ Params: Static<typeof ConfirmParams>; Body: Static<typeof ConfirmBody> }>(
    '/bank/api/transfers/:operationId/confirm',
    { schema: { params: ConfirmParams, body: ConfirmBody } },
    async (request, reply) => {
      const { customer, session } = await requireCustomer(ctx, request, reply);
      const pending = session.transfers.get(request.params.operationId);
      if (!pending) throw new BankError(404, 'ERR_TRANSFER_NOT_FOUND', 'This transfer is no longer pending.');
      if (pending.busy) throw new BankError(409, 'ERR_TRANSFER_IN_PROGRESS', 'This transfer is already being confirmed.');
      pending.busy = true;
      try {
        const { password, method, code, authenticatorId, credential } = request.body;
        const auth = await ctx.sesame.authenticate(pending.operationId, [
          { method: 'password', password },
          possessionFactor(method, code, authenticatorId, credential),
        ]);
        return await executeTransfer(ctx, session, customer, pending, auth.authenticationCode);
      } finally {
        pending.busy = false;
      }
    },
  );
}

/**
 * Step 3 and 4 for a transfer whose SCA succeeded (typed elements or an approval in the app): consume the
 * code against the bank's own copy of the payment, then move the money.
 */
export async function executeTransfer(
  ctx: BankContext,
  session: BankSession,
  customer: LoggedInCustomer,
  pending: PendingTransfer,
  authenticationCode: string,
) {
  // From here on the code is spent whatever happens: the transfer is no longer pending.
  session.transfers.delete(pending.operationId);
  const proof = await ctx.sesame.consumeCode(authenticationCode, pending.data);
  if (proof.operationId !== pending.operationId || proof.customerId !== customer.id) {
    throw new BankError(409, 'ERR_LINK_MISMATCH', 'The authentication does not match this transfer.');
  }
  const { transaction, balanceCents } = ctx.ledger.transfer(customer.ref, {
    fromAccountId: pending.fromAccountId,
    amountCents: pending.data.amount.value,
    payeeName: pending.data.payee.name,
    operationId: pending.operationId,
  });
  return { transaction, balanceCents, amount: pending.data.amount, payee: pending.data.payee };
}
