import { NEVER_SHARE, type Locale } from './templates.js';
import { toGsm7 } from './sms-encoding.js';

/** The SMS of the app authenticator's activation, in French and English (GSM 03.38 like every SMS). */

/** Self-service, transfer or reinstall: the second-channel code that confirms the new installation. */
export function appConfirmationSms(p: { locale: Locale; code: string; deviceName: string; brand: string }): string {
  const device = p.deviceName.slice(0, 40);
  return toGsm7(
    p.locale === 'fr'
      ? `${p.brand} : code ${p.code} pour activer l'appli sur ${device}. Valable 15 min. ${NEVER_SHARE.fr}`
      : `${p.brand}: code ${p.code} to activate the app on ${device}. Valid for 15 min. ${NEVER_SHARE.en}`,
  );
}

/** Branch initiation: the customer finishes on the phone within the window. */
export function appBranchSms(p: { locale: Locale; code: string; url: string; hours: number; brand: string }): string {
  return toGsm7(
    p.locale === 'fr'
      ? `${p.brand} : terminez l'activation de l'appli sous ${p.hours} h : ${p.url} code ${p.code}. ${NEVER_SHARE.fr}`
      : `${p.brand}: finish activating the app within ${p.hours} h: ${p.url} code ${p.code}. ${NEVER_SHARE.en}`,
  );
}
