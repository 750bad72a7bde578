import os from 'node:os';
import path from 'node:path';
import { defaultAppPolicy, type AppPolicy } from './core/app-lifecycle.js';
import { ConfigError } from './core/errors.js';

/**
 * The one typed configuration object, read from environment variables and validated at start.
 * Unsafe values are refused with a message that names the rule they break. The README documents
 * every variable.
 */
export interface Config {
  mode: 'development' | 'production';
  host: string;
  port: number;
  /** Issuer of authentication codes and base of the links the server prints. */
  publicUrl: string;
  /** Embedded PGlite data folder, used when `databaseUrl` is empty. */
  dataDir: string;
  databaseUrl: string | null;
  /** Connections to the PostgreSQL server (not the embedded database, which has one). */
  databasePoolSize: number;
  /** Key-encryption keys for secrets at rest; the first one encrypts, all decrypt (rotation). */
  keks: { id: string; key: Buffer }[] | null;
  /** Bearer token of `GET /metrics`; null = open in development, not served in production. */
  metricsToken: string | null;
  logLevel: string;
  lockout: { maxAttempts: number; blockLadderSeconds: number[] };
  session: { inactivitySeconds: number; absoluteSeconds: number };
  operationTtlSeconds: number;
  authCodeTtlSeconds: number;
  totp: { window: number; issuer: string };
  argon2: { memoryCost: number; timeCost: number; parallelism: number };
  webhooks: { maxAttempts: number; timeoutMs: number };
  /** Operations started in a login session may reuse its knowledge element (EBA Q&A 2018_4141). */
  sessionElementReuse: boolean;
  /** Start the demo bank and, on first start, create demo data (development only). */
  demo: boolean;
  channels: ChannelsConfig;
  /** One-time codes sent by SMS or voice call. */
  otp: OtpConfig;
  /** Passkeys and security keys: relying party, accepted origins and attestation policy. */
  webauthn: WebAuthnConfig;
  /** The app authenticator: lifecycle windows, push-bombing limits, device attestation, Web Push. */
  app: AppConfig;
  securePhone: {
    /** After a change of secure number, adding a beneficiary or raising a card limit cannot rely on SMS. */
    coolingOffHours: number;
    /** A secure number not confirmed for this long is to be checked again ("check your number"). */
    reconfirmAfterDays: number;
  };
}

export interface AppConfig extends AppPolicy {
  /** `required`: activations without a trusted platform verdict are refused; `optional`: recorded only. */
  attestation: 'optional' | 'required';
  /** VAPID subject (a mailto: or https: URL) for Web Push; push is sent only when set or in development. */
  pushSubject: string | null;
  /** Push services a subscription may point to (host names; `*.` for any subdomain): never the bank's own network. */
  pushHosts: string[];
}

/** The browsers' push services (Chrome/Edge/Android, Firefox, Safari, Windows). */
const DEFAULT_PUSH_HOSTS = 'fcm.googleapis.com,updates.push.services.mozilla.com,web.push.apple.com,*.push.apple.com,*.notify.windows.com';

export interface ChannelsConfig {
  sms: 'dev' | 'twilio';
  voice: 'dev' | 'twilio';
  email: 'dev' | 'smtp';
  twilio: { accountSid: string; authToken: string; baseUrl: string; from: string; messagingServiceSid: string } | null;
  smtp: { host: string; port: number | undefined; secure: boolean; user: string; pass: string; from: string } | null;
  /** Where numbers without a country code are (ISO 3166 alpha-2). */
  defaultCountry: string;
  /** Countries a code may be sent to (against SMS pumping and toll fraud). */
  allowedCountries: string[];
  /** The bank's name at the start of each SMS. */
  brand: string;
}

export interface WebAuthnConfig {
  /** The WebAuthn RP ID (a registrable domain); null = the host name of `publicUrl`. */
  rpId: string | null;
  /** Origins an assertion may come from; null = the origin of `publicUrl`. */
  origins: string[] | null;
  /** 'none': the model is as the authenticator claims it; 'direct': an attestation statement is required and verified. */
  attestation: 'none' | 'direct';
  /** When set, only these authenticator models (AAGUIDs, lower case) may be registered. */
  allowedAaguids: string[] | null;
}

export interface OtpConfig {
  ttlSeconds: number;
  digits: number;
  /** Codes sent for one operation. */
  maxPerOperation: number;
  /** Codes sent to one customer, and to one number, per hour. */
  maxPerCustomerHour: number;
  maxPerDestinationHour: number;
}

type Env = Record<string, string | undefined>;

/** Rules of the regulation and of safe operation, each with the message shown when it is broken. */
const RTS_MAX_ATTEMPTS = 5;
const RTS_MAX_INACTIVITY = 300;
const RTS_MAX_OTP_TTL = 300;

export function loadConfig(env: Env = process.env, overrides: Partial<Config> = {}): Config {
  const mode = oneOf(env, 'SESAME_MODE', ['development', 'production'], 'development');
  const port = int(env, 'PORT', 8080, 0, 65535);
  const host = env.HOST ?? '127.0.0.1';
  const cfg: Config = {
    mode,
    host,
    port,
    publicUrl: (env.SESAME_PUBLIC_URL ?? `http://localhost:${port}`).replace(/\/+$/, ''),
    dataDir: path.resolve(env.SESAME_DATA_DIR ?? '.data'),
    databaseUrl: env.DATABASE_URL || null,
    databasePoolSize: int(env, 'SESAME_DATABASE_POOL_SIZE', defaultPoolSize(), 1, 1000),
    keks: parseKeks(env.SESAME_KEKS),
    metricsToken: metricsToken(env.SESAME_METRICS_TOKEN),
    logLevel: env.LOG_LEVEL ?? (mode === 'production' ? 'info' : 'info'),
    lockout: {
      maxAttempts: int(env, 'SESAME_MAX_ATTEMPTS', 5, 1, Number.MAX_SAFE_INTEGER),
      blockLadderSeconds: durations(env, 'SESAME_BLOCK_LADDER', [15 * 60, 60 * 60, 24 * 60 * 60]),
    },
    session: {
      inactivitySeconds: int(env, 'SESAME_SESSION_IDLE_SECONDS', 300, 1, Number.MAX_SAFE_INTEGER),
      absoluteSeconds: int(env, 'SESAME_SESSION_MAX_SECONDS', 8 * 3600, 60, 7 * 24 * 3600),
    },
    operationTtlSeconds: int(env, 'SESAME_OPERATION_TTL_SECONDS', 300, 30, 3600),
    authCodeTtlSeconds: int(env, 'SESAME_AUTH_CODE_TTL_SECONDS', 120, 10, 900),
    totp: { window: int(env, 'SESAME_TOTP_WINDOW', 1, 0, 1), issuer: env.SESAME_TOTP_ISSUER ?? 'Sésame' },
    argon2: {
      // OWASP password storage cheat sheet: argon2id, m=19 MiB, t=2, p=1.
      memoryCost: int(env, 'SESAME_ARGON2_MEMORY_KIB', 19456, 19456, 1 << 22),
      timeCost: int(env, 'SESAME_ARGON2_ITERATIONS', 2, 2, 20),
      parallelism: int(env, 'SESAME_ARGON2_PARALLELISM', 1, 1, 16),
    },
    webhooks: {
      maxAttempts: int(env, 'SESAME_WEBHOOK_MAX_ATTEMPTS', 12, 1, 50),
      timeoutMs: int(env, 'SESAME_WEBHOOK_TIMEOUT_MS', 5000, 100, 60000),
    },
    sessionElementReuse: oneOf(env, 'SESAME_SESSION_ELEMENT_REUSE', ['true', 'false'], 'true') === 'true',
    demo: mode === 'development' && env.SESAME_DEMO !== 'false',
    channels: channelsConfig(env),
    otp: {
      ttlSeconds: int(env, 'SESAME_OTP_TTL_SECONDS', 300, 30, Number.MAX_SAFE_INTEGER),
      digits: int(env, 'SESAME_OTP_DIGITS', 6, 6, 8),
      maxPerOperation: int(env, 'SESAME_OTP_MAX_PER_OPERATION', 3, 1, 10),
      maxPerCustomerHour: int(env, 'SESAME_OTP_MAX_PER_CUSTOMER_HOUR', 10, 1, 100),
      maxPerDestinationHour: int(env, 'SESAME_OTP_MAX_PER_NUMBER_HOUR', 10, 1, 100),
    },
    webauthn: webauthnConfig(env),
    app: {
      ...defaultAppPolicy,
      emailDelayHours: int(env, 'SESAME_APP_EMAIL_DELAY_HOURS', 72, 0, 24 * 30),
      branchWindowHours: int(env, 'SESAME_APP_BRANCH_WINDOW_HOURS', 24, 1, 24 * 7),
      activationsPerDay: int(env, 'SESAME_APP_ACTIVATIONS_PER_DAY', 10, 1, 100),
      approvalSeconds: int(env, 'SESAME_APP_APPROVAL_SECONDS', 300, 30, 900),
      approvalRequestsPerWindow: int(env, 'SESAME_APP_APPROVALS_PER_WINDOW', 5, 1, 10_000),
      approvalWindowMinutes: int(env, 'SESAME_APP_APPROVAL_WINDOW_MINUTES', 10, 1, 24 * 60),
      attestation: oneOf(env, 'SESAME_APP_ATTESTATION', ['optional', 'required'], 'optional') as 'optional' | 'required',
      pushSubject: env.SESAME_PUSH_SUBJECT ?? (mode === 'development' ? 'mailto:dev@sesame.invalid' : null),
      pushHosts: (env.SESAME_PUSH_HOSTS ?? DEFAULT_PUSH_HOSTS)
        .split(',')
        .map((h) => h.trim().toLowerCase())
        .filter(Boolean),
    },
    securePhone: {
      coolingOffHours: int(env, 'SESAME_PHONE_CHANGE_COOLING_OFF_HOURS', 72, 0, 24 * 90),
      reconfirmAfterDays: int(env, 'SESAME_PHONE_RECONFIRM_DAYS', 365, 30, 3650),
    },
    ...overrides,
  };
  validateConfig(cfg);
  return cfg;
}

/** Refuses configurations that would break a rule of the regulation or of safe operation. */
export function validateConfig(cfg: Config): void {
  if (cfg.lockout.maxAttempts > RTS_MAX_ATTEMPTS) {
    throw new ConfigError(
      `SESAME_MAX_ATTEMPTS=${cfg.lockout.maxAttempts} is refused: at most ${RTS_MAX_ATTEMPTS} consecutive failed attempts are allowed before a block (RTS art. 4(3)(b)).`,
    );
  }
  if (cfg.session.inactivitySeconds > RTS_MAX_INACTIVITY) {
    throw new ConfigError(
      `SESAME_SESSION_IDLE_SECONDS=${cfg.session.inactivitySeconds} is refused: the inactivity timeout after login is at most ${RTS_MAX_INACTIVITY} s (RTS art. 4(3)(d)).`,
    );
  }
  if (cfg.otp.ttlSeconds > RTS_MAX_OTP_TTL) {
    throw new ConfigError(
      `SESAME_OTP_TTL_SECONDS=${cfg.otp.ttlSeconds} is refused: a code sent by SMS or call lives at most ${RTS_MAX_OTP_TTL} s (authentication codes are short-lived, RTS art. 4(3)(d)).`,
    );
  }
  if (cfg.lockout.blockLadderSeconds.some((s) => s < 60)) {
    throw new ConfigError('SESAME_BLOCK_LADDER is refused: every temporary block lasts at least 60 s.');
  }
  // Longer than a year is a permanent block in all but name (the ladder's end already makes one), and a
  // date beyond what a timestamp holds would make a failure impossible to record.
  if (cfg.lockout.blockLadderSeconds.some((s) => s > 366 * 86_400)) {
    throw new ConfigError(
      'SESAME_BLOCK_LADDER is refused: a temporary block lasts at most 366 days (the last step is followed by a permanent block).',
    );
  }
  if (cfg.mode === 'production' && !cfg.keks) {
    throw new ConfigError('SESAME_KEKS is required in production: secrets at rest are encrypted with it.');
  }
  if (cfg.mode === 'production' && !cfg.databaseUrl) {
    throw new ConfigError('DATABASE_URL is required in production: the embedded database does not survive a machine crash (no fsync).');
  }
  if (cfg.mode === 'production') {
    for (const channel of ['sms', 'voice', 'email'] as const) {
      if (cfg.channels[channel] === 'dev') {
        throw new ConfigError(
          `SESAME_${channel.toUpperCase()}_PROVIDER=dev is refused in production: the dev outbox sends nothing and shows every code on a local page.`,
        );
      }
    }
  }
}

/**
 * Twice the cores, at least 4: the hot path is two short statements, so a few connections keep the
 * database busy, and more only make its backends compete for the same cores (measured on 2 cores: a pool
 * of 4 to 6 gives 10–30 % more SCA attempts per second than 16, with less CPU per attempt on both sides).
 */
export function defaultPoolSize(): number {
  return Math.max(4, 2 * os.availableParallelism());
}

function metricsToken(raw: string | undefined): string | null {
  if (raw === undefined || raw === '') return null;
  if (raw.length < 32 || !/^[\x21-\x7e]+$/.test(raw)) {
    throw new ConfigError(
      'SESAME_METRICS_TOKEN is refused: use at least 32 printable characters without spaces (e.g. openssl rand -hex 24).',
    );
  }
  return raw;
}

function int(env: Env, name: string, dflt: number, min: number, max: number): number {
  const raw = env[name];
  if (raw === undefined || raw === '') return dflt;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < min || n > max) {
    throw new ConfigError(`${name}=${raw} is refused: expected a whole number from ${min} to ${max}.`);
  }
  return n;
}

function oneOf<T extends string>(env: Env, name: string, values: readonly T[], dflt: T): T {
  const raw = env[name];
  if (raw === undefined || raw === '') return dflt;
  if (!values.includes(raw as T)) throw new ConfigError(`${name}=${raw} is refused: expected one of ${values.join(', ')}.`);
  return raw as T;
}

function channelsConfig(env: Env): ChannelsConfig {
  const sms = oneOf(env, 'SESAME_SMS_PROVIDER', ['dev', 'twilio'], 'dev');
  const voice = oneOf(env, 'SESAME_VOICE_PROVIDER', ['dev', 'twilio'], 'dev');
  const email = oneOf(env, 'SESAME_EMAIL_PROVIDER', ['dev', 'smtp'], 'dev');
  const needs = (name: string, why: string) => {
    const v = env[name];
    if (!v) throw new ConfigError(`${name} is required: ${why}.`);
    return v;
  };
  const twilio =
    sms === 'twilio' || voice === 'twilio'
      ? {
          accountSid: needs('TWILIO_ACCOUNT_SID', 'the twilio provider is selected'),
          authToken: needs('TWILIO_AUTH_TOKEN', 'the twilio provider is selected'),
          baseUrl: env.TWILIO_API_BASE_URL || 'https://api.twilio.com',
          from: env.TWILIO_FROM ?? '',
          messagingServiceSid: env.TWILIO_MESSAGING_SERVICE_SID ?? '',
        }
      : null;
  const smtp =
    email === 'smtp'
      ? {
          host: needs('SMTP_HOST', 'the smtp provider is selected'),
          port: env.SMTP_PORT ? int(env, 'SMTP_PORT', 587, 1, 65535) : undefined,
          secure: env.SMTP_SECURE === 'true',
          user: env.SMTP_USER ?? '',
          pass: env.SMTP_PASSWORD ?? '',
          from: needs('SMTP_FROM', 'the smtp provider is selected'),
        }
      : null;
  const countries = (env.SESAME_SMS_COUNTRIES ?? 'FR,BE,LU,MC,DE,ES,IT,NL,PT,IE,AT,CH,GB')
    .split(',')
    .map((c) => c.trim().toUpperCase())
    .filter(Boolean);
  if (countries.some((c) => !/^[A-Z]{2}$/.test(c))) {
    throw new ConfigError('SESAME_SMS_COUNTRIES is refused: expected ISO country codes such as "FR,BE,LU".');
  }
  return {
    sms,
    voice,
    email,
    twilio,
    smtp,
    defaultCountry: (env.SESAME_PHONE_DEFAULT_COUNTRY ?? 'FR').toUpperCase(),
    allowedCountries: countries,
    brand: env.SESAME_BRAND ?? 'Sesame',
  };
}

function webauthnConfig(env: Env): WebAuthnConfig {
  const list = (name: string) => {
    const items = (env[name] ?? '')
      .split(',')
      .map((v) => v.trim())
      .filter(Boolean);
    return items.length ? items : null;
  };
  const rpId = env.SESAME_WEBAUTHN_RP_ID?.trim().toLowerCase() || null;
  if (rpId && !/^[a-z0-9]([a-z0-9-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)*$/.test(rpId)) {
    throw new ConfigError(`SESAME_WEBAUTHN_RP_ID=${rpId} is refused: expected a domain name such as "bank.example" (no scheme, no port).`);
  }
  const origins = list('SESAME_WEBAUTHN_ORIGINS')?.map((o) => o.replace(/\/+$/, '')) ?? null;
  for (const o of origins ?? []) {
    if (!/^https?:\/\/[^/\s]+$/.test(o)) {
      throw new ConfigError(`SESAME_WEBAUTHN_ORIGINS is refused: "${o}" is not an origin such as "https://bank.example".`);
    }
  }
  const allowedAaguids = list('SESAME_WEBAUTHN_ALLOWED_AAGUIDS')?.map((a) => a.toLowerCase()) ?? null;
  for (const a of allowedAaguids ?? []) {
    if (!/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/.test(a)) {
      throw new ConfigError(
        `SESAME_WEBAUTHN_ALLOWED_AAGUIDS is refused: "${a}" is not an AAGUID such as "cb69481e-8ff7-4039-93ec-0a2729a154a8".`,
      );
    }
  }
  return { rpId, origins, attestation: oneOf(env, 'SESAME_WEBAUTHN_ATTESTATION', ['none', 'direct'], 'none'), allowedAaguids };
}

const UNIT_SECONDS: Record<string, number> = { s: 1, m: 60, h: 3600, d: 86400 };

/** "15m,1h,24h" or "900,3600" → seconds. */
function durations(env: Env, name: string, dflt: number[]): number[] {
  const raw = env[name];
  if (raw === undefined || raw === '') return dflt;
  return raw.split(',').map((part) => {
    const m = /^\s*(\d+)\s*([smhd]?)\s*$/.exec(part);
    if (!m) throw new ConfigError(`${name}=${raw} is refused: expected durations such as "15m,1h,24h".`);
    return Number(m[1]) * UNIT_SECONDS[m[2] || 's']!;
  });
}

/** "k2:base64,k1:base64" → keys; the first one is the active one. */
function parseKeks(raw: string | undefined): Config['keks'] {
  if (!raw) return null;
  const keks = raw.split(',').map((entry) => {
    const [id, b64] = entry.split(':');
    const key = Buffer.from(b64 ?? '', 'base64');
    if (!id || !/^[A-Za-z0-9_-]{1,32}$/.test(id) || key.length !== 32) {
      throw new ConfigError('SESAME_KEKS is refused: expected "id:base64-of-32-bytes[,id:…]" (e.g. k1:$(openssl rand -base64 32)).');
    }
    return { id, key };
  });
  if (new Set(keks.map((k) => k.id)).size !== keks.length) {
    throw new ConfigError('SESAME_KEKS is refused: two keys have the same id (each key needs its own, e.g. k1, k2).');
  }
  return keks;
}
