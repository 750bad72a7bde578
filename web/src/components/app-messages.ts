import { useI18n } from '../i18n.js';
import type { Lang } from '../messages.js';

/**
 * The web banking's sentences about the app authenticator (activation panel, "approve in my app", the
 * demo card payment), FR and EN, beside the main dictionary so this feature lives in its own files.
 */
const fr = {
  panelTitle: 'Activer l’appli',
  panelIntro:
    'Validez vos connexions et vos opérations dans l’appli, avec votre code secret ou la biométrie : plus besoin de codes par SMS.',
  eligible: 'Vous pouvez activer l’appli.',
  notEligible: 'Vous ne pouvez pas encore activer l’appli. Il vous manque :',
  missing: {
    remote_banking: 'un abonnement à la banque en ligne',
    secure_phone: 'un numéro de mobile sécurisé (ajoutez-le ci-dessus)',
    card_or_email_72h: 'une carte active, ou une adresse e-mail enregistrée depuis plus de 72 heures',
    secure_phone_cooling_off:
      "un numéro de mobile sécurisé qui n'a pas changé ces derniers jours (attendez la fin du délai, ou activez l'application en agence)",
  } as Record<string, string>,
  hasApp: 'Votre appli est active. Pour passer sur un nouveau téléphone, activez-la sur le nouveau : l’ancien sera désactivé.',
  activate: 'Activer l’appli',
  activateNewPhone: 'Activer sur un nouveau téléphone',
  scanIntro: 'Scannez ce QR code avec votre téléphone, ou ouvrez l’appli et saisissez le code d’activation :',
  code: 'Code d’activation',
  expires: (t: string) => `Valable jusqu’à ${t}. Un code vous sera ensuite envoyé par SMS pour confirmer.`,
  openHere: 'Ouvrir l’appli sur cet ordinateur (démo)',
  activations: 'Vos activations',
  statuses: {
    pending: 'En attente',
    awaiting_confirmation: 'En attente du code SMS',
    initiated: 'Initiée en agence (24 h pour finir)',
    registering: 'En cours',
    subscribed: 'Activée',
    expired: 'Expirée',
    cancelled: 'Annulée',
  } as Record<string, string>,
  subscribedOn: (t: string) => `activée le ${t}`,
  useApp: 'Valider dans mon appli',
  useAppNoPassword: 'Valider dans mon appli (sans mot de passe)',
  orBelow: 'ou avec votre mot de passe et un code :',
  waitingTitle: 'Validez dans votre appli',
  waitingText: 'Nous avons envoyé la demande à votre appli. Ouvrez-la et validez avec votre code secret ou la biométrie.',
  pickNumber: 'Dans l’appli, touchez ce nombre :',
  waiting: 'En attente de votre validation…',
  refused: 'Vous avez refusé dans l’appli. Rien n’a été fait.',
  expired: 'La demande a expiré. Recommencez.',
  failed: 'La validation a échoué (mauvais nombre choisi ?). Recommencez.',
  retry: 'Renvoyer à mon appli',
  otherMethod: 'Utiliser un autre moyen',
  cardTitle: 'Démo : paiement par carte en ligne',
  cardText: 'Simuler un paiement par carte de 41,99 € sur showroomprive.com : il s’affiche dans votre appli pour validation.',
  cardButton: 'Simuler un paiement de 41,99 € chez showroomprive.com',
  cardWaiting: (amount: string, payee: string) => `Paiement de ${amount} chez ${payee} envoyé à votre appli. En attente…`,
  cardApproved: 'Paiement validé dans l’appli.',
  cardRefused: 'Paiement refusé dans l’appli.',
  cardFraud: 'Paiement refusé et déclaré comme fraude : la carte est protégée.',
};

type AppMessages = typeof fr;

const en: AppMessages = {
  panelTitle: 'Activate the app',
  panelIntro: 'Approve your sign-ins and operations in the app, with your PIN or biometrics: no more codes by SMS.',
  eligible: 'You can activate the app.',
  notEligible: 'You cannot activate the app yet. You need:',
  missing: {
    remote_banking: 'a remote-banking subscription',
    secure_phone: 'a secure mobile number (add it above)',
    card_or_email_72h: 'an active card, or an email address registered for more than 72 hours',
    secure_phone_cooling_off:
      'a secure mobile number that has not changed in the last few days (wait for the delay to end, or activate the app in your branch)',
  },
  hasApp: 'Your app is active. To move to a new phone, activate it there: the old one is then turned off.',
  activate: 'Activate the app',
  activateNewPhone: 'Activate on a new phone',
  scanIntro: 'Scan this QR code with your phone, or open the app and type the activation code:',
  code: 'Activation code',
  expires: (t: string) => `Valid until ${t}. A code will then be sent by SMS to confirm.`,
  openHere: 'Open the app on this computer (demo)',
  activations: 'Your activations',
  statuses: {
    pending: 'Pending',
    awaiting_confirmation: 'Waiting for the SMS code',
    initiated: 'Started in a branch (24 h to finish)',
    registering: 'In progress',
    subscribed: 'Activated',
    expired: 'Expired',
    cancelled: 'Cancelled',
  },
  subscribedOn: (t: string) => `activated on ${t}`,
  useApp: 'Approve in my app',
  useAppNoPassword: 'Approve in my app (no password needed)',
  orBelow: 'or with your password and a code:',
  waitingTitle: 'Approve in your app',
  waitingText: 'We sent the request to your app. Open it and approve with your PIN or biometrics.',
  pickNumber: 'In the app, tap this number:',
  waiting: 'Waiting for your approval…',
  refused: 'You refused in the app. Nothing was done.',
  expired: 'The request expired. Please start again.',
  failed: 'The approval failed (the wrong number picked?). Please start again.',
  retry: 'Send to my app again',
  otherMethod: 'Use another method',
  cardTitle: 'Demo: online card payment',
  cardText: 'Simulate a €41.99 card payment at showroomprive.com: it shows in your app for approval.',
  cardButton: 'Simulate a €41.99 payment at showroomprive.com',
  cardWaiting: (amount: string, payee: string) => `Payment of ${amount} at ${payee} sent to your app. Waiting…`,
  cardApproved: 'Payment approved in the app.',
  cardRefused: 'Payment refused in the app.',
  cardFraud: 'Payment refused and reported as fraud: the card is protected.',
};

const APP_MESSAGES: Record<Lang, AppMessages> = { fr, en };

export function useAppMessages(): AppMessages {
  return APP_MESSAGES[useI18n().lang];
}
