import { randomInt } from 'node:crypto';
import { Secret } from 'otpauth';
import { Conflict, NotFound, Unprocessable } from '../core/errors.js';
import { newId } from '../crypto/tokens.js';
import { hotpSealContext, type StoredHotpParams } from '../methods/hotp/index.js';
import { ocraSealContext, type StoredOcraParams } from '../methods/ocra/index.js';
import { parseOcraSuite } from '../methods/ocra/ocra.js';
import { importTokenCsv } from '../methods/pskc/csv.js';
import { importPskc, type TokenSeed } from '../methods/pskc/pskc.js';
import { totpSealContext, type StoredTotpParams } from '../methods/totp/index.js';
import type { Services } from '../context.js';
import { appendAudit, customerChain } from '../store/audit.js';
import { recordRevoked } from '../store/authenticator-revocations.js';
import type { Db } from '../store/db.js';
import type { HardwareTokensTable } from '../store/schema.js';
import type { Selectable } from 'kysely';
import {
  authenticatorView,
  ENROLMENT_TTL_MS,
  enrolmentExpired,
  insertAuthenticator,
  serialTarget,
  underStepUp,
  type AuthenticatorView,
} from './authenticators.js';
import { iso } from './customers.js';

/**
 * The bank's stock of hardware OATH tokens (HOTP, TOTP, OCRA): import from the vendor's file, read,
 * and assignment to a customer, which is an enrolment like any other (pending until a first code, under
 * step-up once the customer can already do SCA). Seeds never leave the server: no view carries one.
 */

type TokenRow = Selectable<HardwareTokensTable>;

/** Where a token's seed is sealed while in stock: bound to its serial. */
export const tokenSealContext = (serial: string) => `token:${serial}`;

/** Serials go into URLs and audit events: a conservative alphabet, as vendors print them. */
const SERIAL = /^[A-Za-z0-9._:-]{1,64}$/;
const INSERT_CHUNK = 500;

export interface HardwareTokenView {
  serial: string;
  algorithm: 'hotp' | 'totp' | 'ocra';
  digits: number;
  hash: string;
  counter: number | null;
  timeStep: number | null;
  ocraSuite: string | null;
  manufacturer: string | null;
  model: string | null;
  importedAt: string;
  assignedToAuthenticator: string | null;
  revokedAt: string | null;
}

export function hardwareTokenView(t: TokenRow): HardwareTokenView {
  const p = t.params as Record<string, unknown>;
  const opt = <T>(k: string) => (p[k] ?? null) as T | null;
  return {
    serial: t.serial,
    algorithm: t.algorithm,
    digits: p.digits as number,
    hash: (p.hash as string) ?? 'SHA1',
    counter: opt<number>('counter'),
    timeStep: opt<number>('timeStep'),
    ocraSuite: opt<string>('ocraSuite'),
    manufacturer: opt<string>('manufacturer'),
    model: opt<string>('model'),
    importedAt: iso(t.imported_at)!,
    assignedToAuthenticator: t.assigned_to_authenticator,
    revokedAt: iso(t.revoked_at),
  };
}

export interface ImportInput {
  format: 'pskc' | 'csv';
  content: string;
  password?: string | undefined;
  preSharedKeyHex?: string | undefined;
}

/**
 * Imports a vendor file, all or nothing: a file that does not decrypt, a token this server cannot use,
 * or a serial already in stock, and nothing is stored (the duplicates are named, 409).
 *
 * @example
 * await importHardwareTokens(s, 'rp:bank', { format: 'pskc', content: xml, password: 'qwerty' });
 * // { imported: 1, serials: ['987654321'] }
 */
export async function importHardwareTokens(
  s: Services,
  actor: string,
  input: ImportInput,
): Promise<{ imported: number; serials: string[] }> {
  const seeds =
    input.format === 'csv'
      ? importTokenCsv(input.content)
      : await importPskc(input.content, {
          ...(input.password !== undefined && { password: input.password }),
          ...(input.preSharedKeyHex !== undefined && { preSharedKey: Buffer.from(input.preSharedKeyHex, 'hex') }),
        });
  if (seeds.length === 0) throw new Unprocessable('ERR_TOKEN_EMPTY', 'The file holds no token.');
  checkSeeds(seeds);
  const serials = seeds.map((t) => t.serial);
  return s.db
    .transaction()
    .execute(async (tx) => {
      const now = s.clock.now();
      const existing: string[] = [];
      for (let i = 0; i < serials.length; i += INSERT_CHUNK) {
        const chunk = serials.slice(i, i + INSERT_CHUNK);
        existing.push(
          ...(await tx.selectFrom('hardware_tokens').select('serial').where('serial', 'in', chunk).execute()).map((r) => r.serial),
        );
      }
      if (existing.length) throw duplicates(existing);
      for (let i = 0; i < seeds.length; i += INSERT_CHUNK) {
        await tx
          .insertInto('hardware_tokens')
          .values(seeds.slice(i, i + INSERT_CHUNK).map((t) => toRow(s, t, now)))
          .execute();
      }
      await appendAudit(tx, 'system', now, {
        type: 'hardware_tokens.imported',
        actor,
        data: { format: input.format, count: seeds.length, serials },
      });
      return { imported: seeds.length, serials };
    })
    .catch((e: unknown) => {
      // Two imports of the same serial at once: the second one's insert meets the first's primary key.
      if ((e as { code?: string }).code === '23505') throw duplicates([]);
      throw e;
    });
}

function duplicates(serials: string[]): Conflict {
  const named = serials.length ? `: ${serials.join(', ')}` : '';
  return new Conflict('ERR_TOKEN_DUPLICATE', `Tokens already in stock${named}. Nothing was imported.`, { serials });
}

/** Refuses, naming them, the tokens this server could not verify (nothing imported). */
function checkSeeds(seeds: TokenSeed[]): void {
  const problems: { serial: string; reason: string }[] = [];
  const seen = new Set<string>();
  for (const t of seeds) {
    const reason = unsupported(t) ?? (seen.has(t.serial) ? 'serial repeated in the file' : null);
    seen.add(t.serial);
    if (reason) problems.push({ serial: SERIAL.test(t.serial) ? t.serial : '(invalid serial)', reason });
  }
  if (problems.length) {
    const list = problems.map((p) => `${p.serial}: ${p.reason}`).join('; ');
    throw new Unprocessable('ERR_TOKEN_UNSUPPORTED', `${problems.length} token(s) cannot be used: ${list}. Nothing was imported.`, {
      tokens: problems,
    });
  }
}

function unsupported(t: TokenSeed): string | null {
  if (!SERIAL.test(t.serial)) return 'serial must be 1 to 64 letters, digits or . _ : -';
  if (t.secret.length < 16) return 'seed shorter than 128 bits (RFC 4226 §4 R6)';
  if (t.algorithm === 'hotp') return t.digits >= 6 && t.digits <= 10 ? null : 'HOTP needs 6 to 10 digits';
  if (t.algorithm === 'totp') {
    if (![6, 7, 8].includes(t.digits)) return 'TOTP needs 6, 7 or 8 digits';
    return (t.timeStep ?? 30) >= 10 && (t.timeStep ?? 30) <= 300 ? null : 'TOTP time step must be 10 to 300 s';
  }
  const suite = parseOcraSuite(t.ocraSuite ?? '');
  // The server holds no PIN hash nor session data, and `last_used_step` keeps one single-use value.
  if (suite.passwordHash || suite.sessionLength !== null) return 'OCRA suites with a PIN (P) or session data (S) are not supported';
  if (suite.counter && suite.timeStep !== null) return 'OCRA suites with both a counter and a time step are not supported';
  if (suite.digits < 6) return 'OCRA responses need at least 6 digits';
  return null;
}

function toRow(s: Services, t: TokenSeed, now: Date) {
  const params = {
    digits: t.digits,
    hash: t.hash ?? 'SHA1',
    ...(t.counter !== undefined && { counter: t.counter }),
    ...(t.timeStep !== undefined && { timeStep: t.timeStep }),
    ...(t.ocraSuite !== undefined && { ocraSuite: t.ocraSuite }),
    ...(t.manufacturer !== undefined && { manufacturer: t.manufacturer }),
    ...(t.model !== undefined && { model: t.model }),
  };
  return {
    serial: t.serial,
    algorithm: t.algorithm,
    secret_sealed: s.sealer.seal(t.secret, tokenSealContext(t.serial)),
    params: JSON.stringify(params),
    imported_at: now,
    assigned_to_authenticator: null,
    revoked_at: null,
  };
}

export async function findHardwareToken(s: Services, serial: string): Promise<HardwareTokenView> {
  const row = await s.db.selectFrom('hardware_tokens').selectAll().where('serial', '=', serial).executeTakeFirst();
  if (!row) throw new NotFound('Hardware token');
  return hardwareTokenView(row);
}

export interface TokenEnrolment extends AuthenticatorView {
  serial: string;
  /** OCRA: the challenge to type on the token; its response activates it. Null for HOTP/TOTP (a code does). */
  activationChallenge: string | null;
  ocraSuite: string | null;
  activateBefore: string;
}

/** The authenticator kind a token becomes: TOTP tokens are plain TOTP authenticators. */
const kindOf = (t: TokenRow) => t.algorithm;

/**
 * Assigns a token in stock to a customer: a pending authenticator with the seed re-sealed to it, active
 * once a first code (or, for OCRA, the response to the challenge returned here) proves the customer holds
 * the token. Under step-up like any enrolment. A token goes to one customer: once its assignment was
 * activated it is never assigned again; an enrolment abandoned before activation frees it.
 */
export async function assignHardwareToken(
  s: Services,
  c: { rpId: string; customerId: string; serial: string; label?: string | undefined; authenticationCode?: string | undefined },
): Promise<TokenEnrolment> {
  // Say what is wrong with the token before asking for a step-up the request would not need.
  const before = await s.db.selectFrom('hardware_tokens').selectAll().where('serial', '=', c.serial).executeTakeFirst();
  if (!before) throw new NotFound('Hardware token');
  await assertAssignable(s.db, before, s.clock.now(), s.config);
  return underStepUp(s, { ...c, target: serialTarget(c.serial) }, 'add', kindOf(before), async (tx, now, bootstrap) => {
    const token = await tx.selectFrom('hardware_tokens').selectAll().where('serial', '=', c.serial).forUpdate().executeTakeFirstOrThrow();
    await assertAssignable(tx, token, now, s.config);
    if (token.assigned_to_authenticator) await voidExpiredAssignment(tx, token.assigned_to_authenticator, now, actorOf(c.rpId));
    const p = token.params as Record<string, unknown>;
    const seed = s.sealer.open(token.secret_sealed, tokenSealContext(token.serial));
    const id = newId();
    const kind = kindOf(token);
    const enrolment = enrolmentFor(token, p, seed, id);
    const row = await insertAuthenticator(tx, {
      id,
      customerId: c.customerId,
      kind,
      label: c.label ?? `Token ${token.serial}`,
      status: 'pending',
      now,
      secretSealed: enrolment.sealed(s),
      params: { ...enrolment.params, activationTries: 0, bootstrap },
    });
    await tx.updateTable('hardware_tokens').set({ assigned_to_authenticator: id }).where('serial', '=', token.serial).execute();
    const data = { customerId: c.customerId, authenticatorId: id, kind, serial: token.serial };
    await appendAudit(tx, customerChain(c.customerId), now, { type: 'hardware_token.assigned', actor: actorOf(c.rpId), data });
    return {
      ...authenticatorView(row),
      serial: token.serial,
      activationChallenge: (enrolment.params.activationChallenge as string | undefined) ?? null,
      ocraSuite: (p.ocraSuite as string | undefined) ?? null,
      activateBefore: new Date(now.getTime() + ENROLMENT_TTL_MS).toISOString(),
    };
  });
}

/** In stock, and not held by anyone: free, or its enrolment abandoned before activation. */
async function assertAssignable(db: Db, token: TokenRow, now: Date, config: Services['config']): Promise<void> {
  if (token.revoked_at) throw new Conflict('ERR_TOKEN_REVOKED', 'This token was withdrawn from stock.');
  if (token.assigned_to_authenticator) {
    const holder = await db
      .selectFrom('authenticators')
      .select(['status', 'kind', 'activated_at', 'created_at'])
      .where('id', '=', token.assigned_to_authenticator)
      .executeTakeFirst();
    if (holder && holdsToken(holder, now, config)) {
      throw new Conflict('ERR_TOKEN_ASSIGNED', 'This token is already assigned.', { serial: token.serial });
    }
  }
}

/**
 * A token is held for good once its assignment was activated, and for the while an assignment waits for
 * its first code. An assignment left to expire frees it, as one abandoned does: the customer who did not
 * finish at the counter can be given it again.
 */
function holdsToken(
  holder: { status: string; kind: string; activated_at: unknown; created_at: Date | string },
  now: Date,
  config: Services['config'],
): boolean {
  if (holder.activated_at !== null) return true;
  return holder.status === 'pending' && !enrolmentExpired(holder, now, config);
}

/** The expired assignment a new one replaces can no longer be activated, and says why in the audit. */
async function voidExpiredAssignment(tx: Db, authenticatorId: string, now: Date, actor: string): Promise<void> {
  const voided = await tx
    .updateTable('authenticators')
    .set({ status: 'revoked', revoked_at: now })
    .where('id', '=', authenticatorId)
    .where('status', '=', 'pending')
    .returning(['customer_id', 'kind', 'category'])
    .executeTakeFirst();
  if (!voided) return;
  const a = { id: authenticatorId, customerId: voided.customer_id, kind: voided.kind, category: voided.category, wasActive: false };
  await recordRevoked(tx, now, actor, a, 'enrolment_expired');
}

const actorOf = (rpId: string) => (rpId === 'cli' ? 'cli' : `rp:${rpId}`);

/** The authenticator's params and sealed seed for one kind (sealed under the authenticator's own context). */
function enrolmentFor(token: TokenRow, p: Record<string, unknown>, seed: Buffer, id: string) {
  const hash = (p.hash as 'SHA1' | 'SHA256' | 'SHA512' | undefined) ?? 'SHA1';
  if (token.algorithm === 'totp') {
    const params: StoredTotpParams & { serial: string } = {
      serial: token.serial,
      algorithm: hash,
      digits: p.digits as StoredTotpParams['digits'],
      period: (p.timeStep as number | undefined) ?? 30,
    };
    const base32 = new Secret({ buffer: Uint8Array.from(seed).buffer }).base32;
    return { params: params as unknown as Record<string, unknown>, sealed: (s: Services) => s.sealer.seal(base32, totpSealContext(id)) };
  }
  if (token.algorithm === 'hotp') {
    const params: StoredHotpParams = {
      serial: token.serial,
      digits: p.digits as number,
      algorithm: hash,
      counter: (p.counter as number) ?? 0,
    };
    return { params: params as unknown as Record<string, unknown>, sealed: (s: Services) => s.sealer.seal(seed, hotpSealContext(id)) };
  }
  const suite = parseOcraSuite(p.ocraSuite as string);
  const params: StoredOcraParams & { activationChallenge: string } = {
    serial: token.serial,
    suite: suite.text,
    ...(p.counter !== undefined && { counter: p.counter as number }),
    // Random, not derived from an operation: activation signs nothing but "I hold this token".
    activationChallenge: Array.from({ length: suite.question.maxLength }, () => randomInt(10)).join(''),
  };
  return { params: params as unknown as Record<string, unknown>, sealed: (s: Services) => s.sealer.seal(seed, ocraSealContext(id)) };
}
