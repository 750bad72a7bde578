import { Type, type Static } from '@sinclair/typebox';
import type { FastifyInstance } from 'fastify';
import { requireCustomer, type BankContext } from '../context.js';
import { BankError } from '../errors.js';
import type { Authenticator } from '../sesame-client.js';

const EnrolBody = Type.Object({
  label: Type.Optional(Type.String({ minLength: 1, maxLength: 64 })),
  /** Both required once the customer can already do SCA (see below). */
  password: Type.Optional(Type.String({ minLength: 1, maxLength: 1024 })),
  code: Type.Optional(Type.String({ minLength: 1, maxLength: 16 })),
});
const ActivateParams = Type.Object({ authenticatorId: Type.String({ minLength: 1, maxLength: 64 }) });
const ActivateBody = Type.Object({ code: Type.String({ minLength: 1, maxLength: 16 }) });

/**
 * "My security": the customer's methods as Sésame knows them (the one source of truth every channel
 * shows), and self-service TOTP enrolment.
 */
export function securityRoutes(app: FastifyInstance, ctx: BankContext): void {
  app.get('/bank/api/security', async (request, reply) => {
    const { customer } = await requireCustomer(ctx, request, reply);
    const [authenticators, status] = await Promise.all([ctx.sesame.authenticators(customer.id), ctx.sesame.security(customer.id)]);
    return {
      authenticators: authenticators.filter((a) => a.status !== 'revoked'),
      status,
      canDoSca: canDoSca(authenticators),
    };
  });

  /**
   * Adding an authenticator is itself protected by SCA once the customer has one: the bank declares a
   * `manage_authenticators` operation, authenticates it with the current elements, and hands the
   * resulting authentication code to the enrolment, which consumes it.
   */
  app.post<{ Body: Static<typeof EnrolBody> }>('/bank/api/security/totp', { schema: { body: EnrolBody } }, async (request, reply) => {
    const { customer, session } = await requireCustomer(ctx, request, reply);
    const { label, password, code } = request.body;
    let authenticationCode: string | undefined;
    if (password !== undefined || code !== undefined) {
      if (!password || !code) throw new BankError(400, 'ERR_INVALID_REQUEST', 'Password and code go together.');
      const op = await ctx.sesame.createOperation(customer.id, { type: 'manage_authenticators', action: 'add', kind: 'totp' });
      const auth = await ctx.sesame.authenticate(op.id, [
        { method: 'password', password },
        { method: 'totp', code },
      ]);
      authenticationCode = auth.authenticationCode;
    }
    const enrolment = await ctx.sesame.enrolTotp(customer.id, {
      ...(label ? { label } : {}),
      ...(authenticationCode ? { authenticationCode } : {}),
    });
    session.pendingTotp.add(enrolment.id);
    return reply.status(201).send({
      authenticatorId: enrolment.id,
      secret: enrolment.secret,
      otpauthUri: enrolment.otpauthUri,
      qrSvg: enrolment.qrSvg,
    });
  });

  app.post<{ Params: Static<typeof ActivateParams>; Body: Static<typeof ActivateBody> }>(
    '/bank/api/security/totp/:authenticatorId/activate',
    { schema: { params: ActivateParams, body: ActivateBody } },
    async (request, reply) => {
      const { customer, session } = await requireCustomer(ctx, request, reply);
      const { authenticatorId } = request.params;
      if (!session.pendingTotp.has(authenticatorId)) {
        throw new BankError(404, 'ERR_ENROLMENT_NOT_FOUND', 'This enrolment is no longer pending.');
      }
      const result = await ctx.sesame.activateAuthenticator(customer.id, authenticatorId, request.body.code);
      session.pendingTotp.delete(authenticatorId);
      return { authenticatorId: result.id, status: result.status };
    },
  );
}

/** Two distinct categories among active authenticators: SCA is possible, so changes need it. */
function canDoSca(authenticators: Authenticator[]): boolean {
  return new Set(authenticators.filter((a) => a.status === 'active').map((a) => a.category)).size >= 2;
}
