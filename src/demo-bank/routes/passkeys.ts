import { Type, type Static } from '@sinclair/typebox';
import type { FastifyInstance } from 'fastify';
import { requireCustomer, type BankContext } from '../context.js';
import { BankError } from '../errors.js';
import { SesameApiError } from '../sesame-client.js';
import { stepUpCode, StepUpSchema, WebAuthnCredentialSchema } from '../sca.js';

/**
 * Passkeys and security keys in the web banking. The bank only relays: Sésame issues the options (its
 * challenges are single-use and bound to the operation) and checks the browser's answers. The assertion
 * itself is submitted with the password through the login and transfer confirmations, like any other
 * second element (`possessionFactor` in `sca.ts`).
 */
const RegistrationOptionsBody = Type.Object({
  label: Type.Optional(Type.String({ minLength: 1, maxLength: 64 })),
  /** 'platform': this device (a passkey); 'cross-platform': a security key or another phone. */
  attachment: Type.Optional(Type.Union([Type.Literal('platform'), Type.Literal('cross-platform')])),
  stepUp: Type.Optional(StepUpSchema),
});
const RegistrationBody = Type.Object({
  label: Type.Optional(Type.String({ minLength: 1, maxLength: 64 })),
  // What startRegistration() returns has the same outer shape as an assertion: bounded here, checked by Sésame.
  credential: WebAuthnCredentialSchema,
});
const TransferParams = Type.Object({ operationId: Type.String({ minLength: 1, maxLength: 64 }) });

export function passkeyRoutes(app: FastifyInstance, ctx: BankContext): void {
  /** Options to register a passkey or security key; the customer confirms with their current elements once they have two. */
  app.post<{ Body: Static<typeof RegistrationOptionsBody> }>(
    '/bank/api/security/passkeys/options',
    { schema: { body: RegistrationOptionsBody } },
    async (request, reply) => {
      const { customer, session } = await requireCustomer(ctx, request, reply);
      const { label, attachment, stepUp } = request.body;
      const authenticationCode = stepUp
        ? await stepUpCode(ctx, session, customer, { type: 'manage_authenticators', action: 'add', kind: 'webauthn' }, stepUp)
        : undefined;
      return ctx.sesame.webauthnRegistrationOptions(customer.id, {
        ...(label ? { label } : {}),
        ...(attachment ? { authenticatorAttachment: attachment } : {}),
        // A passkey on this device is discoverable; a security key need not spend one of its few slots.
        residentKey: attachment === 'cross-platform' ? 'discouraged' : 'preferred',
        ...(authenticationCode ? { authenticationCode } : {}),
      });
    },
  );

  /** The browser's answer: the key is bound (and active) if Sésame verifies it. */
  app.post<{ Body: Static<typeof RegistrationBody> }>(
    '/bank/api/security/passkeys',
    { schema: { body: RegistrationBody } },
    async (request, reply) => {
      const { customer } = await requireCustomer(ctx, request, reply);
      const a = await ctx.sesame.registerWebAuthn(customer.id, request.body.credential, request.body.label);
      return reply.status(201).send({ id: a.id, kind: a.kind, label: a.label, status: a.status });
    },
  );

  /** Options for the pending login's passkey (an unknown identifier gets the answer a customer without one gets). */
  app.post('/bank/api/login/passkey-options', async (request) => {
    const pending = ctx.sessions.get(request)?.pendingLogin;
    if (!pending) throw new BankError(409, 'ERR_LOGIN_NOT_STARTED', 'Please enter your identifier again.');
    const unavailable = new BankError(422, 'ERR_NO_SUCH_METHOD', 'This method is not available.');
    if (pending.kind !== 'real') throw unavailable;
    try {
      return (await ctx.sesame.webauthnOptions(pending.operationId)).options;
    } catch (e) {
      if (e instanceof SesameApiError && e.code === 'ERR_NO_WEBAUTHN_CREDENTIAL') throw unavailable;
      throw e;
    }
  });

  /** Options for a pending transfer: the challenge is derived from its amount and payee. */
  app.post<{ Params: Static<typeof TransferParams> }>(
    '/bank/api/transfers/:operationId/passkey-options',
    { schema: { params: TransferParams } },
    async (request, reply) => {
      const { session } = await requireCustomer(ctx, request, reply);
      const pending = session.transfers.get(request.params.operationId);
      if (!pending) throw new BankError(404, 'ERR_TRANSFER_NOT_FOUND', 'This transfer is no longer pending.');
      return (await ctx.sesame.webauthnOptions(pending.operationId)).options;
    },
  );
}
