import { Type } from '@sinclair/typebox';
import type { FastifyInstance } from 'fastify';
import type { Services } from '../../context.js';
import { Forbidden } from '../../core/errors.js';
import { liftAppDelay, startBranchActivation } from '../../journeys/app-activation.js';
import { securityView, unblockCustomer, type IdentityCheck } from '../../journeys/security.js';
import { IdParam, problems, SecuritySchema } from '../schemas.js';
import { ActivationSchema, EligibilitySchema } from './app.js';

/** The advisor API: its own audience and tokens. It grows with the advisor console. */
export async function advisorRoutes(app: FastifyInstance, s: Services): Promise<void> {
  const tags = ['advisor'];
  app.get('/v1/advisor/customers/:id/security', {
    schema: {
      tags,
      summary: "A customer's failures and blocks",
      params: IdParam,
      response: { 200: Type.Ref(SecuritySchema), ...problems(401, 404) },
    },
    handler: async (req) => {
      if (!req.advisor!.roles.some((r) => r === 'read' || r === 'unblock')) throw new Forbidden('The advisor role "read" is required.');
      return securityView(s, (req.params as { id: string }).id);
    },
  });

  app.post('/v1/advisor/customers/:id/unblock', {
    schema: {
      tags,
      summary: 'Lift a block after a reinforced identity check (role "unblock"; audited)',
      params: IdParam,
      body: Type.Object(
        {
          identityCheck: Type.Object(
            {
              method: Type.Union([
                Type.Literal('branch-id-document'),
                Type.Literal('video-id-document'),
                Type.Literal('callback-registered-number'),
                Type.Literal('postal-letter'),
              ]),
              reference: Type.String({ minLength: 1, maxLength: 120, description: 'Reference of the check in the bank’s records' }),
            },
            { additionalProperties: false },
          ),
          reason: Type.String({ minLength: 3, maxLength: 500 }),
        },
        { additionalProperties: false },
      ),
      response: { 200: Type.Ref(SecuritySchema), ...problems(400, 401, 403, 404, 422) },
    },
    handler: async (req) =>
      unblockCustomer(s, req.advisor!, (req.params as { id: string }).id, req.body as { identityCheck: IdentityCheck; reason: string }),
  });

  app.post('/v1/advisor/customers/:id/app-activations', {
    schema: {
      tags,
      summary:
        'Branch activation of the app, face to face only (role "app_enrolment", branch channel): initiated, SMS to the customer, 24 h to finish',
      params: IdParam,
      body: Type.Object(
        {
          faceToFace: Type.Boolean({ description: 'The customer is physically present (required: true)' }),
          locale: Type.Optional(Type.Union([Type.Literal('fr'), Type.Literal('en')])),
        },
        { additionalProperties: false },
      ),
      response: { 201: Type.Ref(ActivationSchema), ...problems(400, 401, 403, 404, 422) },
    },
    handler: async (req, reply) =>
      reply
        .code(201)
        .send(
          await startBranchActivation(
            s,
            req.advisor!,
            (req.params as { id: string }).id,
            req.body as { faceToFace: boolean; locale?: 'fr' | 'en' },
          ),
        ),
  });

  app.post('/v1/advisor/customers/:id/app-delay-lift', {
    schema: {
      tags,
      summary: 'Lift the 72 h email delay of the app after a reinforced identity check (role "app_enrolment"; audited)',
      params: IdParam,
      body: Type.Object(
        {
          identityCheck: Type.Object(
            {
              method: Type.Union([Type.Literal('branch-id-document'), Type.Literal('video-id-document')]),
              reference: Type.String({ minLength: 1, maxLength: 120 }),
            },
            { additionalProperties: false },
          ),
        },
        { additionalProperties: false },
      ),
      response: { 200: Type.Ref(EligibilitySchema), ...problems(400, 401, 403, 404, 422) },
    },
    handler: async (req) =>
      liftAppDelay(
        s,
        req.advisor!,
        (req.params as { id: string }).id,
        (req.body as { identityCheck: { method: string; reference: string } }).identityCheck,
      ),
  });
}
