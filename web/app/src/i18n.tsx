import { createI18n, type I18n as SharedI18n } from '../../shared/i18n.js';
import { MESSAGES, type Messages } from './messages.js';

/** The authenticator app's language and sentences (French unless changed). */
export type I18n = SharedI18n<Messages>;

export const { I18nProvider, useI18n, LangSwitch } = createI18n({
  storageKey: 'sesame-app.lang',
  messages: MESSAGES,
  title: (m) => m.appTitle,
  timeFormat: { timeStyle: 'short' },
});
