/**
 * (g) App approvals per second: the device SDK in Node is the load client. Each flow is one signed
 * approval — the installation's ECDSA signature over the operation's payload plus the HMAC under the
 * PIN-unlocked knowledge key, the request itself signed — that the server checks (request signature and
 * nonce, possession signature, knowledge HMAC, counter) and commits as an SCA success with its
 * authentication code. The payment operations are created and sent to the app beforehand (the bank's
 * side); the app lists them, then the measured loop approves them. Beside it, raw ECDSA P-256 verifies/s
 * on one core, measured in the same run (each approval costs the server two verifications).
 *
 * Part of `npm run bench`; on its own (PGlite, a few seconds): `npx tsx bench/app-approvals.ts [--seconds=3]`.
 */
import { MemoryDeviceStore, SesameDevice, type PendingApproval } from '../sdk/device/src/index.js';
import { Client } from './lib/http.js';
import { closedLoop } from './lib/load.js';
import { sleep } from './lib/procs.js';
import { runStandalone } from './lib/standalone.js';
import type { RunResult } from './lib/stats.js';
import { ecdsaVerifyLimit } from './webauthn.js';

const PIN = '482913';
const PAYMENT = {
  type: 'payment',
  amount: { value: 4_200, currency: 'EUR' },
  payee: { name: 'Boulangerie Dupont', iban: 'FR7630006000011234567890189' },
};
/** The PIN's key derivation runs on the phone, not the server: a low cost keeps the load client light. */
const BENCH_PIN_ITERATIONS = 1000;

export interface AppDevice {
  customerId: string;
  device: SesameDevice;
}

/** Customers with a secure mobile and a card, each with an app installation activated the real way (code + SMS). */
export async function setUpAppDevices(
  client: Client,
  opts: { count: number; concurrency: number; tag: string; serverUrl: string },
): Promise<AppDevice[]> {
  const out: AppDevice[] = [];
  let next = 0;
  await Promise.all(
    Array.from({ length: opts.concurrency }, async () => {
      while (next < opts.count) {
        const i = next++;
        const mobile = `+3376${String(1_000_000 + i + (opts.tag === 'postgres' ? 500_000 : 0)).slice(-7)}`;
        const ref = `bench-app-${opts.tag}-${i}-${Math.random().toString(36).slice(2, 8)}`;
        const { id } = await client.request<{ id: string }>(
          'POST',
          '/v1/customers',
          { ref, displayName: `Bench ${i}`, mobilePhone: mobile, hasActiveCard: true },
          201,
        );
        const started = await client.request<{ activationCode: string }>('POST', `/v1/customers/${id}/app-activations`, {}, 201);
        const device = new SesameDevice({
          serverUrl: opts.serverUrl,
          store: new MemoryDeviceStore(),
          pinIterations: BENCH_PIN_ITERATIONS,
          fetch: client.fetch,
        });
        await device.activate({ activationCode: started.activationCode, pin: PIN, deviceName: `Bench phone ${i}`, platform: 'node' });
        await device.confirmActivation(await smsCode(client, mobile));
        out.push({ customerId: id, device });
      }
    }),
  );
  return out;
}

async function smsCode(client: Client, to: string): Promise<string> {
  for (let i = 0; i < 400; i++) {
    const { entries } = await client.request<{ entries: { text?: string }[] }>(
      'GET',
      `/dev/phone/api/entries?to=${encodeURIComponent(to)}`,
      undefined,
      200,
    );
    const code = entries.map((e) => /\b(\d{6})\b/.exec(e.text ?? '')?.[1]).find(Boolean);
    if (code) return code;
    await sleep(25);
  }
  throw new Error(`no confirmation SMS to ${to}`);
}

/**
 * Payment operations sent to each device (the bank's side: create the operation, send it to the app),
 * spread over the devices; each device belongs to one worker so that its counter goes forward in order.
 */
export async function prepareApprovals(
  client: Client,
  devices: AppDevice[],
  opts: { want: number; concurrency: number; budgetMs: number },
): Promise<{ created: number; seconds: number }> {
  const t0 = performance.now();
  const perDevice = Math.ceil(opts.want / devices.length);
  let created = 0;
  await Promise.all(
    devices.map(async (d) => {
      for (let n = 0; n < perDevice && performance.now() - t0 < opts.budgetMs; n++) {
        const op = await client.request<{ id: string }>('POST', '/v1/operations', { customerId: d.customerId, data: PAYMENT }, 201);
        await client.request('POST', `/v1/operations/${op.id}/app-approvals`, undefined, 201);
        created++;
      }
    }),
  );
  return { created, seconds: (performance.now() - t0) / 1000 };
}

/**
 * The measured loop, as the app does it: list what waits (up to 20 at a time, as a push or the long poll
 * would bring), then approve each with the PIN. Worker w drives the devices w, w + concurrency, …
 */
export async function runApprovals(devices: AppDevice[], concurrency: number, seconds: number): Promise<RunResult> {
  const waiting = new Map<SesameDevice, PendingApproval[]>();
  // The PIN's key derivation is the phone's work, once per user action: done before the clock starts.
  const unlocked = new Map(await Promise.all(devices.map(async (d) => [d.device, await d.device.unlock(PIN)] as const)));
  return closedLoop(concurrency, seconds, (w) => {
    const mine = devices.filter((_, i) => i % concurrency === w % concurrency);
    let turn = 0;
    return async () => {
      for (let tries = 0; tries < mine.length; tries++) {
        const d = mine[turn++ % mine.length]!.device;
        let list = waiting.get(d);
        if (!list?.length) {
          list = await d.pendingApprovals();
          waiting.set(d, list);
        }
        const next = list.shift();
        if (next) {
          await d.approve(next, { unlocked: unlocked.get(d)! });
          return true;
        }
      }
      return false;
    };
  });
}

runStandalone(import.meta.url, {
  tag: 'app',
  scenario: '(g) app approval (PIN) on an existing payment op → auth code',
  async run({ client, srv, concurrency, seconds, measure }) {
    const ecdsa = ecdsaVerifyLimit(1);
    const devices = await setUpAppDevices(client, { count: 2 * concurrency, concurrency, tag: 'solo', serverUrl: srv.url });
    const prep = await prepareApprovals(client, devices, { want: 1000 * seconds, concurrency, budgetMs: 45_000 });
    process.stderr.write(`[app] ${prep.created} operations sent to the apps in ${prep.seconds.toFixed(1)} s\n`);
    const result = await measure(() => runApprovals(devices, concurrency, seconds));
    return { result, notes: [`Raw ${ecdsa.what}: ${Math.round(ecdsa.perSecond)}.`] };
  },
});
