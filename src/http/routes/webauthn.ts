import { Type } from '@sinclair/typebox';
import type { FastifyInstance } from 'fastify';
import type { Services } from '../../context.js';
import {
  registerWebAuthn,
  webauthnAssertionOptions,
  webauthnRegistrationOptions,
  type RegistrationOptionsInput,
} from '../../journeys/webauthn.js';
import { passkeyLogin, passkeyLoginOptions } from '../../journeys/passkey-login.js';
import { authorisedFields, AuthenticatorSchema, IdParam, problems } from '../schemas.js';

const B64url = (maxLength: number) => Type.String({ minLength: 1, maxLength, pattern: '^[A-Za-z0-9_-]+$' });
const Extensions = Type.Object({}, { additionalProperties: true, description: 'clientExtensionResults, as the browser gave them' });
const CredentialId = { id: B64url(1366), rawId: B64url(1366), type: Type.Literal('public-key') };
const Attachment = Type.Union([Type.Literal('platform'), Type.Literal('cross-platform')]);

/**
 * A WebAuthn assertion as `@simplewebauthn/browser`'s `startAuthentication()` returns it
 * (AuthenticationResponseJSON): the proof of a `webauthn` factor.
 */
export const WebAuthnAssertionSchema = Type.Object(
  {
    ...CredentialId,
    response: Type.Object(
      {
        clientDataJSON: B64url(4096),
        authenticatorData: B64url(4096),
        signature: B64url(1024),
        userHandle: Type.Optional(Type.String({ maxLength: 1024 })),
      },
      { additionalProperties: true },
    ),
    clientExtensionResults: Type.Optional(Extensions),
    authenticatorAttachment: Type.Optional(Attachment),
  },
  { additionalProperties: false, description: 'AuthenticationResponseJSON from startAuthentication() (method webauthn)' },
);

const RegistrationBody = Type.Object(
  {
    ...CredentialId,
    response: Type.Object(
      {
        clientDataJSON: B64url(4096),
        attestationObject: B64url(32768),
        transports: Type.Optional(Type.Array(Type.String({ maxLength: 32 }), { maxItems: 8 })),
      },
      { additionalProperties: true },
    ),
    clientExtensionResults: Type.Optional(Extensions),
    authenticatorAttachment: Type.Optional(Attachment),
    label: Type.Optional(Type.String({ minLength: 1, maxLength: 80 })),
  },
  { additionalProperties: false, description: 'RegistrationResponseJSON from startRegistration(), plus a label' },
);

const CreationOptions = Type.Object(
  {
    challenge: Type.String(),
    rp: Type.Object({ id: Type.Optional(Type.String()), name: Type.String() }),
    user: Type.Object({ id: Type.String(), name: Type.String(), displayName: Type.String() }),
    pubKeyCredParams: Type.Array(Type.Object({ alg: Type.Integer(), type: Type.String() })),
    excludeCredentials: Type.Optional(Type.Array(Type.Object({ id: Type.String() }, { additionalProperties: true }))),
  },
  { additionalProperties: true, description: 'PublicKeyCredentialCreationOptionsJSON, for startRegistration({ optionsJSON })' },
);

const RequestOptions = Type.Object(
  {
    challenge: Type.String(),
    rpId: Type.Optional(Type.String()),
    userVerification: Type.Optional(Type.String()),
    allowCredentials: Type.Optional(Type.Array(Type.Object({ id: Type.String() }, { additionalProperties: true }))),
  },
  { additionalProperties: true, description: 'PublicKeyCredentialRequestOptionsJSON, for startAuthentication({ optionsJSON })' },
);

const Money = Type.Object({ value: Type.Integer(), currency: Type.String() });

/** Passkeys and security keys: registration ceremony, and assertion options for an operation. */
export async function webauthnRoutes(app: FastifyInstance, s: Services): Promise<void> {
  app.post('/v1/customers/:id/authenticators/webauthn/registration-options', {
    schema: {
      tags: ['authenticators'],
      summary: 'Start registering a passkey or security key: options for startRegistration() (user verification required)',
      description:
        'Once the customer can authenticate, this needs the authentication code of a manage_authenticators operation (action add, kind webauthn). The challenge is single-use and lives 5 minutes.',
      params: IdParam,
      body: Type.Object(
        {
          label: Type.Optional(Type.String({ minLength: 1, maxLength: 80 })),
          authenticatorAttachment: Type.Optional(Attachment),
          residentKey: Type.Optional(Type.Union([Type.Literal('discouraged'), Type.Literal('preferred'), Type.Literal('required')])),
          authenticationCode: Type.Optional(Type.String({ minLength: 10, maxLength: 4096 })),
        },
        { additionalProperties: false },
      ),
      response: { 200: CreationOptions, ...problems(400, 401, 404, 422, 429) },
    },
    preValidation: async (req) => {
      if (req.body === undefined) req.body = {};
    },
    handler: async (req) =>
      webauthnRegistrationOptions(s, {
        rpId: req.rp!.id,
        customerId: (req.params as { id: string }).id,
        ...(req.body as Omit<RegistrationOptionsInput, 'rpId' | 'customerId'>),
      }),
  });

  app.post('/v1/customers/:id/authenticators/webauthn', {
    schema: {
      tags: ['authenticators'],
      summary: 'Finish registering a passkey or security key: active at once (the ceremony is its first proof)',
      description:
        'Refused with 422 when the challenge is unknown, used or expired (ERR_WEBAUTHN_CHALLENGE), the response does not verify (ERR_WEBAUTHN_REGISTRATION), an attestation is required and missing (ERR_WEBAUTHN_ATTESTATION_REQUIRED), or the model is not in SESAME_WEBAUTHN_ALLOWED_AAGUIDS (ERR_WEBAUTHN_MODEL_NOT_ALLOWED).',
      params: IdParam,
      body: RegistrationBody,
      response: { 201: Type.Ref(AuthenticatorSchema), ...problems(400, 401, 404, 409, 422) },
    },
    handler: async (req, reply) => {
      const { label, ...response } = req.body as Record<string, unknown> & { label?: string };
      const view = await registerWebAuthn(s, { rpId: req.rp!.id, customerId: (req.params as { id: string }).id, response, label });
      return reply.code(201).send(view);
    },
  });

  app.post('/v1/operations/:id/webauthn/options', {
    schema: {
      tags: ['operations'],
      summary: 'Options for startAuthentication() to approve this operation with a passkey or security key, and what to show',
      description:
        'The challenge is derived from the operation’s link hash, single-use and valid 5 minutes. Submit the assertion to /v1/operations/{id}/authenticate as the factor { method: "webauthn", credential }: one gesture with user verification proves two elements (possession and inherence).',
      params: IdParam,
      response: {
        200: Type.Object({
          options: RequestOptions,
          operation: Type.Object({
            id: Type.String(),
            type: Type.String(),
            expiresAt: Type.String(),
            amount: Type.Optional(Money),
            payee: Type.Optional(
              Type.Object({ name: Type.String(), iban: Type.Optional(Type.String()), merchantId: Type.Optional(Type.String()) }),
            ),
            payeeCount: Type.Optional(Type.Integer()),
          }),
        }),
        ...problems(401, 404, 409, 422, 429),
      },
    },
    handler: async (req) => webauthnAssertionOptions(s, req.rp!.id, (req.params as { id: string }).id),
  });

  app.post('/v1/passkey-logins/options', {
    schema: {
      tags: ['operations'],
      summary: 'Passkey login without a username: options for startAuthentication() that let the browser offer its passkeys',
      description:
        'No allow list: the customer picks one of the passkeys they keep for this site, and the one chosen says who they are. The challenge is single-use, valid 5 minutes and for this relying party only. Submit the assertion to /v1/passkey-logins.',
      response: { 200: Type.Object({ options: RequestOptions, expiresAt: Type.String() }), ...problems(401) },
    },
    handler: async (req) => passkeyLoginOptions(s, req.rp!.id),
  });

  app.post('/v1/passkey-logins', {
    schema: {
      tags: ['operations'],
      summary: 'Log in whoever the passkey belongs to: a login operation is created for them and authorised by the assertion',
      description:
        'The assertion is counted like any login attempt (401 ERR_AUTHENTICATION_FAILED, 423 when blocked) and a success answers as a login does (authentication code and session), with the customer and the operation. 401 ERR_PASSKEY_NOT_RECOGNISED when no active passkey has this id or its user handle is not its customer’s (nothing is counted: nobody is known); 422 ERR_WEBAUTHN_CHALLENGE for an unknown, used or expired challenge (each challenge answers once, even when refused); 400 ERR_WEBAUTHN_RESPONSE when the client data is not a WebAuthn one. A refused login is cancelled: a new try asks for new options.',
      body: Type.Object(
        { credential: WebAuthnAssertionSchema, userAgent: Type.Optional(Type.String({ maxLength: 512 })) },
        { additionalProperties: false },
      ),
      response: {
        200: Type.Object({ customerId: Type.String(), operationId: Type.String(), ...authorisedFields }),
        ...problems(400, 401, 404, 409, 422, 423),
      },
    },
    handler: async (req) => {
      const body = req.body as { credential: Record<string, unknown>; userAgent?: string };
      return passkeyLogin(s, req.rp!.id, body);
    },
  });
}
