import { describe, expect, it } from 'vitest';
import { DevOutbox, InMemoryDevOutboxStore, VoiceCallError } from '../../src/channels/dev-outbox.js';
import { RINGING, stepVoiceCall } from '../../src/channels/dev-voice-call.js';
import { keypadResult, keypadVoiceScript, readOutVoiceScript } from '../../src/channels/templates.js';
import { asE164, type DeliveryStatusUpdate } from '../../src/channels/types.js';
import { ManualClock } from '../../src/core/clock.js';
import type { OperationData } from '../../src/core/operations.js';

const to = asE164('+33612345678');
const payment: OperationData = { type: 'payment', amount: { value: 25000, currency: 'EUR' }, payee: { name: 'Boulangerie Martin' } };
const CODE = '482913';
const readOut = readOutVoiceScript({ locale: 'fr', operation: payment, code: CODE, ttlSeconds: 300 });
const keypad = keypadVoiceScript({ locale: 'fr', operation: payment, codeLength: 6 });
const spoken = '4, 8, 2, 9, 1, 3';
const count = (lines: string[], s: string) => lines.filter((l) => l.includes(s)).length;

describe('dev outbox: messages', () => {
  it('records SMS and email instead of sending them, newest first, once per idempotency key', async () => {
    const clock = new ManualClock('2026-01-15T09:00:00Z');
    const outbox = new DevOutbox({ clock });
    const a = await outbox.send({ kind: 'sms', to, text: `Code ${CODE}` }, { idempotencyKey: 'o1' });
    const again = await outbox.send({ kind: 'sms', to, text: `Code ${CODE}` }, { idempotencyKey: 'o1' });
    clock.advanceSeconds(1);
    const b = await outbox.send({ kind: 'email', to: 'client@example.com', subject: 'S', text: 'T' }, { idempotencyKey: 'o2' });
    expect(a).toEqual({ providerId: again.providerId, status: 'delivered' });
    const list = await outbox.list();
    expect(list.map((e) => e.id)).toEqual([b.providerId, a.providerId]);
    expect(list[1]).toMatchObject({ idempotencyKey: 'o1', status: 'delivered', message: { kind: 'sms', text: `Code ${CODE}` } });
    expect(list[1]!.createdAt).toEqual(new Date('2026-01-15T09:00:00Z'));
    expect(await outbox.list({ to: 'client@example.com' })).toHaveLength(1);
    expect(await outbox.list({ kind: 'sms' })).toHaveLength(1);
  });

  it('the in-memory store keeps a bounded number of entries and hands out copies', async () => {
    const store = new InMemoryDevOutboxStore(2);
    const outbox = new DevOutbox({ store });
    for (const k of ['a', 'b', 'c']) await outbox.send({ kind: 'sms', to, text: k }, { idempotencyKey: k });
    const list = await outbox.list();
    expect(list.map((e) => (e.message.kind === 'sms' ? e.message.text : ''))).toEqual(['c', 'b']);
    (list[0]!.message as { text: string }).text = 'changed';
    expect((await outbox.get(list[0]!.id))!.message).toMatchObject({ text: 'c' });
  });
});

describe('dev outbox: read-out voice call', () => {
  it('rings, then states the operation and reads the code twice; pressing 1 reads it twice again', async () => {
    const statuses: DeliveryStatusUpdate[] = [];
    const outbox = new DevOutbox({ onStatus: (u) => void statuses.push(u) });
    const { providerId: callId, status } = await outbox.send({ kind: 'voice', to, script: readOut }, { idempotencyKey: 'c1' });
    expect(status).toBe('queued');
    expect((await outbox.get(callId))!.call).toEqual({ phase: 'ringing' });

    const answered = await outbox.answer(callId);
    expect(answered.said.join(' ')).toContain('paiement de 250,00');
    expect(count(answered.said, spoken)).toBe(2);
    expect(answered.said.join(' ')).toContain('appuyez sur 1');
    expect(answered.state.phase).toBe('in-progress');

    const repeated = await outbox.pressKeys(callId, '1');
    expect(count(repeated.said, spoken)).toBe(2);
    expect(count(repeated.transcript, spoken)).toBe(4);

    const again = await outbox.pressKeys(callId, '1');
    expect(count(again.said, spoken)).toBe(2);

    const end = await outbox.silence(callId);
    expect(end.said).toEqual(['Au revoir.', '[hang up]']);
    expect(end.state).toEqual({ phase: 'ended', outcome: 'completed' });
    expect(statuses.map((s) => s.status)).toEqual(['answered', 'delivered']);
    expect((await outbox.get(callId))!).toMatchObject({ status: 'delivered', call: { phase: 'ended' } });
    await expect(outbox.pressKeys(callId, '1')).rejects.toThrow(VoiceCallError);
  });

  it('another key than 1 says goodbye and hangs up', async () => {
    const outbox = new DevOutbox();
    const { providerId } = await outbox.send({ kind: 'voice', to, script: readOut }, { idempotencyKey: 'c2' });
    await outbox.answer(providerId);
    const turn = await outbox.pressKeys(providerId, '7');
    expect(turn.said).toEqual(['Au revoir.', '[hang up]']);
    expect(turn.state.phase).toBe('ended');
  });

  it('a voicemail that answers never hears the code (nor the operation)', async () => {
    const statuses: string[] = [];
    const outbox = new DevOutbox({ onStatus: (u) => void statuses.push(u.status) });
    const { providerId } = await outbox.send({ kind: 'voice', to, script: readOut }, { idempotencyKey: 'c3' });
    const turn = await outbox.answer(providerId, 'machine');
    const everything = JSON.stringify(turn) + JSON.stringify((await outbox.get(providerId))!.transcript);
    expect(everything).not.toContain(CODE);
    expect(everything).not.toContain(spoken);
    expect(everything).not.toMatch(/4\D{0,3}8\D{0,3}2\D{0,3}9\D{0,3}1\D{0,3}3/);
    expect(everything).not.toContain('Boulangerie');
    expect(turn.state).toEqual({ phase: 'ended', outcome: 'machine' });
    expect(turn.status).toBe('machine');
    expect(statuses).toEqual(['machine']);
    // The voicemail cannot then press 1 to hear the code.
    await expect(outbox.pressKeys(providerId, '1')).rejects.toThrow(VoiceCallError);
  });

  it('an answer detection cannot tell apart hears the operation, and the code only once 1 is pressed', async () => {
    const outbox = new DevOutbox();
    const { providerId } = await outbox.send({ kind: 'voice', to, script: readOut }, { idempotencyKey: 'c6' });
    const answered = await outbox.answer(providerId, 'unsure');
    expect(answered.said.join(' ')).toContain('paiement de 250,00');
    expect(answered.said.join(' ')).toContain('Pour entendre votre code, appuyez sur 1.');
    expect(count(answered.said, spoken)).toBe(0);
    expect(JSON.stringify(answered)).not.toContain(CODE);
    const heard = await outbox.pressKeys(providerId, '1');
    expect(count(heard.said, spoken)).toBe(2);
    // Read after the key, the code comes with its lifetime and the warning never to share it.
    expect(heard.said.join(' ')).toContain('Ne communiquez jamais ce code');

    // A voicemail the detection missed presses nothing: the call ends without the code.
    const second = await outbox.send({ kind: 'voice', to, script: readOut }, { idempotencyKey: 'c7' });
    await outbox.answer(second.providerId, 'unsure');
    const silent = await outbox.silence(second.providerId);
    expect(silent.said).toEqual(['Au revoir.', '[hang up]']);
    expect(JSON.stringify((await outbox.get(second.providerId))!.transcript)).not.toContain(spoken);
  });

  it('a busy line or no answer is reported, and the call ends', async () => {
    const outbox = new DevOutbox();
    const { providerId } = await outbox.send({ kind: 'voice', to, script: readOut }, { idempotencyKey: 'c4' });
    await expect(outbox.pressKeys(providerId, '1')).rejects.toThrow(/not been answered/);
    const turn = await outbox.decline(providerId, 'busy');
    expect(turn).toMatchObject({ status: 'busy', state: { phase: 'ended', outcome: 'busy' }, said: [] });
  });

  it('the person may hang up at any time', async () => {
    const outbox = new DevOutbox();
    const { providerId } = await outbox.send({ kind: 'voice', to, script: readOut }, { idempotencyKey: 'c5' });
    await outbox.answer(providerId);
    expect((await outbox.hangup(providerId)).state).toEqual({ phase: 'ended', outcome: 'hung-up' });
    await expect(outbox.answer(providerId)).rejects.toThrow(VoiceCallError);
    await expect(outbox.hangup('no-such-call')).rejects.toThrow('No such call.');
  });
});

describe('dev outbox: keypad voice call', () => {
  it('hands the digits typed (up to #) to onDtmf and says what the server answers', async () => {
    const typed: Array<[string, string]> = [];
    const outbox = new DevOutbox({
      onDtmf: (callId, digits) => {
        typed.push([callId, digits]);
        return keypadResult('fr', digits === '731905');
      },
    });
    const { providerId } = await outbox.send({ kind: 'voice', to, script: keypad }, { idempotencyKey: 'k1' });
    const answered = await outbox.answer(providerId);
    expect(answered.said.join(' ')).toContain('paiement de 250,00');
    expect(answered.said.join(' ')).toContain('suivi de la touche dièse');
    // Keys come one by one from the dev phone's keypad: nothing happens until the code is complete.
    for (const key of '731') expect((await outbox.pressKeys(providerId, key)).said).toEqual([]);
    expect(typed).toEqual([]);
    const done = await outbox.pressKeys(providerId, '905#');
    expect(typed).toEqual([[providerId, '731905']]);
    expect(done.said).toEqual(['Merci, votre opération est confirmée.', 'Au revoir.', '[hang up]']);
    expect(done.state.phase).toBe('ended');
    expect(done.status).toBe('delivered');
  });

  it('# ends a shorter entry, and a wrong code gets the generic answer', async () => {
    const typed: string[] = [];
    const outbox = new DevOutbox({ onDtmf: (_id, digits) => (typed.push(digits), keypadResult('fr', false)) });
    const { providerId } = await outbox.send({ kind: 'voice', to, script: keypad }, { idempotencyKey: 'k2' });
    await outbox.answer(providerId);
    const done = await outbox.pressKeys(providerId, '12#');
    expect(typed).toEqual(['12']);
    expect(done.said[0]).toBe("Le code n'a pas pu être vérifié. Reprenez l'opération depuis votre écran.");
  });

  it('silence ends the call without calling onDtmf', async () => {
    let called = false;
    const outbox = new DevOutbox({ onDtmf: () => void (called = true) });
    const { providerId } = await outbox.send({ kind: 'voice', to, script: keypad }, { idempotencyKey: 'k3' });
    await outbox.answer(providerId);
    const turn = await outbox.silence(providerId);
    expect(turn.said).toEqual(["Nous n'avons reçu aucun code.", 'Au revoir.', '[hang up]']);
    expect(called).toBe(false);
  });
});

describe('stepVoiceCall (pure)', () => {
  it('is a function of the state and the event: the same inputs give the same outputs, the input state is untouched', () => {
    const frozen = Object.freeze({ ...RINGING });
    const a = stepVoiceCall(readOut, frozen, { type: 'answer', by: 'human' });
    const b = stepVoiceCall(readOut, frozen, { type: 'answer', by: 'human' });
    expect(a).toEqual(b);
    expect(frozen).toEqual({ phase: 'ringing' });
    expect(JSON.parse(JSON.stringify(a.state))).toEqual(a.state);
  });

  it('keypad: the digits come out as dtmf and the call waits for the server', () => {
    const answered = stepVoiceCall(keypad, RINGING, { type: 'answer', by: 'human' });
    const typed = stepVoiceCall(keypad, answered.state, { type: 'keys', keys: '123456' });
    expect(typed.dtmf).toBe('123456');
    expect(typed.state).toEqual({ phase: 'in-progress', awaitingServer: true });
    // Keys pressed while the server checks are lost, as on a real call.
    expect(stepVoiceCall(keypad, typed.state, { type: 'keys', keys: '9' }).played).toEqual([]);
    expect(() => stepVoiceCall(keypad, typed.state, { type: 'keys', keys: 'a' })).not.toThrow();
    expect(() => stepVoiceCall(keypad, answered.state, { type: 'keys', keys: 'a' })).toThrow(/not a phone key/);
  });
});
