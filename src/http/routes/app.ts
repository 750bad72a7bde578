import { Type, type Static } from '@sinclair/typebox';
import type { FastifyInstance } from 'fastify';
import type { Services } from '../../context.js';
import { appEligibility, listActivations, startAppActivation } from '../../journeys/app-activation.js';
import { approvalStatus, requestApproval } from '../../journeys/app-approvals.js';
import { startOfflineChallenge } from '../../journeys/app-offline.js';
import { IdParam, problems } from '../schemas.js';

const Missing = Type.Array(
  Type.Union([
    Type.Literal('remote_banking'),
    Type.Literal('secure_phone'),
    Type.Literal('card_or_email_72h'),
    Type.Literal('secure_phone_cooling_off'),
  ]),
);

export const EligibilitySchema = Type.Object(
  {
    customerId: Type.String(),
    eligible: Type.Boolean(),
    missing: Missing,
    delayLiftedAt: Type.Union([Type.String(), Type.Null()]),
    hasApp: Type.Boolean(),
  },
  { $id: 'AppEligibility' },
);

const Activation = {
  activationId: Type.String(),
  channel: Type.String(),
  purpose: Type.String(),
  status: Type.String({ description: 'pending, awaiting_confirmation, initiated (branch), subscribed, expired' }),
  createdAt: Type.String(),
  expiresAt: Type.String(),
  subscribedAt: Type.Union([Type.String(), Type.Null()]),
  deviceName: Type.Union([Type.String(), Type.Null()]),
};
export const ActivationSchema = Type.Object(Activation, { $id: 'AppActivation' });
export const StartedActivationSchema = Type.Object(
  { ...Activation, activationCode: Type.String(), activationUrl: Type.String(), qrSvg: Type.String() },
  { $id: 'StartedAppActivation' },
);

/** Registered at the root: the advisor routes use them too. */
export const APP_SCHEMAS = [EligibilitySchema, ActivationSchema, StartedActivationSchema];

const ApprovalSchema = Type.Object({
  approvalId: Type.String(),
  operationId: Type.String(),
  status: Type.String({ description: 'pending, approved, refused, expired, failed, replaced' }),
  number: Type.Union([Type.Integer(), Type.Null()], { description: 'Logins: the number to show; the customer picks it in the app' }),
  expiresAt: Type.String(),
  decidedAt: Type.Union([Type.String(), Type.Null()]),
  authenticationCode: Type.Optional(Type.String()),
  session: Type.Optional(
    Type.Object(
      { id: Type.String(), token: Type.String(), expiresAt: Type.String(), idleTimeoutSeconds: Type.Integer() },
      { description: 'A login: the new session' },
    ),
  ),
  fraudDeclared: Type.Boolean(),
});

/** The relying party's side of the app authenticator: activation from web banking, approvals, offline mode. */
export async function appRoutes(app: FastifyInstance, s: Services): Promise<void> {
  const tags = ['app authenticator'];

  app.get('/v1/customers/:id/app-eligibility', {
    schema: {
      tags,
      summary: 'Whether the customer may activate the app, and which condition is missing',
      params: IdParam,
      response: { 200: Type.Ref(EligibilitySchema), ...problems(401, 404) },
    },
    handler: async (req) => appEligibility(s, (req.params as { id: string }).id),
  });

  const StartBody = Type.Object(
    { purpose: Type.Optional(Type.Union([Type.Literal('activate'), Type.Literal('transfer'), Type.Literal('reinstall')])) },
    { additionalProperties: false },
  );
  app.post('/v1/customers/:id/app-activations', {
    schema: {
      tags,
      summary:
        'Self-service activation (or transfer, reinstall): an activation code and its QR code; the app confirms with a code sent to the secure mobile',
      params: IdParam,
      body: Type.Optional(StartBody),
      response: { 201: Type.Ref(StartedActivationSchema), ...problems(400, 401, 404, 422, 429) },
    },
    handler: async (req, reply) => {
      const body = (req.body ?? {}) as Static<typeof StartBody>;
      const started = await startAppActivation(s, {
        rpId: req.rp!.id,
        customerId: (req.params as { id: string }).id,
        channel: 'self',
        purpose: body.purpose,
      });
      return reply.code(201).send(started);
    },
  });

  app.get('/v1/customers/:id/app-activations', {
    schema: {
      tags,
      summary: 'The customer’s activations: initiated in a branch (24 h), subscribed with date and time, …',
      params: IdParam,
      response: { 200: Type.Object({ activations: Type.Array(Type.Ref(ActivationSchema)) }), ...problems(401, 404) },
    },
    handler: async (req) => ({ activations: await listActivations(s, (req.params as { id: string }).id) }),
  });

  app.post('/v1/operations/:id/app-approvals', {
    schema: {
      tags,
      summary: 'Send the operation to the customer’s app (Web Push + long poll); logins get a number to show (number matching)',
      params: IdParam,
      response: { 201: ApprovalSchema, ...problems(401, 404, 409, 422, 423, 429) },
    },
    handler: async (req, reply) => reply.code(201).send(await requestApproval(s, req.rp!.id, (req.params as { id: string }).id)),
  });

  app.get('/v1/operations/:id/app-approvals/:approvalId', {
    schema: {
      tags,
      summary: 'Where the customer’s decision stands; once approved, the authentication code',
      params: Type.Object(
        { id: Type.String({ minLength: 1, maxLength: 64 }), approvalId: Type.String({ minLength: 1, maxLength: 64 }) },
        { additionalProperties: false },
      ),
      response: { 200: ApprovalSchema, ...problems(401, 404) },
    },
    handler: async (req) => {
      const p = req.params as { id: string; approvalId: string };
      return approvalStatus(s, req.rp!.id, p.id, p.approvalId);
    },
  });

  app.post('/v1/operations/:id/app-offline-challenges', {
    schema: {
      tags,
      summary:
        'Offline mode: a server-signed QR code of the operation; the app computes 2 × 8 digits, submitted as { method: "app_offline", code }',
      params: IdParam,
      response: {
        201: Type.Object({ challengeId: Type.String(), qr: Type.String(), qrSvg: Type.String(), expiresAt: Type.String() }),
        ...problems(401, 404, 409),
      },
    },
    handler: async (req, reply) => reply.code(201).send(await startOfflineChallenge(s, req.rp!.id, (req.params as { id: string }).id)),
  });
}
