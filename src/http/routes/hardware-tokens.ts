import { Type } from '@sinclair/typebox';
import type { FastifyInstance } from 'fastify';
import type { Services } from '../../context.js';
import { assignHardwareToken, findHardwareToken, importHardwareTokens, type ImportInput } from '../../journeys/hardware-tokens.js';
import { resyncHotpToken } from '../../journeys/hotp-resync.js';
import { ocraChallenge } from '../../journeys/ocra-challenge.js';
import { AuthenticatorSchema, CustomerAuthParams, IdParam, problems } from '../schemas.js';

const Nullable = <T extends Parameters<typeof Type.Union>[0][number]>(t: T) => Type.Union([t, Type.Null()]);

const HardwareTokenSchema = Type.Object(
  {
    serial: Type.String(),
    algorithm: Type.Union([Type.Literal('hotp'), Type.Literal('totp'), Type.Literal('ocra')]),
    digits: Type.Integer(),
    hash: Type.String({ description: 'HMAC hash: SHA1, SHA256 or SHA512' }),
    counter: Nullable(Type.Integer({ description: 'HOTP and OCRA counter suites: the counter at import' })),
    timeStep: Nullable(Type.Integer({ description: 'TOTP and OCRA time suites: seconds per step' })),
    ocraSuite: Nullable(Type.String()),
    manufacturer: Nullable(Type.String()),
    model: Nullable(Type.String()),
    importedAt: Type.String({ format: 'date-time' }),
    assignedToAuthenticator: Nullable(Type.String({ description: 'The authenticator it was last assigned to' })),
    revokedAt: Nullable(Type.String({ format: 'date-time' })),
  },
  { description: 'A hardware OATH token in stock. The seed is never returned.' },
);

const ImportBody = Type.Object(
  {
    format: Type.Union([Type.Literal('pskc'), Type.Literal('csv')], {
      description: 'pskc: RFC 6030 XML; csv: header serial,secret,type,digits[,extra]',
    }),
    content: Type.String({
      minLength: 1,
      maxLength: 60_000,
      description: 'The file, as text (split large batches, or use `sesame tokens import`)',
    }),
    password: Type.Optional(
      Type.String({ minLength: 1, maxLength: 1024, description: 'PSKC encrypted with a password-derived key (PBKDF2)' }),
    ),
    preSharedKeyHex: Type.Optional(
      Type.String({
        pattern: '^([0-9a-fA-F]{32}|[0-9a-fA-F]{48}|[0-9a-fA-F]{64})$',
        description: 'PSKC encrypted with a pre-shared AES key: the key, in hex',
      }),
    ),
  },
  { additionalProperties: false },
);

export async function hardwareTokenRoutes(app: FastifyInstance, s: Services): Promise<void> {
  const tags = ['hardware tokens'];
  type P = { id: string; authenticatorId: string };

  app.post('/v1/hardware-tokens/import', {
    schema: {
      tags,
      summary: 'Import hardware OATH tokens (HOTP, TOTP, OCRA) from a vendor PSKC or CSV file, all or nothing',
      description:
        'A file that does not decrypt (wrong password or key: 422, never saying which), a token this server cannot verify (422, named), or a serial already in stock (409, named) and nothing is imported. Seeds are sealed at rest and never returned.',
      body: ImportBody,
      response: {
        201: Type.Object({ imported: Type.Integer(), serials: Type.Array(Type.String()) }),
        ...problems(400, 401, 409, 422),
      },
    },
    handler: async (req, reply) => reply.code(201).send(await importHardwareTokens(s, `rp:${req.rp!.id}`, req.body as ImportInput)),
  });

  app.get('/v1/hardware-tokens/:id', {
    schema: {
      tags,
      summary: 'A token in stock, by serial (never its seed)',
      params: IdParam,
      response: { 200: HardwareTokenSchema, ...problems(401, 404) },
    },
    handler: async (req) => findHardwareToken(s, (req.params as P).id),
  });

  app.post('/v1/customers/:id/authenticators/token', {
    schema: {
      tags,
      summary: 'Assign a hardware token to the customer: a pending authenticator, active after a first code (HOTP/TOTP) or response (OCRA)',
      description:
        'Once the customer can already authenticate, needs the authentication code of a manage_authenticators operation {action: add, kind: hotp|ocra|totp}; with `target` set to the serial, the code authorises this token only. For OCRA, type `activationChallenge` on the token and activate with its response.',
      params: IdParam,
      body: Type.Object(
        {
          serial: Type.String({ minLength: 1, maxLength: 64 }),
          label: Type.Optional(Type.String({ minLength: 1, maxLength: 80 })),
          authenticationCode: Type.Optional(
            Type.String({ minLength: 10, maxLength: 4096, description: 'The authentication code of a manage_authenticators operation' }),
          ),
        },
        { additionalProperties: false },
      ),
      response: {
        201: Type.Intersect([
          Type.Ref(AuthenticatorSchema),
          Type.Object({
            serial: Type.String(),
            activationChallenge: Nullable(Type.String({ description: 'OCRA: the challenge whose response activates the token' })),
            ocraSuite: Nullable(Type.String()),
            activateBefore: Type.String(),
          }),
        ]),
        ...problems(400, 401, 404, 409, 422),
      },
    },
    handler: async (req, reply) => {
      const body = req.body as { serial: string; label?: string; authenticationCode?: string };
      return reply.code(201).send(await assignHardwareToken(s, { rpId: req.rp!.id, customerId: (req.params as P).id, ...body }));
    },
  });

  app.post('/v1/customers/:id/authenticators/:authenticatorId/resync', {
    schema: {
      tags,
      summary: 'Resynchronise a HOTP token that ran ahead, with two consecutive codes (searched over 100 counters)',
      description:
        'Needs no SCA (it binds nothing new) but a failure counts as a failed attempt of the customer and is answered with the generic 401; a blocked customer cannot resync.',
      params: CustomerAuthParams,
      body: Type.Object(
        { code1: Type.String({ minLength: 1, maxLength: 16 }), code2: Type.String({ minLength: 1, maxLength: 16 }) },
        { additionalProperties: false },
      ),
      response: { 200: Type.Ref(AuthenticatorSchema), ...problems(400, 401, 404, 423) },
    },
    handler: async (req) => {
      const p = req.params as P;
      return resyncHotpToken(s, {
        rpId: req.rp!.id,
        customerId: p.id,
        authenticatorId: p.authenticatorId,
        ...(req.body as { code1: string; code2: string }),
      });
    },
  });

  app.get('/v1/operations/:id/ocra-challenge', {
    schema: {
      tags,
      summary: 'The challenge to type on an OCRA token to authorise this operation (bound to its id, amount and payee)',
      params: IdParam,
      querystring: Type.Object({ authenticatorId: Type.String({ minLength: 1, maxLength: 64 }) }, { additionalProperties: false }),
      response: {
        200: Type.Object({ operationId: Type.String(), authenticatorId: Type.String(), challenge: Type.String(), suite: Type.String() }),
        ...problems(400, 401, 404, 409),
      },
    },
    handler: async (req) => ocraChallenge(s, req.rp!.id, (req.params as P).id, (req.query as { authenticatorId: string }).authenticatorId),
  });
}
