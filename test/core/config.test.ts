import os from 'node:os';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.js';
import { ConfigError } from '../../src/core/errors.js';

const KEK = `k1:${Buffer.alloc(32, 7).toString('base64')}`;

function refusal(env: Record<string, string>): ConfigError {
  try {
    loadConfig(env);
  } catch (e) {
    expect(e).toBeInstanceOf(ConfigError);
    return e as ConfigError;
  }
  throw new Error(`loadConfig accepted ${JSON.stringify(env)}`);
}

describe('configuration: the regulatory limits cannot be configured away', () => {
  it('has safe defaults: 5 attempts, 300 s of inactivity, a 15 min / 1 h / 24 h ladder', () => {
    const c = loadConfig({});
    expect(c.lockout).toEqual({ maxAttempts: 5, blockLadderSeconds: [900, 3600, 86400] });
    expect(c.session.inactivitySeconds).toBe(300);
    expect(c.operationTtlSeconds).toBe(300);
  });

  it('refuses SESAME_MAX_ATTEMPTS=6, naming the rule of at most 5 failed attempts', () => {
    const e = refusal({ SESAME_MAX_ATTEMPTS: '6' });
    expect(e.message).toMatch(/SESAME_MAX_ATTEMPTS=6/);
    expect(e.message).toMatch(/at most 5 consecutive failed attempts/);
    expect(e.message).toMatch(/RTS art\. 4\(3\)\(b\)/);
  });

  it('accepts fewer attempts, but not zero', () => {
    expect(loadConfig({ SESAME_MAX_ATTEMPTS: '3' }).lockout.maxAttempts).toBe(3);
    expect(refusal({ SESAME_MAX_ATTEMPTS: '0' }).message).toMatch(/SESAME_MAX_ATTEMPTS/);
  });

  it('refuses SESAME_SESSION_IDLE_SECONDS=301, naming the 300 s inactivity rule', () => {
    const e = refusal({ SESAME_SESSION_IDLE_SECONDS: '301' });
    expect(e.message).toMatch(/SESAME_SESSION_IDLE_SECONDS=301/);
    expect(e.message).toMatch(/at most 300 s/);
    expect(e.message).toMatch(/RTS art\. 4\(3\)\(d\)/);
  });

  it('accepts a shorter inactivity timeout', () => {
    expect(loadConfig({ SESAME_SESSION_IDLE_SECONDS: '120' }).session.inactivitySeconds).toBe(120);
  });

  it('refuses the same unsafe values passed as overrides', () => {
    expect(() => loadConfig({}, { lockout: { maxAttempts: 10, blockLadderSeconds: [900] } })).toThrow(/at most 5/);
    expect(() => loadConfig({}, { session: { inactivitySeconds: 900, absoluteSeconds: 3600 } })).toThrow(/at most 300 s/);
  });

  it('reads a ladder of durations and refuses a block shorter than a minute', () => {
    expect(loadConfig({ SESAME_BLOCK_LADDER: '1m,2h,1d' }).lockout.blockLadderSeconds).toEqual([60, 7200, 86400]);
    expect(refusal({ SESAME_BLOCK_LADDER: '30s' }).message).toMatch(/at least 60 s/);
    expect(refusal({ SESAME_BLOCK_LADDER: 'soon' }).message).toMatch(/SESAME_BLOCK_LADDER/);
    expect(loadConfig({ SESAME_BLOCK_LADDER: '1h,366d' }).lockout.blockLadderSeconds).toEqual([3600, 366 * 86400]);
    expect(refusal({ SESAME_BLOCK_LADDER: '1h,100000000d' }).message).toMatch(/at most 366 days/);
  });

  it('refuses a value that is not a whole number, naming the variable', () => {
    expect(refusal({ SESAME_MAX_ATTEMPTS: 'five' }).message).toMatch(/SESAME_MAX_ATTEMPTS=five is refused/);
  });
});

const REAL_CHANNELS = {
  SESAME_SMS_PROVIDER: 'twilio',
  SESAME_VOICE_PROVIDER: 'twilio',
  SESAME_EMAIL_PROVIDER: 'smtp',
  TWILIO_ACCOUNT_SID: 'AC123',
  TWILIO_AUTH_TOKEN: 'token',
  TWILIO_FROM: '+33757000000',
  SMTP_HOST: 'smtp.bank.example',
  SMTP_FROM: 'securite@bank.example',
};

describe('configuration: production needs real keys and a real database', () => {
  it('refuses the dev outbox in production, naming the channel', () => {
    const env = {
      SESAME_MODE: 'production',
      SESAME_KEKS: KEK,
      DATABASE_URL: 'postgres://db/sesame',
      ...REAL_CHANNELS,
      SESAME_VOICE_PROVIDER: 'dev',
    };
    expect(refusal(env).message).toMatch(/SESAME_VOICE_PROVIDER=dev is refused in production/);
  });

  it('refuses a code lifetime above 5 minutes', () => {
    expect(refusal({ SESAME_OTP_TTL_SECONDS: '301' }).message).toMatch(/at most 300 s/);
  });

  it('needs the credentials of the provider it is told to use', () => {
    expect(refusal({ SESAME_SMS_PROVIDER: 'twilio' }).message).toMatch(/TWILIO_ACCOUNT_SID is required/);
  });

  it('sizes the PostgreSQL pool from the cores unless told, and refuses a pool of none', () => {
    expect(loadConfig({}).databasePoolSize).toBe(Math.max(4, 2 * os.availableParallelism()));
    expect(loadConfig({ SESAME_DATABASE_POOL_SIZE: '12' }).databasePoolSize).toBe(12);
    expect(refusal({ SESAME_DATABASE_POOL_SIZE: '0' }).message).toMatch(
      /SESAME_DATABASE_POOL_SIZE=0 is refused: expected a whole number from 1/,
    );
  });

  it('takes a metrics token of at least 32 printable characters, and refuses a guessable or malformed one', () => {
    expect(loadConfig({}).metricsToken).toBeNull();
    const token = 'a'.repeat(16) + '0123456789abcdef';
    expect(loadConfig({ SESAME_METRICS_TOKEN: token }).metricsToken).toBe(token);
    for (const bad of ['short-token', `${token.slice(1)} `, `${token}\u00e9`]) {
      const message = refusal({ SESAME_METRICS_TOKEN: bad }).message;
      expect(message).toMatch(/SESAME_METRICS_TOKEN is refused: use at least 32 printable/);
      // A secret is never repeated in an error.
      expect(message).not.toContain(bad.trim());
    }
  });

  it('refuses two key-encryption keys with the same id', () => {
    const key = () => Buffer.alloc(32, Math.floor(Math.random() * 255)).toString('base64');
    expect(loadConfig({ SESAME_KEKS: `k2:${key()},k1:${key()}` }).keks?.map((k) => k.id)).toEqual(['k2', 'k1']);
    expect(refusal({ SESAME_KEKS: `k1:${key()},k1:${key()}` }).message).toMatch(/two keys have the same id/);
  });

  it('refuses production without SESAME_KEKS', () => {
    expect(refusal({ SESAME_MODE: 'production', DATABASE_URL: 'postgres://db/sesame' }).message).toMatch(/SESAME_KEKS is required/);
  });

  it('refuses production without DATABASE_URL', () => {
    expect(refusal({ SESAME_MODE: 'production', SESAME_KEKS: KEK }).message).toMatch(/DATABASE_URL is required/);
  });

  it('starts production with both, and never the demo', () => {
    const c = loadConfig({
      SESAME_MODE: 'production',
      SESAME_KEKS: KEK,
      DATABASE_URL: 'postgres://db/sesame',
      SESAME_DEMO: 'true',
      ...REAL_CHANNELS,
    });
    expect(c.mode).toBe('production');
    expect(c.demo).toBe(false);
    expect(c.keks?.[0]?.id).toBe('k1');
  });

  it('refuses a key-encryption key that is not 32 bytes', () => {
    expect(refusal({ SESAME_KEKS: `k1:${Buffer.alloc(16).toString('base64')}` }).message).toMatch(/SESAME_KEKS is refused/);
  });
});
