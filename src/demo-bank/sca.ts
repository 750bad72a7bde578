import { Type, type Static } from '@sinclair/typebox';
import type { BankContext } from './context.js';
import { BankError } from './errors.js';
import type { Challenge, Factor, OperationData, PhoneMethod, WaysIn } from './sesame-client.js';
import type { BankSession, LoggedInCustomer } from './sessions.js';

/**
 * What the SCA screens of the bank share: the possession methods to offer (from Sésame's ways-in, never
 * from a list of the bank's own), a code sent by SMS or call for the pending operation, and the factors
 * submitted with the password.
 */

/** The methods the page may offer for the second element. */
export const SCA_METHODS = ['totp', 'hotp', 'ocra', 'sms', 'voice', 'webauthn'] as const;
export type ScaMethod = (typeof SCA_METHODS)[number];

export const MethodSchema = Type.Union(SCA_METHODS.map((m) => Type.Literal(m)));
export const PhoneMethodSchema = Type.Union([Type.Literal('sms'), Type.Literal('voice')]);
export const LocaleSchema = Type.Optional(Type.Union([Type.Literal('fr'), Type.Literal('en')]));
export const ChallengeBody = Type.Object({ method: PhoneMethodSchema, locale: LocaleSchema });
export type ChallengeBodyT = Static<typeof ChallengeBody>;
export const AuthenticatorIdSchema = Type.String({ minLength: 1, maxLength: 64 });
export const OcraQuery = Type.Object({ authenticatorId: AuthenticatorIdSchema });
/** What startAuthentication() or startRegistration() returns; Sésame validates it in depth, the bank only bounds its size. */
export const WebAuthnCredentialSchema = Type.Object(
  {
    id: Type.String({ minLength: 1, maxLength: 1400 }),
    rawId: Type.String({ minLength: 1, maxLength: 1400 }),
    type: Type.Literal('public-key'),
    response: Type.Record(Type.String({ maxLength: 64 }), Type.Unknown(), { maxProperties: 16 }),
    clientExtensionResults: Type.Optional(Type.Record(Type.String({ maxLength: 64 }), Type.Unknown())),
    authenticatorAttachment: Type.Optional(Type.String({ maxLength: 32 })),
  },
  { additionalProperties: false },
);

/** The elements one SCA step submits: the password and the second element chosen on the screen. */
export const ScaProofBody = Type.Object({
  password: Type.String({ minLength: 1, maxLength: 1024 }),
  /** The app's code (the default), a token's, a code received by SMS or call. */
  method: Type.Optional(MethodSchema),
  /** None after a keypad call: the customer typed the code on the handset. */
  code: Type.Optional(Type.String({ minLength: 1, maxLength: 16 })),
  /** An OCRA token: the one whose challenge was shown. */
  authenticatorId: Type.Optional(AuthenticatorIdSchema),
  /** A passkey or security key: the browser's assertion (startAuthentication), checked by Sésame. */
  credential: Type.Optional(WebAuthnCredentialSchema),
});
export type OcraQueryT = Static<typeof OcraQuery>;

/** One choice on the SCA screen: "use my app", "text me at •• 78", "call me at •• 00", "use my token". */
export interface ScaChoice {
  kind: ScaMethod;
  /** OCRA: the token whose challenge the page asks for (not a secret: Sésame checks it is the customer's). */
  authenticatorId?: string;
  /** The masked number for SMS and voice. */
  destination?: string;
  voiceMode?: 'read-out' | 'keypad';
}

/** Active possession methods usable for this operation type, one per kind, in the order Sésame lists them. */
export function choicesFor(ways: WaysIn, operationType: string): ScaChoice[] {
  const out: ScaChoice[] = [];
  for (const m of ways.methods) {
    if (m.status !== 'active' || m.category !== 'possession' || !m.usableFor.includes(operationType)) continue;
    if (!(SCA_METHODS as readonly string[]).includes(m.kind) || out.some((c) => c.kind === m.kind)) continue;
    out.push({
      kind: m.kind as ScaMethod,
      ...(m.kind === 'ocra' ? { authenticatorId: m.id } : {}),
      ...(m.destination ? { destination: m.destination } : {}),
      ...(m.voiceMode ? { voiceMode: m.voiceMode } : {}),
    });
  }
  // The app first: it costs nothing and works offline.
  return out.sort((a, b) => SCA_METHODS.indexOf(a.kind) - SCA_METHODS.indexOf(b.kind));
}

/** What the page may show of a code sent: where it went, how (keypad calls: the code to type on the handset). */
export function challengeView(c: Challenge) {
  return {
    method: c.method,
    mode: c.mode,
    destination: c.destination,
    expiresAt: c.expiresAt,
    ...(c.displayCode ? { displayCode: c.displayCode } : {}),
  };
}

export async function sendCode(ctx: BankContext, operationId: string, body: ChallengeBodyT) {
  const challenge = await ctx.sesame.sendChallenge(operationId, {
    method: body.method as PhoneMethod,
    ...(body.locale ? { locale: body.locale } : {}),
  });
  return challengeView(challenge);
}

/**
 * The challenge an OCRA token signs for this operation, to show beside the amount and payee. Sésame
 * refuses a token that is not the operation's customer's (404) or an operation no longer pending (409).
 */
export async function ocraChallenge(ctx: BankContext, operationId: string, authenticatorId: string) {
  const c = await ctx.sesame.ocraChallenge(operationId, authenticatorId);
  return { authenticatorId: c.authenticatorId, challenge: c.challenge };
}

/** The possession factor the customer gave: a code typed (an OCRA token's response), or none after a keypad call. */
export function possessionFactor(
  method: ScaMethod | undefined,
  code: string | undefined,
  authenticatorId?: string,
  credential?: Record<string, unknown>,
): Factor {
  const m = method ?? 'totp';
  if (m === 'webauthn') {
    if (!credential) throw new BankError(400, 'ERR_INVALID_REQUEST', 'The passkey’s answer is missing.');
    return { method: 'webauthn', credential };
  }
  if (m === 'sms' || m === 'voice') return code ? { method: m, code } : { method: m };
  if (!code) throw new BankError(400, 'ERR_INVALID_REQUEST', 'The code is missing.');
  if (m === 'ocra' || m === 'hotp') return { method: m, code, ...(authenticatorId ? { authenticatorId } : {}) };
  return { method: m, code };
}

/** The customer's own confirmation of a sensitive change (adding a method, changing the secure number). */
export const StepUpSchema = Type.Object({
  /** The step-up operation started with `POST /bank/api/security/step-up`; needed for codes by SMS or call. */
  operationId: Type.Optional(Type.String({ minLength: 1, maxLength: 64 })),
  password: Type.String({ minLength: 1, maxLength: 1024 }),
  method: Type.Optional(MethodSchema),
  code: Type.Optional(Type.String({ minLength: 1, maxLength: 16 })),
});
export type StepUp = Static<typeof StepUpSchema>;

/**
 * Authenticates a step-up operation for `data` and returns its unconsumed authentication code, which the
 * change then hands to Sésame (that consumes it). With an app or token code the operation may be declared
 * here; a code by SMS or call was sent for an operation declared beforehand, named by `operationId`.
 */
export async function stepUpCode(
  ctx: BankContext,
  session: BankSession,
  customer: LoggedInCustomer,
  data: OperationData,
  proof: StepUp,
): Promise<string> {
  let operationId = proof.operationId;
  if (operationId) {
    const declared = session.stepUps.get(operationId);
    if (!declared) throw new BankError(404, 'ERR_STEP_UP_NOT_FOUND', 'This confirmation is no longer pending.');
    session.stepUps.delete(operationId);
    if (!sameData(declared, data)) {
      throw new BankError(409, 'ERR_LINK_MISMATCH', 'The confirmation was for another change.');
    }
  } else {
    if (proof.method === 'sms' || proof.method === 'voice' || proof.method === 'ocra') {
      throw new BankError(400, 'ERR_INVALID_REQUEST', 'Ask for the code first: it is sent for one confirmation.');
    }
    operationId = (await ctx.sesame.createOperation(customer.id, data)).id;
  }
  const auth = await ctx.sesame.authenticate(operationId, [
    { method: 'password', password: proof.password },
    possessionFactor(proof.method, proof.code),
  ]);
  return auth.authenticationCode;
}

/** The same operation data, whatever the order of its members. */
function sameData(a: OperationData, b: OperationData): boolean {
  const canon = (d: OperationData) => JSON.stringify(Object.entries(d).sort(([x], [y]) => x.localeCompare(y)));
  return canon(a) === canon(b);
}
