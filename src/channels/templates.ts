import type { OperationData } from '../core/operations.js';
import { describeOperation, formatLifetime, speakLifetime, type Locale } from './operation-text.js';
import { toGsm7 } from './sms-encoding.js';
import type { E164, VoiceLanguage, VoiceScript, VoiceSegment } from './types.js';

/**
 * The texts Sésame sends, in French and English. Every OTP message says what it authorises (dynamic
 * linking), how long the code lives, and that the code must never be given to anyone: the fraud these
 * messages face is a caller posing as the bank's adviser.
 */

export type { Locale } from './operation-text.js';

export const NEVER_SHARE: Record<Locale, string> = {
  fr: 'Ne communiquez jamais ce code, même à votre conseiller.',
  en: 'Never give this code to anyone, not even your adviser.',
};

export const VOICE_LANGUAGE: Record<Locale, VoiceLanguage> = { fr: 'fr-FR', en: 'en-GB' };

export interface OtpTextInput {
  locale: Locale;
  operation: OperationData;
  code: string;
  ttlSeconds: number;
  /** The bank's name, put first in the SMS. */
  brand?: string;
}

/**
 * The SMS carrying an OTP. It is written in GSM 03.38 characters (accents GSM lacks are dropped, e.g.
 * "même" → "meme") so that a typical payment fits in one 160-character SMS instead of three UCS-2 parts.
 *
 * @example
 * otpSms({ locale: 'fr', code: '123456', ttlSeconds: 300,
 *   operation: { type: 'payment', amount: { value: 25000, currency: 'EUR' }, payee: { name: 'Boulangerie Martin' } } });
 * // 'Code 123456 pour confirmer : paiement de 250,00 € à Boulangerie Martin. Valable 5 min.
 * //  Ne communiquez jamais ce code, meme à votre conseiller.'
 */
export function otpSms(input: OtpTextInput): string {
  assertCode(input.code);
  const what = describeOperation(input.operation, input.locale);
  const ttl = formatLifetime(input.ttlSeconds);
  const text =
    input.locale === 'fr'
      ? `${brandPrefix(input.brand, ' : ')}Code ${input.code} pour confirmer : ${what}. Valable ${ttl}. ${NEVER_SHARE.fr}`
      : `${brandPrefix(input.brand, ': ')}Code ${input.code} to confirm: ${what}. Valid for ${ttl}. ${NEVER_SHARE.en}`;
  return toGsm7(text);
}

export type SecurityChange = { kind: 'secure_phone'; newPhone: E164 } | { kind: 'email'; newEmail: string };

export interface SecurityChangeNoticeInput {
  locale: Locale;
  change: SecurityChange;
  at: Date;
  /** IANA zone the date is shown in. Default Europe/Paris. */
  timeZone?: string;
  /** The bank's number to call when the change was not made by the customer. */
  supportPhone?: string;
  brand?: string;
}

export interface EmailContent {
  subject: string;
  text: string;
  html: string;
}

/**
 * The notice sent to the OLD number or address after a secure-phone or email change, so that a customer
 * whose account was taken over learns it and can react. It shows only the end of the new number.
 *
 * @example
 * const { sms, email } = securityChangeNotice({ locale: 'fr', at: new Date(), supportPhone: '01 23 45 67 89',
 *   change: { kind: 'secure_phone', newPhone: parsePhone('07 81 23 45 67', 'FR').e164 } });
 */
export function securityChangeNotice(input: SecurityChangeNoticeInput): { sms: string; email: EmailContent } {
  const fr = input.locale === 'fr';
  const when = new Intl.DateTimeFormat(fr ? 'fr-FR' : 'en-GB', {
    dateStyle: 'long',
    timeStyle: 'short',
    timeZone: input.timeZone ?? 'Europe/Paris',
  }).format(input.at);
  const phoneChange = input.change.kind === 'secure_phone';
  const newEnd = input.change.kind === 'secure_phone' ? input.change.newPhone.slice(-2) : maskEmail(input.change.newEmail);
  const call = input.supportPhone
    ? fr
      ? `appelez votre banque au ${input.supportPhone} sans attendre`
      : `call your bank on ${input.supportPhone} straight away`
    : fr
      ? 'contactez votre banque sans attendre'
      : 'contact your bank straight away';

  const fact = fr
    ? phoneChange
      ? `le numéro de téléphone sécurisé de votre compte a été remplacé le ${when} par un numéro se terminant par ${newEnd}.`
      : `l'adresse e-mail de votre compte a été remplacée le ${when} par ${newEnd}.`
    : phoneChange
      ? `the secure phone number of your account was replaced on ${when} by a number ending in ${newEnd}.`
      : `the email address of your account was replaced on ${when} by ${newEnd}.`;
  const ifNotYou = fr ? `Si ce n'est pas vous, ${call}.` : `If this was not you, ${call}.`;

  const sms = toGsm7(`${brandPrefix(input.brand, fr ? ' : ' : ': ')}${capitalise(fact)} ${ifNotYou}`);

  const subject = fr
    ? phoneChange
      ? 'Votre numéro de téléphone sécurisé a été modifié'
      : 'Votre adresse e-mail a été modifiée'
    : phoneChange
      ? 'Your secure phone number was changed'
      : 'Your email address was changed';
  const paragraphs = fr
    ? [
        'Bonjour,',
        capitalise(fact),
        `Si vous êtes à l'origine de ce changement, vous n'avez rien à faire.`,
        `Si ce n'est pas vous, ${call} : quelqu'un a peut-être accès à votre compte. Nous vous aiderons à le bloquer et à rétablir vos coordonnées.`,
        `Nous ne vous demanderons jamais un code reçu par SMS ou par appel, ni par téléphone, ni par e-mail. ${NEVER_SHARE.fr}`,
      ]
    : [
        'Hello,',
        capitalise(fact),
        'If you made this change, there is nothing to do.',
        `If this was not you, ${call}: someone may have access to your account. We will help you block it and restore your details.`,
        `We will never ask you for a code received by SMS or call, whether by phone or by email. ${NEVER_SHARE.en}`,
      ];
  const text = paragraphs.join('\n\n') + '\n';
  const html = `<!doctype html>\n<html lang="${input.locale}"><body>\n${paragraphs.map((p) => `<p>${escapeHtml(p)}</p>`).join('\n')}\n</body></html>\n`;
  return { sms, email: { subject, text, html } };
}

export interface VoiceScriptInput {
  locale: Locale;
  operation: OperationData;
  brand?: string;
  /** Where the keys pressed are posted (the server's gather endpoint for this call). */
  actionUrl?: string;
}

/**
 * Read-out mode: the call states the operation, reads the code digit by digit twice, then offers to hear
 * it again (press 1). An answering machine gets `machine`, which has neither code nor operation. An
 * answer the provider could not tell apart (a short voicemail greeting often is) gets `unsure`: the code
 * is read only once a key is pressed, which no voicemail does.
 *
 * @example
 * const script = readOutVoiceScript({ locale: 'fr', code: '123456', ttlSeconds: 300, operation, actionUrl });
 */
export function readOutVoiceScript(input: VoiceScriptInput & { code: string; ttlSeconds: number }): VoiceScript {
  assertCode(input.code);
  const fr = input.locale === 'fr';
  const gather: VoiceSegment = {
    type: 'gather',
    purpose: 'repeat',
    numDigits: 1,
    timeoutSeconds: 5,
    ...(input.actionUrl ? { action: input.actionUrl } : {}),
    prompt: [{ type: 'say', text: fr ? 'Pour réécouter le code, appuyez sur 1.' : 'To hear the code again, press 1.' }],
  };
  const code: VoiceSegment[] = [
    { type: 'say', text: fr ? 'Votre code est :' : 'Your code is:' },
    { type: 'digits', digits: input.code },
    { type: 'pause', seconds: 1 },
    { type: 'say', text: fr ? 'Je répète :' : 'Once again:' },
    { type: 'digits', digits: input.code },
    { type: 'pause', seconds: 1 },
  ];
  const validity: VoiceSegment = {
    type: 'say',
    text: fr
      ? `Ce code est valable ${speakLifetime(input.ttlSeconds, 'fr')}. ${NEVER_SHARE.fr}`
      : `This code is valid for ${speakLifetime(input.ttlSeconds, 'en')}. ${NEVER_SHARE.en}`,
  };
  const ending = goodbye(input.locale);
  const pressToHear: VoiceSegment = {
    ...gather,
    timeoutSeconds: 10,
    prompt: [{ type: 'say', text: fr ? 'Pour entendre votre code, appuyez sur 1.' : 'To hear your code, press 1.' }],
  };
  return {
    mode: 'read-out',
    language: VOICE_LANGUAGE[input.locale],
    answer: [{ type: 'say', text: intro(input) }, { type: 'pause', seconds: 1 }, ...code, validity, gather, ...ending],
    // The repeat key also answers `unsure`'s question: the code, then the same offer to hear it again.
    repeat: { key: '1', segments: [...code, validity, gather, ...ending] },
    unsure: [{ type: 'say', text: intro(input) }, pressToHear, ...ending],
    machine: machine(input),
    goodbye: ending,
  };
}

/**
 * Keypad mode: the call states the operation and asks the person to type the code shown on their screen,
 * followed by #. The keys go to the server (`actionUrl`), which checks them and answers with `keypadResult`.
 */
export function keypadVoiceScript(input: VoiceScriptInput & { codeLength: number }): VoiceScript {
  const fr = input.locale === 'fr';
  return {
    mode: 'keypad',
    language: VOICE_LANGUAGE[input.locale],
    answer: [
      { type: 'say', text: intro(input) },
      {
        type: 'gather',
        purpose: 'code',
        numDigits: input.codeLength,
        finishOnKey: '#',
        timeoutSeconds: 15,
        ...(input.actionUrl ? { action: input.actionUrl } : {}),
        prompt: [
          {
            type: 'say',
            text: fr
              ? 'Tapez sur le clavier de votre téléphone le code affiché sur votre écran, suivi de la touche dièse.'
              : 'Using your phone keypad, type the code shown on your screen, followed by the hash key.',
          },
        ],
      },
      { type: 'say', text: fr ? "Nous n'avons reçu aucun code." : 'We did not receive a code.' },
      ...goodbye(input.locale),
    ],
    machine: machine(input),
    goodbye: goodbye(input.locale),
  };
}

/** What the keypad call says once the server has checked the keys. Never says what was wrong. */
export function keypadResult(locale: Locale, accepted: boolean): VoiceSegment[] {
  const fr = locale === 'fr';
  const text = accepted
    ? fr
      ? 'Merci, votre opération est confirmée.'
      : 'Thank you, your operation is confirmed.'
    : fr
      ? "Le code n'a pas pu être vérifié. Reprenez l'opération depuis votre écran."
      : 'The code could not be verified. Please start again from your screen.';
  return [{ type: 'say', text }, ...goodbye(locale)];
}

function intro(input: VoiceScriptInput): string {
  const what = describeOperation(input.operation, input.locale);
  return input.locale === 'fr'
    ? `Bonjour, ici ${input.brand ?? 'votre banque'}. Cet appel concerne : ${what}. Si vous n'êtes pas à l'origine de cette demande, raccrochez.`
    : `Hello, this is ${input.brand ?? 'your bank'}. This call is about: ${what}. If you did not ask for this, hang up.`;
}

function machine(input: VoiceScriptInput): VoiceSegment[] {
  const text =
    input.locale === 'fr'
      ? `Bonjour, ici ${input.brand ?? 'votre banque'}. Nous vous appelions au sujet d'une opération en cours. Reprenez-la depuis votre espace client.`
      : `Hello, this is ${input.brand ?? 'your bank'}. We called you about an operation in progress. Please continue it from your online banking.`;
  return [{ type: 'say', text }, { type: 'hangup' }];
}

function goodbye(locale: Locale): VoiceSegment[] {
  return [{ type: 'say', text: locale === 'fr' ? 'Au revoir.' : 'Goodbye.' }, { type: 'hangup' }];
}

function assertCode(code: string): void {
  // Codes are read digit by digit and typed on a keypad: digits only.
  if (!/^\d{4,12}$/.test(code)) throw new TypeError('A one-time code is 4 to 12 digits.');
}

function brandPrefix(brand: string | undefined, separator: string): string {
  return brand ? `${brand}${separator}` : '';
}

function capitalise(s: string): string {
  return s.charAt(0).toUpperCase() + s.slice(1);
}

function maskEmail(email: string): string {
  const at = email.lastIndexOf('@');
  if (at < 1) return '•••';
  return `${email[0]}•••${email.slice(at)}`;
}

export function escapeHtml(s: string): string {
  return s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);
}
