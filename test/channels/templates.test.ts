import { describe, expect, it } from 'vitest';
import { formatAmount, describeOperation } from '../../src/channels/operation-text.js';
import { isGsm7, smsLength, toGsm7 } from '../../src/channels/sms-encoding.js';
import { keypadResult, keypadVoiceScript, otpSms, readOutVoiceScript, securityChangeNotice } from '../../src/channels/templates.js';
import { asE164, type VoiceSegment } from '../../src/channels/types.js';
import type { OperationData } from '../../src/core/operations.js';

const payment: OperationData = { type: 'payment', amount: { value: 25000, currency: 'EUR' }, payee: { name: 'Boulangerie Martin' } };
const said = (segments: VoiceSegment[]): string =>
  segments
    .flatMap((s) => (s.type === 'gather' ? s.prompt : [s]))
    .map((s) => (s.type === 'say' ? s.text : s.type === 'digits' ? s.digits : ''))
    .join(' ');

describe('formatAmount', () => {
  it('formats minor units per locale, exactly', () => {
    expect(formatAmount({ value: 25000, currency: 'EUR' }, 'fr').replace(/\s/g, ' ')).toBe('250,00 €');
    expect(formatAmount({ value: 123450, currency: 'EUR' }, 'fr').replace(/\s/g, ' ')).toBe('1 234,50 €');
    expect(formatAmount({ value: 25000, currency: 'EUR' }, 'en')).toBe('€250.00');
    expect(formatAmount({ value: 1999, currency: 'GBP' }, 'en')).toBe('£19.99');
    expect(formatAmount({ value: 1500, currency: 'JPY' }, 'en')).toBe('JP¥1,500');
    // Beyond what a float holds exactly.
    expect(formatAmount({ value: 9_999_999_999_999, currency: 'EUR' }, 'en')).toBe('€99,999,999,999.99');
  });
});

describe('otpSms', () => {
  it('FR: states the amount, the payee, the code, its lifetime and the warning', () => {
    const sms = otpSms({ locale: 'fr', operation: payment, code: '123456', ttlSeconds: 300 });
    expect(sms).toBe(
      'Code 123456 pour confirmer : paiement de 250,00 € à Boulangerie Martin. Valable 5 min. Ne communiquez jamais ce code, meme à votre conseiller.',
    );
  });

  it('EN: states the amount, the payee, the code, its lifetime and the warning', () => {
    const sms = otpSms({ locale: 'en', operation: payment, code: '123456', ttlSeconds: 300 });
    expect(sms).toContain('€250.00');
    expect(sms).toContain('Boulangerie Martin');
    expect(sms).toContain('123456');
    expect(sms).toContain('5 min');
    expect(sms).toContain('Never give this code to anyone, not even your adviser.');
  });

  it('a typical French payment fits in one SMS of 160 GSM characters, even with the bank name first', () => {
    for (const brand of [undefined, 'Ma Banque']) {
      const sms = otpSms({ locale: 'fr', operation: payment, code: '123456', ttlSeconds: 300, ...(brand ? { brand } : {}) });
      expect(isGsm7(sms)).toBe(true);
      const length = smsLength(sms);
      expect(length.encoding).toBe('GSM-7');
      expect(length.units).toBeLessThanOrEqual(160);
      expect(length.segments).toBe(1);
    }
    const en = smsLength(otpSms({ locale: 'en', operation: payment, code: '123456', ttlSeconds: 300, brand: 'My Bank' }));
    expect(en).toMatchObject({ encoding: 'GSM-7', segments: 1 });
  });

  it('a payee name with letters GSM lacks is spelled without their accents rather than tripling the SMS', () => {
    const sms = otpSms({
      locale: 'fr',
      operation: { type: 'payment', amount: { value: 1234567, currency: 'EUR' }, payee: { name: 'Pâtisserie Crème Brûlée' } },
      code: '654321',
      ttlSeconds: 300,
    });
    expect(sms).toContain('12 345,67 €'); // no-break spaces became plain ones
    expect(sms).toContain('Patisserie Crème Brulée');
    expect(isGsm7(sms)).toBe(true);
  });

  it('names a secure-phone change instead of an amount', () => {
    const sms = otpSms({ locale: 'fr', operation: { type: 'change_phone', phone: '+33781234567' }, code: '123456', ttlSeconds: 300 });
    expect(sms).toContain('changement de numéro de téléphone sécurisé');
    expect(sms).not.toContain('+33781234567');
    expect(smsLength(sms).segments).toBe(1);
  });

  it('refuses a code that is not 4 to 12 digits', () => {
    expect(() => otpSms({ locale: 'fr', operation: payment, code: '12a456', ttlSeconds: 300 })).toThrow(TypeError);
  });
});

describe('describeOperation', () => {
  it('describes each kind of operation in both languages', () => {
    const ops: OperationData[] = [
      { type: 'login' },
      payment,
      {
        type: 'batch_payment',
        total: { value: 3000, currency: 'EUR' },
        payees: [
          { payee: { name: 'A' }, amount: { value: 1000, currency: 'EUR' } },
          { payee: { name: 'B' }, amount: { value: 2000, currency: 'EUR' } },
        ],
      },
      { type: 'add_beneficiary', payee: { name: 'Jean Dupont' } },
      { type: 'change_email', email: 'a@example.com' },
      { type: 'card_limit_increase', card: { id: 'c1' }, limit: { value: 300000, currency: 'EUR' } },
      { type: 'manage_authenticators', action: 'add', kind: 'webauthn' },
    ];
    for (const op of ops) {
      expect(describeOperation(op, 'fr').length).toBeGreaterThan(5);
      expect(describeOperation(op, 'en').length).toBeGreaterThan(5);
    }
    expect(describeOperation(ops[2]!, 'en')).toBe('bulk payment of €30.00 to 2 payees');
    expect(describeOperation(ops[6]!, 'fr')).toBe("ajout d'un moyen d'authentification (clé de sécurité)");
  });

  it('names the number or token an enrolment adds, so the customer sees what the code is for', () => {
    const sms: OperationData = { type: 'manage_authenticators', action: 'add', kind: 'sms', target: '+33611223344' };
    expect(describeOperation(sms, 'fr')).toBe("ajout d'un moyen d'authentification (SMS +33611223344)");
    const token: OperationData = { type: 'manage_authenticators', action: 'add', kind: 'ocra', target: '987654321' };
    expect(describeOperation(token, 'en')).toBe('adding a sign-in method (hardware token 987654321)');
    const totpToken: OperationData = { type: 'manage_authenticators', action: 'add', kind: 'totp', target: '555000111' };
    expect(describeOperation(totpToken, 'fr')).toBe("ajout d'un moyen d'authentification (jeton physique 555000111)");
  });
});

describe('securityChangeNotice', () => {
  const at = new Date('2026-03-04T10:05:00Z');

  it('tells the OLD number and address what changed, when, and what to do if it was not them', () => {
    const { sms, email } = securityChangeNotice({
      locale: 'fr',
      at,
      supportPhone: '01 23 45 67 89',
      change: { kind: 'secure_phone', newPhone: asE164('+33781234567') },
    });
    expect(sms).toContain('4 mars 2026 à 11:05');
    expect(sms).toContain('se terminant par 67');
    expect(sms).not.toContain('81 23 45');
    expect(sms).toContain("Si ce n'est pas vous, appelez votre banque au 01 23 45 67 89 sans attendre.");
    expect(isGsm7(sms)).toBe(true);
    expect(email.subject).toBe('Votre numéro de téléphone sécurisé a été modifié');
    expect(email.text).toContain("Si ce n'est pas vous");
    expect(email.text).toContain('Ne communiquez jamais ce code, même à votre conseiller.');
    expect(email.html).toContain('<p>');
  });

  it('EN, for an email change, masks the new address', () => {
    const { sms, email } = securityChangeNotice({ locale: 'en', at, change: { kind: 'email', newEmail: 'thief@example.net' } });
    expect(sms).toContain('4 March 2026 at 11:05');
    expect(sms).toContain('t***@example.net');
    expect(sms).toContain('If this was not you, contact your bank straight away.');
    expect(email.subject).toBe('Your email address was changed');
    expect(email.text).not.toContain('thief');
  });

  it('escapes what it puts in the HTML', () => {
    const { email } = securityChangeNotice({
      locale: 'en',
      at,
      supportPhone: '<b>0800</b>',
      change: { kind: 'secure_phone', newPhone: asE164('+447400123456') },
    });
    expect(email.html).toContain('&lt;b&gt;0800&lt;/b&gt;');
    expect(email.html).not.toContain('<b>');
  });
});

describe('voice scripts', () => {
  it('read-out: states the operation, reads the code digit by digit twice, then offers to hear it again with 1', () => {
    const script = readOutVoiceScript({
      locale: 'fr',
      operation: payment,
      code: '123456',
      ttlSeconds: 300,
      actionUrl: 'https://s.example/v/1',
    });
    expect(script).toMatchObject({ mode: 'read-out', language: 'fr-FR' });
    const text = said(script.answer);
    expect(text).toContain('paiement de 250,00');
    expect(text).toContain('Boulangerie Martin');
    expect(text).toContain('Ne communiquez jamais ce code, même à votre conseiller.');
    expect(script.answer.filter((s) => s.type === 'digits')).toEqual([
      { type: 'digits', digits: '123456' },
      { type: 'digits', digits: '123456' },
    ]);
    const gather = script.answer.find((s) => s.type === 'gather');
    expect(gather).toMatchObject({ purpose: 'repeat', numDigits: 1, action: 'https://s.example/v/1' });
    expect(said([gather!])).toContain('appuyez sur 1');
    expect(script.repeat?.key).toBe('1');
    expect(script.repeat!.segments.filter((s) => s.type === 'digits')).toHaveLength(2);
    expect(script.answer.at(-1)).toEqual({ type: 'hangup' });
  });

  it('read-out: an answering machine hears neither the code nor the operation', () => {
    for (const locale of ['fr', 'en'] as const) {
      const script = readOutVoiceScript({ locale, operation: payment, code: '987654', ttlSeconds: 300 });
      const text = JSON.stringify(script.machine);
      expect(text).not.toMatch(/9.?8.?7.?6.?5.?4/);
      expect(text).not.toContain('Boulangerie');
    }
  });

  it('keypad: states the operation and asks for the code on screen followed by #', () => {
    const script = keypadVoiceScript({ locale: 'en', operation: payment, codeLength: 6, actionUrl: 'https://s.example/k' });
    expect(script).toMatchObject({ mode: 'keypad', language: 'en-GB' });
    expect(said(script.answer)).toContain('payment of €250.00 to Boulangerie Martin');
    const gather = script.answer.find((s) => s.type === 'gather');
    expect(gather).toMatchObject({ purpose: 'code', numDigits: 6, finishOnKey: '#', action: 'https://s.example/k' });
    expect(said([gather!])).toContain('followed by the hash key');
    expect(said(keypadResult('fr', false))).not.toMatch(/incorrect|faux|mauvais/);
  });
});

describe('toGsm7', () => {
  it('keeps GSM letters, replaces look-alikes, drops accents GSM lacks', () => {
    expect(toGsm7('éèàùÉÇ')).toBe('éèàùÉÇ');
    expect(toGsm7('même l’œuvre « ici » – fin…')).toBe('meme l\'oeuvre " ici " - fin...');
    expect(toGsm7('Москва')).toBe('??????');
    expect(smsLength('€').units).toBe(2);
    expect(smsLength('ê')).toMatchObject({ encoding: 'UCS-2', units: 1 });
    expect(smsLength('a'.repeat(161))).toMatchObject({ encoding: 'GSM-7', segments: 2 });
  });
});
