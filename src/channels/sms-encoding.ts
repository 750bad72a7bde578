/**
 * SMS length in the units carriers bill. A text made only of GSM 03.38 characters fits 160 of them in one
 * SMS (153 per part when split); a single other character (ê, ç, a typographic apostrophe, a narrow
 * no-break space) switches the whole SMS to UCS-2, 70 characters (67 per part). So the texts we send are
 * passed through `toGsm7()` first.
 */

// GSM 03.38 default alphabet (one septet each), in table order. \n and \r are part of it.
const GSM_BASIC =
  '@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞ\u001bÆæßÉ !"#¤%&\'()*+,-./0123456789:;<=>?¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà';
// Extension table: each costs an escape septet plus its own.
const GSM_EXTENDED = '^{}\\[~]|€\f';

const BASIC = new Set(GSM_BASIC);
const EXTENDED = new Set(GSM_EXTENDED);

// Common characters of French and English text that GSM lacks, with the nearest GSM spelling.
const REPLACEMENTS: Record<string, string> = {
  '\u00a0': ' ',
  '\u202f': ' ',
  '\u2009': ' ',
  '\u2019': "'",
  '\u2018': "'",
  '\u201c': '"',
  '\u201d': '"',
  '«': '"',
  '»': '"',
  '\u2013': '-',
  '\u2014': '-',
  '\u2026': '...',
  œ: 'oe',
  Œ: 'OE',
  ç: 'c',
  '•': '*',
};

export function isGsm7(text: string): boolean {
  for (const ch of text) if (!BASIC.has(ch) && !EXTENDED.has(ch)) return false;
  return true;
}

/**
 * Rewrites a text with GSM 03.38 characters only: known look-alikes first, then accents that GSM lacks are
 * dropped (ê → e, â → a), anything else becomes `?`.
 *
 * @example
 * toGsm7('même à 1\u202f234,50\u00a0€'); // 'meme à 1 234,50 €'
 */
export function toGsm7(text: string): string {
  let out = '';
  for (const ch of text) {
    if (BASIC.has(ch) || EXTENDED.has(ch)) out += ch;
    else if (REPLACEMENTS[ch] !== undefined) out += REPLACEMENTS[ch];
    else {
      const base = ch.normalize('NFD').replace(/\p{M}/gu, '');
      out += base !== ch && isGsm7(base) ? base : '?';
    }
  }
  return out;
}

export interface SmsLength {
  encoding: 'GSM-7' | 'UCS-2';
  /** Septets (GSM-7) or UTF-16 code units (UCS-2). */
  units: number;
  segments: number;
}

/**
 * @example
 * smsLength('Code 123456'); // { encoding: 'GSM-7', units: 11, segments: 1 }
 */
export function smsLength(text: string): SmsLength {
  if (isGsm7(text)) {
    let units = 0;
    for (const ch of text) units += EXTENDED.has(ch) ? 2 : 1;
    return { encoding: 'GSM-7', units, segments: units <= 160 ? 1 : Math.ceil(units / 153) };
  }
  const units = text.length;
  return { encoding: 'UCS-2', units, segments: units <= 70 ? 1 : Math.ceil(units / 67) };
}
