import { errors as joseErrors, jwtVerify, type JWTPayload } from 'jose';
import { linkedSummary, linkHash, normaliseOperationData } from '../core/dynamic-linking.js';
import { Conflict, InvalidRequest, NotFound, Unprocessable } from '../core/errors.js';
import type { ElementCategory } from '../core/elements.js';
import type { OperationData } from '../core/operations.js';
import { newId } from '../crypto/tokens.js';
import type { Services } from '../context.js';
import { appendAudit, customerChain } from '../store/audit.js';
import { consumeCodeGuarded } from '../store/code-consumption.js';
import type { Db } from '../store/db.js';
import type { OperationRow } from '../store/schema.js';

/**
 * The authentication code (RTS art. 4): proof that SCA succeeded for one operation, as an ES256 JWS the
 * bank can verify offline with `/.well-known/jwks.json`, and consume exactly once through the API. It
 * carries the link hash, amount and payee(s), so executing anything else than what was authorised is
 * detectable. It reveals nothing about the elements used beyond their kind.
 */
export interface AuthenticationCodeClaims extends JWTPayload {
  op: string;
  op_type: string;
  lh: string;
  amount?: { value: number; currency: string };
  payees?: { name: string; iban?: string; merchantId?: string }[];
  methods: string[];
  categories: ElementCategory[];
  /** Categories proven at the session's login and reused here (EBA Q&A 2018_4141), if any. */
  reused?: ElementCategory[];
  sid?: string;
}

export interface SignedCode {
  id: string;
  token: string;
  expiresAt: Date;
}

/**
 * Signs the code for an operation about to be authorised; the caller stores `id` with the outcome (see
 * `store/attempts.ts`), so a code whose attempt did not commit was never valid.
 */
export async function signAuthenticationCode(
  s: Services,
  op: OperationRow,
  p: { methods: string[]; categories: ElementCategory[]; reused: ElementCategory[]; now: Date },
): Promise<SignedCode> {
  const id = newId();
  const expiresAt = new Date(p.now.getTime() + s.config.authCodeTtlSeconds * 1000);
  const summary = linkedSummary(op.data as unknown as OperationData);
  const token = await s.signingKeys.sign(
    {
      op: op.id,
      op_type: op.type,
      lh: op.link_hash,
      ...summary,
      methods: p.methods,
      categories: p.categories,
      ...(p.reused.length ? { reused: p.reused, sid: op.session_id! } : {}),
    },
    { issuer: s.config.publicUrl, audience: op.rp_id, subject: op.customer_id, jti: id, expiresAt },
  );
  return { id, token, expiresAt };
}

/** Checks signature, issuer, audience and expiry; the database then decides single use. */
async function verifyCode(s: Services, rpId: string, code: string): Promise<AuthenticationCodeClaims> {
  await s.signingKeys.ensureLoaded();
  const verify = async () =>
    (
      await jwtVerify<AuthenticationCodeClaims>(code, s.signingKeys.keySet(), {
        issuer: s.config.publicUrl,
        audience: rpId,
        algorithms: ['ES256'],
        currentDate: s.clock.now(),
        typ: 'sesame-ac+jwt',
      })
    ).payload;
  try {
    try {
      return await verify();
    } catch (e) {
      // Signed by a key another server process has just made (a rotation, or the first start of
      // several): load the keys again, then decide.
      if (!(e instanceof joseErrors.JWKSNoMatchingKey)) throw e;
      await s.signingKeys.reloadForUnknownKey();
      return await verify();
    }
  } catch (e) {
    if (e instanceof joseErrors.JWTExpired) throw new Conflict('ERR_CODE_EXPIRED', 'The authentication code has expired.');
    throw new InvalidRequest('ERR_CODE_INVALID', 'The authentication code is not valid for this relying party.', { field: 'code' });
  }
}

export interface ConsumedCode {
  operationId: string;
  customerId: string;
  type: string;
  linkHash: string;
  amount?: { value: number; currency: string };
  payees?: { name: string; iban?: string; merchantId?: string }[];
  methods: string[];
  categories: ElementCategory[];
  reusedFromSession?: ElementCategory[];
}

/**
 * Consumes a code once. With `data`, the relying party's own copy of the operation is hashed and must
 * match the code's link hash: one cent more, another payee or one changed payee of a batch is refused
 * (and the code stays unconsumed: the mismatch is the caller's data, not a use of the code).
 */
export async function consumeAuthenticationCode(s: Services, rpId: string, code: string, data?: OperationData): Promise<ConsumedCode> {
  const claims = await verifyCode(s, rpId, code);
  if (data !== undefined && linkHash(normaliseOperationData(data, 'data')) !== claims.lh) {
    throw new Conflict('ERR_LINK_MISMATCH', 'The operation data does not match what the customer authorised (amount or payee differ).');
  }
  const audit = { type: 'authentication_code.consumed', actor: `rp:${rpId}`, data: { operationId: claims.op, codeId: claims.jti } };
  const chain = customerChain(claims.sub!);
  // Two statements in the common case; under the customer's chain lock when another event got there first.
  const fast = await consumeCodeGuarded(s.db, { operationId: claims.op, codeId: claims.jti!, rpId, chain, now: s.clock.now(), audit });
  if (fast === 'consumed') return claimsView(claims);
  if (fast === 'unavailable') return whyUnavailable(s.db, claims);
  return s.db.transaction().execute(async (tx) => {
    const now = s.clock.now();
    await markConsumed(tx, claims, rpId, now);
    await appendAudit(tx, chain, now, audit);
    return claimsView(claims);
  });
}

/**
 * Consumes a code as the step-up proof for a sensitive change of the customer's own security (adding or
 * removing an authenticator), inside the caller's transaction.
 */
export async function consumeStepUp(
  tx: Db,
  s: Services,
  rpId: string,
  customerId: string,
  code: string,
  /** `data` says whether the operation's data authorise this change: true, false, or why not. */
  expected: { type: string; action?: string; kind?: string; data?: (data: Record<string, unknown>) => boolean | string },
): Promise<AuthenticationCodeClaims> {
  const claims = await verifyCode(s, rpId, code);
  if (claims.sub !== customerId || claims.op_type !== expected.type) {
    throw new Unprocessable('ERR_STEP_UP_MISMATCH', `The authentication code is not for a ${expected.type} of this customer.`, {
      field: 'authenticationCode',
    });
  }
  const op = await tx.selectFrom('operations').select('data').where('id', '=', claims.op).executeTakeFirstOrThrow();
  const data = op.data as Record<string, unknown>;
  const verdict =
    (expected.action && data.action !== expected.action) || (expected.kind && data.kind !== expected.kind)
      ? false
      : (expected.data?.(data) ?? true);
  if (verdict !== true) {
    const detail = verdict === false ? 'The authentication code authorised another change.' : verdict;
    throw new Unprocessable('ERR_STEP_UP_MISMATCH', detail, { field: 'authenticationCode' });
  }
  await markConsumed(tx, claims, rpId, s.clock.now());
  return claims;
}

async function markConsumed(tx: Db, claims: AuthenticationCodeClaims, rpId: string, now: Date): Promise<void> {
  const row = await tx
    .updateTable('operations')
    .set({ code_consumed_at: now })
    .where('id', '=', claims.op)
    .where('auth_code_id', '=', claims.jti!)
    .where('rp_id', '=', rpId)
    .where('code_consumed_at', 'is', null)
    .returning('id')
    .executeTakeFirst();
  if (row) return;
  return whyUnavailable(tx, claims);
}

/** A code that could not be consumed: unknown to this relying party (404), or already used (409). */
async function whyUnavailable(db: Db, claims: AuthenticationCodeClaims): Promise<never> {
  const exists = await db
    .selectFrom('operations')
    .select('id')
    .where('id', '=', claims.op)
    .where('auth_code_id', '=', claims.jti!)
    .executeTakeFirst();
  if (!exists) throw new NotFound('Authentication code');
  throw new Conflict('ERR_CODE_ALREADY_USED', 'The authentication code was already used.');
}

function claimsView(c: AuthenticationCodeClaims): ConsumedCode {
  return {
    operationId: c.op,
    customerId: c.sub!,
    type: c.op_type,
    linkHash: c.lh,
    ...(c.amount ? { amount: c.amount } : {}),
    ...(c.payees ? { payees: c.payees } : {}),
    methods: c.methods,
    categories: c.categories,
    ...(c.reused ? { reusedFromSession: c.reused } : {}),
  };
}
