/**
 * IBAN helpers (ISO 13616): the bank checks a payee's IBAN before asking Sésame to authenticate a
 * payment, so that a typo is caught before the customer spends an authentication on it.
 */

/** Uppercase, without spaces. */
export function normaliseIban(raw: string): string {
  return raw.replace(/\s+/g, '').toUpperCase();
}

/** Country code, check digits, then an alphanumeric BBAN; valid when the mod-97 remainder is 1. */
export function isValidIban(raw: string): boolean {
  const iban = normaliseIban(raw);
  if (!/^[A-Z]{2}\d{2}[A-Z0-9]{11,30}$/.test(iban)) return false;
  return mod97(iban.slice(4) + iban.slice(0, 4)) === 1;
}

/** Groups of four for display: `FR76 3000 6000 …`. */
export function formatIban(raw: string): string {
  return normaliseIban(raw).replace(/(.{4})(?=.)/g, '$1 ');
}

/** Builds a valid IBAN from a country code and a BBAN by computing its check digits. */
export function makeIban(country: string, bban: string): string {
  const check = 98 - mod97(bban + country + '00');
  return `${country}${String(check).padStart(2, '0')}${bban}`;
}

/** Remainder modulo 97 of the number spelled by letters A=10 … Z=35 and digits, digit by digit. */
function mod97(s: string): number {
  let r = 0;
  for (const ch of s) {
    const v = ch >= 'A' && ch <= 'Z' ? String(ch.charCodeAt(0) - 55) : ch;
    for (const d of v) r = (r * 10 + Number(d)) % 97;
  }
  return r;
}
