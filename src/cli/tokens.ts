import fs from 'node:fs';
import { parseArgs } from 'node:util';
import type { Services } from '../context.js';
import { NotFound } from '../core/errors.js';
import { findCustomer, findCustomerByRef } from '../journeys/customers.js';
import { assignHardwareToken, importHardwareTokens } from '../journeys/hardware-tokens.js';

/** `sesame tokens …` usage lines, for the main help. */
export const TOKENS_HELP = `  tokens import FILE [--format pskc|csv] [--password P] [--psk HEX]
                                        Import hardware OATH tokens (all or nothing; format from the extension)
  tokens assign SERIAL CUSTOMER [--authentication-code CODE]
                                        Assign a token in stock to a customer (id or ref), pending its first code`;

/**
 * The operator's side of hardware tokens: import the vendor's file into stock (no size limit here, unlike
 * the API), and assign a token to a customer at the branch counter.
 *
 * @example
 * sesame tokens import tokens.pskc --password qwerty
 * sesame tokens assign 987654321 alice-ref
 */
export async function tokensCommand(s: Services, sub: string, args: string[]): Promise<number> {
  if (sub === 'import') {
    const { values, positionals } = parseArgs({
      args,
      allowPositionals: true,
      strict: true,
      options: { format: { type: 'string' }, password: { type: 'string' }, psk: { type: 'string' } },
    });
    const file = positionals[0];
    if (!file || positionals.length > 1) throw new Error('Give one file: sesame tokens import FILE.');
    const format = values.format ?? (/\.csv$/i.test(file) ? 'csv' : 'pskc');
    if (format !== 'pskc' && format !== 'csv') throw new Error(`Unknown format "${format}" (pskc or csv).`);
    if (values.psk !== undefined && !/^([0-9a-fA-F]{32}|[0-9a-fA-F]{48}|[0-9a-fA-F]{64})$/.test(values.psk)) {
      throw new Error('--psk must be an AES key of 16, 24 or 32 bytes in hex.');
    }
    const r = await importHardwareTokens(s, 'cli', {
      format,
      content: fs.readFileSync(file, 'utf8'),
      password: values.password,
      preSharedKeyHex: values.psk,
    });
    console.log(`Imported ${r.imported} token(s): ${r.serials.join(', ')}`);
    return 0;
  }
  const { values, positionals } = parseArgs({
    args,
    allowPositionals: true,
    strict: true,
    options: { 'authentication-code': { type: 'string' } },
  });
  const [serial, who] = positionals;
  if (!serial || !who || positionals.length > 2) throw new Error('Usage: sesame tokens assign SERIAL CUSTOMER.');
  const customer = await findCustomer(s.db, who).catch((e: unknown) => {
    if (e instanceof NotFound) return findCustomerByRef(s.db, who);
    throw e;
  });
  const e = await assignHardwareToken(s, {
    rpId: 'cli',
    customerId: customer.id,
    serial,
    authenticationCode: values['authentication-code'],
  });
  console.log(`Token ${e.serial} assigned to ${customer.external_ref}: ${e.kind} authenticator ${e.id}, ${e.status}.`);
  if (e.activationChallenge) console.log(`Activation challenge (type it on the token): ${e.activationChallenge}`);
  console.log(
    `Activate before ${e.activateBefore}: POST /v1/customers/${customer.id}/authenticators/${e.id}/activate with the token's code.`,
  );
  return 0;
}
