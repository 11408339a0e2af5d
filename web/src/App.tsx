import { useCallback, useEffect, useState, type FormEvent, type MouseEvent } from 'react';
import { api, SESSION_ENDED, type CaseSummary, type SessionUser } from './api/client';
import { isTyping, shortcutAllowed } from './app/hooks';
import { Preferences } from './app/Preferences';
import { useSettings } from './app/settings';
import { Audit } from './features/admin/Audit';
import { BankEntries, Banks } from './features/admin/Banks';
import { Keys } from './features/admin/Keys';
import { Webhooks } from './features/admin/Webhooks';
import { CaseView } from './features/review/CaseView';
import { Queue } from './features/review/Queue';
import { Research } from './features/research/Research';
import { AppealDecision, Appeals } from './features/appeals/Appeals';
import { Orders } from './features/orders/Orders';
import { IncidentPage } from './features/crisis/IncidentPage';
import { Incidents } from './features/crisis/Incidents';

type Route =
  | { page: 'queue' }
  | { page: 'case'; id: number }
  | { page: 'banks' }
  | { page: 'bank'; id: number }
  | { page: 'keys' }
  | { page: 'webhooks' }
  | { page: 'audit' }
  | { page: 'research' }
  | { page: 'orders' }
  | { page: 'appeals' }
  | { page: 'appeal'; id: number }
  | { page: 'crisis' }
  | { page: 'incident'; id: number };

function parseRoute(hash: string): Route {
  const caseMatch = /^#\/cases\/(\d+)$/.exec(hash);
  if (caseMatch) return { page: 'case', id: Number(caseMatch[1]) };
  const appealMatch = /^#\/appeals\/(\d+)$/.exec(hash);
  if (appealMatch) return { page: 'appeal', id: Number(appealMatch[1]) };
  if (hash === '#/orders' || hash === '#/appeals')
    return { page: hash === '#/orders' ? 'orders' : 'appeals' };
  const incidentMatch = /^#\/crisis\/(\d+)$/.exec(hash);
  if (incidentMatch) return { page: 'incident', id: Number(incidentMatch[1]) };
  if (hash === '#/crisis') return { page: 'crisis' };
  const bankMatch = /^#\/banks\/(\d+)$/.exec(hash);
  if (bankMatch) return { page: 'bank', id: Number(bankMatch[1]) };
  const page = hash.replace(/^#\//, '');
  if (page === 'banks' || page === 'keys' || page === 'webhooks' || page === 'audit' || page === 'research')
    return { page };
  return { page: 'queue' };
}

function useRoute(): Route {
  const [route, setRoute] = useState(() => parseRoute(window.location.hash));
  useEffect(() => {
    const onChange = () => setRoute(parseRoute(window.location.hash));
    window.addEventListener('hashchange', onChange);
    return () => window.removeEventListener('hashchange', onChange);
  }, []);
  return route;
}

export function App() {
  const [user, setUser] = useState<SessionUser | null>(null);
  const [checked, setChecked] = useState(false);
  const [ended, setEnded] = useState(false);
  useEffect(() => {
    api<{ user: SessionUser }>('GET', '/v1/session')
      .then((s) => setUser(s.user))
      .catch(() => setUser(null))
      .finally(() => setChecked(true));
  }, []);
  useEffect(() => {
    // Any call answered 401 means the session ended: back to signing in, saying why.
    const onEnded = () => {
      setUser((u) => {
        if (u) setEnded(true);
        return null;
      });
    };
    window.addEventListener(SESSION_ENDED, onEnded);
    return () => window.removeEventListener(SESSION_ENDED, onEnded);
  }, []);
  if (!checked) return <p className="loading">Loading…</p>;
  if (!user)
    return (
      <SignIn
        ended={ended}
        onSignedIn={(u) => {
          setEnded(false);
          setUser(u);
        }}
      />
    );
  return <Shell user={user} onSignedOut={() => setUser(null)} />;
}

function SignIn({ onSignedIn, ended }: { onSignedIn: (user: SessionUser) => void; ended: boolean }) {
  const [error, setError] = useState<string | null>(null);
  useEffect(() => {
    document.title = 'Sign in · Kaitiaki';
  }, []);
  const submit = async (event: FormEvent<HTMLFormElement>) => {
    event.preventDefault();
    const form = new FormData(event.currentTarget);
    try {
      const session = await api<{ user: SessionUser }>('POST', '/v1/session', {
        email: form.get('email'),
        password: form.get('password'),
      });
      onSignedIn(session.user);
    } catch (e) {
      setError(e instanceof Error ? e.message : String(e));
    }
  };
  return (
    <main className="sign-in">
      <h1>Kaitiaki</h1>
      {ended ? (
        <p role="alert" className="notice">
          Your session has ended. Sign in again to carry on where you were.
        </p>
      ) : (
        <p>Sign in to review content.</p>
      )}
      <form onSubmit={submit} aria-label="Sign in">
        <label htmlFor="email">Email</label>
        <input id="email" name="email" type="email" autoComplete="username" required autoFocus />
        <label htmlFor="password">Password</label>
        <input id="password" name="password" type="password" autoComplete="current-password" required />
        {error && (
          <p role="alert" className="error">
            {error}
          </p>
        )}
        <button type="submit">Sign in</button>
      </form>
    </main>
  );
}

/** The name in the header, with the role only when the name does not already say it. */
export function whoLabel(user: SessionUser): string {
  const name = user.display_name || user.email;
  return name.toLowerCase().includes(`(${user.role.toLowerCase()})`) ? name : `${name} (${user.role})`;
}

function Shell({ user, onSignedOut }: { user: SessionUser; onSignedOut: () => void }) {
  const requested = useRoute();
  const [settings] = useSettings();
  const [help, setHelp] = useState(false);
  // What the console just did (a decision, the move to the next case): said where the eye is, and to screen readers.
  const [announcement, setAnnouncement] = useState('');
  const signOut = async () => {
    await api('DELETE', '/v1/session').catch(() => undefined);
    onSignedOut();
  };
  const can = (permission: string) => user.permissions.includes(permission);
  // A page the role may not use (after signing in as someone else, say) falls back to the queue.
  const allowed: Record<string, string> = {
    keys: 'keys:manage',
    webhooks: 'webhooks:manage',
    audit: 'audit:read',
    orders: 'orders:read',
    appeals: 'appeals:decide',
    appeal: 'appeals:decide',
    crisis: 'crisis:observe',
    incident: 'crisis:observe',
  };
  // An authority has no review queue: its home is its orders; an observer's is the crisis incidents.
  const home: Route = can('cases:read')
    ? { page: 'queue' }
    : can('orders:read')
      ? { page: 'orders' }
      : can('crisis:observe')
        ? { page: 'crisis' }
        : { page: 'queue' };
  const route: Route =
    (allowed[requested.page] && !can(allowed[requested.page])) ||
    ((requested.page === 'queue' || requested.page === 'case') && !can('cases:read'))
      ? home
      : requested;
  const currentCase = route.page === 'case' ? route.id : null;

  /** Opens the most urgent case nobody else has (claimed for this moderator); `prefix` says what came before. */
  const next = useCallback(async (skip: number | null, prefix = '') => {
    try {
      const c = await api<CaseSummary | undefined>('POST', `/v1/cases/next${skip ? `?skip=${skip}` : ''}`);
      if (c) {
        setAnnouncement(`${prefix}Now showing case ${c.id}${c.priority === 'urgent' ? ' (urgent)' : ''}.`);
        window.location.hash = `#/cases/${c.id}`;
      } else {
        setAnnouncement(`${prefix}No open case is waiting: the queue is clear.`);
        window.location.hash = '#/queue';
      }
    } catch (e) {
      setAnnouncement(`${prefix}Could not open the next case: ${e instanceof Error ? e.message : String(e)}`);
    }
  }, []);

  useEffect(() => {
    const onKey = (event: KeyboardEvent) => {
      if (event.key === '?' && !event.ctrlKey && !event.metaKey && !isTyping(event)) {
        event.preventDefault();
        setHelp(true);
        return;
      }
      if (!shortcutAllowed(event, settings.shortcuts)) return;
      if (event.key === 'j' && can('cases:decide')) {
        event.preventDefault();
        void next(currentCase);
      }
    };
    window.addEventListener('keydown', onKey);
    return () => window.removeEventListener('keydown', onKey);
  }, [settings.shortcuts, currentCase, next]);

  return (
    <div className="shell">
      <a className="skip" href="#main" onClick={skipToMain}>
        Skip to content
      </a>
      <header>
        <strong className="brand">Kaitiaki</strong>
        <nav aria-label="Main">
          {can('cases:read') && (
            <a
              href="#/queue"
              aria-current={route.page === 'queue' || route.page === 'case' ? 'page' : undefined}
            >
              Review queue
            </a>
          )}
          {can('orders:read') && (
            <a href="#/orders" aria-current={route.page === 'orders' ? 'page' : undefined}>
              Removal orders
            </a>
          )}
          {can('appeals:decide') && (
            <a
              href="#/appeals"
              aria-current={route.page === 'appeals' || route.page === 'appeal' ? 'page' : undefined}
            >
              Appeals
            </a>
          )}
          {can('crisis:observe') && (
            <a
              href="#/crisis"
              aria-current={route.page === 'crisis' || route.page === 'incident' ? 'page' : undefined}
            >
              Crisis
            </a>
          )}
          {can('banks:read') && (
            <a href="#/banks" aria-current={route.page === 'banks' ? 'page' : undefined}>
              Banks
            </a>
          )}
          {can('keys:manage') && (
            <a href="#/keys" aria-current={route.page === 'keys' ? 'page' : undefined}>
              API keys
            </a>
          )}
          {can('webhooks:manage') && (
            <a href="#/webhooks" aria-current={route.page === 'webhooks' ? 'page' : undefined}>
              Webhooks
            </a>
          )}
          {can('audit:read') && (
            <a href="#/audit" aria-current={route.page === 'audit' ? 'page' : undefined}>
              Audit trail
            </a>
          )}
          {(can('research:own') || can('research:query')) && (
            <a href="#/research" aria-current={route.page === 'research' ? 'page' : undefined}>
              Research
            </a>
          )}
        </nav>
        <span className="who" data-testid="who">
          {whoLabel(user)}
        </span>
        <button type="button" className="link" onClick={() => setHelp(true)} aria-keyshortcuts="?">
          Shortcuts and settings
        </button>
        <button type="button" className="link" onClick={signOut}>
          Sign out
        </button>
      </header>
      <main id="main" tabIndex={-1}>
        <p role="status" aria-live="polite" className={announcement ? 'announce' : 'announce empty'}>
          {announcement}
        </p>
        {route.page === 'queue' && (
          <Queue
            canDecide={can('cases:decide')}
            onNext={() => void next(null)}
            onAnnounce={setAnnouncement}
          />
        )}
        {route.page === 'case' && (
          <CaseView
            key={route.id}
            id={route.id}
            canSeeMedia={can('media:view')}
            canDecide={can('cases:decide')}
            orgId={user.organisation_id}
            canGiveFeedback={can('entries:write')}
            onDecided={(id, summary) => void next(id, `${summary} `)}
          />
        )}
        {route.page === 'banks' && <Banks />}
        {route.page === 'bank' && (
          <BankEntries
            key={route.id}
            id={route.id}
            orgId={user.organisation_id}
            canResolve={can('banks:write')}
          />
        )}
        {route.page === 'keys' && <Keys />}
        {route.page === 'webhooks' && <Webhooks />}
        {route.page === 'audit' && <Audit />}
        {route.page === 'research' && <Research can={can} />}
        {route.page === 'orders' && <Orders canIssue={can('orders:issue')} />}
        {route.page === 'appeals' && <Appeals />}
        {route.page === 'crisis' && <Incidents canCoordinate={can('crisis:coordinate')} />}
        {route.page === 'incident' && <IncidentPage key={route.id} id={route.id} user={user} can={can} />}
        {route.page === 'appeal' && <AppealDecision key={route.id} id={route.id} me={`user:${user.id}`} />}
      </main>
      <Preferences open={help} onClose={() => setHelp(false)} />
    </div>
  );
}

function skipToMain(event: MouseEvent) {
  // The router uses the hash, so the skip link moves focus itself instead of changing it.
  event.preventDefault();
  document.getElementById('main')?.focus();
}
