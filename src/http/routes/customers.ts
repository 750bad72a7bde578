import { Type } from '@sinclair/typebox';
import type { FastifyInstance } from 'fastify';
import type { Services } from '../../context.js';
import { createCustomer, customerView, findCustomer, findCustomerByRef, updateCustomer } from '../../journeys/customers.js';
import { securityView } from '../../journeys/security.js';
import { readChain, customerChain } from '../../store/audit.js';
import { CustomerSchema, IdParam, problems, SecuritySchema } from '../schemas.js';

/** Years 1800–9999: a date the database can hold (it has no year 0) and a customer's facts can have. */
const PLAUSIBLE_YEAR = '^(1[89]|[2-9][0-9])[0-9]{2}-';
const Email = Type.String({ format: 'email', maxLength: 254 });
const Phone = Type.String({ minLength: 3, maxLength: 32, description: 'E.164 or national French format' });
const Facts = {
  displayName: Type.String({ minLength: 1, maxLength: 200 }),
  email: Type.Optional(Type.Union([Email, Type.Null()])),
  emailSince: Type.Optional(
    Type.Union([
      Type.String({
        format: 'date-time',
        pattern: PLAUSIBLE_YEAR,
        description:
          'Since when the email on record is registered (default: now). Needs an address; a different address than the one on record is new now, whatever date is sent.',
      }),
      Type.Null(),
    ]),
  ),
  mobilePhone: Type.Optional(Type.Union([Phone, Type.Null()])),
  landline: Type.Optional(Type.Union([Phone, Type.Null()])),
  hasActiveCard: Type.Optional(Type.Boolean()),
  remoteBanking: Type.Optional(Type.Boolean()),
  locale: Type.Optional(Type.Union([Type.Literal('fr'), Type.Literal('en')])),
  birthDate: Type.Optional(Type.Union([Type.String({ format: 'date', pattern: PLAUSIBLE_YEAR, description: 'YYYY-MM-DD' }), Type.Null()])),
  emancipated: Type.Optional(Type.Boolean({ description: 'An emancipated minor may act alone like an adult' })),
};
const Ref = Type.String({ minLength: 1, maxLength: 64, pattern: '^[A-Za-z0-9._:@-]+$', description: "The bank's own customer reference" });

export async function customerRoutes(app: FastifyInstance, s: Services): Promise<void> {
  const tags = ['customers'];
  app.post('/v1/customers', {
    schema: {
      tags,
      summary: 'Register a customer (facts come from the bank)',
      body: Type.Object({ ref: Ref, ...Facts }, { additionalProperties: false }),
      response: { 201: Type.Ref(CustomerSchema), ...problems(400, 401, 409) },
    },
    handler: async (req, reply) => reply.code(201).send(await createCustomer(s, req.body as never, `rp:${req.rp!.id}`)),
  });

  app.get('/v1/customers/:id', {
    schema: { tags, summary: 'Read a customer', params: IdParam, response: { 200: Type.Ref(CustomerSchema), ...problems(401, 404) } },
    handler: async (req) => customerView(await findCustomer(s.db, (req.params as { id: string }).id)),
  });

  app.get('/v1/customers/by-ref/:ref', {
    schema: {
      tags,
      summary: "Find a customer by the bank's reference",
      params: Type.Object({ ref: Ref }, { additionalProperties: false }),
      response: { 200: Type.Ref(CustomerSchema), ...problems(401, 404) },
    },
    handler: async (req) => customerView(await findCustomerByRef(s.db, (req.params as { ref: string }).ref)),
  });

  app.patch('/v1/customers/:id', {
    schema: {
      tags,
      summary: 'Update customer facts',
      description:
        'A secure mobile number replaced here is told to the old number and the email, starts the cooling-off, and its SMS and call methods are revoked: the new number gets codes once the customer has proven it.',
      params: IdParam,
      body: Type.Partial(Type.Object(Facts), { additionalProperties: false, minProperties: 1 }),
      response: { 200: Type.Ref(CustomerSchema), ...problems(400, 401, 404) },
    },
    handler: async (req) => updateCustomer(s, (req.params as { id: string }).id, req.body as never, `rp:${req.rp!.id}`),
  });

  app.get('/v1/customers/:id/security', {
    schema: {
      tags,
      summary: 'Consecutive failures and blocks of a customer',
      params: IdParam,
      response: { 200: Type.Ref(SecuritySchema), ...problems(401, 404) },
    },
    handler: async (req) => securityView(s, (req.params as { id: string }).id),
  });

  app.get('/v1/customers/:id/audit', {
    schema: {
      tags,
      summary: "The customer's audit timeline (newest first); no secret is ever recorded",
      params: IdParam,
      querystring: Type.Object(
        {
          limit: Type.Optional(
            Type.String({ pattern: '^([1-9][0-9]?|[1-4][0-9]{2}|500)$', description: 'Events per page, 1 to 500 (default 100)' }),
          ),
          before: Type.Optional(
            Type.String({ pattern: '^[0-9]{1,9}$', description: 'Only events before this seq (the last one of the previous page)' }),
          ),
        },
        { additionalProperties: false },
      ),
      response: {
        200: Type.Object({
          items: Type.Array(
            Type.Object({
              seq: Type.Integer(),
              type: Type.String(),
              actor: Type.String(),
              at: Type.String(),
              data: Type.Unknown(),
              hash: Type.String(),
            }),
          ),
        }),
        ...problems(400, 401, 404),
      },
    },
    handler: async (req) => {
      const { id } = req.params as { id: string };
      const q = req.query as { limit?: string; before?: string };
      await findCustomer(s.db, id);
      const rows = await readChain(s.db, customerChain(id), Number(q.limit ?? 100), q.before ? Number(q.before) : undefined);
      return {
        items: rows.map((r) => ({
          seq: r.seq,
          type: r.type,
          actor: r.actor,
          at: new Date(r.at).toISOString(),
          data: r.data,
          hash: r.hash,
        })),
      };
    },
  });
}
