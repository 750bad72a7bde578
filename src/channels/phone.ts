// The `max` metadata is the one that knows number types: with the default `min` metadata `getType()` is
// undefined, and we could not tell a mobile (SMS) from a landline (voice only).
import { parsePhoneNumberWithError, ParseError, type CountryCode } from 'libphonenumber-js/max';
import { SesameError } from '../core/errors.js';
import type { E164 } from './types.js';

export type LineType = 'mobile' | 'fixed' | 'fixed_or_mobile' | 'voip' | 'other';

export interface ParsedPhone {
  e164: E164;
  /** ISO 3166-1 alpha-2 country of the number, null for non-geographic numbers (+800, +882…). */
  country: CountryCode | null;
  lineType: LineType;
  /**
   * Whether an OTP may be sent to it by SMS. Mobiles, and numbers whose plan does not tell (US/CA), may;
   * landlines, VoIP (no SIM behind it: in France the 09 "box" numbers) and special numbers may not: offer a
   * voice call instead.
   */
  canReceiveSms: boolean;
  /** National format for display (`06 12 34 56 78`). */
  national: string;
}

export type InvalidPhoneReason = 'not_a_number' | 'missing_country' | 'invalid';

/** The input is not a phone number we can use; `details.reason` says why (never rendered to a third party). */
export class InvalidPhoneNumber extends SesameError {
  readonly reason: InvalidPhoneReason;
  constructor(reason: InvalidPhoneReason, field?: string) {
    const messages: Record<InvalidPhoneReason, string> = {
      not_a_number: 'This is not a phone number.',
      missing_country: 'This phone number needs its country code (e.g. +33).',
      invalid: 'This phone number is not valid.',
    };
    super('ERR_INVALID_PHONE_NUMBER', 400, messages[reason], { reason, ...(field ? { field } : {}) });
    this.reason = reason;
  }
}

/** The number is valid but its country is not on the allow-list (SMS pumping and toll fraud). */
export class PhoneCountryNotAllowed extends SesameError {
  constructor(country: string | null, field?: string) {
    super(
      'ERR_PHONE_COUNTRY_NOT_ALLOWED',
      422,
      country
        ? `Phone numbers from ${country} are not accepted.`
        : 'Phone numbers that belong to no country (international services) are not accepted.',
      { country, ...(field ? { field } : {}) },
    );
  }
}

const LINE_TYPES: Partial<Record<string, LineType>> = {
  MOBILE: 'mobile',
  FIXED_LINE: 'fixed',
  FIXED_LINE_OR_MOBILE: 'fixed_or_mobile',
  VOIP: 'voip',
};

/**
 * Parses what a person typed into an E.164 number and what it can receive.
 *
 * @example
 * parsePhone('06 12 34 56 78', 'FR');
 * // { e164: '+33612345678', country: 'FR', lineType: 'mobile', canReceiveSms: true, national: '06 12 34 56 78' }
 * parsePhone('01 42 68 53 00', 'FR').canReceiveSms; // false: a landline gets a voice call
 */
export function parsePhone(input: string, defaultCountry?: CountryCode): ParsedPhone {
  // Far longer than any number, even written with spaces and an international prefix.
  if (typeof input !== 'string' || input.length > 64) throw new InvalidPhoneNumber('not_a_number');
  let parsed;
  try {
    parsed = parsePhoneNumberWithError(input, defaultCountry);
  } catch (e) {
    if (e instanceof ParseError) {
      if (e.message === 'NOT_A_NUMBER') throw new InvalidPhoneNumber('not_a_number');
      // INVALID_COUNTRY: either no country at all (national format, no default) or an unknown calling code.
      if (e.message === 'INVALID_COUNTRY') {
        throw new InvalidPhoneNumber(defaultCountry || /^\s*(\+|tel:)/.test(input) ? 'invalid' : 'missing_country');
      }
      throw new InvalidPhoneNumber('invalid');
    }
    throw e;
  }
  // An extension cannot receive an SMS or an automated call.
  if (!parsed.isValid() || parsed.ext) throw new InvalidPhoneNumber('invalid');
  const lineType = LINE_TYPES[parsed.getType() ?? ''] ?? 'other';
  return {
    e164: parsed.number as E164,
    country: parsed.country ?? null,
    lineType,
    canReceiveSms: lineType === 'mobile' || lineType === 'fixed_or_mobile',
    national: parsed.formatNational(),
  };
}

/** Whether `raw`, in whatever format the customer typed it, is the number `e164` (false for any unparsable input). */
export function isSamePhone(raw: string, e164: string, defaultCountry?: CountryCode): boolean {
  try {
    return parsePhone(raw, defaultCountry).e164 === e164;
  } catch {
    return false;
  }
}

/**
 * Refuses numbers outside the countries the bank serves: SMS pumping and toll fraud send codes to premium
 * ranges abroad (+1 876 is Jamaica, not the US, hence a check by country rather than by calling code).
 *
 * @example
 * assertCountryAllowed(parsePhone('+18765551234'), ['FR', 'US']); // throws PhoneCountryNotAllowed (JM)
 */
export function assertCountryAllowed(phone: Pick<ParsedPhone, 'country'>, allowList: readonly string[], field?: string): void {
  const allowed = new Set(allowList.map((c) => c.trim().toUpperCase()));
  if (!phone.country || !allowed.has(phone.country)) throw new PhoneCountryNotAllowed(phone.country, field);
}

/**
 * A number codes may be sent to, as the request gave it in `field`: parsed ({@link parsePhone}) and of a
 * country on the allow-list ({@link assertCountryAllowed}); the errors name the field.
 */
export function parseCodeRecipient(
  input: string,
  channels: { defaultCountry: string; allowedCountries: readonly string[] },
  field: string,
): ParsedPhone {
  let phone: ParsedPhone;
  try {
    phone = parsePhone(input, channels.defaultCountry as CountryCode);
  } catch (e) {
    throw e instanceof InvalidPhoneNumber ? new InvalidPhoneNumber(e.reason, field) : e;
  }
  assertCountryAllowed(phone, channels.allowedCountries, field);
  return phone;
}

/**
 * The number as shown to someone who must recognise it without learning it: only the last two digits.
 *
 * @example
 * maskPhone('+33612345678'); // '+33 • •• •• •• 78'
 */
export function maskPhone(e164: E164 | string): string {
  try {
    const p = parsePhoneNumberWithError(e164);
    const prefix = `+${p.countryCallingCode}`;
    const rest = p.formatInternational().slice(prefix.length);
    let hidden = rest.replace(/\D/g, '').length - 2;
    return prefix + rest.replace(/\d/g, (d) => (hidden-- > 0 ? '•' : d));
  } catch {
    return `••${e164.slice(-2)}`;
  }
}
