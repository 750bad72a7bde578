import { browserSupportsWebAuthn, platformAuthenticatorIsAvailable, startAuthentication, startRegistration } from '@simplewebauthn/browser';
import { fromBase64Url, IndexedDbDeviceStore, SesameDevice, type BiometricAuthenticator } from '../../../sdk/device/src/index.js';

/**
 * This installation of the app: the device SDK over IndexedDB, talking to the server that served the page.
 * All the cryptography (keys, PIN, signed approvals, signed requests) is the SDK's; the app only draws.
 */
export const device = new SesameDevice({ serverUrl: window.location.origin, store: new IndexedDbDeviceStore('sesame-app') });

/**
 * The SDK's biometric key, as a WebAuthn platform credential with user verification
 * (@simplewebauthn/browser does the encoding). The server gives the registration options; an
 * approval's challenge is the SHA-256 of the approval payload, computed by the SDK.
 */
export const webAuthnBiometric: BiometricAuthenticator = {
  async register(options) {
    // The server may send the options as they are, or wrapped as `{ options }` / `{ publicKey }`.
    const json = (options.publicKey ?? options.options ?? options) as Parameters<typeof startRegistration>[0]['optionsJSON'];
    return (await startRegistration({ optionsJSON: json })) as unknown as Record<string, unknown>;
  },
  async assert({ challenge, credentialId, rpId }) {
    const res = await startAuthentication({
      optionsJSON: {
        challenge,
        allowCredentials: [{ id: credentialId, type: 'public-key', transports: ['internal'] }],
        userVerification: 'required',
        timeout: 60_000,
        ...(rpId ? { rpId } : {}),
      },
    });
    return res as unknown as Record<string, unknown>;
  },
};

/** Whether this browser can make a platform credential with user verification (a fingerprint, a face). */
export async function biometricsAvailable(): Promise<boolean> {
  if (!browserSupportsWebAuthn()) return false;
  try {
    return await platformAuthenticatorIsAvailable();
  } catch {
    return false;
  }
}

/** Registers the service worker that shows Web Push notifications (scope /app/). */
export async function registerServiceWorker(): Promise<ServiceWorkerRegistration | null> {
  if (!('serviceWorker' in navigator)) return null;
  try {
    return await navigator.serviceWorker.register('/app/sw.js', { scope: '/app/' });
  } catch {
    return null;
  }
}

export type PushState = 'unsupported' | 'denied' | 'prompt' | 'on';

export function pushState(): PushState {
  if (!('serviceWorker' in navigator) || !('PushManager' in window) || !('Notification' in window)) return 'unsupported';
  if (Notification.permission === 'denied') return 'denied';
  return Notification.permission === 'granted' ? 'on' : 'prompt';
}

/**
 * Subscribes to Web Push with the server's VAPID key and registers the subscription for this
 * installation. Asks for the notification permission when `ask` (a user gesture), else only when it
 * was granted before. Returns the new state; never throws (polling keeps working without push).
 */
export async function enablePush(ask: boolean): Promise<PushState> {
  const state = pushState();
  if (state === 'unsupported' || state === 'denied') return state;
  if (state === 'prompt') {
    if (!ask) return state;
    if ((await Notification.requestPermission()) !== 'granted') return pushState();
  }
  try {
    const reg = (await registerServiceWorker()) ?? (await navigator.serviceWorker.ready);
    const res = await fetch('/v1/device/push/public-key', { headers: { accept: 'application/json' } });
    if (!res.ok) return 'unsupported';
    const body = (await res.json()) as { publicKey?: string; key?: string; vapidPublicKey?: string };
    const key = body.publicKey ?? body.vapidPublicKey ?? body.key;
    if (!key) return 'unsupported';
    const existing = await reg.pushManager.getSubscription();
    const sub =
      existing ?? (await reg.pushManager.subscribe({ userVisibleOnly: true, applicationServerKey: fromBase64Url(key) as BufferSource }));
    const json = sub.toJSON() as { endpoint?: string; keys?: { p256dh?: string; auth?: string } };
    if (!json.endpoint || !json.keys?.p256dh || !json.keys.auth) return 'unsupported';
    await device.subscribePush({ endpoint: json.endpoint, keys: { p256dh: json.keys.p256dh, auth: json.keys.auth } });
    return 'on';
  } catch {
    // No push service reachable (a closed network, a browser without one): polling does the job.
    return 'unsupported';
  }
}
