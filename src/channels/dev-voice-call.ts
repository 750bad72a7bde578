import { partForKeys, scriptPart, spokenDigits } from './twiml.js';
import type { DeliveryStatus, VoiceGather, VoiceScript, VoiceSegment } from './types.js';

/**
 * A simulated phone call playing a `VoiceScript` the way Twilio plays TwiML: segments in order, a gather
 * waits for keys (until `numDigits` or `finishOnKey`), silence goes on with what follows the gather, the
 * end of the script hangs up. Pure: a state and an event in, the next state and what was said out. The
 * state is plain JSON so that a database-backed dev outbox can store it.
 */

export interface VoiceCallState {
  phase: 'ringing' | 'in-progress' | 'ended';
  /** The gather waiting for keys, the keys pressed so far, and what plays if nothing more comes. */
  gather?: { segment: VoiceGather; keys: string; after: VoiceSegment[] };
  /** Keypad mode: keys were handed to the server, which has not answered yet. */
  awaitingServer?: boolean;
  outcome?: 'completed' | 'hung-up' | 'machine' | 'busy' | 'no-answer';
}

export type VoiceCallEvent =
  /** `unsure`: answering-machine detection could not tell (a short greeting, a quiet person). */
  | { type: 'answer'; by: 'human' | 'machine' | 'unsure' }
  | { type: 'decline'; reason: 'busy' | 'no-answer' }
  | { type: 'keys'; keys: string }
  /** The gather's timeout passed without (enough) keys. */
  | { type: 'silence' }
  /** Keypad mode: what the server says once it has checked the keys. */
  | { type: 'server'; segments: VoiceSegment[] }
  | { type: 'hangup' };

export interface VoiceCallStep {
  state: VoiceCallState;
  /** What the call said in this step (say, digits, pause, the gather with its prompt, hangup). */
  played: VoiceSegment[];
  /** Keypad mode: keys to hand to the server for verification. */
  dtmf?: string;
  /** The delivery status this step reports, if it changed. */
  status?: DeliveryStatus;
}

export class VoiceCallError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'VoiceCallError';
  }
}

export const RINGING: VoiceCallState = { phase: 'ringing' };

/**
 * @example
 * let step = stepVoiceCall(script, RINGING, { type: 'answer', by: 'human' }); // states the operation, reads the code
 * step = stepVoiceCall(script, step.state, { type: 'keys', keys: '1' });      // reads it again
 */
export function stepVoiceCall(script: VoiceScript, state: VoiceCallState, event: VoiceCallEvent): VoiceCallStep {
  if (state.phase === 'ended') throw new VoiceCallError('This call has ended.');
  if (event.type === 'hangup') {
    return { state: { phase: 'ended', outcome: state.phase === 'ringing' ? 'no-answer' : 'hung-up' }, played: [] };
  }
  if (state.phase === 'ringing') {
    if (event.type === 'decline') return { state: { phase: 'ended', outcome: event.reason }, played: [], status: event.reason };
    if (event.type !== 'answer') throw new VoiceCallError('The call has not been answered yet.');
    // An answering machine gets the script's machine part, which never holds the code.
    if (event.by === 'machine') return { ...play(script.machine, 'machine'), status: 'machine' };
    return { ...play(scriptPart(script, event.by === 'unsure' ? 'unsure' : 'answer')), status: 'answered' };
  }
  if (event.type === 'answer' || event.type === 'decline') throw new VoiceCallError('The call is already answered.');
  if (event.type === 'server') {
    if (!state.awaitingServer) throw new VoiceCallError('The call is not waiting for the server.');
    return play(event.segments);
  }
  if (!state.gather) return { state, played: [] }; // Keys while the call talks are lost, as on a real call.
  if (event.type === 'silence') return play(state.gather.after);
  return pressKeys(script, state.gather, event.keys);
}

function pressKeys(script: VoiceScript, gather: NonNullable<VoiceCallState['gather']>, pressed: string): VoiceCallStep {
  const { segment } = gather;
  const finishOnKey = segment.finishOnKey ?? '#';
  let keys = gather.keys;
  let done = false;
  for (const key of pressed) {
    if (!/^[0-9*#]$/.test(key)) throw new VoiceCallError(`"${key}" is not a phone key.`);
    if (finishOnKey && key === finishOnKey) {
      done = true;
      break;
    }
    keys += key;
    if (segment.numDigits && keys.length >= segment.numDigits) {
      done = true;
      break;
    }
  }
  if (!done) return { state: { phase: 'in-progress', gather: { ...gather, keys } }, played: [] };
  if (segment.purpose === 'code') return { state: { phase: 'in-progress', awaitingServer: true }, played: [], dtmf: keys };
  return play(scriptPart(script, partForKeys(script, keys)));
}

/** Plays segments up to the first gather (which then waits) or to the end of the call. */
function play(segments: readonly VoiceSegment[], outcome: VoiceCallState['outcome'] = 'completed'): VoiceCallStep {
  const played: VoiceSegment[] = [];
  for (let i = 0; i < segments.length; i++) {
    const s = segments[i]!;
    played.push(s);
    if (s.type === 'hangup') break;
    if (s.type === 'gather') {
      return { state: { phase: 'in-progress', gather: { segment: s, keys: '', after: segments.slice(i + 1) } }, played };
    }
  }
  return { state: { phase: 'ended', outcome }, played, ...(outcome === 'completed' ? { status: 'delivered' as const } : {}) };
}

/**
 * What the call said, one line per segment, for the dev "phone" page.
 *
 * @example
 * transcript([{ type: 'say', text: 'Votre code est :' }, { type: 'digits', digits: '123' }]); // ['Votre code est :', '1, 2, 3']
 */
export function transcript(segments: readonly VoiceSegment[]): string[] {
  const lines: string[] = [];
  for (const s of segments) {
    if (s.type === 'say') lines.push(s.text);
    else if (s.type === 'digits') lines.push(spokenDigits(s.digits));
    else if (s.type === 'pause') lines.push('…');
    else if (s.type === 'hangup') lines.push('[hang up]');
    else {
      lines.push(...transcript(s.prompt));
      lines.push(
        `[waiting for ${s.numDigits ? `${s.numDigits} key${s.numDigits > 1 ? 's' : ''}` : 'keys'}${s.finishOnKey ? ` or ${s.finishOnKey}` : ''}]`,
      );
    }
  }
  return lines;
}
