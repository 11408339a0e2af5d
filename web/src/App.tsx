import { useCallback, useEffect, useState, type FormEvent } from 'react';
import { api, ApiError, type CaseDetail, type CaseSummary, type SessionUser } from './api';
import { Research } from './research';

type Route =
  | { page: 'queue' }
  | { page: 'case'; id: number }
  | { page: 'banks' }
  | { page: 'bank'; id: number }
  | { page: 'keys' }
  | { page: 'webhooks' }
  | { page: 'audit' }
  | { page: 'research' };

function parseRoute(hash: string): Route {
  const caseMatch = /^#\/cases\/(\d+)$/.exec(hash);
  if (caseMatch) return { page: 'case', id: Number(caseMatch[1]) };
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

function useLoad<T>(
  load: () => Promise<T>,
  deps: unknown[],
): { data: T | null; error: string | null; reload: () => void } {
  const [data, setData] = useState<T | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [tick, setTick] = useState(0);
  useEffect(() => {
    let live = true;
    load().then(
      (d) => live && (setData(d), setError(null)),
      (e: unknown) => live && setError(e instanceof Error ? e.message : String(e)),
    );
    return () => {
      live = false;
    };
  }, [...deps, tick]);
  return { data, error, reload: () => setTick((n) => n + 1) };
}

export function App() {
  const [user, setUser] = useState<SessionUser | null>(null);
  const [checked, setChecked] = useState(false);
  useEffect(() => {
    api<{ user: SessionUser }>('GET', '/v1/session')
      .then((s) => setUser(s.user))
      .catch(() => setUser(null))
      .finally(() => setChecked(true));
  }, []);
  if (!checked) return <p className="loading">Loading…</p>;
  if (!user) return <SignIn onSignedIn={setUser} />;
  return <Shell user={user} onSignedOut={() => setUser(null)} />;
}

function SignIn({ onSignedIn }: { onSignedIn: (user: SessionUser) => void }) {
  const [error, setError] = useState<string | null>(null);
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
      <p>Sign in to review content.</p>
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

function Shell({ user, onSignedOut }: { user: SessionUser; onSignedOut: () => void }) {
  const requested = useRoute();
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
  };
  const route: Route =
    allowed[requested.page] && !can(allowed[requested.page]) ? { page: 'queue' } : requested;
  return (
    <div className="shell">
      <header>
        <strong className="brand">Kaitiaki</strong>
        <nav aria-label="Main">
          <a
            href="#/queue"
            aria-current={route.page === 'queue' || route.page === 'case' ? 'page' : undefined}
          >
            Review queue
          </a>
          <a href="#/banks" aria-current={route.page === 'banks' ? 'page' : undefined}>
            Banks
          </a>
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
        <span className="who">
          {user.display_name} ({user.role})
        </span>
        <button type="button" className="link" onClick={signOut}>
          Sign out
        </button>
      </header>
      <main>
        {route.page === 'queue' && <Queue />}
        {route.page === 'case' && (
          <CaseView id={route.id} canSeeMedia={can('media:view')} canDecide={can('cases:decide')} />
        )}
        {route.page === 'banks' && <Banks />}
        {route.page === 'bank' && <BankEntries id={route.id} />}
        {route.page === 'keys' && <Keys />}
        {route.page === 'webhooks' && <Webhooks />}
        {route.page === 'audit' && <Audit />}
        {route.page === 'research' && <Research can={can} />}
      </main>
    </div>
  );
}

function Queue() {
  const [status, setStatus] = useState<'open' | 'decided'>('open');
  const { data, error } = useLoad(
    () =>
      api<{ items: CaseSummary[]; counts: Record<string, number> }>(
        'GET',
        `/v1/cases?status=${status}&limit=100`,
      ),
    [status],
  );
  return (
    <section aria-labelledby="queue-title">
      <h1 id="queue-title">Review queue</h1>
      <div className="filters" role="group" aria-label="Filter by status">
        {(['open', 'decided'] as const).map((s) => (
          <button key={s} type="button" aria-pressed={status === s} onClick={() => setStatus(s)}>
            {s === 'open' ? 'Open' : 'Decided'} <span className="count">{data?.counts[s] ?? 0}</span>
          </button>
        ))}
      </div>
      {error && (
        <p role="alert" className="error">
          {error}
        </p>
      )}
      <table>
        <thead>
          <tr>
            <th scope="col">Case</th>
            <th scope="col">Content</th>
            <th scope="col">Priority</th>
            <th scope="col">Matches</th>
            <th scope="col">Due</th>
          </tr>
        </thead>
        <tbody>
          {data?.items.map((c) => (
            <tr key={c.id} className={c.priority === 'urgent' ? 'urgent' : undefined}>
              <td>
                <a href={`#/cases/${c.id}`}>Case {c.id}</a>
              </td>
              <td>{c.external_id}</td>
              <td>{c.priority}</td>
              <td>{c.evidence.map((e) => `${e.bank.name} (${e.distance})`).join(', ') || '—'}</td>
              <td>{new Date(c.due_at).toLocaleString()}</td>
            </tr>
          ))}
        </tbody>
      </table>
      {data && data.items.length === 0 && <p>Nothing here.</p>}
    </section>
  );
}

const DECISION_KEYS: Record<string, string> = {
  r: 'remove',
  s: 'restrict',
  l: 'label',
  n: 'no-violation',
  e: 'escalate',
};

function CaseView({ id, canSeeMedia, canDecide }: { id: number; canSeeMedia: boolean; canDecide: boolean }) {
  const { data, error, reload } = useLoad(() => api<CaseDetail>('GET', `/v1/cases/${id}`), [id]);
  const [revealed, setRevealed] = useState(false);
  const [decision, setDecision] = useState('remove');
  const [message, setMessage] = useState<string | null>(null);
  const [failure, setFailure] = useState<string | null>(null);

  const decide = useCallback(
    async (form: HTMLFormElement) => {
      const fields = new FormData(form);
      try {
        const result = await api<{ statement_id: string | null }>('POST', `/v1/cases/${id}/decision`, {
          decision,
          ground_type: fields.get('ground_type'),
          ground: fields.get('ground'),
          reason: fields.get('reason'),
        });
        setMessage(
          `Decision recorded${result.statement_id ? `; statement of reasons ${result.statement_id}` : ''}.`,
        );
        setFailure(null);
        reload();
      } catch (e) {
        setFailure(e instanceof ApiError ? e.message : String(e));
      }
    },
    [decision, id, reload],
  );

  useEffect(() => {
    // Keyboard shortcuts: r/s/l/n/e choose a decision, v reveals media, Ctrl+Enter submits.
    const onKey = (event: KeyboardEvent) => {
      const target = event.target as HTMLElement;
      const typing =
        target.tagName === 'TEXTAREA' || target.tagName === 'INPUT' || target.tagName === 'SELECT';
      if (event.key === 'Enter' && (event.ctrlKey || event.metaKey)) {
        const form = document.getElementById('decision-form') as HTMLFormElement | null;
        if (form?.reportValidity()) void decide(form);
        return;
      }
      if (typing || event.ctrlKey || event.metaKey || event.altKey) return;
      if (DECISION_KEYS[event.key]) setDecision(DECISION_KEYS[event.key]);
      if (event.key === 'v') setRevealed((r) => !r);
    };
    window.addEventListener('keydown', onKey);
    return () => window.removeEventListener('keydown', onKey);
  }, [decide]);

  if (error)
    return (
      <p role="alert" className="error">
        {error}
      </p>
    );
  if (!data) return <p>Loading…</p>;
  return (
    <section aria-labelledby="case-title" className="case">
      <p>
        <a href="#/queue">← Back to the queue</a>
      </p>
      <h1 id="case-title">
        Case {data.id} <span className={`badge ${data.priority}`}>{data.priority}</span>{' '}
        <span className="badge">{data.status}</span>
      </h1>
      <div className="columns">
        <div>
          <h2>Content {data.external_id}</h2>
          {data.submission_id && canSeeMedia ? (
            <figure className="media-frame">
              <img
                src={`/v1/submissions/${data.submission_id}/media`}
                alt={
                  revealed
                    ? `Submitted media of ${data.external_id}`
                    : 'Submitted media, blurred and in greyscale until revealed'
                }
                className={revealed ? 'media' : 'media concealed'}
                data-testid="case-media"
              />
              <figcaption>
                <button type="button" onClick={() => setRevealed((r) => !r)} aria-pressed={revealed}>
                  {revealed ? 'Blur again' : 'Reveal media'} <kbd>v</kbd>
                </button>
              </figcaption>
            </figure>
          ) : (
            <p className="muted">
              {data.submission_id
                ? 'Your role may not see media.'
                : 'No media: this case came from a report or alert.'}
            </p>
          )}
          <h2>Evidence</h2>
          <ul className="evidence">
            {data.evidence.map((e, i) => (
              <li key={i}>
                Matched bank <strong>{e.bank.name}</strong> entry {e.entry.id} by{' '}
                {e.signalType ?? e.signal_type} at distance {e.distance}
                {e.entry.labels.length > 0 && <> · labels: {e.entry.labels.join(', ')}</>}
              </li>
            ))}
            {data.reports.map((r) => (
              <li key={`r${r.id}`}>
                {r.kind === 'alert' ? 'Alert' : 'User report'} from {r.source}
                {r.category && <> ({r.category})</>}
                {r.url && <> · {r.url}</>}
              </li>
            ))}
            {data.evidence.length === 0 && data.reports.length === 0 && <li>No evidence recorded.</li>}
          </ul>
          {data.decisions.length > 0 && (
            <>
              <h2>Decisions</h2>
              <ul>
                {data.decisions.map((d) => (
                  <li key={d.id}>
                    {d.decision} — {d.ground}: {d.reason} ({d.automated ? 'automated' : d.decided_by},{' '}
                    {new Date(d.created_at).toLocaleString()})
                  </li>
                ))}
              </ul>
            </>
          )}
        </div>
        {canDecide && data.status === 'open' && (
          <form
            id="decision-form"
            className="decision"
            aria-labelledby="decide-title"
            onSubmit={(event) => {
              event.preventDefault();
              void decide(event.currentTarget);
            }}
          >
            <h2 id="decide-title">Decide</h2>
            <fieldset>
              <legend>Decision</legend>
              {Object.entries(DECISION_KEYS).map(([key, value]) => (
                <label key={value} className="choice">
                  <input
                    type="radio"
                    name="decision"
                    value={value}
                    checked={decision === value}
                    onChange={() => setDecision(value)}
                  />
                  {value} <kbd>{key}</kbd>
                </label>
              ))}
            </fieldset>
            <label htmlFor="ground_type">Ground</label>
            <select id="ground_type" name="ground_type" defaultValue="terms">
              <option value="terms">Incompatible with our terms</option>
              <option value="illegal">Illegal content</option>
            </select>
            <label htmlFor="ground">Legal or contractual ground</label>
            <input
              id="ground"
              name="ground"
              required
              minLength={3}
              defaultValue="Terms of service: terrorist and violent extremist content"
            />
            <label htmlFor="reason">Reason (shown to the user in the statement of reasons)</label>
            <textarea id="reason" name="reason" required minLength={3} rows={4} />
            {failure && (
              <p role="alert" className="error">
                {failure}
              </p>
            )}
            <button type="submit">
              Record decision <kbd>Ctrl+Enter</kbd>
            </button>
          </form>
        )}
      </div>
      {message && (
        <p role="status" className="notice">
          {message}
        </p>
      )}
    </section>
  );
}

function Banks() {
  const { data, error } = useLoad(
    () =>
      api<{
        items: { id: number; name: string; sharing: string; enabled: boolean; default_labels: string[] }[];
      }>('GET', '/v1/banks?limit=200'),
    [],
  );
  return (
    <section aria-labelledby="banks-title">
      <h1 id="banks-title">Banks</h1>
      {error && (
        <p role="alert" className="error">
          {error}
        </p>
      )}
      <table>
        <thead>
          <tr>
            <th scope="col">Name</th>
            <th scope="col">Sharing</th>
            <th scope="col">Enabled</th>
            <th scope="col">Default labels</th>
          </tr>
        </thead>
        <tbody>
          {data?.items.map((b) => (
            <tr key={b.id}>
              <td>
                <a href={`#/banks/${b.id}`}>{b.name}</a>
              </td>
              <td>{b.sharing}</td>
              <td>{b.enabled ? 'yes' : 'no'}</td>
              <td>{b.default_labels.join(', ')}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </section>
  );
}

function BankEntries({ id }: { id: number }) {
  const bank = useLoad(() => api<{ name: string; entry_count: number }>('GET', `/v1/banks/${id}`), [id]);
  const entries = useLoad(
    () =>
      api<{
        items: {
          id: number;
          signal_type: string;
          value: string;
          labels: string[];
          status: string;
          source: string;
        }[];
      }>('GET', `/v1/banks/${id}/entries?limit=200`),
    [id],
  );
  return (
    <section aria-labelledby="entries-title">
      <p>
        <a href="#/banks">← All banks</a>
      </p>
      <h1 id="entries-title">
        {bank.data?.name ?? 'Bank'} <span className="count">{bank.data?.entry_count ?? ''}</span>
      </h1>
      {(bank.error || entries.error) && (
        <p role="alert" className="error">
          {bank.error ?? entries.error}
        </p>
      )}
      <table>
        <thead>
          <tr>
            <th scope="col">Entry</th>
            <th scope="col">Type</th>
            <th scope="col">Signal</th>
            <th scope="col">Labels</th>
            <th scope="col">Source</th>
            <th scope="col">Status</th>
          </tr>
        </thead>
        <tbody>
          {entries.data?.items.map((e) => (
            <tr key={e.id}>
              <td>{e.id}</td>
              <td>{e.signal_type}</td>
              <td>
                <code>{e.value.length > 40 ? `${e.value.slice(0, 40)}…` : e.value}</code>
              </td>
              <td>{e.labels.join(', ')}</td>
              <td>{e.source}</td>
              <td>{e.status}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </section>
  );
}

function Keys() {
  const [created, setCreated] = useState<string | null>(null);
  const [failure, setFailure] = useState<string | null>(null);
  const create = async (event: FormEvent<HTMLFormElement>) => {
    event.preventDefault();
    const form = new FormData(event.currentTarget);
    try {
      const result = await api<{ key: string }>('POST', '/v1/keys', {
        name: form.get('name'),
        role: form.get('role'),
      });
      setCreated(result.key);
      setFailure(null);
      reload();
    } catch (e) {
      setFailure(e instanceof Error ? e.message : String(e));
    }
  };
  const { data, error, reload } = useLoad(
    () =>
      api<{
        items: {
          id: number;
          name: string;
          prefix: string;
          role: string;
          last_used_at: string | null;
          revoked_at: string | null;
        }[];
      }>('GET', '/v1/keys'),
    [],
  );
  return (
    <section aria-labelledby="keys-title">
      <h1 id="keys-title">API keys</h1>
      {error && (
        <p role="alert" className="error">
          {error}
        </p>
      )}
      <form className="inline" onSubmit={create} aria-label="Create an API key">
        <label htmlFor="key-name">Name</label>
        <input id="key-name" name="name" required maxLength={100} />
        <label htmlFor="key-role">Role</label>
        <select id="key-role" name="role" defaultValue="integration">
          <option value="integration">integration (a platform's machine client)</option>
          <option value="viewer">viewer</option>
          <option value="moderator">moderator</option>
          <option value="admin">admin</option>
        </select>
        <button type="submit">Create key</button>
      </form>
      {failure && (
        <p role="alert" className="error">
          {failure}
        </p>
      )}
      {created && (
        <p role="status" className="notice">
          New key (shown once; store it now): <code data-testid="new-key">{created}</code>
        </p>
      )}
      <table>
        <thead>
          <tr>
            <th scope="col">Name</th>
            <th scope="col">Key</th>
            <th scope="col">Role</th>
            <th scope="col">Last used</th>
            <th scope="col">State</th>
          </tr>
        </thead>
        <tbody>
          {data?.items.map((k) => (
            <tr key={k.id}>
              <td>{k.name}</td>
              <td>
                <code>kt_{k.prefix}_…</code>
              </td>
              <td>{k.role}</td>
              <td>{k.last_used_at ? new Date(k.last_used_at).toLocaleString() : 'never'}</td>
              <td>{k.revoked_at ? 'revoked' : 'active'}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </section>
  );
}

function Webhooks() {
  const hooks = useLoad(
    () => api<{ items: { id: number; url: string; enabled: boolean }[] }>('GET', '/v1/webhooks'),
    [],
  );
  const deliveries = useLoad(
    () =>
      api<{
        items: {
          id: number;
          action_id: string;
          attempt: number;
          status_code: number | null;
          error: string | null;
          created_at: string;
        }[];
      }>('GET', '/v1/webhooks/deliveries'),
    [],
  );
  const dead = useLoad(
    () =>
      api<{ items: { id: string; type: string; last_error: string | null }[] }>(
        'GET',
        '/v1/actions?status=dead',
      ),
    [],
  );
  return (
    <section aria-labelledby="webhooks-title">
      <h1 id="webhooks-title">Webhooks</h1>
      <ul>
        {hooks.data?.items.map((h) => (
          <li key={h.id}>
            {h.url} {h.enabled ? '' : '(disabled)'}
          </li>
        ))}
      </ul>
      <h2>Deliveries</h2>
      <table>
        <thead>
          <tr>
            <th scope="col">Action</th>
            <th scope="col">Attempt</th>
            <th scope="col">Result</th>
            <th scope="col">When</th>
          </tr>
        </thead>
        <tbody>
          {deliveries.data?.items.map((d) => (
            <tr key={d.id}>
              <td>
                <code>{d.action_id.slice(0, 8)}</code>
              </td>
              <td>{d.attempt}</td>
              <td>{d.error ?? `delivered (${d.status_code})`}</td>
              <td>{new Date(d.created_at).toLocaleString()}</td>
            </tr>
          ))}
        </tbody>
      </table>
      <h2>Dead letters</h2>
      {dead.data?.items.length ? (
        <ul>
          {dead.data.items.map((a) => (
            <li key={a.id}>
              {a.type}: {a.last_error}
            </li>
          ))}
        </ul>
      ) : (
        <p>None.</p>
      )}
    </section>
  );
}

function Audit() {
  const { data, error } = useLoad(
    () =>
      api<{
        items: {
          id: number;
          actor: string;
          action: string;
          subject_type: string;
          subject_id: string;
          created_at: string;
          hash: string;
        }[];
      }>('GET', '/v1/audit?limit=200'),
    [],
  );
  return (
    <section aria-labelledby="audit-title">
      <h1 id="audit-title">Audit trail</h1>
      {error && (
        <p role="alert" className="error">
          {error}
        </p>
      )}
      <table>
        <thead>
          <tr>
            <th scope="col">#</th>
            <th scope="col">When</th>
            <th scope="col">Who</th>
            <th scope="col">What</th>
            <th scope="col">Subject</th>
            <th scope="col">Hash</th>
          </tr>
        </thead>
        <tbody>
          {data?.items.map((r) => (
            <tr key={r.id}>
              <td>{r.id}</td>
              <td>{new Date(r.created_at).toLocaleString()}</td>
              <td>{r.actor}</td>
              <td>{r.action}</td>
              <td>
                {r.subject_type} {r.subject_id}
              </td>
              <td>
                <code>{r.hash.slice(0, 12)}</code>
              </td>
            </tr>
          ))}
        </tbody>
      </table>
    </section>
  );
}
