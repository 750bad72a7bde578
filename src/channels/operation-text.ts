import type { Amount, OperationData } from '../core/operations.js';

/**
 * How an operation is named in a message: the customer must be able to tell what they are authorising
 * (dynamic linking: amount and payee for a payment; what changes otherwise).
 */

export type Locale = 'fr' | 'en';

const INTL_LOCALE: Record<Locale, string> = { fr: 'fr-FR', en: 'en-GB' };

/**
 * Formats an amount in minor units for the locale, exactly (no floating point on the way).
 *
 * @example
 * formatAmount({ value: 123450, currency: 'EUR' }, 'fr'); // '1 234,50 €' (with the locale's no-break spaces)
 * formatAmount({ value: 25000, currency: 'EUR' }, 'en'); // '€250.00'
 */
export function formatAmount(amount: Amount, locale: Locale): string {
  const format = new Intl.NumberFormat(INTL_LOCALE[locale], { style: 'currency', currency: amount.currency });
  const digits = format.resolvedOptions().maximumFractionDigits ?? 2;
  const minor = BigInt(amount.value);
  const sign = minor < 0n ? '-' : '';
  const abs = (minor < 0n ? -minor : minor).toString().padStart(digits + 1, '0');
  const decimal = digits === 0 ? abs : `${abs.slice(0, -digits)}.${abs.slice(-digits)}`;
  return format.format(`${sign}${decimal}` as Intl.StringNumericLiteral);
}

/** A lifetime for a text message: `5 min`, `90 s`. */
export function formatLifetime(seconds: number): string {
  return seconds < 120 && seconds % 60 !== 0 ? `${seconds} s` : `${Math.ceil(seconds / 60)} min`;
}

/** A lifetime for a voice call, in full words so that it is read well: `5 minutes`. */
export function speakLifetime(seconds: number, locale: Locale): string {
  if (seconds < 120 && seconds % 60 !== 0) return locale === 'fr' ? `${seconds} secondes` : `${seconds} seconds`;
  const minutes = Math.ceil(seconds / 60);
  return `${minutes} minute${minutes > 1 ? 's' : ''}`;
}

const AUTHENTICATOR_NAMES: Record<Locale, Record<string, string>> = {
  fr: {
    password: 'mot de passe',
    totp: "application d'authentification",
    hotp: 'jeton physique',
    ocra: 'jeton physique',
    sms: 'SMS',
    voice: 'appel vocal',
    app: 'application mobile',
    webauthn: 'clé de sécurité',
    recovery: 'codes de secours',
  },
  en: {
    password: 'password',
    totp: 'authenticator app',
    hotp: 'hardware token',
    ocra: 'hardware token',
    sms: 'SMS',
    voice: 'voice call',
    app: 'mobile app',
    webauthn: 'security key',
    recovery: 'recovery codes',
  },
};

/**
 * What the operation is, in a few words, for an SMS, a voice call or an email.
 *
 * @example
 * describeOperation({ type: 'payment', amount: { value: 25000, currency: 'EUR' }, payee: { name: 'Boulangerie Martin' } }, 'fr');
 * // 'paiement de 250,00 € à Boulangerie Martin'
 * describeOperation({ type: 'change_phone', phone: '+33612345678' }, 'fr');
 * // 'changement de numéro de téléphone sécurisé'
 */
export function describeOperation(data: OperationData, locale: Locale): string {
  const fr = locale === 'fr';
  const money = (a: Amount) => formatAmount(a, locale);
  switch (data.type) {
    case 'login':
      return fr ? 'connexion à votre espace client' : 'sign-in to your account';
    case 'payment':
    case 'online_card_payment':
      return fr ? `paiement de ${money(data.amount)} à ${data.payee.name}` : `payment of ${money(data.amount)} to ${data.payee.name}`;
    case 'batch_payment': {
      const n = data.payees.length;
      if (n === 1) return describeOperation({ type: 'payment', amount: data.total, payee: data.payees[0]!.payee }, locale);
      return fr ? `virement groupé de ${money(data.total)} vers ${n} bénéficiaires` : `bulk payment of ${money(data.total)} to ${n} payees`;
    }
    case 'add_beneficiary':
      return fr ? `ajout du bénéficiaire ${data.payee.name}` : `adding the payee ${data.payee.name}`;
    case 'change_phone':
      return fr ? 'changement de numéro de téléphone sécurisé' : 'change of your secure phone number';
    case 'change_email':
      return fr ? "changement d'adresse e-mail" : 'change of your email address';
    case 'change_address':
      return fr ? "changement d'adresse postale" : 'change of your postal address';
    case 'view_card_pin':
      return fr ? 'affichage du code secret de votre carte' : 'viewing your card PIN';
    case 'card_limit_increase':
      return fr ? `hausse du plafond de votre carte à ${money(data.limit)}` : `raising your card limit to ${money(data.limit)}`;
    case 'contract_signature':
      return fr ? `signature du contrat "${data.contract.title}"` : `signing the contract "${data.contract.title}"`;
    case 'card_wallet_enrolment':
      return fr ? `ajout de votre carte à ${data.wallet}` : `adding your card to ${data.wallet}`;
    case 'manage_authenticators': {
      // A TOTP with a serial is a hardware token, not an app on a phone.
      const kind = data.kind === 'totp' && data.target !== undefined ? 'hotp' : data.kind;
      const name = AUTHENTICATOR_NAMES[locale][kind] ?? data.kind;
      const verb = fr
        ? { add: 'ajout', remove: 'suppression', regenerate: 'renouvellement' }[data.action]
        : { add: 'adding', remove: 'removing', regenerate: 'renewing' }[data.action];
      const what = data.target === undefined ? name : `${name} ${data.target}`;
      return fr ? `${verb} d'un moyen d'authentification (${what})` : `${verb} a sign-in method (${what})`;
    }
  }
}
