import { startRegistration } from '@simplewebauthn/browser';
import { useState, type FormEvent } from 'react';
import { api, type ScaChoice, type ScaMethod, type WaysIn } from '../api.js';
import { useI18n } from '../i18n.js';
import { Field } from './Field.js';
import { ProblemAlert } from './ProblemAlert.js';
import { initialSca, possessionOf, ScaMethods, type ScaState } from './ScaMethods.js';

/**
 * Passkeys and security keys on "my security": the keys the customer has, and registering one. Once the
 * customer can already authenticate, the new key is confirmed with the password and the app's or
 * token's code (a step-up Sésame consumes); then the browser asks for the fingerprint, face or PIN and
 * the key is active at once.
 */
export function PasskeysPanel({ needsSca, ways, onChanged }: { needsSca: boolean; ways: WaysIn; onChanged(): void }) {
  const { m } = useI18n();
  // A code typed from the app or a token: a step-up by SMS or call is declared for other kinds of change.
  const stepUpMethods: ScaChoice[] = ways.methods
    .filter((w) => w.status === 'active' && (w.kind === 'totp' || w.kind === 'hotp') && w.usableFor.includes('manage_authenticators'))
    .map((w) => ({ kind: w.kind as ScaMethod }))
    .filter((c, i, all) => all.findIndex((x) => x.kind === c.kind) === i);
  const keys = ways.methods.filter((w) => w.kind === 'webauthn');
  const [label, setLabel] = useState('');
  const [attachment, setAttachment] = useState<'platform' | 'cross-platform'>('platform');
  const [password, setPassword] = useState('');
  const [sca, setSca] = useState<ScaState>(() => initialSca(stepUpMethods));
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>(null);
  const [added, setAdded] = useState(false);

  const add = async (e: FormEvent) => {
    e.preventDefault();
    const possession = possessionOf(sca);
    if (needsSca && (!possession || !password)) return;
    setBusy(true);
    setError(null);
    setAdded(false);
    try {
      const name = label.trim() || undefined;
      const optionsJSON = (await api.passkeyRegistrationOptions({
        ...(name ? { label: name } : {}),
        attachment,
        ...(needsSca && possession ? { stepUp: { password, ...possession } } : {}),
      })) as unknown as Parameters<typeof startRegistration>[0]['optionsJSON'];
      const credential = (await startRegistration({ optionsJSON })) as unknown as Record<string, unknown>;
      await api.registerPasskey(credential, name);
      setLabel('');
      setAdded(true);
      onChanged();
    } catch (err) {
      setError(err);
    } finally {
      setPassword('');
      setSca(initialSca(stepUpMethods));
      setBusy(false);
    }
  };

  return (
    <div className="card enrol" id="passkeys" data-testid="passkeys-panel">
      <h2>{m.passkeys.title}</h2>
      <p>{m.passkeys.intro}</p>
      {keys.length === 0 ? (
        <p className="muted" data-testid="passkeys-none">
          {m.passkeys.none}
        </p>
      ) : (
        <ul className="methods" data-testid="passkeys-list">
          {keys.map((k) => (
            <li key={k.id} data-testid="passkey-item" data-status={k.status}>
              {k.label} — {m.security.statuses[k.status] ?? k.status}
            </li>
          ))}
        </ul>
      )}
      {added && (
        <p className="alert alert-success" role="status" data-testid="passkey-added">
          {m.passkeys.added}
        </p>
      )}
      <form onSubmit={(e) => void add(e)}>
        <Field label={m.passkeys.label} testId="passkey-label" value={label} onChange={(e) => setLabel(e.target.value)} maxLength={64} />
        <fieldset className="field">
          <legend>{m.passkeys.kind}</legend>
          {(['platform', 'cross-platform'] as const).map((a) => (
            <label key={a}>
              <input
                type="radio"
                name="passkey-attachment"
                value={a}
                checked={attachment === a}
                onChange={() => setAttachment(a)}
                data-testid={`passkey-kind-${a}`}
              />{' '}
              {a === 'platform' ? m.passkeys.platform : m.passkeys.crossPlatform}
            </label>
          ))}
        </fieldset>
        {needsSca && (
          <>
            <p className="hint spaced">{m.security.stepUpConfirm}</p>
            <Field
              label={m.security.password}
              testId="passkey-password"
              type="password"
              value={password}
              onChange={(e) => setPassword(e.target.value)}
              autoComplete="current-password"
              required
            />
            <ScaMethods
              prefix="passkey"
              methods={stepUpMethods}
              value={sca}
              onChange={setSca}
              requestCode={() => Promise.reject(new Error('not offered'))}
              busy={busy}
            />
          </>
        )}
        {busy && (
          <p className="muted" role="status">
            {m.passkeys.waiting}
          </p>
        )}
        <ProblemAlert error={error} testId="passkey-error" />
        <button type="submit" className="btn btn-primary" disabled={busy} data-testid="passkey-add">
          {m.passkeys.add}
        </button>
      </form>
    </div>
  );
}
