import { describe, expect, it } from 'vitest';
import { assertCountryAllowed, InvalidPhoneNumber, maskPhone, parsePhone, PhoneCountryNotAllowed } from '../../src/channels/phone.js';
import { asE164 } from '../../src/channels/types.js';

describe('parsePhone', () => {
  it('normalises a French mobile typed in national format to E.164, and lets it receive SMS', () => {
    for (const typed of ['06 12 34 56 78', '0612345678', '06.12.34.56.78', '+33 6 12 34 56 78', '0033612345678', '+33 (0)6 12 34 56 78']) {
      const p = parsePhone(typed, 'FR');
      expect(p, typed).toMatchObject({ e164: '+33612345678', country: 'FR', lineType: 'mobile', canReceiveSms: true });
    }
    expect(parsePhone('07 81 23 45 67', 'FR')).toMatchObject({ e164: '+33781234567', lineType: 'mobile', national: '07 81 23 45 67' });
  });

  it('knows a French landline (01 to 05) cannot receive an SMS, so a voice call is offered instead', () => {
    for (const [typed, e164] of [
      ['01 42 68 53 00', '+33142685300'],
      ['05 56 12 34 56', '+33556123456'],
    ]) {
      expect(parsePhone(typed!, 'FR')).toMatchObject({ e164, country: 'FR', lineType: 'fixed', canReceiveSms: false });
    }
  });

  it('treats a French 09 "box" number as VoIP (no SIM behind it): no SMS', () => {
    expect(parsePhone('09 71 23 45 67', 'FR')).toMatchObject({ e164: '+33971234567', lineType: 'voip', canReceiveSms: false });
  });

  it('parses UK mobiles and landlines, from national format with GB or in international format', () => {
    expect(parsePhone('07400 123456', 'GB')).toMatchObject({
      e164: '+447400123456',
      country: 'GB',
      lineType: 'mobile',
      canReceiveSms: true,
    });
    expect(parsePhone('+44 20 7946 0000', 'FR')).toMatchObject({
      e164: '+442079460000',
      country: 'GB',
      lineType: 'fixed',
      canReceiveSms: false,
    });
  });

  it('a number whose plan cannot tell mobile from fixed (US) may still get an SMS', () => {
    expect(parsePhone('+1 212 555 0123')).toMatchObject({ country: 'US', lineType: 'fixed_or_mobile', canReceiveSms: true });
  });

  it('special numbers (premium rate, toll free) are "other" and get no SMS', () => {
    expect(parsePhone('08 99 12 34 56', 'FR')).toMatchObject({ lineType: 'other', canReceiveSms: false });
    expect(parsePhone('0800 123 456', 'FR')).toMatchObject({ lineType: 'other', canReceiveSms: false });
  });

  it('says why a number is refused: not a number, country missing, or not valid', () => {
    const reason = (input: string, country?: 'FR') => {
      try {
        parsePhone(input, country);
      } catch (e) {
        expect(e).toBeInstanceOf(InvalidPhoneNumber);
        expect((e as InvalidPhoneNumber).code).toBe('ERR_INVALID_PHONE_NUMBER');
        return (e as InvalidPhoneNumber).reason;
      }
      return 'accepted';
    };
    expect(reason('hello', 'FR')).toBe('not_a_number');
    expect(reason('', 'FR')).toBe('not_a_number');
    expect(reason('x'.repeat(65), 'FR')).toBe('not_a_number');
    expect(reason('0612345678')).toBe('missing_country');
    expect(reason('06 12', 'FR')).toBe('invalid');
    expect(reason('+33 6 12 34 56 789')).toBe('invalid');
    expect(reason('+999 1234')).toBe('invalid');
    expect(reason('+33 6 12 34 56 78 ext. 12')).toBe('invalid');
  });
});

describe('assertCountryAllowed', () => {
  const allow = ['FR', 'gb', 'US'];

  it('accepts numbers of the countries the bank serves (case-insensitive list)', () => {
    expect(() => assertCountryAllowed(parsePhone('06 12 34 56 78', 'FR'), allow)).not.toThrow();
    expect(() => assertCountryAllowed(parsePhone('+447400123456'), allow)).not.toThrow();
  });

  it('refuses +1 876 (Jamaica) even when the US is allowed: the check is by country, not calling code', () => {
    const jamaica = parsePhone('+1 876 555 1234');
    expect(jamaica.country).toBe('JM');
    expect(() => assertCountryAllowed(jamaica, allow)).toThrow(PhoneCountryNotAllowed);
  });

  it('refuses numbers of other countries and numbers that belong to no country', () => {
    expect(() => assertCountryAllowed(parsePhone('+41 79 123 45 67'), allow)).toThrow(/CH are not accepted/);
    expect(() => assertCountryAllowed({ country: null }, allow)).toThrow(PhoneCountryNotAllowed);
    expect(() => assertCountryAllowed(parsePhone('06 12 34 56 78', 'FR'), [])).toThrow(PhoneCountryNotAllowed);
  });
});

describe('asE164 and maskPhone', () => {
  it('brands only strings already in E.164', () => {
    expect(asE164('+33612345678')).toBe('+33612345678');
    expect(() => asE164('0612345678')).toThrow(TypeError);
    expect(() => asE164('+0612345678')).toThrow(TypeError);
  });

  it('shows only the last two digits of a number', () => {
    expect(maskPhone('+33612345678')).toBe('+33 • •• •• •• 78');
    expect(maskPhone('+33612345678').replace(/\D/g, '')).toBe('3378');
  });
});
