import { execFileSync } from 'node:child_process';
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { TOTP } from 'otpauth';
import type { Browser, CDPSession, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Sesame } from '../../src/app.js';
import type { ManualClock } from '../../src/core/clock.js';
import { CHROMIUM, launchChromium } from '../support/chromium.js';
import { startDemoSesame } from '../support/demo-sesame.js';
import { lastSmsTo } from '../support/device.js';
import { freePort } from '../support/ports.js';

/**
 * Passkeys and security keys in the demo web banking, in Debian's Chromium with CDP virtual
 * authenticators (Chromium's own WebAuthn stack: CTAP2, user verification, signature counters). The
 * customer registers a passkey on "Ma sécurité" (a platform authenticator), logs in with it, then
 * registers a USB security key and pays a transfer with it; a wrong password with a genuine key is the
 * generic refusal, and the key must be used again for a fresh challenge.
 * WebAuthn needs a secure context and a domain as RP ID: the pages are opened at http://localhost:<port>,
 * the server's public URL. Screenshots land in /tmp/passkeys-*.png.
 */
const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');

describe.skipIf(!fs.existsSync(CHROMIUM))('passkeys and security keys in the web banking, in Chromium', () => {
  let sesame: Sesame;
  let clock: ManualClock;
  let customer: { ref: string; password: string; totpSecret: string };
  let totp: TOTP;
  let browser: Browser;
  let page: Page;
  let cdp: CDPSession;
  let origin: string;
  let platformKey: string;
  let usbKey: string;

  const freshCode = () => {
    clock.advanceSeconds(30);
    return totp.generate({ timestamp: clock.now().getTime() });
  };
  const shot = (name: string) => page.screenshot({ path: `/tmp/passkeys-${name}.png`, fullPage: true });
  const addAuthenticator = async (transport: 'internal' | 'usb', session = cdp) =>
    (
      await session.send('WebAuthn.addVirtualAuthenticator', {
        options: {
          protocol: 'ctap2',
          transport,
          hasResidentKey: true,
          hasUserVerification: true,
          isUserVerified: true,
          automaticPresenceSimulation: true,
        },
      })
    ).authenticatorId;
  /** Someone else's browser, on a device with a passkey-capable authenticator of its own. */
  async function anotherDevice() {
    const context = await browser.newContext({ viewport: { width: 1100, height: 900 } });
    const page = await context.newPage();
    page.setDefaultTimeout(15_000);
    const session = await context.newCDPSession(page);
    await session.send('WebAuthn.enable', { enableUI: false });
    return { context, page, cdp: session, authenticatorId: await addAuthenticator('internal', session) };
  }
  const credentialsOf = async (authenticatorId: string) => (await cdp.send('WebAuthn.getCredentials', { authenticatorId })).credentials;
  const webauthnRows = () =>
    sesame.services.db
      .selectFrom('authenticators')
      .innerJoin('customers', 'customers.id', 'authenticators.customer_id')
      .select([
        'authenticators.id',
        'authenticators.label',
        'authenticators.status',
        'authenticators.params',
        'authenticators.last_used_at',
      ])
      .where('customers.external_ref', '=', customer.ref)
      .where('authenticators.kind', '=', 'webauthn')
      .orderBy('authenticators.created_at')
      .execute();
  const lastSuccess = async () => {
    const row = await sesame.services.db
      .selectFrom('audit_events')
      .select(['data'])
      .where('type', '=', 'sca.succeeded')
      .orderBy('id', 'desc')
      .limit(1)
      .executeTakeFirstOrThrow();
    return row.data as { operationType: string; methods: string[]; categories: string[] };
  };

  async function logIn(withPasskey: boolean) {
    await page.getByTestId('login-ref').fill(customer.ref);
    await page.getByTestId('login-password').fill(customer.password);
    await page.getByTestId('login-continue').click();
    if (withPasskey) {
      await page.getByTestId('login-method-webauthn').click();
      await page.getByTestId('login-passkey-ready').waitFor();
    } else {
      await page.getByTestId('login-code').fill(freshCode());
    }
    await page.getByTestId('login-submit').click();
    await page.getByTestId('accounts-page').waitFor();
  }

  async function registerKey(label: string, attachment: 'platform' | 'cross-platform') {
    await page.getByTestId('nav-security').click();
    await page.getByTestId('passkeys-panel').waitFor();
    await page.getByTestId('passkey-label').fill(label);
    await page.getByTestId(`passkey-kind-${attachment}`).check();
    // The customer can already authenticate: the new key is confirmed with the password and the app's code.
    await page.getByTestId('passkey-password').fill(customer.password);
    await page.getByTestId('passkey-code').fill(freshCode());
    await page.getByTestId('passkey-add').click();
    await page.getByTestId('passkey-added').waitFor();
  }

  beforeAll(async () => {
    execFileSync(process.execPath, ['scripts/build-web-if-stale.mjs'], { cwd: root, stdio: 'inherit' });
    const port = await freePort();
    // PORT set (not 0): the public URL stays http://localhost:<port>, so the RP ID is "localhost".
    ({ sesame, clock, customer, totp } = await startDemoSesame({ PORT: String(port) }));
    origin = `http://localhost:${port}`;
    browser = await launchChromium();
    const context = await browser.newContext({ viewport: { width: 1100, height: 900 } });
    page = await context.newPage();
    page.setDefaultTimeout(15_000);
    cdp = await context.newCDPSession(page);
    await cdp.send('WebAuthn.enable', { enableUI: false });
    platformKey = await addAuthenticator('internal');
  }, 120_000);

  afterAll(async () => {
    await browser?.close();
    await sesame?.close();
  });

  it('registers a passkey from "Ma sécurité", confirmed with the password and the app’s code', async () => {
    expect(sesame.services.config.publicUrl).toBe(origin);
    await page.goto(origin + '/login');
    await logIn(false);
    await registerKey('Mon ordinateur', 'platform');
    await shot('registered');

    const items = page.getByTestId('passkey-item');
    await expect.poll(() => items.count()).toBe(1);
    expect(await items.first().innerText()).toContain('Mon ordinateur');
    const rows = await webauthnRows();
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatchObject({ label: 'Mon ordinateur', status: 'active' });
    // The browser's authenticator holds the key for this RP ID, the server its public part only.
    const creds = await credentialsOf(platformKey);
    expect(creds).toHaveLength(1);
    expect(creds[0]!.rpId).toBe('localhost');
    expect((rows[0]!.params as { credentialId: string }).credentialId).toBe(
      Buffer.from(creds[0]!.credentialId, 'base64').toString('base64url'),
    );
  });

  it('logs in with the password and the passkey (one gesture: possession and inherence)', async () => {
    await page.getByTestId('logout').click();
    await page.waitForURL('**/login');
    await page.getByTestId('login-ref').fill(customer.ref);
    await page.getByTestId('login-password').fill(customer.password);
    await page.getByTestId('login-continue').click();
    await page.getByTestId('login-method-webauthn').waitFor();
    expect(await page.getByTestId('login-method-webauthn').innerText()).toBe('Utiliser ma clé d’accès ou clé de sécurité');
    await page.getByTestId('login-method-webauthn').click();
    await page.getByTestId('login-passkey-ready').waitFor();
    await shot('login-ready');
    await page.getByTestId('login-submit').click();
    await page.getByTestId('accounts-page').waitFor();

    const success = await lastSuccess();
    expect(success.operationType).toBe('login');
    expect(success.methods).toEqual(['password', 'webauthn']);
    expect([...success.categories].sort()).toEqual(['inherence', 'knowledge', 'possession']);
    const [row] = await webauthnRows();
    expect(row!.last_used_at).not.toBeNull();
  });

  it('logs in with the passkey alone, no customer ID typed: the passkey the browser offers says who logs in', async () => {
    await page.getByTestId('logout').click();
    await page.waitForURL('**/login');
    // The passkey was registered as discoverable: the authenticator keeps it with the customer's id.
    const [cred] = await credentialsOf(platformKey);
    expect(cred!.isResidentCredential).toBe(true);
    await page.getByTestId('login-passkey').click();
    await page.getByTestId('accounts-page').waitFor();
    await shot('login-passkey-only');
    expect(await page.getByTestId('accounts-page').innerText()).toContain('Alice');

    const success = await lastSuccess();
    expect(success.operationType).toBe('login');
    expect(success.methods).toEqual(['webauthn']);
    expect([...success.categories].sort()).toEqual(['inherence', 'possession']);
  });

  it('a passkey the bank does not know logs nobody in, and says so', async () => {
    const { context, page: stranger, cdp: strangerCdp, authenticatorId } = await anotherDevice();
    // A passkey for this site that was never registered with the bank.
    const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    await strangerCdp.send('WebAuthn.addCredential', {
      authenticatorId,
      credential: {
        credentialId: randomBytes(32).toString('base64'),
        isResidentCredential: true,
        rpId: 'localhost',
        privateKey: privateKey.export({ format: 'der', type: 'pkcs8' }).toString('base64'),
        userHandle: Buffer.from('someone-else').toString('base64'),
        signCount: 0,
      },
    });
    try {
      await stranger.goto(origin + '/login');
      await stranger.getByTestId('login-passkey').click();
      await stranger.getByTestId('login-error').waitFor();
      expect(await stranger.getByTestId('login-error').getAttribute('data-code')).toBe('ERR_PASSKEY_NOT_RECOGNISED');
      expect(await stranger.getByTestId('login-error').innerText()).toContain('n’est pas enregistrée');
      await stranger.screenshot({ path: '/tmp/passkeys-unknown.png', fullPage: true });
    } finally {
      await context.close();
    }
  });

  it('registers a USB security key, then pays a transfer with it; a wrong password is refused and the key asked again', async () => {
    // Only the USB key is plugged in from now on.
    await cdp.send('WebAuthn.removeVirtualAuthenticator', { authenticatorId: platformKey });
    usbKey = await addAuthenticator('usb');
    await registerKey('YubiKey', 'cross-platform');
    expect((await webauthnRows()).map((r) => r.label)).toEqual(['Mon ordinateur', 'YubiKey']);

    await page.getByTestId('nav-transfer').click();
    await page.getByTestId('transfer-form').waitFor();
    await page.getByTestId('transfer-payee').fill('Plomberie Martin');
    await page.getByTestId('transfer-iban').fill('FR76 3000 6000 0112 3456 7890 189');
    await page.getByTestId('transfer-amount').fill('80,00');
    await page.getByTestId('transfer-continue').click();
    await page.getByTestId('transfer-confirm').waitFor();

    // A genuine key with a wrong password: the one generic refusal, and that assertion is spent.
    await page.getByTestId('confirm-password').fill('not my password');
    await page.getByTestId('confirm-method-webauthn').click();
    await page.getByTestId('confirm-passkey-ready').waitFor();
    await page.getByTestId('confirm-submit').click();
    await page.getByTestId('confirm-error').waitFor();
    expect(await page.getByTestId('confirm-error').getAttribute('data-code')).toBe('ERR_AUTHENTICATION_FAILED');
    await shot('transfer-refused');

    await page.getByTestId('confirm-password').fill(customer.password);
    await page.getByTestId('confirm-method-webauthn').click();
    await page.getByTestId('confirm-passkey-ready').waitFor();
    await page.getByTestId('confirm-submit').click();
    await page.getByTestId('transfer-success').waitFor();
    expect(await page.getByTestId('success-text').innerText()).toContain('Plomberie Martin');
    await shot('transfer-success');

    const success = await lastSuccess();
    expect(success).toMatchObject({ operationType: 'payment', methods: ['password', 'webauthn'] });
    // The USB key signed (twice: the refused attempt and the approval), its counter kept by the server.
    const [usb] = await credentialsOf(usbKey);
    expect(usb!.signCount).toBeGreaterThanOrEqual(2);
    const yubikey = (await webauthnRows()).find((r) => r.label === 'YubiKey')!;
    expect((yubikey.params as { counter: number }).counter).toBe(usb!.signCount);
  });
  it('emma, who has codes by SMS only, registers a passkey confirmed with her password and an SMS code', async () => {
    // Her own browser, with a passkey-capable device.
    const { context, page: emma } = await anotherDevice();
    const seen = new Set<string>();
    const smsCode = async () => /\b(\d{6})\b/.exec(await lastSmsTo(sesame.app, '+33698765432', seen))![1]!;
    try {
      await emma.goto(origin + '/login');
      await emma.getByTestId('login-ref').fill('emma');
      await emma.getByTestId('login-password').fill('emma-demo-2026');
      await emma.getByTestId('login-continue').click();
      await emma.getByTestId('login-method-sms').click();
      await emma.getByTestId('login-code').fill(await smsCode());
      await emma.getByTestId('login-submit').click();
      await emma.getByTestId('accounts-page').waitFor();

      await emma.getByTestId('nav-security').click();
      await emma.getByTestId('passkeys-panel').waitFor();
      await emma.getByTestId('passkey-label').fill('Téléphone d’Emma');
      await emma.getByTestId('passkey-password').fill('emma-demo-2026');
      // The code is sent for this change: the SMS names it.
      await emma.getByTestId('passkey-method-sms').click();
      const sms = await lastSmsTo(sesame.app, '+33698765432', seen);
      await emma.getByTestId('passkey-code').fill(/\b(\d{6})\b/.exec(sms)![1]!);
      await emma.getByTestId('passkey-add').click();
      await emma.getByTestId('passkey-added').waitFor();
      await emma.screenshot({ path: '/tmp/passkeys-emma.png', fullPage: true });

      const rows = await sesame.services.db
        .selectFrom('authenticators')
        .innerJoin('customers', 'customers.id', 'authenticators.customer_id')
        .select(['authenticators.label', 'authenticators.status'])
        .where('customers.external_ref', '=', 'emma')
        .where('authenticators.kind', '=', 'webauthn')
        .execute();
      expect(rows).toEqual([{ label: 'Téléphone d’Emma', status: 'active' }]);
      const card = emma.getByTestId('method-webauthn');
      await expect.poll(() => card.getByTestId('method-category').innerText()).toBe('Possession + Inhérence');
      const success = await lastSuccess();
      expect(success).toMatchObject({ operationType: 'manage_authenticators', methods: ['password', 'sms'] });
    } finally {
      await context.close();
    }
  });
});
