import { createContext, useContext, useEffect, useMemo, useState, type ReactNode } from 'react';
import { LOCALES, MESSAGES, type Lang, type Messages } from './messages.js';

/** The chosen language, its sentences and the formatters that go with it. French unless changed. */
export interface I18n {
  lang: Lang;
  setLang(lang: Lang): void;
  m: Messages;
  /** An amount in minor units: `money(4199, 'EUR')` → "41,99 €" (fr-FR) or "€41.99" (en-GB). */
  money(minor: number, currency?: string): string;
  date(iso: string): string;
  time(iso: string): string;
}

const STORAGE_KEY = 'sesame-app.lang';
const I18nContext = createContext<I18n | null>(null);

export function I18nProvider({ children }: { children: ReactNode }) {
  const [lang, setLangState] = useState<Lang>(() => readStoredLang() ?? 'fr');

  useEffect(() => {
    document.documentElement.lang = lang;
    document.title = MESSAGES[lang].appTitle;
  }, [lang]);

  const value = useMemo<I18n>(() => {
    const locale = LOCALES[lang];
    return {
      lang,
      setLang(next) {
        try {
          localStorage.setItem(STORAGE_KEY, next);
        } catch {
          // private mode: the choice lasts for this page only
        }
        setLangState(next);
      },
      m: MESSAGES[lang],
      money: (minor, currency = 'EUR') => formatMoney(minor, currency, locale),
      date: (iso) => new Intl.DateTimeFormat(locale, { dateStyle: 'medium' }).format(new Date(iso)),
      time: (iso) => new Intl.DateTimeFormat(locale, { timeStyle: 'short' }).format(new Date(iso)),
    };
  }, [lang]);

  return <I18nContext.Provider value={value}>{children}</I18nContext.Provider>;
}

export function useI18n(): I18n {
  const ctx = useContext(I18nContext);
  if (!ctx) throw new Error('useI18n outside I18nProvider');
  return ctx;
}

/** Minor units to a currency string, using the currency's own number of decimals (JPY has none). */
export function formatMoney(minor: number, currency: string, locale: string): string {
  const fmt = new Intl.NumberFormat(locale, { style: 'currency', currency });
  const digits = fmt.resolvedOptions().maximumFractionDigits ?? 2;
  return fmt.format(minor / 10 ** digits);
}

function readStoredLang(): Lang | null {
  try {
    const v = localStorage.getItem(STORAGE_KEY);
    return v === 'fr' || v === 'en' ? v : null;
  } catch {
    return null;
  }
}
