import type { FastifyReply, FastifyRequest } from 'fastify';
import type { DecoyAttempts } from './decoy-attempts.js';
import { BankError } from './errors.js';
import type { Ledger } from './ledger.js';
import { SesameApiError, type SesameClient, type SessionInfo } from './sesame-client.js';
import type { BankSession, BankSessions, LoggedInCustomer } from './sessions.js';

/** What every route of the demo bank works with. */
export interface BankContext {
  sesame: SesameClient;
  sessions: BankSessions;
  ledger: Ledger;
  decoys: DecoyAttempts;
  now: () => Date;
}

export interface LoggedIn {
  session: BankSession;
  customer: LoggedInCustomer;
  sesameToken: string;
  sesameSession: SessionInfo;
}

/**
 * The logged-in customer, after asking Sésame whether the session is still alive. Introspection counts
 * as activity, so every bank request keeps the session alive and 5 minutes without one end it (RTS
 * art. 4(3)(d)): the bank does not keep a second, possibly different timer.
 */
export async function requireCustomer(ctx: BankContext, request: FastifyRequest, reply: FastifyReply): Promise<LoggedIn> {
  const session = ctx.sessions.get(request);
  if (!session?.customer || !session.sesameToken) {
    throw new BankError(401, 'ERR_NOT_LOGGED_IN', 'Please log in.');
  }
  try {
    const sesameSession = await ctx.sesame.introspectSession(session.sesameToken);
    if (sesameSession.customerId !== session.customer.id) throw new BankError(401, 'ERR_SESSION_EXPIRED', 'Session mismatch.');
    return { session, customer: session.customer, sesameToken: session.sesameToken, sesameSession };
  } catch (e) {
    if (e instanceof BankError || (e instanceof SesameApiError && e.code === 'ERR_SESSION_EXPIRED')) {
      ctx.sessions.destroy(session, reply, request);
      throw new BankError(401, 'ERR_SESSION_EXPIRED', 'Your session has expired.');
    }
    throw e;
  }
}
