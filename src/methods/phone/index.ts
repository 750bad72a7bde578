import type { Selectable } from 'kysely';
import type { Db } from '../../store/db.js';
import type { OtpChallengesTable } from '../../store/schema.js';
import type { AuthMethod } from '../types.js';
import { otpHash, sameHash } from './codes.js';

/**
 * SMS and voice-call codes (possession of the phone line). The code was sent for this operation by
 * `POST /v1/operations/{id}/challenges` and is consumed here, under the customer's lock: the latest
 * unexpired, unused challenge of the operation for this authenticator must match (or, for a keypad
 * call, have been confirmed on the handset). A wrong code fails the attempt and counts like any.
 */
function phoneMethod(kind: 'sms' | 'voice'): AuthMethod {
  return {
    kind,
    category: 'possession',
    multiple: true,
    async verify(ctx, authenticator, proof) {
      if (!authenticator) return false;
      const challenge = await usableChallenge(ctx.tx, ctx.operation.id, authenticator.id, ctx.now);
      if (!challenge) return false;
      const ok =
        challenge.mode === 'keypad'
          ? challenge.confirmed_at !== null
          : sameHash(otpHash(ctx.deps.hashKey, challenge.id, ctx.operation, (proof.code ?? '').trim()), challenge.code_hash);
      // Any attempt uses the challenge up: a wrong code cannot be followed by guesses on the same one.
      const used = await ctx.tx
        .updateTable('otp_challenges')
        .set({ used_at: ctx.now })
        .where('id', '=', challenge.id)
        .where('used_at', 'is', null)
        .executeTakeFirst();
      if (!ok || Number(used.numUpdatedRows) !== 1) return false;
      await ctx.tx.updateTable('authenticators').set({ last_used_at: ctx.now }).where('id', '=', authenticator.id).execute();
      return true;
    },
  };
}

export const smsMethod = phoneMethod('sms');
export const voiceMethod = phoneMethod('voice');

/** The latest challenge of an operation for an authenticator that may still be used. */
async function usableChallenge(
  tx: Db,
  operationId: string,
  authenticatorId: string,
  now: Date,
): Promise<Selectable<OtpChallengesTable> | null> {
  return (
    (await tx
      .selectFrom('otp_challenges')
      .selectAll()
      .where('operation_id', '=', operationId)
      .where('authenticator_id', '=', authenticatorId)
      .where('used_at', 'is', null)
      .where('expires_at', '>', now)
      .orderBy('created_at', 'desc')
      .limit(1)
      .executeTakeFirst()) ?? null
  );
}
