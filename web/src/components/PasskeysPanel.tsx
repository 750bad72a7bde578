import { startRegistration } from '@simplewebauthn/browser';
import { useState, type FormEvent } from 'react';
import { api, type StepUpOperation, type WaysIn } from '../api.js';
import { useI18n } from '../i18n.js';
import { Field } from './Field.js';
import { ProblemAlert } from './ProblemAlert.js';
import { isKeypad } from './ScaMethods.js';
import { choicesFor, newStepUp, stepUpBody, StepUpFields, type StepUpState } from './StepUpFields.js';

/**
 * Passkeys and security keys on "my security": the keys the customer has, and registering one. Once the
 * customer can already authenticate, the new key is confirmed like any new method (the password and a
 * code from the app, a token, an SMS or a call: a step-up Sésame consumes); then the browser asks for the
 * fingerprint, face or PIN and the key is active at once.
 */
export function PasskeysPanel({ needsSca, ways, onChanged }: { needsSca: boolean; ways: WaysIn; onChanged(): void }) {
  const { m } = useI18n();
  const operation: StepUpOperation = { type: 'manage_authenticators', action: 'add', kind: 'webauthn' };
  const methods = choicesFor(ways, 'manage_authenticators');
  const keys = ways.methods.filter((w) => w.kind === 'webauthn');
  const [label, setLabel] = useState('');
  const [attachment, setAttachment] = useState<'platform' | 'cross-platform'>('platform');
  const [stepUp, setStepUp] = useState<StepUpState>(() => newStepUp(methods));
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>(null);
  const [added, setAdded] = useState(false);

  const add = async (e: FormEvent) => {
    e.preventDefault();
    const proof = needsSca ? stepUpBody(stepUp, operation) : null;
    if (needsSca && !proof) return;
    setBusy(true);
    setError(null);
    setAdded(false);
    try {
      const name = label.trim() || undefined;
      const optionsJSON = (await api.passkeyRegistrationOptions({
        ...(name ? { label: name } : {}),
        attachment,
        ...(proof ? { stepUp: proof } : {}),
      })) as unknown as Parameters<typeof startRegistration>[0]['optionsJSON'];
      const credential = (await startRegistration({ optionsJSON })) as unknown as Record<string, unknown>;
      await api.registerPasskey(credential, name);
      setLabel('');
      setAdded(true);
      onChanged();
    } catch (err) {
      setError(err);
    } finally {
      setStepUp(newStepUp(methods));
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
            <StepUpFields prefix="passkey" methods={methods} operation={operation} value={stepUp} onChange={setStepUp} busy={busy} />
          </>
        )}
        {busy && (
          <p className="muted" role="status">
            {m.passkeys.waiting}
          </p>
        )}
        <ProblemAlert error={error} testId="passkey-error" />
        {/* A code typed on the phone's keypad during a call confirms by itself. */}
        {!(needsSca && isKeypad(stepUp.sca)) && (
          <button type="submit" className="btn btn-primary" disabled={busy} data-testid="passkey-add">
            {m.passkeys.add}
          </button>
        )}
      </form>
    </div>
  );
}
