import { Type, type Static } from '@sinclair/typebox';
import type { FastifyInstance } from 'fastify';
import { requireCustomer, type BankContext } from '../context.js';
import { BankError } from '../errors.js';
import { ChallengeBody, LocaleSchema, sendCode, stepUpCode, StepUpSchema, type StepUp } from '../sca.js';
import type { Authenticator, OperationData } from '../sesame-client.js';

const EnrolBody = Type.Object({
  label: Type.Optional(Type.String({ minLength: 1, maxLength: 64 })),
  /** Both required once the customer can already do SCA (see below), with the app's code… */
  password: Type.Optional(Type.String({ minLength: 1, maxLength: 1024 })),
  code: Type.Optional(Type.String({ minLength: 1, maxLength: 16 })),
  /** …or any other possession method the customer has (a code by SMS or call, a token). */
  stepUp: Type.Optional(StepUpSchema),
});
const PhoneBody = Type.Object({
  method: Type.Union([Type.Literal('sms'), Type.Literal('voice')]),
  phone: Type.String({ minLength: 3, maxLength: 40 }),
  voiceMode: Type.Optional(Type.Union([Type.Literal('read-out'), Type.Literal('keypad')])),
  label: Type.Optional(Type.String({ minLength: 1, maxLength: 60 })),
  locale: LocaleSchema,
  stepUp: Type.Optional(StepUpSchema),
});
const StepUpStartBody = Type.Union([
  Type.Object({
    type: Type.Literal('manage_authenticators'),
    action: Type.Literal('add'),
    kind: Type.Union([Type.Literal('totp'), Type.Literal('sms'), Type.Literal('voice'), Type.Literal('webauthn')]),
    /** The phone number an SMS or voice enrolment adds. */
    target: Type.Optional(Type.String({ minLength: 3, maxLength: 40 })),
  }),
  Type.Object({ type: Type.Literal('change_phone'), phone: Type.String({ minLength: 3, maxLength: 40 }) }),
]);
const OperationParams = Type.Object({ operationId: Type.String({ minLength: 1, maxLength: 64 }) });
const PhoneChangeBody = Type.Object({ phone: Type.String({ minLength: 3, maxLength: 40 }), locale: LocaleSchema, stepUp: StepUpSchema });
const PhoneConfirmBody = Type.Object({
  id: Type.String({ minLength: 1, maxLength: 64 }),
  code: Type.String({ minLength: 1, maxLength: 16 }),
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
    const waysIn = await ctx.sesame.waysIn(customer.id);
    return {
      authenticators: authenticators.filter((a) => a.status !== 'revoked'),
      status,
      canDoSca: canDoSca(authenticators),
      waysIn,
    };
  });

  /** Sésame's one answer about the customer's ways in, as the page renders it. */
  app.get('/bank/api/ways-in', async (request, reply) => {
    const { customer } = await requireCustomer(ctx, request, reply);
    return ctx.sesame.waysIn(customer.id);
  });

  /**
   * Declares the operation a sensitive change is confirmed with, when the code comes by SMS or call
   * (it must be sent for one operation). With an app or token code the change declares it itself.
   */
  app.post<{ Body: Static<typeof StepUpStartBody> }>(
    '/bank/api/security/step-up',
    { schema: { body: StepUpStartBody } },
    async (request, reply) => {
      const { customer, session } = await requireCustomer(ctx, request, reply);
      const data = request.body as OperationData;
      const op = await ctx.sesame.createOperation(customer.id, data);
      session.stepUps.set(op.id, data);
      return reply.status(201).send({ operationId: op.id, expiresAt: op.expiresAt });
    },
  );

  app.post<{ Params: Static<typeof OperationParams>; Body: Static<typeof ChallengeBody> }>(
    '/bank/api/security/step-up/:operationId/challenge',
    { schema: { params: OperationParams, body: ChallengeBody } },
    async (request, reply) => {
      const { session } = await requireCustomer(ctx, request, reply);
      if (!session.stepUps.has(request.params.operationId)) {
        throw new BankError(404, 'ERR_STEP_UP_NOT_FOUND', 'This confirmation is no longer pending.');
      }
      return sendCode(ctx, request.params.operationId, request.body);
    },
  );

  /** A mobile for SMS codes, or any line (a landline too) for calls: a code is sent to it, typed back to activate. */
  app.post<{ Body: Static<typeof PhoneBody> }>('/bank/api/security/phone', { schema: { body: PhoneBody } }, async (request, reply) => {
    const { customer, session } = await requireCustomer(ctx, request, reply);
    const { method, phone, voiceMode, label, locale, stepUp } = request.body;
    const authenticationCode = stepUp
      ? await stepUpCode(ctx, session, customer, { type: 'manage_authenticators', action: 'add', kind: method, target: phone }, stepUp)
      : undefined;
    const enrolment = await ctx.sesame.enrolPhone(customer.id, {
      method,
      phone,
      ...(method === 'voice' ? { voiceMode: voiceMode ?? 'read-out' } : {}),
      ...(label ? { label } : {}),
      ...(locale ? { locale } : {}),
      ...(authenticationCode ? { authenticationCode } : {}),
    });
    session.pendingPhone.add(enrolment.id);
    return reply.status(201).send({
      authenticatorId: enrolment.id,
      kind: enrolment.kind,
      destination: maskedTail(enrolment.phone),
      voiceMode: enrolment.voiceMode,
      activateBefore: enrolment.activateBefore,
    });
  });

  app.post<{ Params: Static<typeof ActivateParams>; Body: Static<typeof ActivateBody> }>(
    '/bank/api/security/phone/:authenticatorId/activate',
    { schema: { params: ActivateParams, body: ActivateBody } },
    async (request, reply) => {
      const { customer, session } = await requireCustomer(ctx, request, reply);
      const { authenticatorId } = request.params;
      if (!session.pendingPhone.has(authenticatorId)) {
        throw new BankError(404, 'ERR_ENROLMENT_NOT_FOUND', 'This enrolment is no longer pending.');
      }
      const result = await ctx.sesame.activateAuthenticator(customer.id, authenticatorId, request.body.code);
      session.pendingPhone.delete(authenticatorId);
      return { authenticatorId: result.id, status: result.status };
    },
  );

  /**
   * Changing the secure number: confirmed with the password and a method that does not rely on the old
   * number (the app, a token, a call to another line), then proven by the code sent to the new one.
   */
  app.post<{ Body: Static<typeof PhoneChangeBody> }>(
    '/bank/api/security/secure-phone/change',
    { schema: { body: PhoneChangeBody } },
    async (request, reply) => {
      const { customer, session } = await requireCustomer(ctx, request, reply);
      const { phone, locale, stepUp } = request.body;
      const authenticationCode = await stepUpCode(ctx, session, customer, { type: 'change_phone', phone }, stepUp);
      const proof = await ctx.sesame.startPhoneChange(customer.id, { phone, authenticationCode, ...(locale ? { locale } : {}) });
      session.phoneProofs.add(proof.id);
      return reply.status(202).send(proof);
    },
  );

  /** The yearly check of the secure number: a code is sent to it. */
  app.post<{ Body: { locale?: 'fr' | 'en' } }>(
    '/bank/api/security/secure-phone/reconfirm',
    { schema: { body: Type.Object({ locale: LocaleSchema }) } },
    async (request, reply) => {
      const { customer, session } = await requireCustomer(ctx, request, reply);
      const proof = await ctx.sesame.startPhoneReconfirm(customer.id, request.body.locale ? { locale: request.body.locale } : {});
      session.phoneProofs.add(proof.id);
      return reply.status(202).send(proof);
    },
  );

  app.post<{ Body: Static<typeof PhoneConfirmBody> }>(
    '/bank/api/security/secure-phone/confirm',
    { schema: { body: PhoneConfirmBody } },
    async (request, reply) => {
      const { customer, session } = await requireCustomer(ctx, request, reply);
      const { id, code } = request.body;
      if (!session.phoneProofs.has(id)) throw new BankError(404, 'ERR_PHONE_PROOF_NOT_FOUND', 'This code is no longer pending.');
      const result = await ctx.sesame.confirmPhone(customer.id, { id, code });
      session.phoneProofs.delete(id);
      return { number: result.mobilePhone ? maskedTail(result.mobilePhone) : null };
    },
  );

  /** "This is no longer my number": Sésame records a case for an advisor and says what happens next. */
  app.post('/bank/api/security/secure-phone/lost', async (request, reply) => {
    const { customer } = await requireCustomer(ctx, request, reply);
    const { nextStep } = await ctx.sesame.reportLostNumber(customer.id);
    return reply.status(201).send({ nextStep });
  });

  /**
   * Adding an authenticator is itself protected by SCA once the customer has one: the bank declares a
   * `manage_authenticators` operation, authenticates it with the current elements, and hands the
   * resulting authentication code to the enrolment, which consumes it.
   */
  app.post<{ Body: Static<typeof EnrolBody> }>('/bank/api/security/totp', { schema: { body: EnrolBody } }, async (request, reply) => {
    const { customer, session } = await requireCustomer(ctx, request, reply);
    const { label, password, code } = request.body;
    let stepUp: StepUp | undefined = request.body.stepUp;
    if (!stepUp && (password !== undefined || code !== undefined)) {
      if (!password || !code) throw new BankError(400, 'ERR_INVALID_REQUEST', 'Password and code go together.');
      stepUp = { password, method: 'totp', code };
    }
    const authenticationCode = stepUp
      ? await stepUpCode(ctx, session, customer, { type: 'manage_authenticators', action: 'add', kind: 'totp' }, stepUp)
      : undefined;
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

/** The last two digits of a number: all the page needs to say where a code goes. */
function maskedTail(phone: string): string {
  return `•• ${phone.replace(/\D/g, '').slice(-2)}`;
}

/** Two distinct categories among active authenticators: SCA is possible, so changes need it. */
function canDoSca(authenticators: Authenticator[]): boolean {
  return new Set(authenticators.filter((a) => a.status === 'active').map((a) => a.category)).size >= 2;
}
