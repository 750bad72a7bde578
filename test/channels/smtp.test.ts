import type { AddressInfo } from 'node:net';
import { SMTPServer, type SMTPServerOptions } from 'smtp-server';
import { afterEach, describe, expect, it } from 'vitest';
import { createSmtpProvider, type SmtpOptions } from '../../src/channels/smtp.js';
import { DeliveryError } from '../../src/channels/types.js';

interface Received {
  auth?: { username: string | undefined; password: string | undefined };
  from?: string;
  to: string[];
  raw: string;
}

const servers: SMTPServer[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => new Promise<void>((resolve) => s.close(() => resolve()))));
});

/** A local SMTP server on 127.0.0.1:0 (no STARTTLS) recording what it receives. */
async function startServer(overrides: Partial<SMTPServerOptions> = {}): Promise<{ port: number; received: Received[] }> {
  const received: Received[] = [];
  let current: Received = { to: [], raw: '' };
  const server = new SMTPServer({
    disabledCommands: ['STARTTLS'],
    allowInsecureAuth: true,
    authOptional: true,
    logger: false,
    onAuth(auth, _session, cb) {
      current = { to: [], raw: '', auth: { username: auth.username, password: auth.password ?? undefined } };
      if (auth.username === 'sesame' && auth.password === 'right') cb(null, { user: 'sesame' });
      else cb(Object.assign(new Error('Invalid credentials'), { responseCode: 535 }));
    },
    onMailFrom(address, _session, cb) {
      current.from = address.address;
      cb();
    },
    onRcptTo(address, _session, cb) {
      current.to.push(address.address);
      cb();
    },
    onData(stream, _session, cb) {
      let raw = '';
      stream.setEncoding('utf8');
      stream.on('data', (c: string) => (raw += c));
      stream.on('end', () => {
        current.raw = raw;
        received.push(current);
        current = { to: [], raw: '', ...(current.auth ? { auth: current.auth } : {}) };
        cb();
      });
    },
    ...overrides,
  });
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { port: (server.server.address() as AddressInfo).port, received };
}

const options = (port: number, extra: Partial<SmtpOptions> = {}): SmtpOptions => ({
  host: '127.0.0.1',
  port,
  secure: false,
  requireTLS: false,
  auth: { user: 'sesame', pass: 'right' },
  from: '"Ma Banque" <securite@mabanque.example>',
  timeoutMs: 5000,
  ...extra,
});

async function sendError(p: Promise<unknown>): Promise<DeliveryError> {
  try {
    await p;
  } catch (e) {
    expect(e).toBeInstanceOf(DeliveryError);
    return e as DeliveryError;
  }
  throw new Error('expected a DeliveryError');
}

const header = (raw: string, name: string) => new RegExp(`^${name}: (.*)$`, 'mi').exec(raw)?.[1];

describe('SMTP provider', () => {
  it('sends the email with authentication, the headers and the body, and a Message-ID stable per idempotency key', async () => {
    const { port, received } = await startServer();
    const provider = createSmtpProvider(options(port));
    const email = {
      kind: 'email' as const,
      to: 'client@example.com',
      subject: 'Your secure phone number was changed',
      text: 'If this was not you, call us.\n',
    };
    const first = await provider.send(email, { idempotencyKey: 'outbox-42' });
    const again = await provider.send(email, { idempotencyKey: 'outbox-42' });
    const other = await provider.send(email, { idempotencyKey: 'outbox-43' });

    expect(first.status).toBe('sent');
    expect(first.providerId).toMatch(/^<[0-9a-f]{32}@mabanque\.example>$/);
    expect(again.providerId).toBe(first.providerId);
    expect(other.providerId).not.toBe(first.providerId);
    expect(first.providerId).not.toContain('outbox-42');

    const m = received[0]!;
    expect(m.auth).toEqual({ username: 'sesame', password: 'right' });
    expect(m.from).toBe('securite@mabanque.example');
    expect(m.to).toEqual(['client@example.com']);
    expect(header(m.raw, 'From')).toBe('Ma Banque <securite@mabanque.example>');
    expect(header(m.raw, 'To')).toBe('client@example.com');
    expect(header(m.raw, 'Subject')).toBe('Your secure phone number was changed');
    expect(header(m.raw, 'Message-ID')).toBe(first.providerId);
    expect(m.raw).toContain('If this was not you, call us.');
  });

  it('sends text and HTML as alternatives', async () => {
    const { port, received } = await startServer();
    await createSmtpProvider(options(port)).send(
      { kind: 'email', to: 'client@example.com', subject: 'Notice', text: 'Plain version', html: '<p>HTML version</p>' },
      { idempotencyKey: 'k' },
    );
    const raw = received[0]!.raw;
    expect(header(raw, 'Content-Type')).toMatch(/^multipart\/alternative/);
    expect(raw).toContain('Plain version');
    expect(raw).toContain('<p>HTML version</p>');
  });

  it('a mailbox the server rejects with 550 is undeliverable and not retried', async () => {
    const { port } = await startServer({
      onRcptTo(address, _session, cb) {
        cb(Object.assign(new Error(`5.1.1 <${address.address}>: mailbox unknown`), { responseCode: 550 }));
      },
    });
    const err = await sendError(
      createSmtpProvider(options(port)).send(
        { kind: 'email', to: 'nobody@example.com', subject: 'S', text: 'Code 482913' },
        { idempotencyKey: 'k' },
      ),
    );
    expect(err).toMatchObject({
      undeliverable: true,
      retryable: false,
      providerCode: '550',
      channel: 'email',
      code: 'ERR_DELIVERY_UNDELIVERABLE',
    });
    expect(err.message).not.toContain('482913');
  });

  it('a message refused with 554 after DATA is undeliverable; the refusal text does not leak the body', async () => {
    const { port } = await startServer({
      onData(stream, _session, cb) {
        let raw = '';
        stream.on('data', (c: Buffer) => (raw += c.toString()));
        stream.on('end', () => cb(Object.assign(new Error(`Rejected as spam: ${/Code \d+/.exec(raw)?.[0]}`), { responseCode: 554 })));
      },
    });
    const err = await sendError(
      createSmtpProvider(options(port)).send(
        { kind: 'email', to: 'client@example.com', subject: 'S', text: 'Code 482913' },
        { idempotencyKey: 'k' },
      ),
    );
    expect(err).toMatchObject({ undeliverable: true, retryable: false, providerCode: '554' });
    expect(err.message).toContain('554 Rejected as spam: [redacted]');
    expect(err.message).not.toContain('482913');
    // Loggers print an error's cause: nodemailer's, which quotes the reply, is not attached.
    expect(err.cause).toBeUndefined();
  });

  it('a temporary refusal (450) is retryable', async () => {
    const { port } = await startServer({
      onRcptTo(_address, _session, cb) {
        cb(Object.assign(new Error('4.2.1 try again later'), { responseCode: 450 }));
      },
    });
    const err = await sendError(
      createSmtpProvider(options(port)).send({ kind: 'email', to: 'client@example.com', subject: 'S', text: 'T' }, { idempotencyKey: 'k' }),
    );
    expect(err).toMatchObject({ retryable: true, undeliverable: false, providerCode: '450' });
  });

  it('wrong credentials are neither retryable nor a fault of the recipient', async () => {
    const { port } = await startServer();
    const err = await sendError(
      createSmtpProvider(options(port, { auth: { user: 'sesame', pass: 'wrong' } })).send(
        { kind: 'email', to: 'client@example.com', subject: 'S', text: 'T' },
        { idempotencyKey: 'k' },
      ),
    );
    expect(err).toMatchObject({ retryable: false, undeliverable: false });
  });

  it('an unreachable server is retryable', async () => {
    const { port } = await startServer();
    await Promise.all(servers.splice(0).map((s) => new Promise<void>((resolve) => s.close(() => resolve()))));
    const err = await sendError(
      createSmtpProvider(options(port)).send({ kind: 'email', to: 'client@example.com', subject: 'S', text: 'T' }, { idempotencyKey: 'k' }),
    );
    expect(err).toMatchObject({ retryable: true, undeliverable: false });
  });

  it('by default refuses to send in clear to a server that offers no STARTTLS', async () => {
    const { port, received } = await startServer();
    const { requireTLS: _ignored, ...defaults } = options(port);
    const err = await sendError(
      createSmtpProvider(defaults).send({ kind: 'email', to: 'client@example.com', subject: 'S', text: 'T' }, { idempotencyKey: 'k' }),
    );
    expect(err).toMatchObject({ undeliverable: false, retryable: false });
    expect(err.message).toContain('could not be reached over TLS (ETLS)');
    expect(received).toHaveLength(0);
  });

  it('refuses another channel', async () => {
    const provider = createSmtpProvider(options(25));
    const err = await sendError(provider.send({ kind: 'sms', to: '+33612345678' as never, text: 'x' }, { idempotencyKey: 'k' }));
    expect(err.retryable).toBe(false);
  });
});
