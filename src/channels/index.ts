import { ConfigError } from '../core/errors.js';
import { DevOutbox } from './dev-outbox.js';
import { createSmtpProvider, type SmtpOptions } from './smtp.js';
import { createTwilioProvider, type TwilioOptions } from './twilio.js';
import type { Channel, DeliveryMessage, DeliveryProvider, DeliveryReceipt, SendOptions } from './types.js';

/**
 * Delivery channels: SMS, voice calls and email behind one `DeliveryProvider`. `createDeliveryProvider`
 * picks a provider per channel from one typed options object and refuses unsafe choices at start.
 */

export * from './types.js';
export * from './phone.js';
export * from './templates.js';
export { describeOperation, formatAmount } from './operation-text.js';
export * from './sms-encoding.js';
export * from './twiml.js';
export * from './twilio.js';
export * from './smtp.js';
export * from './dev-outbox.js';
export { stepVoiceCall, RINGING, type VoiceCallEvent, type VoiceCallStep } from './dev-voice-call.js';

export interface ChannelsOptions {
  sms: 'dev' | 'twilio';
  voice: 'dev' | 'twilio';
  email: 'dev' | 'smtp';
  twilio?: TwilioOptions;
  smtp?: SmtpOptions;
  production: boolean;
  /** The dev outbox shared with the phone & inbox page (e.g. database-backed); one in memory when absent. */
  devOutbox?: DevOutbox;
}

export interface Channels extends DeliveryProvider {
  /** The dev outbox when at least one channel uses it, for the phone & inbox page. */
  readonly devOutbox: DevOutbox | null;
}

/**
 * @example
 * const channels = createDeliveryProvider({ sms: 'twilio', voice: 'twilio', email: 'smtp', production: true,
 *   twilio: { accountSid, authToken, from: '+33757000000' }, smtp: { host, auth, from: 'securite@mabanque.fr' } });
 * await channels.send({ kind: 'sms', to, text: otpSms({ ... }) }, { idempotencyKey: outboxId });
 */
export function createDeliveryProvider(options: ChannelsOptions): Channels {
  const choices: Record<Channel, string> = { sms: options.sms, voice: options.voice, email: options.email };
  if (options.production) {
    for (const [channel, choice] of Object.entries(choices)) {
      if (choice === 'dev') {
        throw new ConfigError(
          `The ${channel} channel "dev" is refused in production: the dev outbox sends nothing and shows every code on a local page (rule: no dev outbox in production).`,
        );
      }
    }
  }
  const usesTwilio = options.sms === 'twilio' || options.voice === 'twilio';
  let twilio: DeliveryProvider | null = null;
  if (usesTwilio) {
    if (!options.twilio) throw new ConfigError('The twilio channel needs its options (account SID, auth token, sender).');
    if (options.voice === 'twilio' && !options.twilio.voiceFrom && !options.twilio.from) {
      throw new ConfigError('Twilio voice calls need a caller id: set "voiceFrom" or "from".');
    }
    if (options.production && !(options.twilio.baseUrl ?? 'https://api.twilio.com').startsWith('https://')) {
      throw new ConfigError('The Twilio API base URL must use https in production: the auth token and the codes travel in every request.');
    }
    twilio = createTwilioProvider(options.twilio);
  }
  let smtp: DeliveryProvider | null = null;
  if (options.email === 'smtp') {
    if (!options.smtp) throw new ConfigError('The smtp channel needs its options (host, sender).');
    const tls = options.smtp.secure || options.smtp.requireTLS !== false;
    if (options.production && !tls && !isLoopback(options.smtp.host)) {
      throw new ConfigError(
        'SMTP without TLS is refused in production (set secure or requireTLS): security emails must not cross the network in clear. Only a relay on this machine may be reached without TLS.',
      );
    }
    smtp = createSmtpProvider(options.smtp);
  }
  const usesDev = Object.values(choices).includes('dev');
  const devOutbox = usesDev ? (options.devOutbox ?? new DevOutbox()) : null;

  const route: Record<Channel, DeliveryProvider> = {
    sms: options.sms === 'twilio' ? twilio! : devOutbox!,
    voice: options.voice === 'twilio' ? twilio! : devOutbox!,
    email: options.email === 'smtp' ? smtp! : devOutbox!,
  };
  return {
    devOutbox,
    send(message: DeliveryMessage, sendOptions: SendOptions): Promise<DeliveryReceipt> {
      return route[message.kind].send(message, sendOptions);
    },
  };
}

function isLoopback(host: string): boolean {
  return host === 'localhost' || host === '::1' || host === '[::1]' || /^127\.\d+\.\d+\.\d+$/.test(host);
}
