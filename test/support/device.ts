import type { FastifyInstance } from 'fastify';
import { MemoryDeviceStore, requestSigningInput, SesameDevice } from '../../sdk/device/src/index.js';
import { randomNonce, signWithPossession } from '../../sdk/device/src/keys.js';

/**
 * The device SDK driven against an in-process server: a `fetch` that goes through `app.inject` (no
 * socket), and a low PBKDF2 cost so that tests stay fast (the PIN logic is the same).
 */
export function injectFetch(app: FastifyInstance): typeof fetch {
  return (async (input: string | URL | Request, init: RequestInit = {}) => {
    const url = new URL(String(input instanceof Request ? input.url : input));
    const res = await app.inject({
      method: (init.method ?? 'GET') as 'GET',
      url: url.pathname + url.search,
      headers: Object.fromEntries(new Headers(init.headers).entries()),
      ...(init.body !== undefined ? { payload: init.body as string } : {}),
    });
    const headers = new Headers();
    for (const [k, v] of Object.entries(res.headers)) if (v !== undefined) headers.set(k, String(v));
    return new Response(res.statusCode === 204 ? null : res.body, { status: res.statusCode, headers });
  }) as typeof fetch;
}

export function testDevice(app: FastifyInstance, serverUrl = 'http://sesame.test'): SesameDevice {
  return new SesameDevice({ serverUrl, store: new MemoryDeviceStore(), pinIterations: 1000, fetch: injectFetch(app) });
}

/** The newest SMS to a number in the dev outbox (what `/dev/phone` shows), waiting for the dispatcher. */
export async function lastSmsTo(app: FastifyInstance, to: string, after = new Set<string>()): Promise<string> {
  for (let i = 0; i < 200; i++) {
    const res = await app.inject({ method: 'GET', url: `/dev/phone/api/entries?to=${encodeURIComponent(to)}` });
    const fresh = (res.json().entries as { id: string; text?: string }[]).find((e) => !after.has(e.id));
    if (fresh) {
      after.add(fresh.id);
      return fresh.text ?? '';
    }
    await new Promise((r) => setTimeout(r, 25));
  }
  throw new Error(`no SMS to ${to}`);
}

/**
 * An active app installation for a customer who has a secure mobile: self-service activation through
 * the relying-party API, confirmed with the code the dev outbox received. Returns the device and its
 * store (whose keys can sign hand-made requests).
 */
export async function activateTestDevice(
  app: FastifyInstance,
  apiKey: string,
  c: { id: string; mobile: string },
  pin = '482913',
): Promise<{ device: SesameDevice; store: MemoryDeviceStore }> {
  const started = await app.inject({
    method: 'POST',
    url: `/v1/customers/${c.id}/app-activations`,
    headers: { authorization: `Bearer ${apiKey}`, 'content-type': 'application/json' },
    payload: '{}',
  });
  if (started.statusCode !== 201) throw new Error(`activation: ${started.body}`);
  const store = new MemoryDeviceStore();
  const device = new SesameDevice({ serverUrl: 'http://sesame.test', store, pinIterations: 1000, fetch: injectFetch(app) });
  await device.activate({ activationCode: started.json().activationCode, pin, deviceName: 'Test phone', platform: 'node' });
  const sms = await lastSmsTo(app, c.mobile);
  await device.confirmActivation(/\b(\d{6})\b/.exec(sms)![1]!);
  return { device, store };
}

/** The `Authorization` header of a device request signed with an installation's key (any body, even a bad one). */
export async function signedDeviceHeader(
  signer: { id: string; key: CryptoKey },
  r: { method: string; url: string; body: string; ts: number },
): Promise<string> {
  const nonce = randomNonce();
  const input = await requestSigningInput({ method: r.method, path: r.url, ts: r.ts, nonce, body: r.body });
  return `SesameDevice id="${signer.id}", ts="${r.ts}", nonce="${nonce}", sig="${await signWithPossession(signer.key, input)}"`;
}
