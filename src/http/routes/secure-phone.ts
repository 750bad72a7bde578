import { Type } from '@sinclair/typebox';
import type { FastifyInstance } from 'fastify';
import type { Services } from '../../context.js';
import type { Locale } from '../../journeys/otp.js';
import { confirmPhone, reportLostNumber, startPhoneChange, startReconfirm } from '../../journeys/secure-phone.js';
import { waysIn } from '../../journeys/ways-in.js';
import { CustomerSchema, IdParam, problems } from '../schemas.js';

const LocaleSchema = Type.Optional(Type.Union([Type.Literal('fr'), Type.Literal('en')]));
const Proof = Type.Object({ id: Type.String(), destination: Type.String({ description: 'The number, masked' }), expiresAt: Type.String() });
type Params = { id: string };

/** The secure mobile number (seed 001) and the one answer about a customer's ways in (seed 000). */
export async function securePhoneRoutes(app: FastifyInstance, s: Services): Promise<void> {
  const tags = ['secure phone'];
  const who = (req: { rp?: { id: string } | undefined; params: unknown }) => ({ rpId: req.rp!.id, customerId: (req.params as Params).id });

  app.get('/v1/customers/:id/ways-in', {
    schema: {
      tags: ['authenticators'],
      summary: "The customer's ways in: what they have, what each is for, whether they can log in and pay, what they could add",
      description:
        'The one truth that web banking, the SCA screen and the advisor console render. A customer without a mobile sees TOTP, a landline call and hardware tokens among what they can add.',
      params: IdParam,
      response: {
        200: Type.Object({
          customerId: Type.String(),
          methods: Type.Array(
            Type.Object({
              id: Type.String(),
              kind: Type.String(),
              category: Type.String(),
              categories: Type.Array(Type.String(), { description: 'every element one use proves (a passkey: possession and inherence)' }),
              status: Type.String(),
              label: Type.String(),
              destination: Type.Optional(Type.String()),
              voiceMode: Type.Optional(Type.String()),
              usableFor: Type.Array(Type.String()),
            }),
          ),
          canLogIn: Type.Boolean(),
          canPay: Type.Boolean(),
          canAdd: Type.Array(Type.Object({ kind: Type.String(), category: Type.String(), needs: Type.String(), setup: Type.String() })),
          securePhone: Type.Object({
            number: Type.Union([Type.String(), Type.Null()]),
            checkDue: Type.Boolean(),
            coolingOff: Type.Boolean(),
          }),
        }),
        ...problems(401, 404),
      },
    },
    handler: async (req) => waysIn(s, (req.params as Params).id),
  });

  app.post('/v1/customers/:id/secure-phone/change', {
    schema: {
      tags,
      summary: 'Change the secure mobile number: needs SCA not relying on the old number, then a code sent to the new one',
      description:
        'authenticationCode: the code of a change_phone operation for this new number, authorised without an SMS to (or a call to) the number being replaced. A code is sent to the new number; POST it to /secure-phone/confirm. Refused (422 ERR_NOT_ELIGIBLE) for a minor who is not emancipated or without remote banking.',
      params: IdParam,
      body: Type.Object(
        {
          phone: Type.String({ minLength: 3, maxLength: 40 }),
          authenticationCode: Type.String({ minLength: 10, maxLength: 4096 }),
          locale: LocaleSchema,
        },
        { additionalProperties: false },
      ),
      response: { 202: Proof, ...problems(400, 401, 404, 409, 422, 429) },
    },
    handler: async (req, reply) => {
      const b = req.body as { phone: string; authenticationCode: string; locale?: Locale };
      return reply.code(202).send(await startPhoneChange(s, { ...who(req), ...b }));
    },
  });

  app.post('/v1/customers/:id/secure-phone/reconfirm', {
    schema: {
      tags,
      summary: 'The yearly check of the secure number: a code is sent to it',
      params: IdParam,
      body: Type.Object({ locale: LocaleSchema }, { additionalProperties: false }),
      response: { 202: Proof, ...problems(400, 401, 404, 422, 429) },
    },
    preValidation: async (req) => {
      if (req.body === undefined) req.body = {};
    },
    handler: async (req, reply) => reply.code(202).send(await startReconfirm(s, { ...who(req), ...(req.body as { locale?: Locale }) })),
  });

  app.post('/v1/customers/:id/secure-phone/confirm', {
    schema: {
      tags,
      summary: 'The code received on the number: the change (or the yearly check) takes effect at once',
      description:
        'On a change: secure_phone.changed is sent to the bank, SMS codes go to the new number only, the old number gets an SMS and the customer an email announcing it, and a cooling-off period starts.',
      params: IdParam,
      body: Type.Object(
        { id: Type.String({ minLength: 1, maxLength: 64 }), code: Type.String({ minLength: 1, maxLength: 16 }) },
        { additionalProperties: false },
      ),
      response: { 200: Type.Ref(CustomerSchema), ...problems(400, 401, 404, 409, 422) },
    },
    handler: async (req) => confirmPhone(s, { ...who(req), ...(req.body as { id: string; code: string }) }),
  });

  app.post('/v1/customers/:id/secure-phone/lost', {
    schema: {
      tags,
      summary: '"This is no longer my number": records a case for an advisor and says what happens next',
      params: IdParam,
      response: { 201: Type.Object({ caseId: Type.String(), nextStep: Type.String() }), ...problems(401, 404) },
    },
    handler: async (req, reply) => reply.code(201).send(await reportLostNumber(s, who(req))),
  });
}
