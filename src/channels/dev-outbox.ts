import { randomUUID } from 'node:crypto';
import { systemClock, type Clock } from '../core/clock.js';
import { RINGING, stepVoiceCall, transcript, VoiceCallError, type VoiceCallEvent, type VoiceCallState } from './dev-voice-call.js';
import type {
  Channel,
  DeliveryMessage,
  DeliveryProvider,
  DeliveryReceipt,
  DeliveryStatus,
  DeliveryStatusUpdate,
  SendOptions,
  VoiceSegment,
} from './types.js';

/**
 * The development provider: sends nothing, records every message for the local "phone & inbox" page, and
 * lets that page play voice calls (answer, press keys, hang up, or let a voicemail pick up). Never used in
 * production: `createDeliveryProvider` refuses it there.
 */

export { VoiceCallError, transcript, type VoiceCallState } from './dev-voice-call.js';

export interface DevOutboxEntry {
  /** Also the `providerId` returned by `send`. */
  id: string;
  idempotencyKey: string;
  createdAt: Date;
  message: DeliveryMessage;
  status: DeliveryStatus;
  /** Voice messages: the simulated call and what it has said so far. */
  call?: VoiceCallState;
  transcript?: string[];
}

export interface DevOutboxFilter {
  to?: string;
  kind?: Channel;
  limit?: number;
}

/** Where the dev outbox keeps its messages: in memory here, in the database in the server. */
export interface DevOutboxStore {
  /** Stores the entry unless one with the same idempotency key exists; returns the stored one either way. */
  record(entry: DevOutboxEntry): Promise<DevOutboxEntry>;
  get(id: string): Promise<DevOutboxEntry | null>;
  /** Newest first. */
  list(filter?: DevOutboxFilter): Promise<DevOutboxEntry[]>;
  update(id: string, patch: Partial<Pick<DevOutboxEntry, 'status' | 'call' | 'transcript'>>): Promise<void>;
  clear(): Promise<void>;
}

export class InMemoryDevOutboxStore implements DevOutboxStore {
  #entries = new Map<string, DevOutboxEntry>();
  #byKey = new Map<string, string>();
  // Keeps at most this many entries: a dev server left running for days does not grow without bound.
  constructor(private readonly capacity = 1000) {}

  async record(entry: DevOutboxEntry): Promise<DevOutboxEntry> {
    const existing = this.#byKey.get(entry.idempotencyKey);
    if (existing) return structuredClone(this.#entries.get(existing)!);
    this.#entries.set(entry.id, structuredClone(entry));
    this.#byKey.set(entry.idempotencyKey, entry.id);
    while (this.#entries.size > this.capacity) {
      const oldest = this.#entries.values().next().value!;
      this.#entries.delete(oldest.id);
      this.#byKey.delete(oldest.idempotencyKey);
    }
    return structuredClone(entry);
  }

  async get(id: string): Promise<DevOutboxEntry | null> {
    const e = this.#entries.get(id);
    return e ? structuredClone(e) : null;
  }

  async list(filter: DevOutboxFilter = {}): Promise<DevOutboxEntry[]> {
    const out = [...this.#entries.values()]
      .filter((e) => (!filter.to || e.message.to === filter.to) && (!filter.kind || e.message.kind === filter.kind))
      .reverse()
      .slice(0, filter.limit ?? 100);
    return out.map((e) => structuredClone(e));
  }

  async update(id: string, patch: Partial<Pick<DevOutboxEntry, 'status' | 'call' | 'transcript'>>): Promise<void> {
    const e = this.#entries.get(id);
    if (e) this.#entries.set(id, structuredClone({ ...e, ...patch }));
  }

  async clear(): Promise<void> {
    this.#entries.clear();
    this.#byKey.clear();
  }
}

export interface DevOutboxOptions {
  store?: DevOutboxStore;
  clock?: Clock;
  /**
   * Keypad calls: the keys typed, for the server to verify. What it returns is said on the call
   * (e.g. `keypadResult(locale, ok)`); nothing ends the call.
   */
  onDtmf?: (callId: string, digits: string) => Promise<VoiceSegment[] | void> | VoiceSegment[] | void;
  /** Status changes (answered, machine, busy…), as a real provider's status callbacks would report them. */
  onStatus?: (update: DeliveryStatusUpdate) => Promise<void> | void;
}

/** One turn of a simulated call: what was said, the whole transcript so far, and the call's state. */
export interface VoiceCallTurn {
  callId: string;
  state: VoiceCallState;
  segments: VoiceSegment[];
  said: string[];
  transcript: string[];
  status: DeliveryStatus;
}

/**
 * @example
 * const outbox = new DevOutbox({ onDtmf: (callId, digits) => verifyVoiceCode(callId, digits) });
 * const { providerId } = await outbox.send({ kind: 'voice', to, script }, { idempotencyKey: id });
 * await outbox.answer(providerId);          // the call states the operation and reads the code
 * await outbox.pressKeys(providerId, '1');  // and reads it again
 */
export class DevOutbox implements DeliveryProvider {
  readonly store: DevOutboxStore;
  readonly #clock: Clock;
  readonly #options: DevOutboxOptions;

  constructor(options: DevOutboxOptions = {}) {
    this.store = options.store ?? new InMemoryDevOutboxStore();
    this.#clock = options.clock ?? systemClock;
    this.#options = options;
  }

  async send(message: DeliveryMessage, options: SendOptions): Promise<DeliveryReceipt> {
    const voice = message.kind === 'voice';
    const entry = await this.store.record({
      id: `dev-${randomUUID()}`,
      idempotencyKey: options.idempotencyKey,
      createdAt: this.#clock.now(),
      message: structuredClone(message),
      status: voice ? 'queued' : 'delivered',
      ...(voice ? { call: RINGING, transcript: [] } : {}),
    });
    const status = entry.status === 'queued' || entry.status === 'sent' || entry.status === 'delivered' ? entry.status : 'sent';
    return { providerId: entry.id, status };
  }

  list(filter?: DevOutboxFilter): Promise<DevOutboxEntry[]> {
    return this.store.list(filter);
  }

  get(id: string): Promise<DevOutboxEntry | null> {
    return this.store.get(id);
  }

  /**
   * Picks up a ringing call, as the person (`human`), as their voicemail (`machine`), or so that
   * answering-machine detection cannot tell (`unsure`: the code waits for a key).
   */
  answer(callId: string, as: 'human' | 'machine' | 'unsure' = 'human'): Promise<VoiceCallTurn> {
    return this.#step(callId, { type: 'answer', by: as });
  }

  /** Keys pressed on the phone's keypad, one or several at once. */
  pressKeys(callId: string, keys: string): Promise<VoiceCallTurn> {
    return this.#step(callId, { type: 'keys', keys });
  }

  /** The person stays silent until the gather times out. */
  silence(callId: string): Promise<VoiceCallTurn> {
    return this.#step(callId, { type: 'silence' });
  }

  decline(callId: string, reason: 'busy' | 'no-answer' = 'no-answer'): Promise<VoiceCallTurn> {
    return this.#step(callId, { type: 'decline', reason });
  }

  hangup(callId: string): Promise<VoiceCallTurn> {
    return this.#step(callId, { type: 'hangup' });
  }

  async #step(callId: string, event: VoiceCallEvent): Promise<VoiceCallTurn> {
    const entry = await this.store.get(callId);
    if (!entry || entry.message.kind !== 'voice' || !entry.call) throw new VoiceCallError('No such call.');
    const script = entry.message.script;
    let step = stepVoiceCall(script, entry.call, event);
    const segments = [...step.played];
    let status = step.status ?? entry.status;
    if (step.status) await this.#options.onStatus?.({ providerId: callId, status: step.status });
    if (step.dtmf !== undefined) {
      const reply = (await this.#options.onDtmf?.(callId, step.dtmf)) ?? [];
      step = stepVoiceCall(script, step.state, { type: 'server', segments: reply });
      segments.push(...step.played);
      if (step.status) {
        status = step.status;
        await this.#options.onStatus?.({ providerId: callId, status: step.status });
      }
    }
    const said = transcript(segments);
    const all = [...(entry.transcript ?? []), ...said];
    await this.store.update(callId, { call: step.state, transcript: all, status });
    return { callId, state: step.state, segments, said, transcript: all, status };
  }
}
