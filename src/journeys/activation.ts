import type { Services } from '../context.js';
import { activateTotp, type AuthenticatorView } from './authenticators.js';
import { activatePhone } from './phone-authenticators.js';
import { activateHardwareToken } from './token-activation.js';

/** Activates a pending authenticator with its first proof, whatever its kind (one route for all). */
export async function activateAuthenticator(
  s: Services,
  c: { rpId: string; customerId: string; authenticatorId: string; code: string },
): Promise<AuthenticatorView> {
  const row = await s.db
    .selectFrom('authenticators')
    .select('kind')
    .where('id', '=', c.authenticatorId)
    .where('customer_id', '=', c.customerId)
    .executeTakeFirst();
  switch (row?.kind) {
    case 'sms':
    case 'voice':
      return activatePhone(s, c, row.kind);
    case 'hotp':
    case 'ocra':
      return activateHardwareToken(s, c, row.kind);
    default:
      // TOTP, and the NotFound of an unknown id.
      return activateTotp(s, c);
  }
}
