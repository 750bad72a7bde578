import type { WrappedKnowledgeKey } from './pin-vault.js';

/**
 * What an installation keeps. CryptoKeys stay CryptoKeys: IndexedDB stores them by structured clone
 * without ever exposing the non-extractable private bytes; in Node they live in memory (or a native
 * app's keystore behind this same interface).
 */
export interface DeviceState {
  serverUrl: string;
  authenticatorId: string;
  /** Set while the activation waits for the code sent to the secure phone. */
  activationId: string | null;
  status: 'awaiting_confirmation' | 'active';
  possessionKey: CryptoKey;
  possessionPublicJwk: JsonWebKey;
  offlineKey: CryptoKey;
  knowledge: WrappedKnowledgeKey;
  /** Strictly increasing across approvals: the server refuses a counter it has seen. */
  counter: number;
  /** The WebAuthn credential of the biometric key, when enrolled. */
  biometricCredentialId: string | null;
  customerName: string;
  /**
   * The bank's public signing keys, saved while online: offline mode checks a QR code against them (the
   * phone may have no network then). Absent in states saved by earlier versions until the next refresh.
   */
  bankKeys?: { keys: JsonWebKey[] } | null;
  /** The server's count of PIN changes this state's knowledge key matches (absent in earlier versions' states). */
  pinChanges?: number;
  /**
   * A PIN change whose answer was lost: its new key, the server's count once it is made, and until when it
   * may still be made. Settled at the next use of the PIN, from the server's count.
   */
  pendingPin?: { wrapped: WrappedKnowledgeKey; pinChanges: number; until: number } | null;
}

export interface DeviceStore {
  load(): Promise<DeviceState | null>;
  save(state: DeviceState): Promise<void>;
  clear(): Promise<void>;
}

export class MemoryDeviceStore implements DeviceStore {
  private state: DeviceState | null = null;
  async load() {
    return this.state ? { ...this.state } : null;
  }
  async save(state: DeviceState) {
    this.state = { ...state };
  }
  async clear() {
    this.state = null;
  }
}

/** The browser's store: one IndexedDB record (CryptoKeys are stored as keys, not as bytes). */
export class IndexedDbDeviceStore implements DeviceStore {
  constructor(private readonly dbName = 'sesame-device') {}

  private open(): Promise<IDBDatabase> {
    return new Promise((resolve, reject) => {
      const req = indexedDB.open(this.dbName, 1);
      req.onupgradeneeded = () => req.result.createObjectStore('state');
      req.onsuccess = () => resolve(req.result);
      req.onerror = () => reject(req.error);
    });
  }

  private async run<T>(mode: IDBTransactionMode, op: (s: IDBObjectStore) => IDBRequest): Promise<T> {
    const db = await this.open();
    try {
      return await new Promise<T>((resolve, reject) => {
        const req = op(db.transaction('state', mode).objectStore('state'));
        req.onsuccess = () => resolve(req.result as T);
        req.onerror = () => reject(req.error);
      });
    } finally {
      db.close();
    }
  }

  async load() {
    return (await this.run<DeviceState | undefined>('readonly', (s) => s.get('installation'))) ?? null;
  }
  async save(state: DeviceState) {
    await this.run('readwrite', (s) => s.put(state, 'installation'));
  }
  async clear() {
    await this.run('readwrite', (s) => s.delete('installation'));
  }
}
