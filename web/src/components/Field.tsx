import { useId, type InputHTMLAttributes } from 'react';

/** A labelled input with an optional hint, wired for screen readers. */
export function Field({
  label,
  hint,
  testId,
  className,
  ...input
}: { label: string; hint?: string; testId: string } & InputHTMLAttributes<HTMLInputElement>) {
  const id = useId();
  const hintId = hint ? `${id}-hint` : undefined;
  return (
    <div className={`field ${className ?? ''}`}>
      <label htmlFor={id}>{label}</label>
      <input id={id} data-testid={testId} aria-describedby={hintId} {...input} />
      {hint && (
        <p className="hint" id={hintId}>
          {hint}
        </p>
      )}
    </div>
  );
}

/** The one-time code of an authenticator app: digits only, the browser may fill it from an SMS too. */
export function CodeField(props: { label: string; testId: string; value: string; onChange(v: string): void; autoFocus?: boolean }) {
  return (
    <Field
      label={props.label}
      testId={props.testId}
      className="code"
      value={props.value}
      onChange={(e) => props.onChange(e.target.value.replace(/\D/g, '').slice(0, 8))}
      inputMode="numeric"
      autoComplete="one-time-code"
      pattern="[0-9]{6,8}"
      minLength={6}
      maxLength={8}
      required
      autoFocus={props.autoFocus}
    />
  );
}
