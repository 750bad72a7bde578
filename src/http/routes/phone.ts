import { Type } from '@sinclair/typebox';
import type { FastifyInstance } from 'fastify';
import type { Services } from '../../context.js';
import { challengeStatus, sendOperationChallenge, type Locale, type PhoneMethod, type VoiceMode } from '../../journeys/otp.js';
import { enrolPhone } from '../../journeys/phone-authenticators.js';
import { AuthenticatorSchema, IdParam, problems } from '../schemas.js';

const Locale = Type.Union([Type.Literal('fr'), Type.Literal('en')], { description: 'Language of the SMS or call' });
const Method = Type.Union([Type.Literal('sms'), Type.Literal('voice')]);

/** Phone numbers as authenticators, and codes sent to them for an operation. */
export async function phoneRoutes(app: FastifyInstance, s: Services): Promise<void> {
  app.post('/v1/customers/:id/authenticators/phone', {
    schema: {
      tags: ['authenticators'],
      summary: 'Register a mobile for SMS codes, or any line (a landline too) for voice calls; a code is sent to prove it',
      description:
        'The authenticator stays pending until the code sent to the number is posted to /activate. SMS is refused for a fixed line (422 ERR_NOT_A_MOBILE, offer: voice). Voice calls either read the code out (read-out) or ask the customer to type on the handset the code the screen shows (keypad).',
      params: IdParam,
      body: Type.Object(
        {
          method: Method,
          phone: Type.String({ minLength: 3, maxLength: 40, description: 'E.164 (+33…) or national format of the default country' }),
          voiceMode: Type.Optional(Type.Union([Type.Literal('read-out'), Type.Literal('keypad')])),
          locale: Type.Optional(Locale),
          label: Type.Optional(Type.String({ minLength: 1, maxLength: 60 })),
          authenticationCode: Type.Optional(Type.String({ minLength: 10, maxLength: 4096 })),
        },
        { additionalProperties: false },
      ),
      response: {
        201: Type.Intersect([
          Type.Ref(AuthenticatorSchema),
          Type.Object({
            phone: Type.String(),
            lineType: Type.String(),
            voiceMode: Type.Union([Type.String(), Type.Null()]),
            activateBefore: Type.String(),
          }),
        ]),
        ...problems(400, 401, 404, 409, 422, 429),
      },
    },
    handler: async (req, reply) => {
      const b = req.body as {
        method: PhoneMethod;
        phone: string;
        voiceMode?: VoiceMode;
        locale?: Locale;
        label?: string;
        authenticationCode?: string;
      };
      return reply.code(201).send(await enrolPhone(s, { rpId: req.rp!.id, customerId: (req.params as { id: string }).id, ...b }));
    },
  });

  app.post('/v1/operations/:id/challenges', {
    schema: {
      tags: ['operations'],
      summary: 'Send a one-time code for this operation by SMS or voice call',
      description:
        'The SMS or call states the amount and payee (or what is changed). The code lives at most 5 minutes, is used once and is bound to this operation: submit it as a factor {method: "sms"|"voice", code}. For a keypad call, the answer carries displayCode: show it, the customer types it on the handset, then submit {method: "voice"} without a code. Limits per operation, customer and number answer 429.',
      params: IdParam,
      body: Type.Object(
        { method: Method, authenticatorId: Type.Optional(Type.String({ minLength: 1, maxLength: 64 })), locale: Type.Optional(Locale) },
        { additionalProperties: false },
      ),
      response: {
        201: Type.Object({
          id: Type.String(),
          method: Type.String(),
          mode: Type.String({ description: 'code (type the code received), read-out, or keypad' }),
          destination: Type.String({ description: 'The number, masked' }),
          expiresAt: Type.String(),
          displayCode: Type.Optional(Type.String({ description: 'Keypad calls: the code to show, to be typed on the handset' })),
        }),
        ...problems(400, 401, 404, 409, 422, 429),
      },
    },
    handler: async (req, reply) => {
      const b = req.body as { method: PhoneMethod; authenticatorId?: string; locale?: Locale };
      return reply.code(201).send(await sendOperationChallenge(s, req.rp!.id, (req.params as { id: string }).id, b));
    },
  });

  app.get('/v1/operations/:id/challenges/:challengeId', {
    schema: {
      tags: ['operations'],
      summary: 'Where a sent code stands: delivered, undeliverable (with a call offered when the customer has one), used',
      params: Type.Object(
        { id: Type.String({ minLength: 1, maxLength: 64 }), challengeId: Type.String({ minLength: 1, maxLength: 64 }) },
        { additionalProperties: false },
      ),
      response: {
        200: Type.Object({
          id: Type.String(),
          method: Type.String(),
          delivery: Type.String(),
          used: Type.Boolean(),
          expiresAt: Type.String(),
          offer: Type.Optional(Type.String({ description: 'voice: the SMS could not be delivered, a call can be made instead' })),
        }),
        ...problems(400, 401, 404),
      },
    },
    handler: async (req) => {
      const p = req.params as { id: string; challengeId: string };
      return challengeStatus(s, req.rp!.id, p.id, p.challengeId);
    },
  });
}
