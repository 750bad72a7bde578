import { createContext, useContext, useEffect, useMemo, useState, type ReactNode } from 'react';

/**
 * The language machinery both front-ends share (the demo web banking and the authenticator app): French
 * unless changed, the choice kept in localStorage, and formatters for the chosen locale. Each front-end
 * brings its own sentences.
 */
export type Lang = 'fr' | 'en';
export const LOCALES: Record<Lang, string> = { fr: 'fr-FR', en: 'en-GB' };

export interface I18n<M> {
  lang: Lang;
  setLang(lang: Lang): void;
  m: M;
  /** An amount in minor units: `money(4199, 'EUR')` → "41,99 €" (fr-FR) or "€41.99" (en-GB). */
  money(minor: number, currency?: string): string;
  date(iso: string): string;
  time(iso: string): string;
}

/** Minor units to a currency string, using the currency's own number of decimals (JPY has none). */
export function formatMoney(minor: number, currency: string, locale: string): string {
  const fmt = new Intl.NumberFormat(locale, { style: 'currency', currency });
  const digits = fmt.resolvedOptions().maximumFractionDigits ?? 2;
  return fmt.format(minor / 10 ** digits);
}

export function createI18n<M>(opts: {
  storageKey: string;
  messages: Record<Lang, M>;
  /** The document title for a language. */
  title(m: M): string;
  /** How `time()` shows an instant (the bank's lists want the date too). */
  timeFormat: Intl.DateTimeFormatOptions;
}) {
  const Context = createContext<I18n<M> | null>(null);

  function readStoredLang(): Lang | null {
    try {
      const v = localStorage.getItem(opts.storageKey);
      return v === 'fr' || v === 'en' ? v : null;
    } catch {
      return null;
    }
  }

  function I18nProvider({ children }: { children: ReactNode }) {
    const [lang, setLangState] = useState<Lang>(() => readStoredLang() ?? 'fr');

    useEffect(() => {
      document.documentElement.lang = lang;
      document.title = opts.title(opts.messages[lang]);
    }, [lang]);

    const value = useMemo<I18n<M>>(() => {
      const locale = LOCALES[lang];
      return {
        lang,
        setLang(next) {
          try {
            localStorage.setItem(opts.storageKey, next);
          } catch {
            // private mode: the choice lasts for this page only
          }
          setLangState(next);
        },
        m: opts.messages[lang],
        money: (minor, currency = 'EUR') => formatMoney(minor, currency, locale),
        date: (iso) => new Intl.DateTimeFormat(locale, { dateStyle: 'medium' }).format(new Date(iso)),
        time: (iso) => new Intl.DateTimeFormat(locale, opts.timeFormat).format(new Date(iso)),
      };
    }, [lang]);

    return <Context.Provider value={value}>{children}</Context.Provider>;
  }

  function useI18n(): I18n<M> {
    const ctx = useContext(Context);
    if (!ctx) throw new Error('useI18n outside I18nProvider');
    return ctx;
  }

  /** FR | EN buttons; `label` names the group for screen readers. */
  function LangSwitch({ label }: { label: string }) {
    const { lang, setLang } = useI18n();
    const langs: { code: Lang; label: string; name: string }[] = [
      { code: 'fr', label: 'FR', name: 'Français' },
      { code: 'en', label: 'EN', name: 'English' },
    ];
    return (
      <div className="lang" role="group" aria-label={label}>
        {langs.map((l) => (
          <button
            key={l.code}
            type="button"
            lang={l.code}
            title={l.name}
            aria-pressed={lang === l.code}
            onClick={() => setLang(l.code)}
            data-testid={`lang-${l.code}`}
          >
            {l.label}
          </button>
        ))}
      </div>
    );
  }

  return { I18nProvider, useI18n, LangSwitch };
}
