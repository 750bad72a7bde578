import { useCallback, useEffect, useRef, useState } from 'react';
import { api, onActivity, onSessionLost, type Me } from './api.js';
import { Header } from './components/Header.js';
import { useI18n } from './i18n.js';
import { AccountsPage } from './pages/AccountsPage.js';
import { LoginPage } from './pages/LoginPage.js';
import { SecurityPage } from './pages/SecurityPage.js';
import { TransferPage } from './pages/TransferPage.js';
import { navigate, usePath } from './router.js';

type Auth = { state: 'loading' } | { state: 'out'; notice: 'expired' | 'logged-out' | null } | { state: 'in'; me: Me };

const PROTECTED = ['/accounts', '/transfer', '/security'];

export function App() {
  const { m } = useI18n();
  const path = usePath();
  const [auth, setAuth] = useState<Auth>({ state: 'loading' });

  const loggedOut = useCallback((notice: 'expired' | 'logged-out' | null) => {
    // Calls in flight when the session ends all fail; the first one says why, keep that.
    setAuth((prev) => (prev.state === 'out' && prev.notice && !notice ? prev : { state: 'out', notice }));
    navigate('/login', { replace: true });
  }, []);

  // On load: is there a live session already?
  useEffect(() => {
    api.me().then(
      (me) => setAuth({ state: 'in', me }),
      () => setAuth({ state: 'out', notice: null }),
    );
  }, []);

  // Any call that finds the session gone sends the customer back to the login page.
  useEffect(() => onSessionLost(({ expired }) => loggedOut(expired ? 'expired' : null)), [loggedOut]);

  useIdleTimeout(auth.state === 'in' ? auth.me.idleTimeoutSeconds : null, () => {
    void api.logout().catch(() => undefined);
    loggedOut('expired');
  });

  // Keep the address bar in line with the state.
  useEffect(() => {
    if (auth.state === 'in' && !PROTECTED.includes(path)) navigate('/accounts', { replace: true });
    if (auth.state === 'out' && path !== '/login') navigate('/login', { replace: true });
  }, [auth.state, path]);

  const logout = () => {
    void api.logout().finally(() => loggedOut('logged-out'));
  };

  let page;
  if (auth.state === 'loading') {
    page = <p className="loading">{m.loading}</p>;
  } else if (auth.state === 'out') {
    page = <LoginPage notice={auth.notice} onLoggedIn={(me) => setAuth({ state: 'in', me })} />;
  } else if (path === '/transfer') {
    page = <TransferPage />;
  } else if (path === '/security') {
    page = <SecurityPage />;
  } else {
    page = <AccountsPage me={auth.me} />;
  }

  return (
    <>
      <a className="skip" href="#main">
        {m.skipToContent}
      </a>
      <Header me={auth.state === 'in' ? auth.me : null} path={path} onLogout={logout} />
      <main id="main" className="container" tabIndex={-1}>
        {page}
      </main>
      <footer className="site-footer">
        <p className="container">{m.tagline}</p>
      </footer>
    </>
  );
}

/**
 * Mirrors the server's inactivity timeout (5 minutes at most): every answer from the bank resets it,
 * and when it runs out the page leaves the customer's data and shows the login screen. Typing in a form
 * is not activity the server can see, so it does not count here either.
 */
function useIdleTimeout(seconds: number | null, onTimeout: () => void) {
  const timer = useRef<number | undefined>(undefined);
  const callback = useRef(onTimeout);
  useEffect(() => {
    callback.current = onTimeout;
  });

  useEffect(() => {
    if (seconds === null) return undefined;
    const arm = () => {
      window.clearTimeout(timer.current);
      timer.current = window.setTimeout(() => callback.current(), seconds * 1000 + 1000);
    };
    arm();
    const off = onActivity(arm);
    return () => {
      off();
      window.clearTimeout(timer.current);
    };
  }, [seconds]);
}
