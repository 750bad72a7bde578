import { execFileSync } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Secret, TOTP } from 'otpauth';
import { type Browser, type Page } from 'playwright-core';
import { launchChromium } from '../support/chromium.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Sesame } from '../../src/app.js';
import type { ManualClock } from '../../src/core/clock.js';
import { startDemoSesame } from '../support/demo-sesame.js';

/**
 * The demo web banking driven in Debian's Chromium against a whole server started in-process (in-memory
 * database, demo data): the bank's page → the bank's back-end → Sésame's public API over HTTP. The
 * server runs on a manual clock, so the test moves time to get fresh TOTP steps (each is accepted once)
 * and to let the session go idle for 5 minutes without sleeping. Screenshots land in /tmp/web-*.png.
 */
const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');

describe('the demo web banking, in Chromium', () => {
  let sesame: Sesame;
  let clock: ManualClock;
  let customer: { ref: string; password: string; totpSecret: string };
  let browser: Browser;
  let page: Page;
  let totp: TOTP;

  /** A code of a time step not used yet: the server accepts each step once, so move the clock on. */
  const freshCode = () => {
    clock.advanceSeconds(30);
    return totp.generate({ timestamp: clock.now().getTime() });
  };
  const text = async (testId: string) => spaces(await page.getByTestId(testId).innerText());
  const shot = (name: string) => page.screenshot({ path: `/tmp/web-${name}.png`, fullPage: true });

  beforeAll(async () => {
    execFileSync(process.execPath, ['scripts/build-web-if-stale.mjs'], { cwd: root, stdio: 'inherit' });
    ({ sesame, clock, customer, totp } = await startDemoSesame());
    browser = await launchChromium();
    page = await (await browser.newContext({ viewport: { width: 1100, height: 800 } })).newPage();
  }, 120_000);

  afterAll(async () => {
    await browser?.close();
    await sesame?.close();
  });

  it('logs in with the password then the app code, and shows the accounts, in French', async () => {
    await page.goto(sesame.url + '/');
    await page.waitForURL('**/login');
    await expect.poll(() => page.evaluate(() => document.documentElement.lang)).toBe('fr');
    await page.getByTestId('login-ref').fill(customer.ref);
    await page.getByTestId('login-password').fill(customer.password);
    await shot('login');
    await page.getByTestId('login-continue').click();

    await page.getByTestId('login-code').waitFor();
    expect(await text('login-code-step')).toContain('Code de votre application');
    await page.getByTestId('login-code').fill(freshCode());
    await shot('login-code');
    await page.getByTestId('login-submit').click();

    await page.getByTestId('accounts-page').waitFor();
    await page.waitForURL('**/accounts');
    expect(await text('customer-name')).not.toBe('');
    expect(await text('balance-current')).toBe('2 450,75 €');
    expect(await text('transactions')).toContain('Boulangerie du Marché');
    await shot('accounts');
  });

  it('confirms a transfer on a screen stating amount and payee; a wrong code fails generically with the attempts left', async () => {
    await page.getByTestId('nav-transfer').click();
    await page.getByTestId('transfer-form').waitFor();
    await page.getByTestId('transfer-payee').fill('Léa Dubois');
    await page.getByTestId('transfer-iban').fill('FR76 3000 6000 0112 3456 7890 189');
    await page.getByTestId('transfer-amount').fill('250,00');
    await shot('transfer-form');
    await page.getByTestId('transfer-continue').click();

    await page.getByTestId('transfer-confirm').waitFor();
    expect(await text('confirm-amount')).toBe('250,00 €');
    expect(await text('confirm-payee')).toBe('Léa Dubois');
    expect(await text('confirm-iban')).toBe('FR76 3000 6000 0112 3456 7890 189');
    await shot('transfer-confirm');

    // The right password with a wrong code: the failure does not say which element was wrong.
    const wrong = wrongCode(totp, clock.now());
    await page.getByTestId('confirm-password').fill(customer.password);
    await page.getByTestId('confirm-code').fill(wrong);
    await page.getByTestId('confirm-submit').click();
    await page.getByTestId('confirm-error').waitFor();
    const error = await text('confirm-error');
    expect(error).toContain('Mot de passe ou code incorrect.');
    expect(await text('remaining-attempts')).toBe('Il vous reste 4 tentatives avant le blocage de votre accès.');
    await shot('transfer-error');

    await page.getByTestId('confirm-password').fill(customer.password);
    await page.getByTestId('confirm-code').fill(freshCode());
    await page.getByTestId('confirm-submit').click();
    await page.getByTestId('transfer-success').waitFor();
    expect(await text('success-text')).toBe('250,00 € ont été envoyés à Léa Dubois.');
    expect(await text('new-balance')).toBe('2 200,75 €');
    await shot('transfer-success');

    await page.getByTestId('back-to-accounts').click();
    await page.getByTestId('transactions').waitFor();
    expect(await text('balance-current')).toBe('2 200,75 €');
    expect(await text('transactions')).toContain('Léa Dubois');
  });

  it('lists the password and the authenticator app on "Ma sécurité", and enrols a new app from its QR code', async () => {
    await page.getByTestId('nav-security').click();
    await page.getByTestId('security-methods').waitFor();
    const password = page.getByTestId('method-password');
    expect(spaces(await password.getByTestId('method-category').innerText())).toBe('Connaissance');
    expect(spaces(await password.getByTestId('method-status').innerText())).toBe('Actif');
    const app = page.getByTestId('method-totp');
    expect(await app.count()).toBe(1);
    expect(spaces(await app.getByTestId('method-category').innerText())).toBe('Possession');
    expect(spaces(await app.getByTestId('method-status').innerText())).toBe('Actif');
    await shot('security');

    // Adding a means of authentication is itself confirmed with the current two.
    await page.getByTestId('enrol-label').fill('Ordinateur portable (oathtool)');
    await page.getByTestId('enrol-password').fill(customer.password);
    await page.getByTestId('enrol-code').fill(freshCode());
    await page.getByTestId('enrol-start').click();
    await page.getByTestId('enrol-qr').waitFor();
    expect(await page.getByTestId('enrol-qr').getAttribute('src')).toMatch(/^data:image\/svg\+xml;charset=utf-8,%3Csvg/);
    expect(await page.getByTestId('enrol-qr').evaluate((img: HTMLImageElement) => img.complete && img.naturalWidth > 0)).toBe(true);
    const secret = await text('enrol-secret');
    expect(secret).toMatch(/^([A-Z2-7]{4} )+[A-Z2-7]{1,4}$/);
    await shot('security-enrol');

    const newApp = new TOTP({ secret: Secret.fromBase32(secret.replace(/ /g, '')), digits: 6, period: 30 });
    await page.getByTestId('enrol-activate-code').fill(newApp.generate({ timestamp: clock.now().getTime() }));
    await page.getByTestId('enrol-activate').click();
    await page.getByTestId('enrol-done').waitFor();
    await expect.poll(() => page.getByTestId('method-totp').count()).toBe(2);
    expect(await text('security-methods')).toContain('Ordinateur portable (oathtool)');
    await shot('security-enrolled');
  });

  it('switches to English and back', async () => {
    await page.getByTestId('lang-en').click();
    expect(await text('nav-security')).toBe('My security');
    expect(await page.evaluate(() => document.documentElement.lang)).toBe('en');
    await page.getByTestId('nav-accounts').click();
    await page.getByTestId('transactions').waitFor();
    expect(await text('balance-current')).toBe('€2,200.75');
    await shot('accounts-en');
    await page.getByTestId('lang-fr').click();
    expect(await text('nav-security')).toBe('Ma sécurité');
  });

  it('goes back to the login page once the session has been idle for 5 minutes', async () => {
    clock.advanceSeconds(301);
    await page.getByTestId('nav-transfer').click();
    await page.getByTestId('session-expired').waitFor();
    await page.waitForURL('**/login');
    expect(await text('session-expired')).toContain('Votre session a expiré');
    await shot('session-expired');
    // Nothing of the customer's is left on the page, and the bank's API refuses the old cookie.
    expect(await page.getByTestId('customer-name').count()).toBe(0);
    const status = await page.evaluate(async () => (await fetch('/bank/api/accounts')).status);
    expect(status).toBe(401);
  });

  it('answers an unknown identifier exactly like a wrong password', async () => {
    const attempt = async (ref: string) => {
      await page.goto(sesame.url + '/login');
      await page.getByTestId('login-ref').fill(ref);
      await page.getByTestId('login-password').fill('not the password');
      await page.getByTestId('login-continue').click();
      await page.getByTestId('login-code').fill(freshCode());
      await page.getByTestId('login-submit').click();
      await page.getByTestId('login-error').waitFor();
      return text('login-error');
    };
    const known = await attempt(customer.ref);
    const unknown = await attempt('C-9999-NOBODY');
    expect(known).toBe('Identifiant, mot de passe ou code incorrect. Il vous reste 4 tentatives avant le blocage de votre accès.');
    expect(unknown).toBe(known);
    await shot('login-error');
  });
});

/** Same-width spaces, so that French number formatting (narrow no-break spaces) compares plainly. */
function spaces(s: string): string {
  return s.replace(/[\u00a0\u202f\s]+/g, ' ').trim();
}

/** A well-formed code that is none of the codes the server would accept right now. */
function wrongCode(totp: TOTP, now: Date): string {
  const valid = new Set([-1, 0, 1].map((d) => totp.generate({ timestamp: now.getTime() + d * 30_000 })));
  for (let i = 0; ; i++) {
    const candidate = String((123456 + i * 111111) % 1_000_000).padStart(6, '0');
    if (!valid.has(candidate)) return candidate;
  }
}
