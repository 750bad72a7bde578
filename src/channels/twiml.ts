import type { VoiceLanguage, VoiceScript, VoiceSegment } from './types.js';

/**
 * Renders a voice script as TwiML, the XML that Twilio (and Twilio-compatible APIs) execute on a call.
 * Everything that comes from data (payee names, contract titles) is XML-escaped.
 */

/** Amazon Polly voices Twilio offers for each language; override with `voice`. */
export const DEFAULT_VOICES: Record<VoiceLanguage, string> = { 'fr-FR': 'Polly.Lea', 'en-GB': 'Polly.Amy' };

export interface TwimlOptions {
  language: VoiceLanguage;
  /** Twilio voice name; default from `DEFAULT_VOICES`. */
  voice?: string;
}

export type VoiceScriptPart = 'answer' | 'unsure' | 'repeat' | 'machine' | 'goodbye';

/**
 * @example
 * renderTwiml([{ type: 'say', text: 'Bonjour' }, { type: 'hangup' }], { language: 'fr-FR' });
 * // '<?xml version="1.0" encoding="UTF-8"?><Response><Say language="fr-FR" voice="Polly.Lea">Bonjour</Say><Hangup/></Response>'
 */
export function renderTwiml(segments: readonly VoiceSegment[], options: TwimlOptions): string {
  const voice = options.voice ?? DEFAULT_VOICES[options.language];
  return `<?xml version="1.0" encoding="UTF-8"?><Response>${segments.map((s) => renderSegment(s, options.language, voice)).join('')}</Response>`;
}

/**
 * One part of a script: `answer` when a person picks up, `unsure` when it may not be one, `repeat` after
 * the repeat key, `machine` for an answering machine.
 */
export function renderVoiceScript(script: VoiceScript, part: VoiceScriptPart = 'answer', options: { voice?: string } = {}): string {
  return renderTwiml(scriptPart(script, part), { language: script.language, ...(options.voice ? { voice: options.voice } : {}) });
}

/** The segments of one part; a script without `repeat` or `unsure` says goodbye, or plays `answer`, instead. */
export function scriptPart(script: VoiceScript, part: VoiceScriptPart): VoiceSegment[] {
  if (part === 'repeat') return script.repeat?.segments ?? script.goodbye;
  if (part === 'unsure') return script.unsure ?? script.answer;
  return script[part];
}

/** The part a key pressed in read-out mode leads to: the repeat key replays the code, any other ends the call. */
export function partForKeys(script: VoiceScript, keys: string): 'repeat' | 'goodbye' {
  return script.repeat && keys === script.repeat.key ? 'repeat' : 'goodbye';
}

/** "123456" → "1, 2, 3, 4, 5, 6": the commas make text-to-speech pause between digits. */
export function spokenDigits(digits: string): string {
  return [...digits].join(', ');
}

export function escapeXml(s: string): string {
  return s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&apos;' })[c]!);
}

function renderSegment(s: VoiceSegment, language: VoiceLanguage, voice: string): string {
  switch (s.type) {
    case 'say':
      return say(s.text, language, voice);
    case 'digits':
      return say(spokenDigits(s.digits), language, voice);
    case 'pause':
      return `<Pause length="${Math.max(1, Math.round(s.seconds))}"/>`;
    case 'hangup':
      return '<Hangup/>';
    case 'gather': {
      const attrs: Record<string, string | number | undefined> = {
        input: 'dtmf',
        numDigits: s.numDigits,
        finishOnKey: s.finishOnKey,
        action: s.action,
        method: 'POST',
        timeout: Math.max(1, Math.round(s.timeoutSeconds)),
      };
      const rendered = Object.entries(attrs)
        .filter(([, v]) => v !== undefined)
        .map(([k, v]) => ` ${k}="${escapeXml(String(v))}"`)
        .join('');
      return `<Gather${rendered}>${s.prompt.map((p) => renderSegment(p, language, voice)).join('')}</Gather>`;
    }
  }
}

function say(text: string, language: VoiceLanguage, voice: string): string {
  return `<Say language="${escapeXml(language)}" voice="${escapeXml(voice)}">${escapeXml(text)}</Say>`;
}
