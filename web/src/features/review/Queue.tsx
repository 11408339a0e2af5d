import { useState, type FormEvent } from 'react';
import { api, type CasePage, type CaseSummary } from '../../api/client';
import { relativeTime, useLoad, useNow, useScreen } from '../../app/hooks';
import { BulkDecision } from './BulkDecision';
import { Countdown } from './Countdown';

/** How often the queue refreshes itself. */
const POLL_MS = 15_000;
const PAGE_SIZE = 50;

interface Filters {
  status: 'open' | 'decided';
  priority: '' | 'urgent' | 'normal';
  source: '' | 'match' | 'report' | 'alert';
  claimed_by: '' | 'me' | 'none';
  bank_id: string;
  label: string;
  external_id: string;
}

const INITIAL: Filters = {
  status: 'open',
  priority: '',
  source: '',
  claimed_by: '',
  bank_id: '',
  label: '',
  external_id: '',
};

function query(filters: Filters, cursor: string | null): string {
  const params = new URLSearchParams({ limit: String(PAGE_SIZE) });
  for (const [k, v] of Object.entries(filters)) if (v) params.set(k, v);
  if (cursor) params.set('cursor', cursor);
  return `/v1/cases?${params.toString()}`;
}

const SOURCE_NAMES: Record<string, string> = { match: 'hash match', report: 'user report', alert: 'alert' };

function source(c: CaseSummary & { sources: string[] }): string {
  return c.sources.map((s) => SOURCE_NAMES[s] ?? s).join(', ') || (c.submission_id ? 'submission' : '—');
}

/**
 * The review queue: the server's order (urgent first, then the earliest due), keyset pages, filters with
 * counts, a search by content id, and a refresh every 15 seconds.
 */
export function Queue({
  canDecide,
  onNext,
  onAnnounce,
}: {
  canDecide: boolean;
  onNext: () => void;
  onAnnounce: (text: string) => void;
}) {
  // The selection for a bulk decision: case id → the version the queue showed.
  const [selected, setSelected] = useState<Map<number, number>>(new Map());
  const [bulk, setBulk] = useState(false);
  const [filters, setFilters] = useState<Filters>(INITIAL);
  // The cursors of the pages before this one (the first page has none).
  const [cursors, setCursors] = useState<(string | null)[]>([null]);
  const cursor = cursors[cursors.length - 1];
  const now = useNow(POLL_MS);
  const { data, error, reload } = useLoad(
    () => api<CasePage>('GET', query(filters, cursor)),
    [filters, cursor, now],
  );
  const banks = useLoad(
    () => api<{ items: { id: number; name: string }[] }>('GET', '/v1/banks?limit=200'),
    [],
  );
  const heading = useScreen('Review queue');
  const toggle = (c: CaseSummary) =>
    setSelected((s) => {
      const next = new Map(s);
      if (next.has(c.id)) next.delete(c.id);
      else next.set(c.id, c.version);
      return next;
    });
  const selectable = canDecide && filters.status === 'open';
  const set = (change: Partial<Filters>) => {
    setFilters((f) => ({ ...f, ...change }));
    setCursors([null]);
  };
  const search = (event: FormEvent<HTMLFormElement>) => {
    event.preventDefault();
    const form = new FormData(event.currentTarget);
    set({
      external_id: String(form.get('external_id') ?? '').trim(),
      label: String(form.get('label') ?? '').trim(),
    });
  };
  const counts = data?.counts ?? {};
  const page = cursors.length;
  return (
    <section aria-labelledby="queue-title">
      <h1 id="queue-title" ref={heading} tabIndex={-1}>
        Review queue
      </h1>
      {canDecide && (
        <p>
          <button type="button" onClick={onNext} aria-keyshortcuts="j">
            Review the next case <kbd>j</kbd>
          </button>
        </p>
      )}
      <div className="filters" role="group" aria-label="Status">
        {(['open', 'decided'] as const).map((s) => (
          <button
            key={s}
            type="button"
            aria-pressed={filters.status === s}
            onClick={() => set({ status: s })}
          >
            {s === 'open' ? 'Open' : 'Decided'} <span className="count">{counts[s] ?? 0}</span>
          </button>
        ))}
      </div>
      <div className="filters" role="group" aria-label="Priority">
        {(['', 'urgent', 'normal'] as const).map((p) => (
          <button
            key={p}
            type="button"
            aria-pressed={filters.priority === p}
            onClick={() => set({ priority: p })}
          >
            {p === '' ? 'Any priority' : p === 'urgent' ? 'Urgent' : 'Normal'}{' '}
            {p !== '' && <span className="count">{counts[p] ?? 0}</span>}
          </button>
        ))}
      </div>
      <form className="inline" onSubmit={search} aria-label="Filter the queue">
        <label htmlFor="f-source">Source</label>
        <select
          id="f-source"
          value={filters.source}
          onChange={(e) => set({ source: e.currentTarget.value as Filters['source'] })}
        >
          <option value="">Any</option>
          <option value="match">Hash match</option>
          <option value="report">User report</option>
          <option value="alert">Alert</option>
        </select>
        <label htmlFor="f-bank">Bank</label>
        <select id="f-bank" value={filters.bank_id} onChange={(e) => set({ bank_id: e.currentTarget.value })}>
          <option value="">Any</option>
          {banks.data?.items.map((b) => (
            <option key={b.id} value={b.id}>
              {b.name}
            </option>
          ))}
        </select>
        <label htmlFor="f-claimed">Reviewer</label>
        <select
          id="f-claimed"
          value={filters.claimed_by}
          onChange={(e) => set({ claimed_by: e.currentTarget.value as Filters['claimed_by'] })}
        >
          <option value="">Anyone</option>
          <option value="me">Open with me</option>
          <option value="none">Nobody</option>
        </select>
        <label htmlFor="f-label">Label</label>
        <input id="f-label" name="label" defaultValue={filters.label} size={12} />
        <label htmlFor="f-external">Content id</label>
        <input
          id="f-external"
          name="external_id"
          type="search"
          defaultValue={filters.external_id}
          size={14}
        />
        <button type="submit">Search</button>
      </form>
      {error && (
        <p role="alert" className="error">
          {error}
        </p>
      )}
      {selectable && (
        <div className="inline">
          <button type="button" disabled={selected.size === 0} onClick={() => setBulk(true)}>
            Decide selected ({selected.size})
          </button>
          {selected.size > 0 && (
            <button type="button" className="secondary" onClick={() => setSelected(new Map())}>
              Clear selection
            </button>
          )}
        </div>
      )}
      <BulkDecision
        selected={selected}
        open={bulk}
        onClose={() => setBulk(false)}
        onDone={(summary) => {
          setBulk(false);
          setSelected(new Map());
          onAnnounce(summary);
          reload();
        }}
      />
      <div className="scroll">
        <table>
          <caption className="muted">
            {data ? `Page ${page}, ${data.items.length} cases` : 'Loading…'} · urgent first, then the earliest
            due · refreshed every 15 seconds
          </caption>
          <thead>
            <tr>
              {selectable && (
                <th scope="col">
                  <span className="visually-hidden">Select</span>
                </th>
              )}
              <th scope="col">Case</th>
              <th scope="col">Content</th>
              <th scope="col">Priority</th>
              <th scope="col">Source</th>
              <th scope="col">Matches</th>
              <th scope="col">In queue</th>
              <th scope="col">Due</th>
              <th scope="col">Reviewer</th>
            </tr>
          </thead>
          <tbody>
            {data?.items.map((c) => {
              const overdue = c.status === 'open' && Date.parse(c.due_at) < now;
              return (
                <tr key={c.id} className={c.priority === 'urgent' ? 'urgent' : undefined}>
                  {selectable && (
                    <td>
                      <input
                        type="checkbox"
                        aria-label={`Select case ${c.id}`}
                        checked={selected.has(c.id)}
                        onChange={() => toggle(c)}
                      />
                    </td>
                  )}
                  <td>
                    <a href={`#/cases/${c.id}`}>Case {c.id}</a>
                  </td>
                  <td>{c.external_id}</td>
                  <td>{c.priority}</td>
                  <td>{source(c)}</td>
                  <td>{c.evidence.map((e) => `${e.bank.name} (${e.distance})`).join(', ') || '—'}</td>
                  <td>
                    <time dateTime={c.created_at}>{relativeTime(c.created_at, now).replace(' ago', '')}</time>
                  </td>
                  <td className={overdue ? 'overdue' : undefined}>
                    {c.status === 'open' && c.priority === 'urgent' ? (
                      // Urgent cases (a removal order's one hour) tick by the second.
                      <Countdown due={c.due_at} live />
                    ) : (
                      <time dateTime={c.due_at} title={new Date(c.due_at).toLocaleString()}>
                        {overdue
                          ? `overdue by ${relativeTime(c.due_at, now).replace(' ago', '')}`
                          : relativeTime(c.due_at, now)}
                      </time>
                    )}
                  </td>
                  <td>{c.claimed_by_name ?? '—'}</td>
                </tr>
              );
            })}
          </tbody>
        </table>
      </div>
      {data && data.items.length === 0 && (
        <p data-testid="empty">
          {filters.status === 'open' && !filters.priority && !filters.source && !filters.external_id
            ? 'No open cases: nothing waits for review. New matches, reports and alerts appear here by themselves.'
            : 'No case fits these filters. Change or clear them to see more.'}
        </p>
      )}
      <nav className="pager" aria-label="Pages">
        <button type="button" disabled={page === 1} onClick={() => setCursors((c) => c.slice(0, -1))}>
          Previous page
        </button>
        <span>Page {page}</span>
        <button
          type="button"
          disabled={!data?.next_cursor}
          onClick={() => data?.next_cursor && setCursors((c) => [...c, data.next_cursor])}
        >
          Next page
        </button>
      </nav>
    </section>
  );
}
