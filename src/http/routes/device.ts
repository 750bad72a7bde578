import { Type, type Static } from '@sinclair/typebox';
import type { FastifyInstance } from 'fastify';
import type { Services } from '../../context.js';
import { confirmDevice, registerDevice } from '../../journeys/app-activation.js';
import { approveSigned, refuse, waitForApprovals, type ConfirmationKind } from '../../journeys/app-approvals.js';
import {
  biometricRegistrationOptions,
  changePin,
  closeDevice,
  deviceView,
  enrolBiometrics,
  setBiometricUses,
  startPinConfirmation,
  type PinConfirmation,
  subscribePush,
} from '../../journeys/app-device.js';
import { deviceClaim, requireDevice, signedByDevice } from '../device-auth.js';
import { parseJsonStrictly } from '../json-body.js';
import { problems } from '../schemas.js';

const B64Key = Type.String({ pattern: '^[A-Za-z0-9_-]{43}$', description: '32 bytes, base64url' });
const Sig = Type.String({ pattern: '^[A-Za-z0-9_-]{86}$', description: 'ECDSA P-256 signature (IEEE P1363), base64url' });
const WebAuthnJson = Type.Object({}, { additionalProperties: true, maxProperties: 16 });
const Id = Type.String({ minLength: 1, maxLength: 64 });

const ActivationBody = Type.Object(
  {
    activationCode: Type.String({ minLength: 4, maxLength: 40 }),
    possessionKey: Type.Object(
      { kty: Type.Literal('EC'), crv: Type.Literal('P-256'), x: Type.String({ maxLength: 64 }), y: Type.String({ maxLength: 64 }) },
      { additionalProperties: true },
    ),
    knowledgeKey: B64Key,
    offlineKey: B64Key,
    deviceName: Type.String({ minLength: 1, maxLength: 80 }),
    platform: Type.Union([Type.Literal('web'), Type.Literal('android'), Type.Literal('ios'), Type.Literal('node')]),
    attestation: Type.Optional(
      Type.Object(
        { format: Type.String({ minLength: 1, maxLength: 40 }), evidence: Type.String({ minLength: 1, maxLength: 20_000 }) },
        { additionalProperties: false },
      ),
    ),
  },
  { additionalProperties: false },
);

const DecisionBody = Type.Object(
  {
    decision: Type.Union([Type.Literal('approve'), Type.Literal('refuse')]),
    counter: Type.Integer({ minimum: 1, maximum: Number.MAX_SAFE_INTEGER }),
    numberChoice: Type.Optional(Type.Integer({ minimum: 0, maximum: 999 })),
    possession: Sig,
    knowledge: Type.Optional(B64Key),
    biometric: Type.Optional(WebAuthnJson),
  },
  { additionalProperties: false },
);

/** The current PIN's confirmation of a change (see `POST /v1/device/pin-confirmations`). */
const ConfirmationFields = {
  approvalId: Id,
  counter: Type.Integer({ minimum: 1, maximum: Number.MAX_SAFE_INTEGER }),
  possession: Sig,
  knowledge: B64Key,
};
const Confirmation = Type.Object(ConfirmationFields, { additionalProperties: false });

const Uses = Type.Object(
  { login: Type.Boolean(), operations: Type.Boolean(), confirmation: Type.Optional(Confirmation) },
  { additionalProperties: false },
);

const DeviceSchema = Type.Object({
  authenticatorId: Type.String(),
  status: Type.String(),
  deviceName: Type.String(),
  customer: Type.Object({ displayName: Type.String() }),
  activatedAt: Type.Union([Type.String(), Type.Null()]),
  trusted: Type.Boolean(),
  biometrics: Type.Object({ enrolled: Type.Boolean(), login: Type.Boolean(), operations: Type.Boolean() }),
  pinChanges: Type.Integer({
    minimum: 0,
    description: 'How many times the PIN was changed: after a change whose answer was lost, tells the app which key the server holds',
  }),
});

const PendingSchema = Type.Object({
  approvalId: Type.String(),
  operationId: Type.String(),
  data: Type.Object({}, { additionalProperties: true }),
  linkHash: Type.String(),
  nonce: Type.String(),
  numberOptions: Type.Union([Type.Array(Type.Integer()), Type.Null()]),
  requester: Type.String(),
  createdAt: Type.String(),
  expiresAt: Type.String(),
});

/**
 * The device API: what the authenticator app (the reference PWA or a bank's native app on the device
 * SDK) calls. Every request is signed by the installation (see `device-auth.ts`).
 */
export async function deviceRoutes(app: FastifyInstance, s: Services): Promise<void> {
  const tags = ['device'];
  // The signature covers the body as sent.
  parseJsonStrictly(app, { keepRaw: true });
  app.addHook('onSend', async (_req, reply) => {
    reply.header('cache-control', 'no-store');
  });
  // Every route but the VAPID key is signed by the installation.
  app.addHook('onRoute', (route) => {
    if (route.preValidation || route.preHandler) route.schema = { ...route.schema, security: [{ deviceSignature: [] }] };
  });
  const signed = requireDevice(s);

  app.post('/v1/device/activations', {
    // After validation: the key that signs the request is the one in the (validated) body.
    preHandler: requireDevice(s, { newKey: true }),
    schema: {
      tags,
      summary: 'Activate, transfer or reinstall: the activation code and the new installation’s keys (signed with the new key, id="new")',
      body: ActivationBody,
      response: {
        201: Type.Object({
          activationId: Type.String(),
          authenticatorId: Type.String(),
          status: Type.String(),
          confirmation: Type.Union([Type.Object({ channel: Type.String(), destination: Type.String() }), Type.Null()]),
          customer: Type.Object({ displayName: Type.String() }),
        }),
        ...problems(400, 401, 409, 422),
      },
    },
    handler: async (req, reply) => reply.code(201).send(await registerDevice(s, req.body as Static<typeof ActivationBody>)),
  });

  app.post('/v1/device/activations/:activationId/confirm', {
    preValidation: requireDevice(s, { allowPending: true }),
    schema: {
      tags,
      summary: 'Confirm a self-service activation with the code sent to the secure mobile number',
      params: Type.Object({ activationId: Id }, { additionalProperties: false }),
      body: Type.Object({ code: Type.String({ minLength: 4, maxLength: 12 }) }, { additionalProperties: false }),
      response: {
        200: Type.Object({ authenticatorId: Type.String(), status: Type.String(), activatedAt: Type.String() }),
        ...problems(400, 401, 404, 409, 422),
      },
    },
    handler: async (req) =>
      confirmDevice(s, {
        activationId: (req.params as { activationId: string }).activationId,
        authenticatorId: req.device!.id,
        code: (req.body as { code: string }).code,
      }),
  });

  app.get('/v1/device/me', {
    preValidation: signed,
    schema: {
      tags,
      summary: 'This installation: status, settings, trusted-device flag',
      response: { 200: DeviceSchema, ...problems(401) },
    },
    handler: async (req) => deviceView(s, req.device!),
  });

  app.get('/v1/device/approvals', {
    preValidation: signed,
    schema: {
      tags,
      summary: 'Operations waiting for the customer’s decision; `wait` long-polls up to 25 s (the fallback when push does not arrive)',
      querystring: Type.Object(
        { wait: Type.Optional(Type.String({ pattern: '^(\\d|1\\d|2[0-5])$', description: 'Seconds to wait for one to arrive, 0 to 25' })) },
        { additionalProperties: false },
      ),
      response: { 200: Type.Object({ approvals: Type.Array(PendingSchema) }), ...problems(400, 401) },
    },
    handler: async (req) => {
      const wait = Number((req.query as { wait?: string }).wait ?? 0);
      const gone = new AbortController();
      req.raw.once('close', () => gone.abort());
      return { approvals: await waitForApprovals(s, req.device!.id, wait, gone.signal) };
    },
  });

  app.post('/v1/device/approvals/:approvalId', {
    // An approval reads the installation together with the request (see approveSigned); a refusal as any route does.
    preValidation: deviceClaim(s),
    schema: {
      tags,
      summary: 'Approve (possession + PIN or biometrics) or refuse; refusing an online card payment declares fraud',
      params: Type.Object({ approvalId: Id }, { additionalProperties: false }),
      querystring: Type.Object(
        { locale: Type.Optional(Type.Union([Type.Literal('fr'), Type.Literal('en')])) },
        { additionalProperties: false },
      ),
      body: DecisionBody,
      response: {
        200: Type.Object({ status: Type.String(), fraudDeclared: Type.Optional(Type.Boolean()), message: Type.Optional(Type.String()) }),
        ...problems(400, 401, 404, 409, 422, 423),
      },
    },
    handler: async (req, reply) => {
      const body = req.body as Static<typeof DecisionBody>;
      const { approvalId } = req.params as { approvalId: string };
      if (body.decision === 'approve') return approveSigned(s, req.deviceClaim!.id, approvalId, body, signedByDevice(s, req));
      await signed(req, reply);
      return refuse(s, req.device!, approvalId, body, (req.query as { locale?: 'fr' | 'en' }).locale);
    },
  });

  app.post('/v1/device/pin-confirmations', {
    preValidation: signed,
    schema: {
      tags,
      summary:
        'Start a change of the PIN (`for: "app"`) or of biometrics (`for: "app_biometric"`): an approval to sign with the current PIN',
      body: Type.Object(
        { for: Type.Union([Type.Literal('app'), Type.Literal('app_biometric')], { description: 'What the confirmation is for' }) },
        { additionalProperties: false },
      ),
      response: { 200: PendingSchema, ...problems(400, 401, 409) },
    },
    handler: async (req) => startPinConfirmation(s, req.device!, (req.body as { for: ConfirmationKind }).for),
  });

  app.post('/v1/device/pin', {
    preValidation: signed,
    schema: {
      tags,
      summary: 'Change the PIN: the confirmation signed with the old PIN (checked and counted by the server) and the new knowledge key',
      body: Type.Object({ ...ConfirmationFields, newKnowledgeKey: B64Key }, { additionalProperties: false }),
      response: { 200: Type.Object({ status: Type.String() }), ...problems(400, 401, 404, 409, 422, 423) },
    },
    handler: async (req) => changePin(s, req.device!, req.body as PinConfirmation & { newKnowledgeKey: string }),
  });

  app.post('/v1/device/biometrics/registration-options', {
    preValidation: signed,
    schema: {
      tags,
      summary: 'WebAuthn options to register the platform’s biometric key (user verification required)',
      response: { ...problems(401) },
    },
    handler: async (req) => biometricRegistrationOptions(s, req.device!),
  });

  app.post('/v1/device/biometrics', {
    preValidation: signed,
    schema: {
      tags,
      summary: 'Register the biometric key (the phone’s platform authenticator) and its uses, confirmed with the current PIN',
      body: Type.Object(
        { credential: WebAuthnJson, login: Type.Boolean(), operations: Type.Boolean(), confirmation: Confirmation },
        { additionalProperties: false },
      ),
      response: { 200: Type.Object({ credentialId: Type.String() }), ...problems(400, 401, 404, 409, 422, 423) },
    },
    handler: async (req) => enrolBiometrics(s, req.device!, req.body as never),
  });

  app.put('/v1/device/biometrics', {
    preValidation: signed,
    schema: {
      tags,
      summary: 'Biometrics for logins, for operations, both or neither, independently; turning a use on is confirmed with the PIN',
      body: Uses,
      response: { 200: DeviceSchema, ...problems(400, 401, 404, 409, 422, 423) },
    },
    handler: async (req) => setBiometricUses(s, req.device!, req.body as Static<typeof Uses>),
  });

  app.get('/v1/device/push/public-key', {
    schema: {
      tags,
      summary: 'The VAPID public key to subscribe to Web Push (unsigned)',
      response: { 200: Type.Object({ vapidPublicKey: Type.Union([Type.String(), Type.Null()]) }) },
    },
    handler: async () => ({ vapidPublicKey: s.push?.publicKey ?? null }),
  });

  app.post('/v1/device/push-subscription', {
    preValidation: signed,
    schema: {
      tags,
      summary: 'Register this installation’s Web Push subscription',
      body: Type.Object(
        {
          endpoint: Type.String({ format: 'uri', pattern: '^https://', maxLength: 2000 }),
          keys: Type.Object(
            { p256dh: Type.String({ minLength: 1, maxLength: 200 }), auth: Type.String({ minLength: 1, maxLength: 100 }) },
            { additionalProperties: false },
          ),
          expirationTime: Type.Optional(Type.Union([Type.Number(), Type.Null()])),
        },
        { additionalProperties: false },
      ),
      response: { 204: Type.Null(), ...problems(400, 401) },
    },
    handler: async (req, reply) => {
      await subscribePush(s, req.device!, req.body as never);
      return reply.code(204).send();
    },
  });

  app.delete('/v1/device', {
    preValidation: signed,
    schema: {
      tags,
      summary: 'Close the app authenticator: revoked; the customer falls back to SMS codes',
      response: {
        200: Type.Object({ fallback: Type.Object({ method: Type.String(), destination: Type.Union([Type.String(), Type.Null()]) }) }),
        ...problems(401),
      },
    },
    handler: async (req) => closeDevice(s, req.device!),
  });
}
