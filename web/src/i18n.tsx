import { createI18n, type I18n as SharedI18n } from '../shared/i18n.js';
import { MESSAGES, type Messages } from './messages.js';

/** The web banking's language and sentences (French unless changed). */
export type I18n = SharedI18n<Messages>;

export const { I18nProvider, useI18n, LangSwitch } = createI18n({
  storageKey: 'demo-bank.lang',
  messages: MESSAGES,
  title: (m) => m.bankName,
  timeFormat: { dateStyle: 'short', timeStyle: 'short' },
});
