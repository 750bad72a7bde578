import { useEffect } from 'react';
import { api, type ScaChoice, type ScaMethod, type StepUp, type StepUpOperation, type WaysIn } from '../api.js';
import { useI18n } from '../i18n.js';
import { Field } from './Field.js';
import { initialSca, possessionOf, ScaMethods, type ScaState } from './ScaMethods.js';

/**
 * Confirming one sensitive change of "my security" (a new method, a passkey, a new secure number): the
 * password and a current possession method. A code by SMS or call is sent for a step-up operation
 * declared first; a code from the app or a token is checked with the change itself.
 */

/** Possession methods of the ways-in usable for an operation type, one per kind, the app first. */
export function choicesFor(ways: WaysIn, type: string): ScaChoice[] {
  const order: ScaMethod[] = ['totp', 'hotp', 'sms', 'voice'];
  const out: ScaChoice[] = [];
  for (const w of ways.methods) {
    if (w.status !== 'active' || w.category !== 'possession' || !w.usableFor.includes(type)) continue;
    if (!order.includes(w.kind as ScaMethod) || out.some((c) => c.kind === w.kind)) continue;
    out.push({
      kind: w.kind as ScaMethod,
      ...(w.destination ? { destination: w.destination } : {}),
      ...(w.voiceMode ? { voiceMode: w.voiceMode as 'read-out' | 'keypad' } : {}),
    });
  }
  return out.sort((a, b) => order.indexOf(a.kind) - order.indexOf(b.kind));
}

/** The password and a current possession method, confirming one sensitive change. */
export interface StepUpState {
  password: string;
  sca: ScaState;
  operationId: string | null;
  /** The change the operation was declared for: another change needs another operation. */
  declaredFor: string | null;
}

export const newStepUp = (methods: ScaChoice[]): StepUpState => ({
  password: '',
  sca: initialSca(methods),
  operationId: null,
  declaredFor: null,
});

export function stepUpBody(s: StepUpState, operation: StepUpOperation): StepUp | null {
  const possession = possessionOf(s.sca);
  if (!possession || !s.password) return null;
  const operationId = s.operationId && s.declaredFor === JSON.stringify(operation) ? s.operationId : undefined;
  return { password: s.password, ...possession, ...(operationId ? { operationId } : {}) };
}

export function StepUpFields({
  prefix,
  methods,
  operation,
  value,
  onChange,
  busy,
}: {
  prefix: string;
  methods: ScaChoice[];
  operation: StepUpOperation;
  value: StepUpState;
  onChange(next: StepUpState | ((prev: StepUpState) => StepUpState)): void;
  busy: boolean;
}) {
  const { m, lang } = useI18n();
  const key = JSON.stringify(operation);
  // A code sent by SMS or call confirms the change it was sent for: edited since (another number), the
  // screen starts over, so that a new code is asked for this change (also when it was edited while the
  // code was being asked for).
  useEffect(() => {
    if (value.declaredFor !== null && value.declaredFor !== key) {
      onChange((prev) => ({ ...prev, sca: initialSca(methods), operationId: null, declaredFor: null }));
    }
  }, [key, value.declaredFor]);
  const requestCode = async (method: 'sms' | 'voice') => {
    let operationId = value.declaredFor === key ? value.operationId : null;
    if (!operationId) {
      operationId = (await api.startStepUp(operation)).operationId;
      onChange((prev) => ({ ...prev, operationId, declaredFor: key }));
    }
    return api.stepUpChallenge(operationId, method, lang);
  };
  return (
    <>
      <Field
        label={m.security.password}
        testId={`${prefix}-password`}
        type="password"
        value={value.password}
        onChange={(e) => {
          const password = e.target.value;
          onChange((prev) => ({ ...prev, password }));
        }}
        autoComplete="current-password"
        required
      />
      <ScaMethods
        prefix={prefix}
        methods={methods}
        value={value.sca}
        onChange={(sca) => onChange((prev) => ({ ...prev, sca }))}
        requestCode={requestCode}
        busy={busy}
      />
    </>
  );
}
