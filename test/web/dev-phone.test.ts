import fs from 'node:fs';
import { type Browser, type Page } from 'playwright-core';
import { CHROMIUM, launchChromium } from '../support/chromium.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startSesame, type TestSesame } from '../support/sesame.js';

/**
 * The development "phone & inbox" page (`/dev/phone`) in Debian's Chromium: a customer registers a
 * landline by answering the call on the page, then logs in by typing the code shown on the bank's screen
 * on the page's keypad; a payment SMS shows its amount and payee. The bank-side steps go through the API.
 * Screenshot in /tmp/dev-phone.png.
 */
const hasChromium = fs.existsSync(CHROMIUM);
const PAYMENT = {
  type: 'payment',
  amount: { value: 25000, currency: 'EUR' },
  payee: { name: 'Plomberie Martin', iban: 'FR7630006000011234567890189' },
};

describe.skipIf(!hasChromium)(`the dev phone page, in Chromium${hasChromium ? '' : ' (skipped: /usr/bin/chromium is missing)'}`, () => {
  let t: TestSesame;
  let url: string;
  let browser: Browser;
  let page: Page;

  beforeAll(async () => {
    t = await startSesame('pglite', { SESAME_OTP_MAX_PER_CUSTOMER_HOUR: '100', SESAME_OTP_MAX_PER_NUMBER_HOUR: '100' });
    url = await t.sesame.listen();
    browser = await launchChromium();
    page = await (await browser.newContext({ viewport: { width: 1200, height: 900 } })).newPage();
    page.setDefaultTimeout(10_000);
  }, 120_000);

  afterAll(async () => {
    await browser?.close();
    await t?.close();
  });

  async function customerWithPassword() {
    const ref = `dp-${Math.random().toString(36).slice(2, 8)}`;
    const c = await t.api('POST', '/v1/customers', { ref, displayName: `Customer ${ref}` });
    expect(c.status).toBe(201);
    const password = `pw ${ref} correct horse battery`;
    expect((await t.api('POST', `/v1/customers/${c.body.id}/authenticators/password`, { password })).status).toBe(201);
    return { id: c.body.id as string, password };
  }
  const callTo = (to: string) => page.locator(`[data-testid="call-thread"][data-to="${to}"] [data-testid="call"]`);

  it('registers a landline by answering the call, then logs in by typing the screen code on the keypad', async () => {
    const c = await customerWithPassword();
    const enrol = await t.api('POST', `/v1/customers/${c.id}/authenticators/phone`, {
      method: 'voice',
      phone: '01 42 68 53 00',
      voiceMode: 'keypad',
    });
    expect(enrol.status, JSON.stringify(enrol.body)).toBe(201);

    await page.goto(url + '/dev/phone');
    expect(await page.evaluate(() => document.documentElement.lang)).toBe('fr');
    const thread = page.locator('[data-testid="call-thread"][data-to="+33142685300"]');
    await expect.poll(() => thread.locator('h3').innerText(), { timeout: 10_000 }).toBe('+33 1 42 68 53 00');
    const first = callTo('+33142685300').first();
    await first.getByTestId('answer').waitFor();
    expect(await first.getByTestId('voicemail').innerText()).toBe('Messagerie');
    await first.getByTestId('answer').click();
    const transcript = first.getByTestId('transcript');
    await expect.poll(() => transcript.innerText(), { timeout: 10_000 }).toMatch(/(\d, ){5}\d/);
    const spoken = /(\d(?:, \d){5})/.exec(await transcript.innerText())![1]!;
    const code = spoken.replace(/\D/g, '');
    const active = await t.api('POST', `/v1/customers/${c.id}/authenticators/${enrol.body.id}/activate`, { code });
    expect(active.status, JSON.stringify(active.body)).toBe(200);

    const login = await t.createOperation(c.id, { type: 'login' });
    const sent = await t.api('POST', `/v1/operations/${login}/challenges`, { method: 'voice' });
    expect(sent.status, JSON.stringify(sent.body)).toBe(201);
    expect(sent.body).toMatchObject({ mode: 'keypad' });
    const displayCode = sent.body.displayCode as string;
    expect(displayCode).toMatch(/^\d{6}$/);

    // The newest call comes first in the thread.
    await expect.poll(() => callTo('+33142685300').count(), { timeout: 10_000 }).toBe(2);
    const call = callTo('+33142685300').first();
    expect(await call.getAttribute('data-phase')).toBe('ringing');
    await call.getByTestId('answer').click();
    await call.getByTestId('key-1').waitFor();
    await expect.poll(() => call.getByTestId('transcript').innerText(), { timeout: 10_000 }).toMatch(/\[attend 6 touches ou #\]/);
    expect(await call.getByTestId('transcript').innerText()).not.toContain(displayCode);
    // Each key is sent as it is pressed. The gather takes 6 keys or '#': the sixth completes it and the
    // server answers on the call; a '#' after that (as people type it) is only pressed if the call is still on.
    for (const key of displayCode) await call.getByTestId(`key-${key}`).click();
    await expect.poll(() => call.getByTestId('typed').innerText()).toContain(displayCode);
    await expect.poll(() => call.getByTestId('transcript').innerText(), { timeout: 10_000 }).toContain('Merci');
    if ((await call.getAttribute('data-phase')) === 'in-progress') await call.getByTestId('key-#').click();

    const res = await t.api('POST', `/v1/operations/${login}/authenticate`, {
      factors: [{ method: 'password', password: c.password }, { method: 'voice' }],
    });
    expect(res.status, JSON.stringify(res.body)).toBe(200);

    if (await call.getByTestId('hangup').isVisible()) {
      await call.getByTestId('hangup').click();
      await expect.poll(() => call.getAttribute('data-phase')).toBe('ended');
    }
  });

  it('a call answered in silence (detection cannot tell) reads the code only once 1 is pressed', async () => {
    const c = await customerWithPassword();
    const enrol = await t.api('POST', `/v1/customers/${c.id}/authenticators/phone`, { method: 'voice', phone: '01 42 68 53 55' });
    expect(enrol.status, JSON.stringify(enrol.body)).toBe(201);
    await page.goto(url + '/dev/phone');
    const call = callTo('+33142685355').first();
    await call.getByTestId('answer-unsure').click();
    const transcript = call.getByTestId('transcript');
    await expect.poll(() => transcript.innerText(), { timeout: 10_000 }).toContain('Pour entendre votre code, appuyez sur 1.');
    expect(await transcript.innerText()).not.toMatch(/(\d, ){5}\d/);
    await call.getByTestId('key-1').click();
    await expect.poll(() => transcript.innerText(), { timeout: 10_000 }).toMatch(/(\d, ){5}\d/);
    const code = /(\d(?:, \d){5})/.exec(await transcript.innerText())![1]!.replace(/\D/g, '');
    expect((await t.api('POST', `/v1/customers/${c.id}/authenticators/${enrol.body.id}/activate`, { code })).status).toBe(200);
  });

  it('shows a payment SMS to a mobile, with its amount and payee, in the number’s thread', async () => {
    const c = await customerWithPassword();
    const enrol = await t.api('POST', `/v1/customers/${c.id}/authenticators/phone`, { method: 'sms', phone: '06 12 34 56 78' });
    expect(enrol.status, JSON.stringify(enrol.body)).toBe(201);
    const sms = page.locator('[data-testid="sms-thread"][data-to="+33612345678"] [data-testid="sms"]');
    await expect.poll(() => sms.count(), { timeout: 10_000 }).toBe(1);
    const code = await sms.first().locator('strong').innerText();
    expect(code).toMatch(/^\d{6}$/);
    expect((await t.api('POST', `/v1/customers/${c.id}/authenticators/${enrol.body.id}/activate`, { code })).status).toBe(200);

    const login = await t.createOperation(c.id, { type: 'login' });
    expect((await t.api('POST', `/v1/operations/${login}/challenges`, { method: 'sms' })).status).toBe(201);
    await expect.poll(() => sms.count(), { timeout: 10_000 }).toBe(2);
    const loggedIn = await t.api('POST', `/v1/operations/${login}/authenticate`, {
      factors: [
        { method: 'password', password: c.password },
        { method: 'sms', code: await sms.first().locator('strong').innerText() },
      ],
    });
    expect(loggedIn.status, JSON.stringify(loggedIn.body)).toBe(200);

    const pay = await t.createOperation(c.id, PAYMENT, loggedIn.body.session.token);
    expect((await t.api('POST', `/v1/operations/${pay}/challenges`, { method: 'sms' })).status).toBe(201);
    await expect.poll(() => sms.count(), { timeout: 10_000 }).toBe(3);
    const text = await sms.first().innerText();
    expect(text).toMatch(/250,00/);
    expect(text).toContain('Plomberie Martin');
    await page.screenshot({ path: '/tmp/dev-phone.png', fullPage: true });
  });

  it('speaks English with ?lang=en', async () => {
    await page.goto(url + '/dev/phone?lang=en');
    expect(await page.evaluate(() => document.documentElement.lang)).toBe('en');
    await expect.poll(() => page.locator('h1').innerText()).toBe('Phone & inbox');
    await expect.poll(() => page.getByTestId('call-state').first().innerText(), { timeout: 10_000 }).toMatch(/Ended|In progress/);
  });
});
