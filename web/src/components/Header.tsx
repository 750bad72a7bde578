import type { Me } from '../api.js';
import { LangSwitch, useI18n } from '../i18n.js';
import { Link, type Path } from '../router.js';

export function Header({ me, path, onLogout }: { me: Me | null; path: string; onLogout(): void }) {
  const { m } = useI18n();
  const items: { to: Path; label: string; testId: string }[] = [
    { to: '/accounts', label: m.nav.accounts, testId: 'nav-accounts' },
    { to: '/transfer', label: m.nav.transfer, testId: 'nav-transfer' },
    { to: '/security', label: m.nav.security, testId: 'nav-security' },
  ];
  return (
    <header className="site-header">
      <div className="bar container">
        <Link to={me ? '/accounts' : '/login'} className="brand">
          <svg className="brand-mark" viewBox="0 0 32 32" aria-hidden="true">
            <rect width="32" height="32" rx="7" />
            <path d="M16 6 6 11v2h20v-2L16 6zM8 15v8h3v-8H8zm6.5 0v8h3v-8h-3zM21 15v8h3v-8h-3zM6 25v2h20v-2H6z" />
          </svg>
          <span>{m.bankName}</span>
        </Link>
        <div className="bar-right">
          <LangSwitch label={m.language} />
          {me && (
            <>
              <span className="who" data-testid="customer-name">
                {me.customer.displayName}
              </span>
              <button type="button" className="btn btn-quiet" onClick={onLogout} data-testid="logout">
                {m.logout}
              </button>
            </>
          )}
        </div>
      </div>
      {me && (
        <nav className="tabs" aria-label={m.nav.main}>
          <ul className="container">
            {items.map((it) => (
              <li key={it.to}>
                <Link to={it.to} data-testid={it.testId} aria-current={path === it.to ? 'page' : undefined}>
                  {it.label}
                </Link>
              </li>
            ))}
          </ul>
        </nav>
      )}
    </header>
  );
}
