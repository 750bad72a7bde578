import { NotFound } from '../core/errors.js';
import { ocraChallengeFor, type StoredOcraParams } from '../methods/ocra/index.js';
import { parseOcraSuite } from '../methods/ocra/ocra.js';
import type { Services } from '../context.js';
import { assertPending, findOperation } from './operations.js';

/**
 * The challenge the customer types on an OCRA token to authorise one operation, for the relying party
 * to display beside the amount and payee. Not a secret: it is derived from the operation (see
 * `ocraChallengeFor`), and the server derives it again when the response comes back.
 *
 * @example
 * await ocraChallenge(s, rpId, operationId, authenticatorId); // { challenge: '04719385', suite: 'OCRA-1:HOTP-SHA1-6:QN08', … }
 */
export async function ocraChallenge(
  s: Services,
  rpId: string,
  operationId: string,
  authenticatorId: string,
): Promise<{ operationId: string; authenticatorId: string; challenge: string; suite: string }> {
  const op = await findOperation(s.db, rpId, operationId);
  await assertPending(s.db, op, s.clock.now());
  const a = await s.db
    .selectFrom('authenticators')
    .select('params')
    .where('id', '=', authenticatorId)
    .where('customer_id', '=', op.customer_id)
    .where('kind', '=', 'ocra')
    .where('status', '=', 'active')
    .executeTakeFirst();
  if (!a) throw new NotFound('Active OCRA authenticator');
  const suite = parseOcraSuite((a.params as unknown as StoredOcraParams).suite);
  return { operationId: op.id, authenticatorId, challenge: ocraChallengeFor(op, suite), suite: suite.text };
}
