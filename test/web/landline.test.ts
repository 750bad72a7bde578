import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Secret, TOTP } from 'otpauth';
import { type Browser, type Locator, type Page } from 'playwright-core';
import { CHROMIUM, launchChromium } from '../support/chromium.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Sesame } from '../../src/app.js';
import type { ManualClock } from '../../src/core/clock.js';
import type { DemoCustomer } from '../../src/demo/seed.js';
import { startDemoSesame } from '../support/demo-sesame.js';

/**
 * Issue #3 in the browser: the web banking's SCA screens and "Ma sécurité" render the customer's ways
 * in. One browser context, two tabs: the web banking, and the development "phone & inbox" page where the
 * demo's calls ring and its SMS land.
 *  - chantal has no mobile: password and calls to her landline. She logs in by answering the call and
 *    typing the code it reads out, then pays €250 the same way — the call states the amount and payee.
 *  - alice changes her secure mobile from "Ma sécurité": password + app code, then the code sent by SMS to
 *    the new number; the old number gets the notice.
 * Screenshots land in /tmp/landline-*.png.
 */
const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const LANDLINE = '+33142685300';
const OLD_MOBILE = '+33612345678';
const NEW_MOBILE = '+33798765432';

describe.skipIf(!fs.existsSync(CHROMIUM))('the web banking with a landline and a secure mobile, in Chromium', () => {
  let sesame: Sesame;
  let clock: ManualClock;
  let browser: Browser;
  let bank: Page;
  let phone: Page;
  let chantal: DemoCustomer;
  let alice: DemoCustomer;
  let bruno: DemoCustomer;

  const text = async (p: Page | Locator, testId: string) => spaces(await p.getByTestId(testId).innerText());
  const shot = (p: Page, name: string) => p.screenshot({ path: `/tmp/landline-${name}.png`, fullPage: true });
  const calls = (to: string) => phone.locator(`[data-testid="call-thread"][data-to="${to}"] [data-testid="call"]`);
  const sms = (to: string) => phone.locator(`[data-testid="sms-thread"][data-to="${to}"] [data-testid="sms"]`);

  /** Does something on the phone tab, in front (a background tab gets no animation frames), then back to the bank. */
  async function onPhone<T>(fn: () => Promise<T>): Promise<T> {
    await phone.bringToFront();
    try {
      return await fn();
    } finally {
      await bank.bringToFront();
    }
  }
  /** Answers the newest call to a number on the phone page and returns what it said. */
  const answerNewest = (to: string, count: number): Promise<string> =>
    onPhone(async () => {
      await expect.poll(() => calls(to).count(), { timeout: 10_000 }).toBe(count);
      const call = calls(to).first();
      await call.getByTestId('answer').click();
      const transcript = call.getByTestId('transcript');
      await expect.poll(() => transcript.innerText(), { timeout: 10_000 }).toMatch(/(\d, ){5}\d/);
      return spaces(await transcript.innerText());
    });
  /** The newest SMS to a number once there are `count`, and the code it carries (in bold on the page). */
  const newestSms = (to: string, count: number) =>
    onPhone(async () => {
      await expect.poll(() => sms(to).count(), { timeout: 10_000 }).toBe(count);
      const first = sms(to).first();
      const strong = first.locator('strong');
      return { text: spaces(await first.innerText()), code: (await strong.count()) ? await strong.first().innerText() : null };
    });
  /** A code of the customer's app for a time step not used yet (the server accepts each step once). */
  const appCode = (c: DemoCustomer) => {
    const totp = new TOTP({ secret: Secret.fromBase32(c.totpSecret!), digits: 6, period: 30 });
    return () => {
      clock.advanceSeconds(30);
      return totp.generate({ timestamp: clock.now().getTime() });
    };
  };
  async function logInWithApp(c: DemoCustomer) {
    await bank.goto(sesame.url + '/login');
    await bank.getByTestId('login-ref').fill(c.ref);
    await bank.getByTestId('login-password').fill(c.password);
    await bank.getByTestId('login-continue').click();
    await bank.getByTestId('login-code').fill(appCode(c)());
    await bank.getByTestId('login-submit').click();
    await bank.getByTestId('accounts-page').waitFor();
  }
  const spokenCode = (transcript: string) => /(\d(?:, \d){5})/.exec(transcript)![1]!.replace(/\D/g, '');

  beforeAll(async () => {
    execFileSync(process.execPath, ['scripts/build-web-if-stale.mjs'], { cwd: root, stdio: 'inherit' });
    ({ sesame, clock } = await startDemoSesame());
    chantal = sesame.demo!.customers.find((c) => c.ref === 'chantal')!;
    alice = sesame.demo!.customers.find((c) => c.ref === 'alice')!;
    bruno = sesame.demo!.customers.find((c) => c.ref === 'bruno')!;
    browser = await launchChromium({ backgroundTabs: true });
    const context = await browser.newContext({ viewport: { width: 1100, height: 900 } });
    bank = await context.newPage();
    phone = await context.newPage();
    bank.setDefaultTimeout(10_000);
    phone.setDefaultTimeout(10_000);
    await phone.goto(sesame.url + '/dev/phone');
    await bank.bringToFront();
  }, 120_000);

  afterAll(async () => {
    await browser?.close();
    await sesame?.close();
  });

  it('the demo has a customer without a mobile: password and a landline, no authenticator app', () => {
    expect(chantal).toMatchObject({ ref: 'chantal', password: 'chantal-demo-2026', totpSecret: null });
    expect(chantal.phones).toEqual([`voice ${LANDLINE} (read-out)`]);
  });

  it('chantal logs in with her password and a call to her landline', async () => {
    await bank.goto(sesame.url + '/');
    await bank.waitForURL('**/login');
    await bank.getByTestId('login-ref').fill(chantal.ref);
    await bank.getByTestId('login-password').fill(chantal.password);
    await bank.getByTestId('login-continue').click();

    // Only what she has: a call to •• 00 — no app, no SMS, no token.
    await bank.getByTestId('login-method-voice').waitFor();
    expect(await text(bank, 'login-method-voice')).toBe("M'appeler au •• 00");
    expect(await bank.getByTestId('login-method-totp').count()).toBe(0);
    expect(await bank.getByTestId('login-method-sms').count()).toBe(0);
    expect(await bank.getByTestId('login-method-hotp').count()).toBe(0);
    await shot(bank, 'login-methods');
    await bank.getByTestId('lang-en').click();
    expect(await text(bank, 'login-method-voice')).toBe('Call me at •• 00');
    await bank.getByTestId('lang-fr').click();
    await bank.getByTestId('login-method-voice').click();
    await bank.getByTestId('login-sent').waitFor();
    expect(await text(bank, 'login-sent')).toContain('•• 00');

    const said = await answerNewest(LANDLINE, 1);
    await shot(phone, 'login-call');
    await bank.getByTestId('login-code').fill(spokenCode(said));
    await bank.getByTestId('login-submit').click();
    await bank.getByTestId('accounts-page').waitFor();
    await bank.waitForURL('**/accounts');
    expect(await text(bank, 'customer-name')).toContain('Chantal');
  });

  it('chantal pays €250: the confirmation and the call both state amount and payee, the code heard approves it', async () => {
    await bank.getByTestId('nav-transfer').click();
    await bank.getByTestId('transfer-form').waitFor();
    await bank.getByTestId('transfer-payee').fill('Plomberie Martin');
    await bank.getByTestId('transfer-iban').fill('FR76 3000 6000 0112 3456 7890 189');
    await bank.getByTestId('transfer-amount').fill('250,00');
    await bank.getByTestId('transfer-continue').click();

    await bank.getByTestId('transfer-confirm').waitFor();
    expect(await text(bank, 'confirm-amount')).toBe('250,00 €');
    expect(await text(bank, 'confirm-payee')).toBe('Plomberie Martin');
    await bank.getByTestId('confirm-password').fill(chantal.password);
    expect(await text(bank, 'confirm-method-voice')).toBe("M'appeler au •• 00");
    await bank.getByTestId('confirm-method-voice').click();
    await bank.getByTestId('confirm-sent').waitFor();
    await shot(bank, 'transfer-confirm');

    const said = await answerNewest(LANDLINE, 2);
    expect(said).toMatch(/250/);
    expect(said).toContain('Plomberie Martin');
    await shot(phone, 'transfer-call');
    await bank.getByTestId('confirm-code').fill(spokenCode(said));
    await bank.getByTestId('confirm-submit').click();
    await bank.getByTestId('transfer-success').waitFor();
    expect(await text(bank, 'success-text')).toBe('250,00 € ont été envoyés à Plomberie Martin.');
    await shot(bank, 'transfer-success');
  });

  it('"Ma sécurité" renders chantal’s ways in: a call for login and payments, and what she could add', async () => {
    await bank.getByTestId('nav-security').click();
    await bank.getByTestId('security-methods').waitFor();
    const voice = bank.getByTestId('method-voice');
    expect(await text(voice, 'method-destination')).toContain('•• 00');
    expect(await text(voice, 'method-usable-for')).toContain('se connecter');
    expect(await text(voice, 'method-usable-for')).toContain('payer');
    expect(await bank.getByTestId('can-log-in').getAttribute('data-value')).toBe('true');
    expect(await bank.getByTestId('can-pay').getAttribute('data-value')).toBe('true');
    expect(await bank.getByTestId('add-totp').count()).toBe(1);
    expect(await bank.getByTestId('add-voice').count()).toBe(1);
    expect(await text(bank, 'ask-advisor-hotp')).toBe('Demandez un token à votre conseiller.');
    expect(await text(bank, 'secure-number')).toBe('Aucun numéro de mobile sécurisé n’est enregistré.');
    await shot(bank, 'chantal-security');
    await bank.getByTestId('logout').click();
    await bank.waitForURL('**/login');
  });

  it('alice sees her methods from ways-in and changes her secure number with the code sent to the new one', async () => {
    const freshCode = appCode(alice);
    await bank.getByTestId('login-ref').fill(alice.ref);
    await bank.getByTestId('login-password').fill(alice.password);
    await bank.getByTestId('login-continue').click();
    await bank.getByTestId('login-code').waitFor();
    // Her app is the default; a code by SMS is offered too.
    expect(await text(bank, 'login-method-totp')).toBe("Utiliser mon application d'authentification");
    expect(await text(bank, 'login-method-sms')).toBe("M'envoyer un SMS au •• 78");
    await bank.getByTestId('login-code').fill(freshCode());
    await bank.getByTestId('login-submit').click();
    await bank.getByTestId('accounts-page').waitFor();

    await bank.getByTestId('nav-security').click();
    await bank.getByTestId('security-methods').waitFor();
    for (const kind of ['password', 'totp', 'sms']) expect(await bank.getByTestId(`method-${kind}`).count()).toBe(1);
    expect(await text(bank.getByTestId('method-sms'), 'method-destination')).toContain('•• 78');
    expect(await text(bank, 'secure-number')).toBe('Numéro sécurisé : •• 78');
    await shot(bank, 'alice-security');

    await bank.getByTestId('phone-change').click();
    await bank.getByTestId('phone-new').fill('07 98 76 54 32');
    await bank.getByTestId('phone-change-password').fill(alice.password);
    // An SMS to the number being replaced cannot authorise its change: it is not offered.
    expect(await bank.getByTestId('phone-change-method-sms').count()).toBe(0);
    await bank.getByTestId('phone-change-code').fill(freshCode());
    await bank.getByTestId('phone-change-start').click();
    await bank.getByTestId('phone-proof-code').waitFor();

    const { code } = await newestSms(NEW_MOBILE, 1);
    expect(code).toMatch(/^\d{6}$/);
    await bank.getByTestId('phone-proof-code').fill(code!);
    await bank.getByTestId('phone-proof-confirm').click();
    await bank.getByTestId('phone-changed').waitFor();
    expect(await text(bank, 'phone-changed')).toContain('•• 32');
    await expect.poll(() => text(bank, 'secure-number')).toBe('Numéro sécurisé : •• 32');
    expect(await text(bank.getByTestId('method-sms'), 'method-destination')).toContain('•• 32');
    await shot(bank, 'alice-changed');

    // The old number is told, with the new number's last digits.
    const notice = await newestSms(OLD_MOBILE, 1);
    expect(notice.text).toMatch(/se terminant par 32/);
    await shot(phone, 'alice-notice');
  });

  it('"Ce n’est plus mon numéro" shows the next step', async () => {
    await bank.getByTestId('phone-lost').click();
    await bank.getByTestId('phone-lost-next').waitFor();
    expect(await text(bank, 'phone-lost-next')).toMatch(/adviser/);
  });

  it('a year later, "Vérifiez votre numéro" confirms the secure number with a code sent to it', async () => {
    clock.advance(366 * 86_400_000);
    await logInWithApp(alice);
    await bank.getByTestId('nav-security').click();
    await bank.getByTestId('secure-check-due').waitFor();
    expect(await text(bank, 'phone-check')).toBe('Vérifiez votre numéro');
    await bank.getByTestId('phone-check').click();
    await bank.getByTestId('phone-proof-code').waitFor();
    await bank.getByTestId('phone-proof-code').fill((await newestSms(NEW_MOBILE, 2)).code!);
    await bank.getByTestId('phone-proof-confirm').click();
    await bank.getByTestId('phone-checked').waitFor();
    await expect.poll(() => bank.getByTestId('secure-check-due').count()).toBe(0);
    await bank.getByTestId('logout').click();
    await bank.waitForURL('**/login');
  });

  it('bruno adds a mobile for SMS and his landline for keypad calls from "Ma sécurité", then logs in by keypad', async () => {
    await logInWithApp(bruno);
    await bank.getByTestId('nav-security').click();
    await bank.getByTestId('security-methods').waitFor();
    expect(await bank.getByTestId('method-sms').count()).toBe(0);

    // SMS: confirmed with the password and his app, proven by the code sent to the mobile.
    await bank.getByTestId('add-sms').click();
    await bank.getByTestId('phone-add-number').fill('06 11 22 33 44');
    await bank.getByTestId('phone-add-password').fill(bruno.password);
    await bank.getByTestId('phone-add-code').fill(appCode(bruno)());
    await bank.getByTestId('phone-add-start').click();
    await bank.getByTestId('phone-add-activate-code').waitFor();
    await bank.getByTestId('phone-add-activate-code').fill((await newestSms('+33611223344', 1)).code!);
    await bank.getByTestId('phone-add-activate').click();
    await bank.getByTestId('phone-add-done').waitFor();
    await expect.poll(() => bank.getByTestId('method-sms').getAttribute('data-status')).toBe('active');
    await bank.getByTestId('phone-add-close').click();

    // A landline, the code to be typed on the handset: proven by a call that reads a code out.
    await bank.getByTestId('add-voice').click();
    await bank.getByTestId('phone-add-number').fill('01 45 67 89 01');
    await bank.getByTestId('phone-add-mode-keypad').check();
    await bank.getByTestId('phone-add-password').fill(bruno.password);
    // Confirmed by SMS first: the code's message names the line being added...
    await bank.getByTestId('phone-add-method-sms').click();
    await bank.getByTestId('phone-add-sent').waitFor();
    expect((await newestSms('+33611223344', 2)).text).toContain('appel vocal 01 45 67 89 01');
    // ...so once the number is edited that code no longer fits: the screen asks for a new confirmation.
    await bank.getByTestId('phone-add-number').fill('01 45 67 89 09');
    await bank.getByTestId('phone-add-sent').waitFor({ state: 'detached' });
    await bank.getByTestId('phone-add-number').fill('01 45 67 89 01');
    await bank.getByTestId('phone-add-code').fill(appCode(bruno)());
    await bank.getByTestId('phone-add-start').click();
    await bank.getByTestId('phone-add-activate-code').waitFor();
    const said = await answerNewest('+33145678901', 1);
    await bank.getByTestId('phone-add-activate-code').fill(spokenCode(said));
    await bank.getByTestId('phone-add-activate').click();
    await bank.getByTestId('phone-add-done').waitFor();
    await expect.poll(() => bank.getByTestId('method-voice').getAttribute('data-status')).toBe('active');
    expect(await text(bank.getByTestId('method-voice'), 'method-destination')).toContain('•• 01');
    await shot(bank, 'bruno-security');
    await bank.getByTestId('logout').click();
    await bank.waitForURL('**/login');

    // Log in with a keypad call: the screen shows the code, typed on the phone page's keypad.
    await bank.getByTestId('login-ref').fill(bruno.ref);
    await bank.getByTestId('login-password').fill(bruno.password);
    await bank.getByTestId('login-continue').click();
    expect(await text(bank, 'login-method-sms')).toBe("M'envoyer un SMS au •• 44");
    expect(await text(bank, 'login-method-voice')).toBe("M'appeler au •• 01");
    await bank.getByTestId('login-method-voice').click();
    await bank.getByTestId('login-display-code').waitFor();
    const displayCode = await text(bank, 'login-display-code');
    expect(displayCode).toMatch(/^\d{6}$/);
    expect(await text(bank, 'login-keypad')).toContain('Tapez ce code sur le clavier de votre téléphone');
    await shot(bank, 'keypad');

    await onPhone(async () => {
      await expect.poll(() => calls('+33145678901').count(), { timeout: 10_000 }).toBe(2);
      const call = calls('+33145678901').first();
      await call.getByTestId('answer').click();
      await expect.poll(() => call.getByTestId('transcript').innerText(), { timeout: 10_000 }).toMatch(/\[attend 6 touches ou #\]/);
      // The keypad call never says the code: it is on the bank's screen only.
      expect(await call.getByTestId('transcript').innerText()).not.toContain(displayCode);
      for (const key of displayCode) await call.getByTestId(`key-${key}`).click();
      await expect.poll(() => call.getByTestId('transcript').innerText(), { timeout: 10_000 }).toContain('Merci');
      await shot(phone, 'keypad-call');
    });
    await bank.getByTestId('login-keypad-done').click();
    await bank.getByTestId('accounts-page').waitFor();
    expect(await text(bank, 'customer-name')).toContain('Bruno');
  });
});

/** Same-width spaces, so that French number formatting (narrow no-break spaces) compares plainly. */
function spaces(s: string): string {
  return s.replace(/[\u00a0\u202f\s]+/g, ' ').trim();
}
