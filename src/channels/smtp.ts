import { createHash } from 'node:crypto';
import nodemailer from 'nodemailer';
import { ConfigError } from '../core/errors.js';
import {
  DeliveryError,
  redactSecrets,
  type DeliveryMessage,
  type DeliveryProvider,
  type DeliveryReceipt,
  type SendOptions,
} from './types.js';

/** Email through an SMTP relay, with nodemailer. */

export interface SmtpOptions {
  host: string;
  /** Default 465 when `secure`, else 587. */
  port?: number;
  /** TLS from the first byte (port 465). */
  secure?: boolean;
  /** Refuse to send unless the server upgrades with STARTTLS. Default true unless `secure`. */
  requireTLS?: boolean;
  auth?: { user: string; pass: string };
  /** Sender, e.g. `"Ma Banque" <securite@mabanque.fr>`. */
  from: string;
  /** Connection, greeting and socket timeouts; default 10 000 ms. */
  timeoutMs?: number;
  /** TLS options for servers with private certificates. */
  tls?: { rejectUnauthorized?: boolean; servername?: string };
}

/**
 * @example
 * const email = createSmtpProvider({ host: 'smtp.mabanque.fr', auth: { user, pass }, from: 'securite@mabanque.fr' });
 * await email.send({ kind: 'email', to: 'client@example.com', subject, text }, { idempotencyKey: outboxId });
 */
export function createSmtpProvider(options: SmtpOptions): DeliveryProvider {
  if (!options.host) throw new ConfigError('SMTP needs a host.');
  const domain = /@([^>\s]+)>?\s*$/.exec(options.from)?.[1];
  if (!domain) throw new ConfigError(`The SMTP sender "${options.from}" is not an email address.`);
  const secure = options.secure ?? false;
  const timeout = options.timeoutMs ?? 10_000;
  const transport = nodemailer.createTransport({
    host: options.host,
    port: options.port ?? (secure ? 465 : 587),
    secure,
    requireTLS: options.requireTLS ?? !secure,
    ...(options.auth ? { auth: { user: options.auth.user, pass: options.auth.pass } } : {}),
    ...(options.tls ? { tls: options.tls } : {}),
    connectionTimeout: timeout,
    greetingTimeout: timeout,
    socketTimeout: timeout,
  });

  return {
    async send(message: DeliveryMessage, opts: SendOptions): Promise<DeliveryReceipt> {
      if (message.kind !== 'email') {
        throw new DeliveryError(message.kind, 'The SMTP provider only sends email.', { retryable: false });
      }
      // Same key, same Message-ID: a receiving system that deduplicates shows a retried email once. Hashed
      // so that the outbox id does not leak into headers.
      const messageId = `<${createHash('sha256').update(opts.idempotencyKey).digest('hex').slice(0, 32)}@${domain}>`;
      try {
        const info = await transport.sendMail({
          from: options.from,
          to: message.to,
          subject: message.subject,
          text: message.text,
          ...(message.html !== undefined ? { html: message.html } : {}),
          messageId,
        });
        return { providerId: info.messageId || messageId, status: 'sent' };
      } catch (e) {
        throw smtpError(e, [message.subject, message.text, message.html ?? '']);
      }
    },
  };
}

interface NodemailerError {
  code?: string;
  responseCode?: number;
  response?: string;
  command?: string;
}

const SETUP_ERRORS: Record<string, string> = {
  EAUTH: 'refused our credentials',
  ENOAUTH: 'requires credentials',
  ECONFIG: 'cannot be used with this configuration',
  ETLS: 'could not be reached over TLS',
  EREQUIRETLS: 'does not support the TLS we require',
};

/**
 * 5xx to a recipient or to the message is permanent (unknown mailbox, refused content); credentials and
 * TLS are our configuration; the rest (4xx, network) may pass later. No `cause`: nodemailer's error holds
 * the server's reply, which may quote the message, and loggers print causes.
 */
function smtpError(e: unknown, secrets: string[]): DeliveryError {
  const err = (e ?? {}) as NodemailerError;
  const rc = typeof err.responseCode === 'number' ? err.responseCode : undefined;
  const reply = err.response ? `: ${redactSecrets(err.response, secrets).slice(0, 300)}` : '';
  const setup = err.code ? SETUP_ERRORS[err.code] : undefined;
  if (setup) {
    return new DeliveryError('email', `The SMTP server ${setup} (${err.code})${reply}`, {
      retryable: false,
      providerCode: rc ?? err.code!,
    });
  }
  if (rc !== undefined && rc >= 500 && rc < 600) {
    const aboutRecipientOrMessage = err.code === 'EENVELOPE' || err.code === 'EMESSAGE';
    return new DeliveryError('email', `The SMTP server refused the email permanently (${rc})${reply}`, {
      retryable: false,
      undeliverable: aboutRecipientOrMessage,
      providerCode: rc,
    });
  }
  const what = rc !== undefined ? `(${rc})${reply}` : `(${err.code ?? 'error'})`;
  return new DeliveryError('email', `The SMTP server did not take the email ${what}`, {
    retryable: true,
    ...(rc !== undefined ? { providerCode: rc } : {}),
  });
}
