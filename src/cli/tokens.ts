import fs from 'node:fs';
import { parseArgs } from 'node:util';
import type { Services } from '../context.js';
import { NotFound } from '../core/errors.js';
import { findCustomer, findCustomerByRef } from '../journeys/customers.js';
import { assignHardwareToken, importHardwareTokens } from '../journeys/hardware-tokens.js';

/** `sesame tokens …` usage lines, for the main help. */
export const TOKENS_HELP = `  tokens import FILE [--format pskc|csv] [--password-file F] [--psk-file F]
                                        Import hardware OATH tokens (all or nothing; format from the extension);
                                        the file's password or AES key (hex) is read from F, or stdin for -
  tokens assign SERIAL CUSTOMER [--authentication-code CODE]
                                        Assign a token in stock to a customer (id or ref), pending its first code`;

/**
 * The operator's side of hardware tokens: import the vendor's file into stock (no size limit here, unlike
 * the API), and assign a token to a customer at the branch counter.
 *
 * @example
 * printf %s "$PSKC_PASSWORD" | sesame tokens import tokens.pskc --password-file -
 * sesame tokens assign 987654321 alice-ref
 */
export async function tokensCommand(s: Services, sub: string, args: string[]): Promise<number> {
  if (sub === 'import') {
    const { values, positionals } = parseArgs({
      args,
      allowPositionals: true,
      strict: true,
      options: {
        format: { type: 'string' },
        'password-file': { type: 'string' },
        'psk-file': { type: 'string' },
        // Refused with a pointer to the file options: a secret in the arguments shows in `ps` and shell history.
        password: { type: 'string' },
        psk: { type: 'string' },
      },
    });
    if (values.password !== undefined || values.psk !== undefined) {
      throw new Error('A secret in the arguments shows in ps and shell history: use --password-file F or --psk-file F (- for stdin).');
    }
    const file = positionals[0];
    if (!file || positionals.length > 1) throw new Error('Give one file: sesame tokens import FILE.');
    const format = values.format ?? (/\.csv$/i.test(file) ? 'csv' : 'pskc');
    if (format !== 'pskc' && format !== 'csv') throw new Error(`Unknown format "${format}" (pskc or csv).`);
    if (values['password-file'] === '-' && values['psk-file'] === '-') throw new Error('Only one of the secrets can come from stdin.');
    const password = values['password-file'] === undefined ? undefined : withoutFinalNewline(readSecret(values['password-file']));
    const psk = values['psk-file'] === undefined ? undefined : readSecret(values['psk-file']).trim();
    if (psk !== undefined && !/^([0-9a-fA-F]{32}|[0-9a-fA-F]{48}|[0-9a-fA-F]{64})$/.test(psk)) {
      throw new Error('--psk-file must hold an AES key of 16, 24 or 32 bytes in hex.');
    }
    const r = await importHardwareTokens(s, 'cli', {
      format,
      content: fs.readFileSync(file, 'utf8'),
      password,
      preSharedKeyHex: psk,
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

/** A secret from a file, or from stdin for `-` (file descriptor 0, read whole). */
function readSecret(file: string): string {
  return fs.readFileSync(file === '-' ? 0 : file, 'utf8');
}

/** `echo secret > file` adds a newline the secret does not have; other whitespace may be part of a password. */
function withoutFinalNewline(text: string): string {
  return text.replace(/\r?\n$/, '');
}
