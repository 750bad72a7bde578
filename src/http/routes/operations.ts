import { Type } from '@sinclair/typebox';
import type { FastifyInstance } from 'fastify';
import type { Services } from '../../context.js';
import { OperationData } from '../../core/operations.js';
import { authenticateOperation } from '../../journeys/authenticate.js';
import { consumeAuthenticationCode } from '../../journeys/authentication-codes.js';
import { cancelOperation, createOperation, findOperation, operationView } from '../../journeys/operations.js';
import { bodyWithOperationData, parseOperationData } from '../operation-data.js';
import { authorisedFields, IdParam, OperationSchema, problems } from '../schemas.js';
import { WebAuthnAssertionSchema } from './webauthn.js';

const Factor = Type.Object(
  {
    method: Type.String({ minLength: 1, maxLength: 32, description: 'password, totp, recovery, …' }),
    authenticatorId: Type.Optional(Type.String({ minLength: 1, maxLength: 64 })),
    code: Type.Optional(Type.String({ minLength: 1, maxLength: 64 })),
    password: Type.Optional(Type.String({ minLength: 1, maxLength: 1024 })),
    credential: Type.Optional(WebAuthnAssertionSchema),
  },
  { additionalProperties: false },
);

const DataDoc = Type.Unsafe<unknown>({ ...OperationData, description: 'The operation, by type (amounts in minor units)' });
const CreateBody = Type.Object(
  {
    customerId: Type.String({ minLength: 1, maxLength: 64 }),
    data: DataDoc,
    sessionToken: Type.Optional(Type.String({ minLength: 1, maxLength: 200, description: 'The login session the customer is in' })),
  },
  { additionalProperties: false },
);
const ConsumeBody = Type.Object(
  { code: Type.String({ minLength: 10, maxLength: 4096 }), data: Type.Optional(DataDoc) },
  { additionalProperties: false },
);

export async function operationRoutes(app: FastifyInstance, s: Services): Promise<void> {
  const tags = ['operations'];

  app.post('/v1/operations', {
    schema: {
      tags,
      summary: 'Register an operation that needs SCA; its data is normalised and hashed for dynamic linking',
      description:
        'Pass `sessionToken` (the login session the customer is in) to let a payment reuse the knowledge element proven at that login; the other element is then applied now, bound to this amount and payee (EBA Q&A 2018_4141). Never for a login, for binding authenticators, or for changing contact data.',
      body: CreateBody,
      response: { 201: Type.Ref(OperationSchema), ...problems(400, 401, 404, 422) },
    },
    validatorCompiler: ({ httpPart }) => (httpPart === 'body' ? bodyWithOperationData(CreateBody)() : (v: unknown) => ({ value: v })),
    handler: async (req, reply) => {
      const body = req.body as { customerId: string; data: unknown; sessionToken?: string };
      // The data is validated against its own type's schema, for precise errors.
      const data = parseOperationData(body.data);
      return reply
        .code(201)
        .send(await createOperation(s, req.rp!.id, { customerId: body.customerId, data, sessionToken: body.sessionToken }));
    },
  });

  app.get('/v1/operations/:id', {
    schema: { tags, summary: 'Read an operation', params: IdParam, response: { 200: Type.Ref(OperationSchema), ...problems(401, 404) } },
    handler: async (req) => operationView(await findOperation(s.db, req.rp!.id, (req.params as { id: string }).id), s.clock.now()),
  });

  app.post('/v1/operations/:id/cancel', {
    schema: {
      tags,
      summary: 'Cancel a pending operation',
      params: IdParam,
      response: { 200: Type.Ref(OperationSchema), ...problems(401, 404, 409) },
    },
    handler: async (req) => cancelOperation(s, req.rp!.id, (req.params as { id: string }).id),
  });

  app.post('/v1/operations/:id/authenticate', {
    schema: {
      tags,
      summary: 'One SCA attempt: all elements together; success returns the authentication code, failure is always the same',
      description:
        'Submit at least two elements of different categories. A failure answers 401 ERR_AUTHENTICATION_FAILED with the same body whichever element was wrong, and counts one consecutive failure for the customer; at the limit the customer is blocked (423).',
      params: IdParam,
      body: Type.Object(
        {
          factors: Type.Array(Factor, { minItems: 1, maxItems: 4 }),
          userAgent: Type.Optional(Type.String({ maxLength: 512 })),
          replaceSessionToken: Type.Optional(Type.String({ minLength: 1, maxLength: 200 })),
        },
        { additionalProperties: false },
      ),
      response: {
        200: Type.Object(authorisedFields),
        ...problems(400, 401, 404, 409, 422, 423),
      },
    },
    handler: async (req) => {
      const body = req.body as { factors: never[]; userAgent?: string; replaceSessionToken?: string };
      return authenticateOperation(s, req.rp!.id, (req.params as { id: string }).id, body);
    },
  });

  app.post('/v1/authentication-codes/consume', {
    schema: {
      tags: ['authentication codes'],
      summary: 'Consume an authentication code, exactly once, optionally checking it against your copy of the operation',
      body: ConsumeBody,
      response: {
        200: Type.Object({
          operationId: Type.String(),
          customerId: Type.String(),
          type: Type.String(),
          linkHash: Type.String(),
          amount: Type.Optional(Type.Object({ value: Type.Integer(), currency: Type.String() })),
          payees: Type.Optional(
            Type.Array(Type.Object({ name: Type.String(), iban: Type.Optional(Type.String()), merchantId: Type.Optional(Type.String()) })),
          ),
          methods: Type.Array(Type.String()),
          categories: Type.Array(Type.String()),
          reusedFromSession: Type.Optional(Type.Array(Type.String())),
        }),
        ...problems(400, 401, 404, 409),
      },
    },
    validatorCompiler: ({ httpPart }) =>
      httpPart === 'body' ? bodyWithOperationData(ConsumeBody, 'data', true)() : (v: unknown) => ({ value: v }),
    handler: async (req) => {
      const body = req.body as { code: string; data?: unknown };
      const data = body.data === undefined ? undefined : parseOperationData(body.data);
      return consumeAuthenticationCode(s, req.rp!.id, body.code, data);
    },
  });
}
