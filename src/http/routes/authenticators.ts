import { Type } from '@sinclair/typebox';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { Services } from '../../context.js';
import { activateAuthenticator } from '../../journeys/activation.js';
import {
  enrolTotp,
  listAuthenticators,
  regenerateRecoveryCodes,
  resumeAuthenticator,
  revokeAuthenticator,
  suspendAuthenticator,
  setPassword,
} from '../../journeys/authenticators.js';
import { AuthenticatorSchema, CustomerAuthParams, IdParam, problems } from '../schemas.js';

const StepUp = {
  authenticationCode: Type.Optional(
    Type.String({
      minLength: 10,
      maxLength: 4096,
      description:
        'Required once the customer can already authenticate: the authentication code of a manage_authenticators operation for this change. An operation whose `target` names the phone number (SMS, voice) authorises that number only.',
    }),
  ),
};

type P = { id: string; authenticatorId: string };

/** Routes whose every field is optional accept no body at all (a plain DELETE). */
async function bodyOptional(req: FastifyRequest): Promise<void> {
  if (req.body === undefined) req.body = {};
}

export async function authenticatorRoutes(app: FastifyInstance, s: Services): Promise<void> {
  const tags = ['authenticators'];
  const ctx = (req: { rp?: { id: string } | undefined; params: unknown }) => ({ rpId: req.rp!.id, customerId: (req.params as P).id });

  app.get('/v1/customers/:id/authenticators', {
    schema: {
      tags,
      summary: "The customer's enrolled authenticators (revoked ones omitted)",
      params: IdParam,
      response: { 200: Type.Object({ items: Type.Array(Type.Ref(AuthenticatorSchema)) }), ...problems(401, 404) },
    },
    handler: async (req) => ({ items: await listAuthenticators(s, (req.params as P).id) }),
  });

  app.post('/v1/customers/:id/authenticators/password', {
    schema: {
      tags,
      summary: 'Set or replace the password (knowledge element), hashed with argon2id',
      params: IdParam,
      body: Type.Object({ password: Type.String({ minLength: 1, maxLength: 1024 }), ...StepUp }, { additionalProperties: false }),
      response: { 201: Type.Ref(AuthenticatorSchema), ...problems(400, 401, 404, 409, 422) },
    },
    handler: async (req, reply) => {
      const body = req.body as { password: string; authenticationCode?: string };
      return reply.code(201).send(await setPassword(s, { ...ctx(req), ...body }));
    },
  });

  app.post('/v1/customers/:id/authenticators/totp', {
    schema: {
      tags,
      summary: 'Start a TOTP enrolment (RFC 6238): returns the secret, the otpauth:// URI and a QR code, once',
      params: IdParam,
      body: Type.Object(
        {
          label: Type.Optional(Type.String({ minLength: 1, maxLength: 80 })),
          algorithm: Type.Optional(Type.Union([Type.Literal('SHA1'), Type.Literal('SHA256'), Type.Literal('SHA512')])),
          digits: Type.Optional(Type.Union([Type.Literal(6), Type.Literal(7), Type.Literal(8)])),
          ...StepUp,
        },
        { additionalProperties: false },
      ),
      response: {
        201: Type.Intersect([
          Type.Ref(AuthenticatorSchema),
          Type.Object({
            secret: Type.String({ description: 'base32 seed, for manual entry or `oathtool --totp -b`' }),
            otpauthUri: Type.String(),
            qrSvg: Type.String(),
            algorithm: Type.String(),
            digits: Type.Integer(),
            period: Type.Integer(),
            activateBefore: Type.String(),
          }),
        ]),
        ...problems(400, 401, 404, 422),
      },
    },
    handler: async (req, reply) => reply.code(201).send(await enrolTotp(s, { ...ctx(req), ...(req.body as object) })),
  });

  app.post('/v1/customers/:id/authenticators/:authenticatorId/activate', {
    schema: {
      tags,
      summary: 'Activate a pending authenticator with its first proof (TOTP code, code sent to a phone, token code)',
      params: CustomerAuthParams,
      body: Type.Object({ code: Type.String({ minLength: 1, maxLength: 16 }) }, { additionalProperties: false }),
      response: { 200: Type.Ref(AuthenticatorSchema), ...problems(400, 401, 404, 409, 422) },
    },
    handler: async (req) =>
      activateAuthenticator(s, {
        ...ctx(req),
        authenticatorId: (req.params as P).authenticatorId,
        code: (req.body as { code: string }).code,
      }),
  });

  app.post('/v1/customers/:id/authenticators/recovery-codes', {
    schema: {
      tags,
      summary: 'Issue a new set of 10 one-time recovery codes (shown once; the previous set stops working)',
      params: IdParam,
      body: Type.Object({ ...StepUp }, { additionalProperties: false }),
      response: {
        201: Type.Object({ id: Type.String(), kind: Type.String(), status: Type.String(), codes: Type.Array(Type.String()) }),
        ...problems(400, 401, 404, 422),
      },
    },
    preValidation: bodyOptional,
    handler: async (req, reply) => reply.code(201).send(await regenerateRecoveryCodes(s, { ...ctx(req), ...(req.body as object) })),
  });

  app.post('/v1/customers/:id/authenticators/:authenticatorId/suspend', {
    schema: {
      tags,
      summary: 'Suspend an active authenticator (lost phone, suspicion): protective, no SCA needed',
      params: CustomerAuthParams,
      body: Type.Object({ reason: Type.Optional(Type.String({ maxLength: 300 })) }, { additionalProperties: false }),
      response: { 200: Type.Ref(AuthenticatorSchema), ...problems(400, 401, 404, 409) },
    },
    preValidation: bodyOptional,
    handler: async (req) =>
      suspendAuthenticator(s, {
        ...ctx(req),
        authenticatorId: (req.params as P).authenticatorId,
        ...((req.body as object | undefined) ?? {}),
      }),
  });

  app.post('/v1/customers/:id/authenticators/:authenticatorId/resume', {
    schema: {
      tags,
      summary: 'Resume a suspended authenticator (binding it again: step-up once the customer can do SCA)',
      params: CustomerAuthParams,
      body: Type.Object({ ...StepUp }, { additionalProperties: false }),
      response: { 200: Type.Ref(AuthenticatorSchema), ...problems(400, 401, 404, 409, 422) },
    },
    preValidation: bodyOptional,
    handler: async (req) =>
      resumeAuthenticator(s, {
        ...ctx(req),
        authenticatorId: (req.params as P).authenticatorId,
        ...((req.body as object | undefined) ?? {}),
      }),
  });

  app.delete('/v1/customers/:id/authenticators/:authenticatorId', {
    schema: {
      tags,
      summary: 'Revoke an authenticator',
      description:
        'A pending enrolment is abandoned without step-up; an active or suspended authenticator needs the authentication code of a manage_authenticators operation {action: remove}. 409 ERR_CONCURRENT_CHANGE when its status changed during the request (an enrolment activated meanwhile): read it again.',
      params: CustomerAuthParams,
      body: Type.Object({ ...StepUp }, { additionalProperties: false }),
      response: { 200: Type.Ref(AuthenticatorSchema), ...problems(400, 401, 404, 409, 422) },
    },
    preValidation: bodyOptional,
    handler: async (req) =>
      revokeAuthenticator(s, {
        ...ctx(req),
        authenticatorId: (req.params as P).authenticatorId,
        ...((req.body as object | undefined) ?? {}),
      }),
  });
}
