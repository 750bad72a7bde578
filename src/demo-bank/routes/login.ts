import { Type, type Static } from '@sinclair/typebox';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { requireCustomer, type BankContext } from '../context.js';
import { BankError } from '../errors.js';
import { SesameApiError, type AuthenticateResult } from '../sesame-client.js';
import { ChallengeBody, choicesFor, ocraChallenge, OcraQuery, possessionFactor, sendCode, type ScaChoice, ScaProofBody } from '../sca.js';
import type { BankSession, LoggedInCustomer, PendingLogin } from '../sessions.js';

const StartBody = Type.Object({ ref: Type.String({ minLength: 1, maxLength: 64 }) });
const FinishBody = ScaProofBody;
const PasskeyBody = Type.Object({ credential: Type.Record(Type.String(), Type.Unknown()) });

/**
 * For an identifier that matches no customer: what a customer with only an authenticator app would see,
 * so the screen after the identifier does not tell who exists.
 */
const DECOY_METHODS: ScaChoice[] = [{ kind: 'totp' }];

/**
 * Login in two screens (identifier + password, then the app's code) but one authentication: the
 * password waits in the page until the code is typed, and both go to Sésame together, so a failure
 * never says which element was wrong.
 */
export function loginRoutes(app: FastifyInstance, ctx: BankContext): void {
  /** Step 1. The answer is the same whether the identifier exists or not (no user enumeration). */
  app.post<{ Body: Static<typeof StartBody> }>('/bank/api/login/start', { schema: { body: StartBody } }, async (request, reply) => {
    await endSession(ctx, ctx.sessions.get(request), reply, request);
    const session = ctx.sessions.create(reply, request);
    session.pendingLogin = await startLogin(ctx, request.body.ref.trim());
    return { next: 'credentials' };
  });

  /** Step 2. On success the bank session gets a new id and holds the Sésame session token. */
  app.post<{ Body: Static<typeof FinishBody> }>('/bank/api/login/finish', { schema: { body: FinishBody } }, async (request, reply) => {
    const session = ctx.sessions.get(request);
    const pending = session?.pendingLogin;
    if (!session || !pending) throw new BankError(409, 'ERR_LOGIN_NOT_STARTED', 'Please enter your identifier again.');
    if (pending.kind === 'unknown') ctx.decoys.fail(pending.ref);
    if (pending.kind === 'deferred-error') throw pending.error;

    const { password, method, code, authenticatorId, credential } = request.body;
    let result;
    try {
      const possession = possessionFactor(method, code, authenticatorId, credential);
      result = await ctx.sesame.authenticate(pending.operationId, [{ method: 'password', password }, possession], {
        userAgent: request.headers['user-agent'] ?? '',
      });
    } catch (e) {
      // Let the customer try again on a fresh login operation (Sésame counts the failure either way).
      if (e instanceof SesameApiError && e.code === 'ERR_AUTHENTICATION_FAILED') {
        session.pendingLogin = await startLoginFor(ctx, pending.customer).catch(() => null);
      } else {
        session.pendingLogin = null;
      }
      throw e;
    }
    return finishLogin(ctx, session, result, reply, request, pending.customer);
  });

  /**
   * Passkey login without an identifier, step 1: options with no allow list, so the browser offers the
   * passkeys it keeps for this bank. Any half-done login in this browser is dropped.
   */
  app.post('/bank/api/login/passkey/options', async (request, reply) => {
    await endSession(ctx, ctx.sessions.get(request), reply, request);
    const session = ctx.sessions.create(reply, request);
    const { options } = await ctx.sesame.passkeyLoginOptions();
    // Kept in this browser's session (WebAuthn §13.4.3): an answer to a challenge handed to another
    // browser, or answered already, is not this login's.
    session.passkeyChallenge = options.challenge;
    return options;
  });

  /** Step 2: the passkey chosen says who logs in; one gesture is the whole SCA (possession + inherence). */
  app.post<{ Body: Static<typeof PasskeyBody> }>('/bank/api/login/passkey', { schema: { body: PasskeyBody } }, async (request, reply) => {
    const session = ctx.sessions.get(request);
    const expected = session?.passkeyChallenge;
    if (!session || !expected || session.customer) throw new BankError(409, 'ERR_LOGIN_NOT_STARTED', 'Please start again.');
    session.passkeyChallenge = null;
    if (challengeOf(request.body.credential) !== expected) {
      throw new BankError(422, 'ERR_PASSKEY_CHALLENGE', 'This answer is not for the login started here: please start again.');
    }
    const result = await ctx.sesame.passkeyLogin(request.body.credential, { userAgent: request.headers['user-agent'] ?? '' });
    return finishLogin(ctx, session, result, reply, request);
  });

  /**
   * The second screen's choices, from Sésame's ways-in of the customer: the app, a code by SMS to
   * •• 78, a call to •• 00, a token. An unknown identifier gets the choices of an app-only customer.
   */
  app.get('/bank/api/login/methods', async (request) => {
    const pending = ctx.sessions.get(request)?.pendingLogin;
    if (!pending) throw new BankError(409, 'ERR_LOGIN_NOT_STARTED', 'Please enter your identifier again.');
    if (pending.kind !== 'real') return { methods: DECOY_METHODS };
    const methods = choicesFor(await ctx.sesame.waysIn(pending.customer.id), 'login');
    return { methods: methods.length ? methods : DECOY_METHODS };
  });

  /** A code by SMS or call for the pending login (an unknown identifier gets an answer of the same shape). */
  app.post<{ Body: Static<typeof ChallengeBody> }>('/bank/api/login/challenge', { schema: { body: ChallengeBody } }, async (request) => {
    const pending = ctx.sessions.get(request)?.pendingLogin;
    if (!pending) throw new BankError(409, 'ERR_LOGIN_NOT_STARTED', 'Please enter your identifier again.');
    const unavailable = new BankError(422, 'ERR_NO_SUCH_METHOD', 'This method is not available.');
    if (pending.kind !== 'real') throw unavailable;
    try {
      return await sendCode(ctx, pending.operationId, request.body);
    } catch (e) {
      // Word for word what an unknown identifier gets.
      if (e instanceof SesameApiError && e.code === 'ERR_NO_SUCH_METHOD') throw unavailable;
      throw e;
    }
  });

  /** An OCRA token's challenge for the pending login (the customer types it on the token, then its response). */
  app.get<{ Querystring: Static<typeof OcraQuery> }>(
    '/bank/api/login/ocra-challenge',
    { schema: { querystring: OcraQuery } },
    async (request) => {
      const pending = ctx.sessions.get(request)?.pendingLogin;
      if (!pending) throw new BankError(409, 'ERR_LOGIN_NOT_STARTED', 'Please enter your identifier again.');
      const unavailable = new BankError(422, 'ERR_NO_SUCH_METHOD', 'This method is not available.');
      if (pending.kind !== 'real') throw unavailable;
      try {
        return await ocraChallenge(ctx, pending.operationId, request.query.authenticatorId);
      } catch (e) {
        if (e instanceof SesameApiError && e.status === 404) throw unavailable;
        throw e;
      }
    },
  );

  app.get('/bank/api/me', async (request, reply) => {
    const { customer, session, sesameSession } = await requireCustomer(ctx, request, reply);
    return me(customer, sesameSession.expiresAt, session.idleTimeoutSeconds);
  });

  app.post('/bank/api/logout', async (request, reply) => {
    await endSession(ctx, ctx.sessions.get(request), reply, request);
    return reply.status(204).send();
  });
}

/**
 * A successful login: the bank burns its authentication code (it checks the proof rather than trusting the
 * status), then the bank session gets a new id and holds the Sésame session token.
 */
async function finishLogin(
  ctx: BankContext,
  session: BankSession,
  result: AuthenticateResult & { customerId?: string },
  reply: FastifyReply,
  request: FastifyRequest,
  known?: LoggedInCustomer,
) {
  if (!result.session) throw new BankError(502, 'ERR_UPSTREAM', 'The login did not open a session.');
  const consumed = await ctx.sesame.consumeCode(result.authenticationCode, { type: 'login' });
  const expected = known?.id ?? result.customerId;
  if (consumed.customerId !== expected) throw new BankError(502, 'ERR_UPSTREAM', 'The login was for someone else.');
  const customer = known ?? (await ctx.sesame.customer(consumed.customerId));
  const fresh = ctx.sessions.rotate(session, reply, request, {
    pendingLogin: null,
    customer: { id: customer.id, ref: customer.ref, displayName: customer.displayName },
    sesameToken: result.session.token,
    idleTimeoutSeconds: result.session.idleTimeoutSeconds,
  });
  return me(fresh.customer!, result.session.expiresAt, result.session.idleTimeoutSeconds);
}

/** The challenge the browser signed, from the credential's client data (null when it has none). */
function challengeOf(credential: Record<string, unknown>): string | null {
  const clientData = (credential.response as { clientDataJSON?: unknown } | undefined)?.clientDataJSON;
  if (typeof clientData !== 'string') return null;
  try {
    const parsed = JSON.parse(Buffer.from(clientData, 'base64url').toString('utf8')) as { challenge?: unknown };
    return typeof parsed.challenge === 'string' ? parsed.challenge : null;
  } catch {
    return null;
  }
}

async function startLogin(ctx: BankContext, ref: string): Promise<PendingLogin> {
  try {
    const c = await ctx.sesame.customerByRef(ref);
    return await startLoginFor(ctx, { id: c.id, ref: c.ref, displayName: c.displayName });
  } catch (e) {
    if (e instanceof SesameApiError && e.status === 404) return { kind: 'unknown', ref };
    // A blocked customer, say: told only after the credentials are submitted, like any other outcome.
    if (e instanceof SesameApiError && e.status < 500) return { kind: 'deferred-error', error: e };
    throw e;
  }
}

async function startLoginFor(ctx: BankContext, customer: LoggedInCustomer): Promise<PendingLogin> {
  const op = await ctx.sesame.createOperation(customer.id, { type: 'login' });
  return { kind: 'real', operationId: op.id, customer };
}

async function endSession(ctx: BankContext, session: BankSession | undefined, reply: FastifyReply, request: FastifyRequest) {
  if (!session) return;
  if (session.sesameToken) await ctx.sesame.logout(session.sesameToken).catch(() => undefined);
  ctx.sessions.destroy(session, reply, request);
}

function me(customer: LoggedInCustomer, expiresAt: string, idleTimeoutSeconds: number | null) {
  return {
    customer: { ref: customer.ref, displayName: customer.displayName },
    expiresAt,
    idleTimeoutSeconds: idleTimeoutSeconds ?? 300,
  };
}
