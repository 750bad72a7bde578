import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { type Browser, type Page } from 'playwright-core';
import { CHROMIUM, launchChromium } from '../support/chromium.js';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import type { Sesame } from '../../src/app.js';
import { printBanner } from '../../src/cli/banner.js';
import { loadConfig } from '../../src/config.js';
import { DEMO_OCRA_SUITE, type DemoCustomer } from '../../src/demo/seed.js';
import { hotpCode } from '../../src/methods/hotp/hotp.js';
import { generateOcra } from '../../src/methods/ocra/ocra.js';
import { startDemoSesame } from '../support/demo-sesame.js';

/**
 * Hardware OATH tokens as a way in, in the browser. denis has no phone app: a HOTP token (press, read the
 * code) and an OCRA reader (type the challenge the screen shows, read the response). He logs in with his
 * password and the HOTP token's code, then pays €250 with the reader: the challenge is the transfer's own,
 * and a response to any other challenge is refused with the generic message.
 * Screenshots land in /tmp/tokens-*.png.
 */
const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');

describe.skipIf(!fs.existsSync(CHROMIUM))('the web banking with hardware tokens, in Chromium', () => {
  let sesame: Sesame;
  let browser: Browser;
  let bank: Page;
  let denis: DemoCustomer;
  let hotp: NonNullable<NonNullable<DemoCustomer['tokens']>['hotp']>;
  let ocra: NonNullable<NonNullable<DemoCustomer['tokens']>['ocra']>;
  let counter: number;

  const text = async (testId: string) => spaces(await bank.getByTestId(testId).innerText());
  const shot = (name: string) => bank.screenshot({ path: `/tmp/tokens-${name}.png`, fullPage: true });
  /** The token's next code: one press, the counter moves on. */
  const press = () => hotpCode({ secret: Buffer.from(hotp.seedHex, 'hex'), digits: 6 }, counter++);
  const respond = (challenge: string) => generateOcra({ suite: ocra.suite, key: Buffer.from(ocra.seedHex, 'hex'), question: challenge });

  beforeAll(async () => {
    execFileSync(process.execPath, ['scripts/build-web-if-stale.mjs'], { cwd: root, stdio: 'inherit' });
    ({ sesame } = await startDemoSesame());
    denis = sesame.demo!.customers.find((c) => c.ref === 'denis')!;
    hotp = denis.tokens!.hotp!;
    ocra = denis.tokens!.ocra!;
    counter = hotp.nextCounter;
    browser = await launchChromium();
    const context = await browser.newContext({ viewport: { width: 1100, height: 900 } });
    bank = await context.newPage();
    bank.setDefaultTimeout(10_000);
  }, 120_000);

  afterAll(async () => {
    await browser?.close();
    await sesame?.close();
  });

  it('the demo has a customer with a HOTP token and an OCRA reader, and the banner says how to get codes', () => {
    expect(denis).toMatchObject({ ref: 'denis', password: 'denis-demo-2026', totpSecret: null, phones: [] });
    expect(hotp.seedHex).toMatch(/^[0-9a-f]{40}$/);
    expect(ocra.seedHex).toMatch(/^[0-9a-f]{40}$/);
    expect(ocra.seedHex).not.toBe(hotp.seedHex);
    expect(ocra.suite).toBe(DEMO_OCRA_SUITE);
    // Counter 0 proved the token at its activation: the next code is counter 1.
    expect(hotp.nextCounter).toBe(1);

    const log = vi.spyOn(console, 'log').mockImplementation(() => undefined);
    try {
      printBanner(loadConfig({ PORT: '0', SESAME_DEMO: 'true' }), sesame);
      const banner = log.mock.calls.map((c) => String(c[0])).join('\n');
      expect(banner).toContain(`oathtool --hotp -c ${hotp.nextCounter} ${hotp.seedHex}`);
      expect(banner).toContain(`suite ${DEMO_OCRA_SUITE}, seed (hex) ${ocra.seedHex}`);
    } finally {
      log.mockRestore();
    }
  });

  it('denis logs in with his password and his HOTP token’s code', async () => {
    await bank.goto(sesame.url + '/login');
    await bank.getByTestId('login-ref').fill(denis.ref);
    await bank.getByTestId('login-password').fill(denis.password);
    await bank.getByTestId('login-continue').click();

    // Only what he has: the token and the reader — no app, no SMS, no call.
    await bank.getByTestId('login-method-hotp').waitFor();
    expect(await text('login-method-hotp')).toBe('Utiliser mon token');
    expect(await text('login-method-ocra')).toBe('Utiliser mon lecteur (défi)');
    for (const kind of ['totp', 'sms', 'voice']) expect(await bank.getByTestId(`login-method-${kind}`).count()).toBe(0);
    await bank.getByTestId('login-method-hotp').click();
    await bank.getByTestId('login-code').fill(press());
    await shot('login-hotp');
    await bank.getByTestId('login-submit').click();
    await bank.getByTestId('accounts-page').waitFor();
    expect(await text('customer-name')).toContain('Denis');
  });

  it('denis pays €250 with his reader: the challenge is the transfer’s own; a response to another challenge is refused', async () => {
    await bank.getByTestId('nav-transfer').click();
    await bank.getByTestId('transfer-form').waitFor();
    await bank.getByTestId('transfer-payee').fill('Plomberie Martin');
    await bank.getByTestId('transfer-iban').fill('FR76 3000 6000 0112 3456 7890 189');
    await bank.getByTestId('transfer-amount').fill('250,00');
    await bank.getByTestId('transfer-continue').click();

    await bank.getByTestId('transfer-confirm').waitFor();
    expect(await text('confirm-amount')).toBe('250,00 €');
    expect(await text('confirm-payee')).toBe('Plomberie Martin');
    await bank.getByTestId('confirm-password').fill(denis.password);
    await bank.getByTestId('confirm-method-ocra').click();
    await bank.getByTestId('confirm-ocra-challenge').waitFor();
    expect(await text('confirm-ocra')).toContain('Saisissez ce défi dans votre lecteur, puis la réponse affichée');
    const challenge = await text('confirm-ocra-challenge');
    expect(challenge).toMatch(/^\d{8}$/);
    await shot('transfer-challenge');

    // A response the reader would give for another challenge: the generic refusal, nothing paid.
    const other = String((Number(challenge) + 1) % 100_000_000).padStart(8, '0');
    await bank.getByTestId('confirm-code').fill(respond(other));
    await bank.getByTestId('confirm-submit').click();
    await bank.getByTestId('confirm-error').waitFor();
    expect(await bank.getByTestId('confirm-error').getAttribute('data-code')).toBe('ERR_AUTHENTICATION_FAILED');
    expect(await text('confirm-error')).toContain('Mot de passe ou code incorrect.');
    await shot('transfer-refused');

    // The challenge stays the transfer's own; its response approves it.
    expect(await text('confirm-ocra-challenge')).toBe(challenge);
    await bank.getByTestId('confirm-password').fill(denis.password);
    await bank.getByTestId('confirm-code').fill(respond(challenge));
    await bank.getByTestId('confirm-submit').click();
    await bank.getByTestId('transfer-success').waitFor();
    expect(await text('success-text')).toBe('250,00 € ont été envoyés à Plomberie Martin.');
    await shot('transfer-success');
  });

  it('the next login takes the token’s next code; a code already used is refused', async () => {
    await bank.getByTestId('logout').click();
    await bank.waitForURL('**/login');
    const used = hotpCode({ secret: Buffer.from(hotp.seedHex, 'hex'), digits: 6 }, counter - 1);
    const logIn = async (code: string) => {
      await bank.getByTestId('login-ref').fill(denis.ref);
      await bank.getByTestId('login-password').fill(denis.password);
      await bank.getByTestId('login-continue').click();
      await bank.getByTestId('login-method-hotp').click();
      await bank.getByTestId('login-code').fill(code);
      await bank.getByTestId('login-submit').click();
    };
    await logIn(used);
    await bank.getByTestId('login-error').waitFor();
    expect(await bank.getByTestId('login-error').getAttribute('data-code')).toBe('ERR_AUTHENTICATION_FAILED');
    await logIn(press());
    await bank.getByTestId('accounts-page').waitFor();
  });
});

/** Same-width spaces, so that French number formatting (narrow no-break spaces) compares plainly. */
function spaces(s: string): string {
  return s.replace(/[\u00a0\u202f\s]+/g, ' ').trim();
}
