import { describe, expect, it } from 'vitest';
import { importTokenCsv } from '../../src/methods/pskc/csv.js';
import { TokenImportError } from '../../src/methods/pskc/pskc.js';

const SEED = Buffer.from('12345678901234567890', 'latin1');
const SEED_HEX = SEED.toString('hex');
const SEED_B32 = 'GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ'; // RFC 4648 base32 of the same 20 bytes

function csvError(csv: string): TokenImportError {
  try {
    importTokenCsv(csv);
  } catch (err) {
    expect(err).toBeInstanceOf(TokenImportError);
    expect((err as TokenImportError).code).toBe('ERR_TOKEN_CSV');
    return err as TokenImportError;
  }
  throw new Error('expected a TokenImportError');
}

describe('token CSV import', () => {
  it('reads HOTP, TOTP and OCRA tokens, hex or base32 secrets, with defaults', () => {
    const csv = [
      'serial,secret,type,digits,extra',
      `H1,${SEED_HEX},hotp,6,42`,
      `H2,${SEED_B32},HOTP,8`,
      `T1,${SEED_B32.toLowerCase()},totp,6,60`,
      `T2,base32:${SEED_B32}======,totp,8,`,
      `O1,hex:${SEED_HEX},ocra,8,OCRA-1:HOTP-SHA256-8:C-QN08-PSHA1`,
      `O2,${SEED_HEX},ocra,8,OCRA-1:HOTP-SHA512-8:QN08-T1M`,
      '',
    ].join('\r\n');
    expect(importTokenCsv(csv)).toEqual([
      { serial: 'H1', algorithm: 'hotp', secret: SEED, digits: 6, counter: 42 },
      { serial: 'H2', algorithm: 'hotp', secret: SEED, digits: 8, counter: 0 },
      { serial: 'T1', algorithm: 'totp', secret: SEED, digits: 6, timeStep: 60 },
      { serial: 'T2', algorithm: 'totp', secret: SEED, digits: 8, timeStep: 30 },
      { serial: 'O1', algorithm: 'ocra', secret: SEED, digits: 8, ocraSuite: 'OCRA-1:HOTP-SHA256-8:C-QN08-PSHA1', counter: 0 },
      { serial: 'O2', algorithm: 'ocra', secret: SEED, digits: 8, ocraSuite: 'OCRA-1:HOTP-SHA512-8:QN08-T1M', timeStep: 60 },
    ]);
  });

  it('reports every bad line by number, and imports nothing', () => {
    const csv = [
      'serial,secret,type,digits,extra', // line 1
      `OK1,${SEED_HEX},hotp,6`, // 2
      `BAD1,${SEED_HEX},sms,6`, // 3
      `BAD2,not-a-secret!,hotp,6`, // 4
      '', // 5 (blank: skipped)
      `BAD3,${SEED_HEX},totp,5`, // 6
      `BAD4,${SEED_HEX},ocra,6,OCRA-1:HOTP-SHA256-8:QN08`, // 7
      `BAD5,${SEED_HEX},ocra,8`, // 8
      `BAD6,${SEED_HEX},hotp,6,-3`, // 9
      `OK1,${SEED_B32},hotp,6`, // 10: repeated serial
      `BAD7,${SEED_HEX}`, // 11
      `BAD8,hex:${SEED_HEX}0,hotp,6`, // 12
      `BAD9,${SEED_HEX},ocra,8,OCRA-1:HOTP-SHA256-8:QZ08`, // 13
    ].join('\n');
    const err = csvError(csv);
    const lines = (err.details.lines as { line: number; reason: string }[]).map((l) => l.line);
    expect(lines).toEqual([3, 4, 6, 7, 8, 9, 10, 11, 12, 13]);
    expect(err.message).toContain('line 3:');
    expect(err.message).toContain('line 10: serial repeats line 2');
  });

  it('never quotes a secret, good or bad, in the error', () => {
    const badSecret = 'ZZZZ-secret-value-ZZZZ';
    const err = csvError(`serial,secret,type,digits\nA,${badSecret},hotp,6\nB,${SEED_HEX},hotp,99\nC,${SEED_B32},xotp,6\n`);
    const rendered = `${err.message} ${JSON.stringify(err.details)}`;
    for (const s of [badSecret, SEED_HEX, SEED_B32, SEED.toString('latin1')]) expect(rendered).not.toContain(s);
  });

  it('needs the header line', () => {
    const err = csvError(`H1,${SEED_HEX},hotp,6\n`);
    expect(err.details.lines).toEqual([{ line: 1, reason: 'missing header' }]);
    expect(csvError('').code).toBe('ERR_TOKEN_CSV');
  });

  it('accepts a UTF-8 BOM and quoted fields', () => {
    expect(importTokenCsv(`\uFEFFserial,secret,type,digits\n"Q1","${SEED_HEX}","hotp","6"\n`)).toEqual([
      { serial: 'Q1', algorithm: 'hotp', secret: SEED, digits: 6, counter: 0 },
    ]);
  });
});
