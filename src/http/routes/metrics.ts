import type { FastifyInstance } from 'fastify';
import type { Services } from '../../context.js';
import { safeEqual, tokenDigest } from '../../crypto/tokens.js';
import { bearerToken } from '../auth.js';
import { problem, sendProblem } from '../problem.js';

/**
 * Prometheus metrics. With `SESAME_METRICS_TOKEN` set, the scraper sends it as a bearer token; without
 * one the figures are open in development and not served at all in production (they say how many
 * customers fail and get blocked, which is the bank's business only).
 */
export async function metricsRoutes(app: FastifyInstance, s: Services): Promise<void> {
  const token = s.config.metricsToken;
  app.addHook('onResponse', (request, reply, done) => {
    s.metrics.answered(request.method, request.routeOptions.url ?? 'unmatched', reply.statusCode, reply.elapsedTime / 1000);
    done();
  });
  // Not even a route then: every method gets what an unknown path gets.
  if (!token && s.config.mode === 'production') return;
  app.get('/metrics', { schema: { hide: true } }, async (request, reply) => {
    if (token) {
      // Digests compared: equal lengths, so the time taken says nothing of the token's length either.
      if (!safeEqual(tokenDigest(bearerToken(request) ?? ''), tokenDigest(token))) {
        return sendProblem(
          reply.header('www-authenticate', 'Bearer'),
          problem(401, 'ERR_UNAUTHORIZED', 'The metrics token is missing or wrong.'),
        );
      }
    }
    return reply
      .header('content-type', s.metrics.registry.contentType)
      .header('cache-control', 'no-store')
      .send(await s.metrics.registry.metrics());
  });
}
