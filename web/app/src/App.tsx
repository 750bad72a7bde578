import { useEffect, useState, useSyncExternalStore } from 'react';
import { DeviceApiError, type DeviceInfo } from '../../../sdk/device/src/index.js';
import { ErrorAlert } from './components/ErrorAlert.js';
import { device } from './device.js';
import { LangSwitch, useI18n } from './i18n.js';
import { Activation, activationCodeFrom } from './screens/Activation.js';
import { Home } from './screens/Home.js';
import { Settings } from './screens/Settings.js';

type State =
  | { name: 'loading' }
  | { name: 'activate'; code: string | null; awaiting: boolean; notice: 'revoked' | null }
  | { name: 'active'; info: DeviceInfo; justActivated?: boolean }
  | { name: 'closed'; destination: string | null }
  | { name: 'unreachable'; error: unknown };

/** The activation code the app was opened with (`/app/#activate=…` or `/app/?code=…`), taken out of the address. */
function takeCodeFromUrl(): string | null {
  const { hash, search } = window.location;
  if (!/(activate|code)=/.test(hash + search)) return null;
  const code = activationCodeFrom(window.location.href);
  window.history.replaceState(null, '', '/app/');
  return code;
}
/** Read once, when the page loads (React may run effects twice in development). */
let openedWithCode: string | null = takeCodeFromUrl();

const NAV = 'sesame-app:navigate';
const subscribe = (fn: () => void) => {
  window.addEventListener('popstate', fn);
  window.addEventListener(NAV, fn);
  return () => {
    window.removeEventListener('popstate', fn);
    window.removeEventListener(NAV, fn);
  };
};
function go(path: '/app/' | '/app/settings') {
  if (window.location.pathname !== path) window.history.pushState(null, '', path);
  window.dispatchEvent(new Event(NAV));
}

export function App() {
  const { m } = useI18n();
  const [state, setState] = useState<State>({ name: 'loading' });
  const path = useSyncExternalStore(subscribe, () => window.location.pathname);

  const start = async () => {
    const code = openedWithCode;
    openedWithCode = null;
    try {
      const known = await device.load();
      if (code || !known) return setState({ name: 'activate', code, awaiting: false, notice: null });
      if (device.status === 'awaiting_confirmation') return setState({ name: 'activate', code: null, awaiting: true, notice: null });
      setState({ name: 'active', info: await device.info() });
    } catch (e) {
      if (e instanceof DeviceApiError && e.code === 'ERR_DEVICE_UNKNOWN') {
        // Closed or replaced elsewhere (a transfer to another phone): this installation is over.
        await device.forget();
        return setState({ name: 'activate', code: null, awaiting: false, notice: 'revoked' });
      }
      setState({ name: 'unreachable', error: e });
    }
  };
  useEffect(() => {
    void start();
    // The activation link opened while the app is already open: only the hash changes.
    const onHash = () => {
      const code = takeCodeFromUrl();
      if (code) setState({ name: 'activate', code, awaiting: false, notice: null });
    };
    window.addEventListener('hashchange', onHash);
    return () => window.removeEventListener('hashchange', onHash);
  }, []);

  let screen;
  if (state.name === 'loading') screen = <p className="loading">{m.loading}</p>;
  else if (state.name === 'unreachable')
    screen = (
      <div className="card">
        <ErrorAlert error={state.error} testId="unreachable" />
        <button type="button" className="btn btn-primary" onClick={() => void start()}>
          {m.activate.continue}
        </button>
      </div>
    );
  else if (state.name === 'activate')
    screen = (
      <>
        {state.notice === 'revoked' && (
          <p className="alert alert-info" data-testid="revoked">
            {m.errors.revoked}
          </p>
        )}
        <Activation
          key={state.code ?? ''}
          initialCode={state.code}
          awaitingConfirmation={state.awaiting}
          onActivated={(info) => {
            go('/app/');
            setState({ name: 'active', info, justActivated: true });
          }}
        />
      </>
    );
  else if (state.name === 'closed')
    screen = (
      <section className="card" data-testid="closed">
        <h1>{m.settings.closedTitle}</h1>
        <p data-testid="closed-text">{m.settings.closedText(state.destination)}</p>
        <button
          type="button"
          className="btn btn-primary"
          data-testid="activate-again"
          onClick={() => {
            go('/app/');
            setState({ name: 'activate', code: null, awaiting: false, notice: null });
          }}
        >
          {m.settings.activateAgain}
        </button>
      </section>
    );
  else if (path === '/app/settings')
    screen = (
      <Settings
        info={state.info}
        onInfo={(info) => setState({ name: 'active', info })}
        onClosed={(f) => {
          go('/app/');
          setState({ name: 'closed', destination: f.destination });
        }}
      />
    );
  else
    screen = (
      <Home
        info={state.info}
        justActivated={state.justActivated === true}
        onRevoked={() => {
          void device.forget();
          setState({ name: 'activate', code: null, awaiting: false, notice: 'revoked' });
        }}
      />
    );

  return (
    <div className="shell">
      <header className="app-bar">
        <span className="app-name">
          <img src="/app/icon.svg" alt="" width="28" height="28" />
          {m.appName}
        </span>
        <LangSwitch label={m.language} />
      </header>
      <main className="app-main" id="main">
        {screen}
      </main>
      {state.name === 'active' && (
        <nav className="app-nav" aria-label={m.nav.main}>
          <button
            type="button"
            aria-current={path !== '/app/settings' ? 'page' : undefined}
            data-testid="nav-home"
            onClick={() => go('/app/')}
          >
            {m.nav.home}
          </button>
          <button
            type="button"
            aria-current={path === '/app/settings' ? 'page' : undefined}
            data-testid="nav-settings"
            onClick={() => go('/app/settings')}
          >
            {m.nav.settings}
          </button>
        </nav>
      )}
    </div>
  );
}
