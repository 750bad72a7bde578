import { useEffect, useId, useRef } from 'react';
import { useI18n } from '../i18n.js';

/**
 * The 6-digit PIN: an on-screen keypad (what a phone user expects) over a real input (what a keyboard,
 * a password manager refused by `autocomplete=off`, and assistive technologies expect). The value never
 * leaves the page: the SDK turns it into the knowledge key.
 */
export function PinPad({
  label,
  value,
  onChange,
  onComplete,
  testId,
  disabled = false,
  autoFocus = false,
}: {
  label: string;
  value: string;
  onChange(v: string): void;
  /** Called once the sixth digit is typed. */
  onComplete?(pin: string): void;
  testId: string;
  disabled?: boolean;
  autoFocus?: boolean;
}) {
  const { m } = useI18n();
  const id = useId();
  const input = useRef<HTMLInputElement>(null);
  const completed = useRef(onComplete);
  useEffect(() => {
    completed.current = onComplete;
  });

  const set = (next: string) => {
    const digits = next.replace(/\D/g, '').slice(0, 6);
    onChange(digits);
    if (digits.length === 6 && value.length !== 6) completed.current?.(digits);
  };

  return (
    <div className="pinpad" data-testid={testId}>
      <label htmlFor={id}>{label}</label>
      <input
        id={id}
        ref={input}
        className="pin-input"
        data-testid={`${testId}-input`}
        type="password"
        inputMode="numeric"
        autoComplete="off"
        pattern="[0-9]{6}"
        maxLength={6}
        value={value}
        disabled={disabled}
        autoFocus={autoFocus}
        aria-describedby={`${id}-count`}
        onChange={(e) => set(e.target.value)}
      />
      <div className="pin-dots" aria-hidden="true">
        {Array.from({ length: 6 }, (_, i) => (
          <span key={i} className={i < value.length ? 'dot on' : 'dot'} />
        ))}
      </div>
      <p id={`${id}-count`} className="sr-only" aria-live="polite">
        {m.pinpad.digitsTyped(value.length)}
      </p>
      <div className="keys" role="group" aria-label={m.pinpad.label}>
        {['1', '2', '3', '4', '5', '6', '7', '8', '9', '', '0', '⌫'].map((k, i) =>
          k === '' ? (
            <span key={i} />
          ) : (
            <button
              key={i}
              type="button"
              className="key"
              disabled={disabled}
              aria-label={k === '⌫' ? m.pinpad.erase : k}
              data-testid={`${testId}-key-${k === '⌫' ? 'erase' : k}`}
              onClick={() => set(k === '⌫' ? value.slice(0, -1) : value + k)}
            >
              {k}
            </button>
          ),
        )}
      </div>
    </div>
  );
}
