/** Small display helpers with no language in them (those live in i18n.tsx). */

/** `FR7630006000011234567890189` → `FR76 3000 6000 0112 3456 7890 189`. */
export function formatIban(iban: string): string {
  return iban.replace(/\s+/g, '').replace(/(.{4})(?=.)/g, '$1 ');
}

/** A base32 secret in groups of four, easier to copy by hand or into `oathtool`. */
export function groupSecret(secret: string): string {
  return secret.replace(/(.{4})(?=.)/g, '$1 ');
}

/**
 * What the customer typed as an amount, in cents: "250", "250,00", "250.5", "1 250,75" → 25000, 25000,
 * 25050, 125075. `null` when it is not a positive amount with at most two decimals.
 */
export function parseAmountToCents(input: string): number | null {
  const s = input.replace(/[\s\u00a0\u202f€]/g, '').replace(',', '.');
  const match = /^(\d{1,9})(?:\.(\d{1,2}))?$/.exec(s);
  if (!match) return null;
  const cents = Number(match[1]) * 100 + Number((match[2] ?? '').padEnd(2, '0'));
  return cents > 0 ? cents : null;
}

/** A data: URL for an SVG document, so it is shown through <img> (where it can run no script). */
export function svgDataUrl(svg: string): string {
  return `data:image/svg+xml;charset=utf-8,${encodeURIComponent(svg)}`;
}
