import { HOTP_LOOK_AHEAD, hotpSealContext, nextHotpCounter, type StoredHotpParams } from '../methods/hotp/index.js';
import { matchHotp } from '../methods/hotp/hotp.js';
import { checkOcra, ocraSealContext } from '../methods/ocra/index.js';
import type { Services } from '../context.js';
import { activatePending, type AuthenticatorView, type FirstProof } from './authenticators.js';

/**
 * Activation of a pending hardware token by its first proof: a HOTP code, or an OCRA token's response
 * to the activation challenge given at assignment (TOTP tokens are TOTP authenticators, activated as
 * such). Same tries and expiry as every enrolment (`activatePending`); only the check differs.
 *
 * @example
 * await activateHardwareToken(s, { rpId, customerId, authenticatorId, code: '755224' }, 'hotp');
 */
export async function activateHardwareToken(
  s: Services,
  c: { rpId: string; customerId: string; authenticatorId: string; code: string },
  kind: 'hotp' | 'ocra',
): Promise<AuthenticatorView> {
  return kind === 'hotp'
    ? activatePending(s, c, 'hotp', 'Press the token’s button and type the new code.', hotpFirst(s, c.code))
    : activatePending(s, c, 'ocra', 'Type the activation challenge on the token and give its response.', ocraFirst(s, c.code));
}

const hotpFirst =
  (s: Services, code: string): FirstProof =>
  (a) => {
    const params = a.params as unknown as StoredHotpParams;
    const match = matchHotp({
      secret: s.sealer.open(a.secret_sealed!, hotpSealContext(a.id)),
      digits: params.digits,
      algorithm: params.algorithm,
      code,
      counter: nextHotpCounter(a),
      lookAhead: HOTP_LOOK_AHEAD,
    });
    return match.ok ? { ok: true, lastUsedStep: match.nextCounter - 1 } : { ok: false };
  };

const ocraFirst =
  (s: Services, response: string): FirstProof =>
  (a, now) => {
    const challenge = (a.params as { activationChallenge: string }).activationChallenge;
    const d = checkOcra(s.sealer.open(a.secret_sealed!, ocraSealContext(a.id)), a, challenge, response, now);
    return d.ok ? { ok: true, lastUsedStep: d.change.lastUsedStep ?? null } : { ok: false };
  };
