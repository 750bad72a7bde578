import { describe, expect, it } from 'vitest';
import { createDeliveryProvider, DevOutbox, asE164, type ChannelsOptions } from '../../src/channels/index.js';
import { ConfigError } from '../../src/core/errors.js';

const twilio = { accountSid: 'AC1', authToken: 't', from: '+33757000000' };
const smtp = { host: 'smtp.example.com', from: 'securite@mabanque.example' };

describe('createDeliveryProvider', () => {
  it('refuses the dev outbox in production, naming the rule', () => {
    for (const channels of [
      { sms: 'dev', voice: 'twilio', email: 'smtp' },
      { sms: 'twilio', voice: 'dev', email: 'smtp' },
      { sms: 'twilio', voice: 'twilio', email: 'dev' },
    ] as const) {
      const create = () => createDeliveryProvider({ ...channels, twilio, smtp, production: true });
      expect(create).toThrow(ConfigError);
      expect(create).toThrow(/refused in production.*no dev outbox in production/);
    }
  });

  it('accepts real providers in production', () => {
    const channels = createDeliveryProvider({ sms: 'twilio', voice: 'twilio', email: 'smtp', twilio, smtp, production: true });
    expect(channels.devOutbox).toBeNull();
  });

  it('refuses in production an http Twilio base URL and SMTP in clear to another machine', () => {
    const base: ChannelsOptions = { sms: 'twilio', voice: 'twilio', email: 'smtp', twilio, smtp, production: true };
    expect(() => createDeliveryProvider({ ...base, twilio: { ...twilio, baseUrl: 'http://sms.example' } })).toThrow(
      /must use https in production/,
    );
    expect(() => createDeliveryProvider({ ...base, smtp: { ...smtp, requireTLS: false } })).toThrow(
      /SMTP without TLS is refused in production/,
    );
    expect(() => createDeliveryProvider({ ...base, smtp: { ...smtp, host: '127.0.0.1', requireTLS: false } })).not.toThrow();
    expect(() =>
      createDeliveryProvider({ ...base, production: false, twilio: { ...twilio, baseUrl: 'http://127.0.0.1:9' } }),
    ).not.toThrow();
  });

  it('refuses a real provider without its options', () => {
    expect(() => createDeliveryProvider({ sms: 'twilio', voice: 'dev', email: 'dev', production: false })).toThrow(
      /twilio channel needs its options/,
    );
    expect(() => createDeliveryProvider({ sms: 'dev', voice: 'dev', email: 'smtp', production: false })).toThrow(
      /smtp channel needs its options/,
    );
    expect(() =>
      createDeliveryProvider({
        sms: 'dev',
        voice: 'twilio',
        email: 'dev',
        production: false,
        twilio: { accountSid: 'AC1', authToken: 't', messagingServiceSid: 'MG1' },
      }),
    ).toThrow(/caller id/);
  });

  it('in development, routes every channel to the dev outbox (the one given, or a new one)', async () => {
    const devOutbox = new DevOutbox();
    const channels = createDeliveryProvider({ sms: 'dev', voice: 'dev', email: 'dev', production: false, devOutbox });
    expect(channels.devOutbox).toBe(devOutbox);
    await channels.send({ kind: 'sms', to: asE164('+33612345678'), text: 'hello' }, { idempotencyKey: '1' });
    await channels.send({ kind: 'email', to: 'a@example.com', subject: 's', text: 't' }, { idempotencyKey: '2' });
    expect((await devOutbox.list()).map((e) => e.message.kind)).toEqual(['email', 'sms']);
    expect(createDeliveryProvider({ sms: 'dev', voice: 'dev', email: 'dev', production: false }).devOutbox).toBeInstanceOf(DevOutbox);
  });
});
