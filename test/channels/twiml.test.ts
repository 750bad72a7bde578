import { XMLParser, XMLValidator } from 'fast-xml-parser';
import { describe, expect, it } from 'vitest';
import { keypadVoiceScript, readOutVoiceScript } from '../../src/channels/templates.js';
import { escapeXml, renderTwiml, renderVoiceScript, spokenDigits } from '../../src/channels/twiml.js';
import type { OperationData } from '../../src/core/operations.js';

const payment = (name: string): OperationData => ({ type: 'payment', amount: { value: 25000, currency: 'EUR' }, payee: { name } });
const parse = (xml: string) => new XMLParser({ ignoreAttributes: false, attributeNamePrefix: '@' }).parse(xml);

describe('renderTwiml', () => {
  it('renders say, pause, gather and hangup as TwiML', () => {
    const xml = renderTwiml(
      [
        { type: 'say', text: 'Bonjour' },
        { type: 'pause', seconds: 1 },
        {
          type: 'gather',
          purpose: 'repeat',
          numDigits: 1,
          timeoutSeconds: 5,
          action: 'https://s.example/g?a=1&b=2',
          prompt: [{ type: 'say', text: 'Appuyez sur 1.' }],
        },
        { type: 'hangup' },
      ],
      { language: 'fr-FR' },
    );
    expect(xml).toBe(
      '<?xml version="1.0" encoding="UTF-8"?><Response>' +
        '<Say language="fr-FR" voice="Polly.Lea">Bonjour</Say>' +
        '<Pause length="1"/>' +
        '<Gather input="dtmf" numDigits="1" action="https://s.example/g?a=1&amp;b=2" method="POST" timeout="5"><Say language="fr-FR" voice="Polly.Lea">Appuyez sur 1.</Say></Gather>' +
        '<Hangup/></Response>',
    );
  });

  it('escapes a payee named <Tom & "Jerry"> in the XML, and the text reads back unchanged', () => {
    const script = readOutVoiceScript({
      locale: 'en',
      operation: payment('<Tom & "Jerry">'),
      code: '123456',
      ttlSeconds: 300,
      actionUrl: 'https://s.example/v',
    });
    const xml = renderVoiceScript(script);
    expect(xml).toContain('&lt;Tom &amp; &quot;Jerry&quot;&gt;');
    expect(xml).not.toContain('<Tom');
    expect(XMLValidator.validate(xml)).toBe(true);
    const says = parse(xml).Response.Say as Array<{ '#text': string }>;
    expect(says[0]!['#text']).toContain('payment of €250.00 to <Tom & "Jerry">');
    expect(escapeXml(`'`)).toBe('&apos;');
  });

  it('reads the code slowly: digits separated by commas, twice, with pauses', () => {
    const xml = renderVoiceScript(readOutVoiceScript({ locale: 'fr', operation: payment('Martin'), code: '482913', ttlSeconds: 300 }));
    expect(spokenDigits('482913')).toBe('4, 8, 2, 9, 1, 3');
    expect(xml.split('>4, 8, 2, 9, 1, 3<')).toHaveLength(3);
    expect(xml).not.toContain('482913');
    expect(xml).toContain('<Pause length="1"/>');
  });

  it('keypad mode gathers DTMF until # with the code length, posting to the action URL', () => {
    const xml = renderVoiceScript(
      keypadVoiceScript({ locale: 'en', operation: payment('Martin'), codeLength: 6, actionUrl: 'https://s.example/k' }),
      'answer',
      {
        voice: 'Polly.Brian',
      },
    );
    const gather = parse(xml).Response.Gather;
    expect(gather).toMatchObject({
      '@input': 'dtmf',
      '@numDigits': '6',
      '@finishOnKey': '#',
      '@action': 'https://s.example/k',
      '@method': 'POST',
      '@timeout': '15',
    });
    expect(gather.Say['@language']).toBe('en-GB');
    expect(gather.Say['@voice']).toBe('Polly.Brian');
  });

  it('renders the machine part without the code, and the repeat part with it', () => {
    const script = readOutVoiceScript({ locale: 'fr', operation: payment('Martin'), code: '482913', ttlSeconds: 300 });
    expect(renderVoiceScript(script, 'machine')).not.toMatch(/4\D*8\D*2\D*9\D*1\D*3/);
    expect(renderVoiceScript(script, 'machine')).toContain('<Hangup/>');
    expect(renderVoiceScript(script, 'repeat')).toContain('4, 8, 2, 9, 1, 3');
  });
});
