/* Sésame authenticator app — service worker (scope /app/).
 * Its only jobs: show a notification when the server pushes "an operation waits for you" (Web Push), and
 * bring the app to the front when the notification is clicked. No caching: the app always asks the server
 * what is pending, and an approval is never made from a notification. Plain JS, copied as is by Vite. */

self.addEventListener('install', () => {
  self.skipWaiting();
});

self.addEventListener('activate', (event) => {
  event.waitUntil(self.clients.claim());
});

self.addEventListener('push', (event) => {
  let data = {};
  try {
    data = event.data ? event.data.json() : {};
  } catch {
    data = { body: event.data ? event.data.text() : '' };
  }
  const fr = (self.navigator.language || 'fr').toLowerCase().startsWith('fr');
  const title = data.title || (fr ? 'Opération à valider' : 'Operation to approve');
  const body = data.body || (fr ? 'Ouvrez l’appli pour valider ou refuser.' : 'Open the app to approve or refuse.');
  event.waitUntil(
    Promise.all([
      self.registration.showNotification(title, {
        body,
        tag: data.approvalId || 'sesame-approval',
        renotify: true,
        requireInteraction: true,
        icon: '/app/icon.svg',
        badge: '/app/icon.svg',
        data: { url: '/app/' },
      }),
      // An open app refreshes its list at once.
      self.clients.matchAll({ type: 'window', includeUncontrolled: true }).then((clients) => {
        for (const c of clients) c.postMessage({ type: 'sesame-push' });
      }),
    ]),
  );
});

self.addEventListener('notificationclick', (event) => {
  event.notification.close();
  const url = new URL((event.notification.data && event.notification.data.url) || '/app/', self.location.origin).href;
  event.waitUntil(
    self.clients.matchAll({ type: 'window', includeUncontrolled: true }).then((clients) => {
      for (const c of clients) {
        if (new URL(c.url).pathname.startsWith('/app') && 'focus' in c) return c.focus();
      }
      return self.clients.openWindow ? self.clients.openWindow(url) : undefined;
    }),
  );
});
