import type { FastifyInstance } from 'fastify';
import { requireCustomer, type BankContext } from '../context.js';

export function accountRoutes(app: FastifyInstance, ctx: BankContext): void {
  app.get('/bank/api/accounts', async (request, reply) => {
    const { customer } = await requireCustomer(ctx, request, reply);
    return {
      accounts: ctx.ledger.accounts(customer.ref),
      transactions: ctx.ledger.transactions(customer.ref, 10),
    };
  });
}
