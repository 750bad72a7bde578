import { startAuthentication } from '@simplewebauthn/browser';
import { useState } from 'react';
import type { Challenge, OcraChallenge, Possession, ScaChoice, ScaMethod } from '../api.js';
import { useI18n } from '../i18n.js';
import { CodeField } from './Field.js';
import { ProblemAlert } from './ProblemAlert.js';

/**
 * The second element of an SCA screen, rendered from the customer's ways-in: "use my app", "text me at
 * •• 78", "call me at •• 00", "use my token", "use my reader" — only what the customer has. A code by
 * SMS or call is asked for when chosen; a keypad call shows the code to type on the handset instead of a
 * field; a reader (OCRA token) gets the operation's challenge, shown big, and its response is typed back.
 */
export interface ScaState {
  method: ScaMethod | null;
  code: string;
  challenge: Challenge | null;
  /** OCRA: the challenge shown, for the token it was asked for. */
  ocra?: OcraChallenge | null;
  /** A passkey or security key: the browser's signed answer, sent with the password. */
  credential?: Record<string, unknown> | null;
}

export function initialSca(methods: ScaChoice[]): ScaState {
  const app = methods.find((c) => c.kind === 'totp');
  return { method: app ? 'totp' : methods.length === 1 && methods[0]!.kind === 'hotp' ? 'hotp' : null, code: '', challenge: null };
}

/** Whether the screen can be submitted, and what to submit. */
export function possessionOf(s: ScaState): Possession | null {
  if (!s.method) return null;
  if (s.method === 'webauthn') return s.credential ? { method: 'webauthn', credential: s.credential } : null;
  if (s.method === 'totp' || s.method === 'hotp') return s.code.length >= 6 ? { method: s.method, code: s.code } : null;
  if (s.method === 'ocra') {
    return s.ocra && s.code.length >= 6 ? { method: 'ocra', code: s.code, authenticatorId: s.ocra.authenticatorId } : null;
  }
  if (!s.challenge) return null;
  if (s.challenge.mode === 'keypad') return { method: 'voice' };
  return s.code.length >= 6 ? { method: s.method, code: s.code } : null;
}

export const isKeypad = (s: ScaState) => s.challenge?.mode === 'keypad';

/** "•• 78": the two last digits of a masked number. */
export function tail(destination: string | undefined): string {
  const m = /(\d)\D*(\d)\D*$/.exec(destination ?? '');
  return m ? `${m[1]}${m[2]}` : '';
}

export function ScaMethods({
  prefix,
  methods,
  value,
  onChange,
  requestCode,
  requestOcra,
  requestPasskey,
  busy = false,
  autoFocus = false,
}: {
  prefix: string;
  methods: ScaChoice[];
  value: ScaState;
  onChange(next: ScaState): void;
  requestCode(method: 'sms' | 'voice'): Promise<Challenge>;
  /** The challenge for an OCRA token; without it, readers are not offered (no operation to sign yet). */
  requestOcra?(authenticatorId: string): Promise<OcraChallenge>;
  /** Options for a passkey or security key, bound to the operation; without it, passkeys are not offered. */
  requestPasskey?(): Promise<Record<string, unknown>>;
  busy?: boolean;
  /** Focus the code field when it appears (the login screen, where nothing else is to be typed). */
  autoFocus?: boolean;
}) {
  const { m } = useI18n();
  const [sending, setSending] = useState(false);
  const [error, setError] = useState<unknown>(null);
  const [fetching, setFetching] = useState(false);
  const offered = methods.filter(
    (c) => (c.kind !== 'ocra' || (requestOcra && c.authenticatorId)) && (c.kind !== 'webauthn' || requestPasskey),
  );

  /** Shows `waiting` while `load` fetches what the method needs (a challenge, a signed assertion); back to no method if it fails. */
  const fetchFor = async (waiting: ScaState, load: () => Promise<ScaState>) => {
    onChange(waiting);
    setFetching(true);
    try {
      onChange(await load());
    } catch (err) {
      setError(err);
      onChange({ method: null, code: '', challenge: null });
    } finally {
      setFetching(false);
    }
  };

  const choose = async (c: ScaChoice) => {
    setError(null);
    if (c.kind === 'totp' || c.kind === 'hotp') {
      onChange({ method: c.kind, code: '', challenge: null });
      return;
    }
    if (c.kind === 'webauthn') {
      // The browser asks for the fingerprint, face or PIN; the signed answer goes with the password.
      return fetchFor({ method: 'webauthn', code: '', challenge: null, credential: null }, async () => {
        const optionsJSON = (await requestPasskey!()) as unknown as Parameters<typeof startAuthentication>[0]['optionsJSON'];
        const credential = (await startAuthentication({ optionsJSON })) as unknown as Record<string, unknown>;
        return { method: 'webauthn', code: '', challenge: null, credential };
      });
    }
    if (c.kind === 'ocra') {
      return fetchFor({ method: 'ocra', code: '', challenge: null, ocra: null }, async () => ({
        method: 'ocra',
        code: '',
        challenge: null,
        ocra: await requestOcra!(c.authenticatorId!),
      }));
    }
    onChange({ method: c.kind, code: '', challenge: null });
    setSending(true);
    try {
      const challenge = await requestCode(c.kind);
      onChange({ method: c.kind, code: '', challenge });
    } catch (err) {
      setError(err);
      onChange({ method: null, code: '', challenge: null });
    } finally {
      setSending(false);
    }
  };

  const label = (c: ScaChoice) => {
    switch (c.kind) {
      case 'totp':
        return m.sca.useApp;
      case 'hotp':
        return m.sca.useToken;
      case 'ocra':
        return m.sca.useReader;
      case 'webauthn':
        return m.sca.usePasskey;
      case 'sms':
        return m.sca.sendSms(tail(c.destination));
      case 'voice':
        return m.sca.callMe(tail(c.destination));
    }
  };

  const ch = value.challenge;
  return (
    <div className="sca" data-testid={`${prefix}-sca`}>
      {offered.length === 0 ? (
        <p className="alert alert-error" data-testid={`${prefix}-no-method`}>
          {m.sca.none}
        </p>
      ) : (
        <div className="sca-methods" role="group" aria-label={m.sca.choose}>
          {offered.map((c) => (
            <button
              key={c.kind}
              type="button"
              className={`btn ${value.method === c.kind ? 'btn-primary' : 'btn-secondary'} sca-method`}
              aria-pressed={value.method === c.kind}
              disabled={busy || sending || fetching}
              data-testid={`${prefix}-method-${c.kind}`}
              onClick={() => void choose(c)}
            >
              {label(c)}
            </button>
          ))}
        </div>
      )}
      {sending && (
        <p className="muted" role="status">
          {m.sca.sending}
        </p>
      )}
      {fetching && (
        <p className="muted" role="status">
          {value.method === 'webauthn' ? m.sca.passkeyWaiting : m.sca.fetchingChallenge}
        </p>
      )}
      {value.method === 'webauthn' && value.credential && (
        <p className="alert alert-info" role="status" data-testid={`${prefix}-passkey-ready`}>
          {m.sca.passkeyReady}
        </p>
      )}
      <ProblemAlert error={error} testId={`${prefix}-sca-error`} />

      {(value.method === 'totp' || value.method === 'hotp') && (
        <CodeField
          label={value.method === 'totp' ? m.sca.appCode : m.sca.tokenCode}
          testId={`${prefix}-code`}
          value={value.code}
          onChange={(code) => onChange({ ...value, code })}
          autoFocus={autoFocus}
        />
      )}

      {value.method === 'ocra' && value.ocra && (
        <>
          <div className="keypad-code" role="status" data-testid={`${prefix}-ocra`}>
            <p>
              <strong>{m.sca.readerIntro}</strong>
            </p>
            <p className="display-code mono" data-testid={`${prefix}-ocra-challenge`}>
              {value.ocra.challenge}
            </p>
          </div>
          <CodeField
            label={m.sca.readerCode}
            testId={`${prefix}-code`}
            value={value.code}
            onChange={(code) => onChange({ ...value, code })}
            autoFocus
          />
        </>
      )}

      {ch && ch.mode !== 'keypad' && (
        <>
          <p className="alert alert-info" role="status" data-testid={`${prefix}-sent`}>
            {ch.method === 'sms' ? m.sca.smsSent(tail(ch.destination)) : m.sca.calling(tail(ch.destination))}
          </p>
          <CodeField
            label={ch.method === 'sms' ? m.sca.smsCode : m.sca.voiceCode}
            testId={`${prefix}-code`}
            value={value.code}
            onChange={(code) => onChange({ ...value, code })}
            autoFocus={autoFocus || value.method !== null}
          />
        </>
      )}

      {ch && ch.mode === 'keypad' && (
        <div className="keypad-code" role="status" data-testid={`${prefix}-keypad`}>
          <p>{m.sca.calling(tail(ch.destination))}</p>
          <p className="display-code mono" data-testid={`${prefix}-display-code`}>
            {ch.displayCode}
          </p>
          <p>
            <strong>{m.sca.typeOnKeypad}</strong>
          </p>
          <button type="submit" className="btn btn-primary btn-block" disabled={busy} data-testid={`${prefix}-keypad-done`}>
            {m.sca.typed}
          </button>
        </div>
      )}
    </div>
  );
}
