import { Type } from '@sinclair/typebox';
import type { FastifyInstance } from 'fastify';
import type { Services } from '../../context.js';
import { findCustomer } from '../../journeys/customers.js';
import { introspectSession, listSessions, logout, revokeSession } from '../../journeys/sessions.js';
import { IdParam, problems, SessionSchema } from '../schemas.js';

const TokenBody = Type.Object({ token: Type.String({ minLength: 1, maxLength: 200 }) }, { additionalProperties: false });

export async function sessionRoutes(app: FastifyInstance, s: Services): Promise<void> {
  const tags = ['sessions'];
  app.post('/v1/sessions/introspect', {
    schema: {
      tags,
      summary: 'Check a session token and refresh its inactivity timer (≤ 5 minutes)',
      body: TokenBody,
      response: { 200: Type.Ref(SessionSchema), ...problems(400, 401) },
    },
    handler: async (req) => introspectSession(s, req.rp!.id, (req.body as { token: string }).token),
  });

  app.post('/v1/sessions/logout', {
    schema: { tags, summary: 'End a session', body: TokenBody, response: { 204: Type.Null(), ...problems(400, 401) } },
    handler: async (req, reply) => {
      await logout(s, req.rp!.id, (req.body as { token: string }).token);
      return reply.code(204).send();
    },
  });

  app.get('/v1/customers/:id/sessions', {
    schema: {
      tags,
      summary: "The customer's active sessions",
      params: IdParam,
      response: { 200: Type.Object({ items: Type.Array(Type.Ref(SessionSchema)) }), ...problems(401, 404) },
    },
    handler: async (req) => {
      const { id } = req.params as { id: string };
      await findCustomer(s.db, id);
      return { items: await listSessions(s, id) };
    },
  });

  app.delete('/v1/customers/:id/sessions/:sessionId', {
    schema: {
      tags,
      summary: 'End one of the customer’s other sessions',
      params: Type.Object(
        { id: Type.String({ maxLength: 64 }), sessionId: Type.String({ maxLength: 64 }) },
        { additionalProperties: false },
      ),
      response: { 204: Type.Null(), ...problems(401, 404) },
    },
    handler: async (req, reply) => {
      const { id, sessionId } = req.params as { id: string; sessionId: string };
      await revokeSession(s, id, sessionId, `rp:${req.rp!.id}`);
      return reply.code(204).send();
    },
  });
}
