import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Secret, TOTP } from 'otpauth';
import { type Browser, type BrowserContext, type Locator, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Sesame } from '../../src/app.js';
import type { ManualClock } from '../../src/core/clock.js';
import type { DemoCustomer } from '../../src/demo/seed.js';
import { CHROMIUM, launchChromium } from '../support/chromium.js';
import { hotpCode } from '../../src/methods/hotp/hotp.js';
import { startDemoSesame } from '../support/demo-sesame.js';
import { freePort } from '../support/ports.js';

/**
 * The app authenticator in the browser, end to end: the web banking in one tab, the authenticator app
 * (the PWA at /app, on the device SDK) in another, as on a customer's computer and phone.
 *  - alice activates the app from "Ma sécurité": activation code, PIN chosen twice, code sent by SMS;
 *  - she pays €250 and approves in the app while the bank's page waits and completes by itself (after a
 *    wrong PIN, refused with the generic message and the attempts left);
 *  - an online card payment she did not make is refused in the app: that declares fraud;
 *  - biometrics, with Chromium's virtual WebAuthn authenticator: enrolled in the settings, two
 *    independent uses, then a transfer approved with it;
 *  - closing the app authenticator sends her back to SMS codes.
 * Pages are opened at http://localhost (a secure context with a domain RP ID, as WebAuthn needs), the
 * server's public URL. Screenshots land in /tmp/app-authenticator-*.png.
 */
const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const PIN = '482913';
const NEW_PIN = '591746';
const MOBILE = '+33612345678';

describe.skipIf(!fs.existsSync(CHROMIUM))('the app authenticator (PWA) with the web banking, in Chromium', () => {
  let sesame: Sesame;
  let clock: ManualClock;
  let browser: Browser;
  let context: BrowserContext;
  let bank: Page;
  let app: Page;
  let alice: DemoCustomer;
  let url: string;

  const text = async (p: Page | Locator, testId: string) => spaces(await p.getByTestId(testId).innerText());
  const shot = (p: Page, name: string) => p.screenshot({ path: `/tmp/app-authenticator-${name}.png`, fullPage: true });

  /** Does something in the app's tab, in front, then back to the bank. */
  async function onApp<T>(fn: () => Promise<T>): Promise<T> {
    await app.bringToFront();
    try {
      return await fn();
    } finally {
      await bank.bringToFront();
    }
  }

  /** SMS whose code `smsCode` already returned. */
  const smsRead = new Set<string>();
  /**
   * The code of the newest SMS to alice's mobile matching `re` that no earlier call returned, once it
   * arrived: SMS leave through the outbox after the page moves on, and an older one (a previous
   * activation's) must not be taken for it.
   */
  async function smsCode(re: RegExp): Promise<string> {
    const outbox = sesame.services.channels.devOutbox!;
    let code: string | null = null;
    await expect
      .poll(
        async () => {
          const entries = await outbox.list({ to: MOBILE, kind: 'sms' });
          const hit = entries.find((e) => !smsRead.has(e.id) && 'text' in e.message && re.test(e.message.text));
          code = hit && 'text' in hit.message ? (/code (\d{6,8})/.exec(hit.message.text)?.[1] ?? null) : null;
          if (hit && code) smsRead.add(hit.id);
          return code;
        },
        { timeout: 10_000 },
      )
      .not.toBeNull();
    return code!;
  }

  async function logIn(c: DemoCustomer) {
    const totp = new TOTP({ secret: Secret.fromBase32(c.totpSecret!), digits: 6, period: 30 });
    clock.advanceSeconds(30);
    await bank.goto(url + '/login');
    await bank.getByTestId('login-ref').fill(c.ref);
    await bank.getByTestId('login-password').fill(c.password);
    await bank.getByTestId('login-continue').click();
    await bank.getByTestId('login-method-totp').click();
    await bank.getByTestId('login-code').fill(totp.generate({ timestamp: clock.now().getTime() }));
    await bank.getByTestId('login-submit').click();
    await bank.getByTestId('accounts-page').waitFor();
  }

  async function startTransfer(payee: string, iban: string, amount: string) {
    await bank.getByTestId('nav-transfer').click();
    await bank.getByTestId('transfer-payee').fill(payee);
    await bank.getByTestId('transfer-iban').fill(iban);
    await bank.getByTestId('transfer-amount').fill(amount);
    await bank.getByTestId('transfer-continue').click();
    await bank.getByTestId('transfer-confirm').waitFor();
  }

  /** The card of the newest operation waiting in the app. */
  const approvalCard = (type: string) => app.locator(`[data-testid="approval"][data-type="${type}"]`).first();

  beforeAll(async () => {
    execFileSync(process.execPath, ['scripts/build-web-if-stale.mjs'], { cwd: root, stdio: 'inherit' });
    const port = await freePort();
    url = `http://localhost:${port}`;
    ({ sesame, clock } = await startDemoSesame({ PORT: String(port), SESAME_PUBLIC_URL: url }));
    alice = sesame.demo!.customers.find((c) => c.ref === 'alice')!;
    browser = await launchChromium({ backgroundTabs: true });
    context = await browser.newContext({ viewport: { width: 1100, height: 900 } });
    bank = await context.newPage();
    app = await context.newPage();
    bank.setDefaultTimeout(15_000);
    app.setDefaultTimeout(15_000);
    // The app's "phone" has a fingerprint sensor: Chromium's virtual platform authenticator.
    const cdp = await context.newCDPSession(app);
    await cdp.send('WebAuthn.enable');
    await cdp.send('WebAuthn.addVirtualAuthenticator', {
      options: { protocol: 'ctap2', transport: 'internal', hasResidentKey: true, hasUserVerification: true, isUserVerified: true },
    });
    await bank.bringToFront();
  }, 120_000);

  afterAll(async () => {
    await browser?.close();
    await sesame?.close();
  });

  it('serves the app at /app with its manifest and service worker, and the bank at /', async () => {
    const page = await fetch(url + '/app/', { headers: { accept: 'text/html' } });
    expect(await page.text()).toContain('/app/app.webmanifest');
    const deep = await fetch(url + '/app/settings', { headers: { accept: 'text/html' } });
    expect(await deep.text()).toContain('/app/app.webmanifest');
    const manifest = (await (await fetch(url + '/app/app.webmanifest')).json()) as { scope: string; start_url: string };
    expect(manifest).toMatchObject({ scope: '/app/', start_url: '/app/' });
    const sw = await fetch(url + '/app/sw.js');
    expect(sw.headers.get('content-type')).toMatch(/javascript/);
    expect(await sw.text()).toContain('notificationclick');
    const bankPage = await fetch(url + '/transfer', { headers: { accept: 'text/html' } });
    expect(await bankPage.text()).not.toContain('app.webmanifest');
  }, 120_000);

  it('alice activates the app: code from "Ma sécurité", a PIN chosen twice, then the code sent by SMS', async () => {
    await logIn(alice);
    await bank.getByTestId('nav-security').click();
    await bank.getByTestId('app-panel').waitFor();
    await bank.getByTestId('app-eligible').waitFor();
    await bank.getByTestId('app-activate').click();
    await bank.getByTestId('app-activation-code').waitFor();
    const code = await text(bank, 'app-activation-code');
    expect(code).toMatch(/^[A-Z0-9]{4}-[A-Z0-9]{4}-[A-Z0-9]{4}$/);
    expect(await bank.getByTestId('app-open-here').getAttribute('href')).toBe(`/app/#activate=${code}`);
    expect(await bank.getByTestId('app-qr').getAttribute('src')).toMatch(/^data:image\/svg\+xml/);
    await shot(bank, 'bank-activation');

    await onApp(async () => {
      await app.goto(url + '/app/');
      await app.getByTestId('activation-code-step').waitFor();
      await app.getByTestId('lang-en').click();
      expect(await app.getByTestId('activation-continue').innerText()).toBe('Continue');
      await app.getByTestId('lang-fr').click();
      // The link the bank shows (and the QR code carries) opens the app with the code filled in.
      await app.goto(url + `/app/#activate=${code}`);
      await app.getByTestId('code-from-link').waitFor();
      expect(new URL(app.url()).hash).toBe('');
      await app.getByTestId('activation-back').click();
      await app.getByTestId('activation-code').fill(code.toLowerCase());
      await app.getByTestId('activation-continue').click();
      // Two different PINs: start again.
      await app.getByTestId('new-pin-input').fill(PIN);
      await app.getByTestId('new-pin-again-input').fill('135790');
      await app.getByTestId('pin-problem').waitFor();
      // The keypad, then the keyboard.
      for (const d of PIN) await app.getByTestId(`new-pin-key-${d}`).click();
      await app.getByTestId('new-pin-again-input').fill(PIN);
      await app.getByTestId('activation-sms-step').waitFor({ timeout: 30_000 });
      expect(await text(app, 'sms-destination')).toMatch(/78/);
      await shot(app, 'app-sms-step');
    });

    const sms = await smsCode(/activer l'appli/);
    await onApp(async () => {
      await app.getByTestId('sms-code').fill(sms);
      await app.getByTestId('sms-confirm').click();
      await app.getByTestId('home').waitFor();
      expect(await text(app, 'home-hello')).toBe('Bonjour Alice Martin');
      // Right after the activation, the app says it is active.
      expect(await text(app, 'activated')).toBe('Votre appli est activée : c’est ici que vous validerez vos connexions et vos opérations.');
      await app.getByTestId('no-approvals').waitFor();
      // The service worker that shows push notifications, scoped to the app.
      await expect
        .poll(() => app.evaluate(async () => (await navigator.serviceWorker.getRegistration('/app/'))?.scope ?? null))
        .toBe(url + '/app/');
      await shot(app, 'app-home');
    });

    // The bank's list follows the activation.
    await expect
      .poll(() => bank.locator('[data-testid="app-activation-item"][data-status="subscribed"]').count(), { timeout: 15_000 })
      .toBe(1);
    // The used code is gone and the panel says the app is active, without a reload.
    await bank.getByTestId('app-activation-code').waitFor({ state: 'detached', timeout: 10_000 });
    // The panel's status is fetched again after the list: it may answer a moment after the code is gone.
    await expect.poll(() => text(bank, 'app-eligible'), { timeout: 10_000 }).toMatch(/Votre appli est active/);
  }, 120_000);

  it('a transfer approved in the app: the bank’s page waits and completes by itself (a wrong PIN first)', async () => {
    await startTransfer('Boulangerie Martin', 'FR76 3000 6000 0112 3456 7890 189', '250');
    await bank.getByTestId('confirm-method-app').click();
    await bank.getByTestId('confirm-app-waiting').waitFor();
    await shot(bank, 'bank-waiting');

    await onApp(async () => {
      const card = approvalCard('payment');
      await card.waitFor({ timeout: 30_000 }).catch(async (e) => {
        await shot(app, 'debug');
        throw e;
      });
      expect(await text(card, 'approval-op-amount')).toBe('250,00 €');
      expect(await text(card, 'approval-op-payee')).toBe('Boulangerie Martin');
      expect(await text(card, 'approval-op-iban')).toBe('FR76 3000 6000 0112 3456 7890 189');
      expect(await text(card, 'approval-requester')).not.toBe('');
      await shot(app, 'app-approval');
      await card.getByTestId('approve-pin').click();
      await card.getByTestId('approval-pin-input').fill('000000');
      await card.getByTestId('approval-error').waitFor({ timeout: 30_000 });
      expect(await card.getByTestId('approval-error').getAttribute('data-code')).toBe('ERR_AUTHENTICATION_FAILED');
      await card.getByTestId('remaining-attempts').waitFor();
      await shot(app, 'app-wrong-pin');
      await card.getByTestId('approval-pin-input').fill(PIN);
      await app.locator('[data-testid="outcome"][data-status="approved"]').waitFor({ timeout: 30_000 });
    });

    await bank.getByTestId('transfer-success').waitFor({ timeout: 20_000 });
    expect(await text(bank, 'success-text')).toBe('250,00 € ont été envoyés à Boulangerie Martin.');
    await shot(bank, 'bank-transfer-done');
  }, 120_000);

  it('an online card payment refused in the app is declared as fraud, and the app shows the server’s message', async () => {
    await bank.getByTestId('nav-accounts').click();
    await bank.getByTestId('card-simulate').click();
    await bank.getByTestId('card-waiting').waitFor();

    let message = '';
    await onApp(async () => {
      await app.getByTestId('nav-home').click();
      const card = approvalCard('online_card_payment');
      await card.waitFor({ timeout: 30_000 });
      expect(await text(card, 'approval-op-amount')).toBe('41,99 €');
      expect(await text(card, 'approval-op-payee')).toBe('showroomprive.com');
      await card.getByTestId('refuse').click();
      await card.getByTestId('refuse-confirm').waitFor();
      expect(await text(card, 'refuse-confirm')).toContain('fraude');
      await card.getByTestId('refuse-yes').click();
      const outcome = app.locator('[data-testid="outcome"][data-status="refused"]').first();
      await outcome.waitFor({ timeout: 30_000 });
      expect(await outcome.getAttribute('data-fraud')).toBe('true');
      message = spaces(await outcome.getByTestId('outcome-text').innerText());
      await shot(app, 'app-fraud');
    });
    expect(message.length).toBeGreaterThan(10);

    await expect.poll(() => bank.getByTestId('card-result').getAttribute('data-result'), { timeout: 20_000 }).toBe('fraud');
  }, 120_000);

  it('alice changes her PIN in the settings; the old one then fails with the generic message', async () => {
    await onApp(async () => {
      await app.getByTestId('nav-settings').click();
      await app.getByTestId('change-pin-open').click();
      await app.getByTestId('change-pin-old-input').fill(PIN);
      await app.getByTestId('change-pin-new-input').fill(NEW_PIN);
      await app.getByTestId('change-pin-again-input').fill(NEW_PIN);
      await app.getByTestId('pin-changed').waitFor({ timeout: 30_000 });
      await app.getByTestId('nav-home').click();
    });

    await bank.getByTestId('nav-accounts').click();
    await bank.getByTestId('card-simulate').click();
    await bank.getByTestId('card-waiting').waitFor();
    await onApp(async () => {
      const card = approvalCard('online_card_payment');
      await card.waitFor({ timeout: 30_000 });
      await card.getByTestId('approve-pin').click();
      await card.getByTestId('approval-pin-input').fill(PIN);
      await card.getByTestId('approval-error').waitFor({ timeout: 30_000 });
      expect(await text(card, 'approval-error')).toContain('Échec de l’authentification.');
      await card.getByTestId('approval-pin-input').fill(NEW_PIN);
      await app.locator('[data-testid="outcome"][data-status="approved"]').first().waitFor({ timeout: 30_000 });
    });
    await expect.poll(() => bank.getByTestId('card-result').getAttribute('data-result'), { timeout: 20_000 }).toBe('approved');
  }, 120_000);

  it('biometrics: enrolled in the settings with two independent uses, then a transfer approved with them', async () => {
    await onApp(async () => {
      await app.getByTestId('nav-settings').click();
      await app.getByTestId('settings').waitFor();
      expect(await text(app, 'info-customer')).toBe('Alice Martin');
      expect(await app.getByTestId('info-status').getAttribute('data-value')).toBe('active');
      // Enrolling asks for the current PIN first: a wrong one fails with the generic message and enrols nothing.
      await app.getByTestId('biometrics-enrol').click();
      await app.getByTestId('biometrics-pin-input').fill(PIN); // the PIN before it was changed
      await app.getByTestId('biometrics-error').waitFor({ timeout: 30_000 });
      expect(await app.getByTestId('biometrics-error').getAttribute('data-code')).toBe('ERR_AUTHENTICATION_FAILED');
      expect(await text(app, 'biometrics-error')).toContain('Échec de l’authentification.');
      await app.getByTestId('biometrics-error').getByTestId('remaining-attempts').waitFor();
      expect(await app.getByTestId('biometrics').getAttribute('data-enrolled')).toBe('false');
      expect(await app.getByTestId('biometrics-enrolled').count()).toBe(0);
      const device = await sesame.services.db
        .selectFrom('authenticators')
        .select('params')
        .where('customer_id', '=', alice.id)
        .where('kind', '=', 'app')
        .where('status', '=', 'active')
        .executeTakeFirstOrThrow();
      expect((device.params as { biometric?: unknown }).biometric ?? null).toBeNull();
      await app.getByTestId('biometrics-pin-input').fill(NEW_PIN);
      await app.getByTestId('biometrics-enrolled').waitFor({ timeout: 30_000 });
      expect(await app.getByTestId('biometrics-error').count()).toBe(0);
      expect(await app.getByTestId('biometrics-login').isChecked()).toBe(true);
      expect(await app.getByTestId('biometrics-operations').isChecked()).toBe(true);
      // Logins no longer with biometrics (off: no PIN); operations still.
      await app.getByTestId('biometrics-login').click();
      await expect.poll(() => app.getByTestId('biometrics-login').isChecked()).toBe(false);
      expect(await app.getByTestId('biometrics-pin-prompt').count()).toBe(0);
      expect(await app.getByTestId('biometrics-operations').isChecked()).toBe(true);
      // Back on for logins: the PIN again, then off once more (the login test below expects it off).
      await app.getByTestId('biometrics-login').click();
      await app.getByTestId('biometrics-pin-input').fill(NEW_PIN);
      await expect.poll(() => app.getByTestId('biometrics-login').isChecked(), { timeout: 30_000 }).toBe(true);
      expect(await app.getByTestId('biometrics-pin-prompt').count()).toBe(0);
      await app.getByTestId('biometrics-login').click();
      await expect.poll(() => app.getByTestId('biometrics-login').isChecked()).toBe(false);
      await shot(app, 'app-settings');
      await app.getByTestId('nav-home').click();
    });

    await startTransfer('Marie Curie', 'DE89 3704 0044 0532 0130 00', '12,50');
    await bank.getByTestId('confirm-method-app').click();
    await bank.getByTestId('confirm-app-waiting').waitFor();
    await onApp(async () => {
      const card = approvalCard('payment');
      await card.waitFor({ timeout: 30_000 });
      expect(await text(card, 'approval-op-amount')).toBe('12,50 €');
      await card.getByTestId('approve-biometric').click();
      await app.locator('[data-testid="outcome"][data-status="approved"]').first().waitFor({ timeout: 30_000 });
    });
    await bank.getByTestId('transfer-success').waitFor({ timeout: 20_000 });
    expect(await text(bank, 'success-text')).toBe('12,50 € ont été envoyés à Marie Curie.');
  }, 120_000);

  it('a login approved in the app: the page shows a number, alice picks it in the app and approves with her PIN', async () => {
    await bank.getByTestId('logout').click();
    await bank.getByTestId('login-page').waitFor();
    await bank.getByTestId('login-ref').fill(alice.ref);
    await bank.getByTestId('login-password').fill(alice.password);
    await bank.getByTestId('login-continue').click();
    await bank.getByTestId('login-method-app').click();
    await bank.getByTestId('login-app-number').waitFor();
    const number = Number(await text(bank, 'login-app-number'));
    await shot(bank, 'bank-login-number');

    await onApp(async () => {
      await app.getByTestId('nav-home').click();
      const card = approvalCard('login');
      await card.waitFor({ timeout: 30_000 });
      // Biometrics were turned off for logins (above): the PIN only.
      expect(await card.getByTestId('approve-biometric').count()).toBe(0);
      expect(await card.getByTestId('approve-pin').isDisabled()).toBe(true);
      await card.getByTestId(`number-${number}`).click();
      await shot(app, 'app-login');
      await card.getByTestId('approve-pin').click();
      await card.getByTestId('approval-pin-input').fill(NEW_PIN);
      await app.locator('[data-testid="outcome"][data-status="approved"]').first().waitFor({ timeout: 30_000 });
    });
    await bank
      .getByTestId('accounts-page')
      .waitFor({ timeout: 10_000 })
      .catch(async (e) => {
        await shot(bank, 'bank-login-after-approval');
        throw e;
      });
    expect(await text(bank, 'customer-name')).toBe('Alice Martin');
    await bank.getByTestId('logout').click();
    await bank.getByTestId('login-page').waitFor();
  }, 120_000);

  it('moving to a new phone: activating there turns the old installation off', async () => {
    await logIn(alice);
    await bank.getByTestId('nav-security').click();
    await bank.getByTestId('app-activate').click();
    await bank.getByTestId('app-activation-code').waitFor();
    const code = await text(bank, 'app-activation-code');

    // The new phone: another browser profile, so another IndexedDB and other keys.
    const newPhone = await (await browser.newContext({ viewport: { width: 420, height: 900 } })).newPage();
    newPhone.setDefaultTimeout(15_000);
    await newPhone.goto(url + `/app/#activate=${code}`);
    await newPhone.getByTestId('new-pin-input').fill(PIN);
    await newPhone.getByTestId('new-pin-again-input').fill(PIN);
    await newPhone.getByTestId('activation-sms-step').waitFor({ timeout: 30_000 });
    await newPhone.getByTestId('sms-code').fill(await smsCode(/activer l'appli/));
    await newPhone.getByTestId('sms-confirm').click();
    await newPhone.getByTestId('home').waitFor();

    // The old phone finds out at its next poll, and starts again from activation.
    await onApp(async () => {
      await app.getByTestId('revoked').waitFor({ timeout: 20_000 });
      await app.getByTestId('activation-code-step').waitFor();
      await shot(app, 'app-revoked');
    });
    app = newPhone;
  }, 120_000);

  it('closing the app authenticator sends alice back to codes by SMS', async () => {
    await onApp(async () => {
      await app.getByTestId('nav-settings').click();
      await app.getByTestId('close-open').click();
      await app.getByTestId('close-confirm').click();
      await app.getByTestId('closed').waitFor();
      expect(await text(app, 'closed-text')).toMatch(/SMS/);
      await shot(app, 'app-closed');
    });
    const ways = await sesame.services.db
      .selectFrom('authenticators')
      .select(['kind', 'status'])
      .where('customer_id', '=', alice.id)
      .where('kind', '=', 'app')
      .execute();
    expect(ways.every((w) => w.status !== 'active')).toBe(true);
  }, 120_000);

  it('a customer without a secure mobile is told what is missing before activating the app', async () => {
    const denis = sesame.demo!.customers.find((c) => c.ref === 'denis')!;
    const hotp = denis.tokens!.hotp!;
    if (await bank.getByTestId('logout').count()) await bank.getByTestId('logout').click();
    await bank.getByTestId('login-page').waitFor();
    await bank.getByTestId('login-ref').fill(denis.ref);
    await bank.getByTestId('login-password').fill(denis.password);
    await bank.getByTestId('login-continue').click();
    await bank.getByTestId('login-method-hotp').click();
    await bank.getByTestId('login-code').fill(hotpCode({ secret: Buffer.from(hotp.seedHex, 'hex'), digits: 6 }, hotp.nextCounter));
    await bank.getByTestId('login-submit').click();
    await bank.getByTestId('accounts-page').waitFor();
    // No app: no card payment to send to it.
    expect(await bank.getByTestId('card-demo').count()).toBe(0);
    await bank.getByTestId('nav-security').click();
    await bank.getByTestId('app-not-eligible').waitFor();
    expect(await bank.getByTestId('app-missing-secure_phone').count()).toBe(1);
    expect(await bank.getByTestId('app-activate').count()).toBe(0);
    await bank.getByTestId('lang-en').click();
    expect(await text(bank, 'app-missing-secure_phone')).toBe('a secure mobile number (add it above)');
    await bank.getByTestId('lang-fr').click();
    await shot(bank, 'bank-not-eligible');
  }, 120_000);
});

/** Non-breaking and narrow spaces (French number formatting) as plain spaces. */
function spaces(s: string): string {
  return s.replace(/[\u00a0\u202f]/g, ' ').trim();
}
