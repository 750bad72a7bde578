import { createContext, useContext, useEffect, useMemo, useState, type ReactNode } from 'react';
import { LOCALES, MESSAGES, type Lang, type Messages } from './messages.js';

/** The chosen language, its sentences and the formatters that go with it. French unless changed. */
export interface I18n {
  lang: Lang;
  setLang(lang: Lang): void;
  m: Messages;
  money(cents: number, currency?: string): string;
  date(iso: string): string;
  time(iso: string): string;
}

const STORAGE_KEY = 'demo-bank.lang';
const I18nContext = createContext<I18n | null>(null);

export function I18nProvider({ children }: { children: ReactNode }) {
  const [lang, setLangState] = useState<Lang>(() => (readStoredLang() ?? 'fr'));

  useEffect(() => {
    document.documentElement.lang = lang;
    document.title = MESSAGES[lang].bankName;
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
      money: (cents, currency = 'EUR') => new Intl.NumberFormat(locale, { style: 'currency', currency }).format(cents / 100),
      date: (iso) => new Intl.DateTimeFormat(locale, { dateStyle: 'medium' }).format(new Date(iso)),
      time: (iso) => new Intl.DateTimeFormat(locale, { dateStyle: 'short', timeStyle: 'short' }).format(new Date(iso)),
    };
  }, [lang]);

  return <I18nContext.Provider value={value}>{children}</I18nContext.Provider>;
}

export function useI18n(): I18n {
  const ctx = useContext(I18nContext);
  if (!ctx) throw new Error('useI18n outside I18nProvider');
  return ctx;
}

function readStoredLang(): Lang | null {
  try {
    const v = localStorage.getItem(STORAGE_KEY);
    return v === 'fr' || v === 'en' ? v : null;
  } catch {
    return null;
  }
}
