import { useCallback, useEffect, useRef, useState } from 'react';
import { api, ApiError, type CaseDetail, type Evidence } from '../../api/client';
import { relativeTime, shortcutAllowed, useLoad, useScreen } from '../../app/hooks';
import { useSettings } from '../../app/settings';
import { SignalOpinion } from '../feedback/SignalOpinion';
import { TEMPLATES } from './templates';

export const DECISIONS: { key: string; value: string; label: string }[] = [
  { key: 'r', value: 'remove', label: 'Remove' },
  { key: 's', value: 'restrict', label: 'Restrict' },
  { key: 'l', value: 'label', label: 'Label' },
  { key: 'n', value: 'no-violation', label: 'No violation' },
  { key: 'e', value: 'escalate', label: 'Escalate' },
];

/** How often an open case renews its claim (the server keeps a claim 10 minutes). */
const RENEW_MS = 4 * 60_000;

interface CaseViewProps {
  id: number;
  canSeeMedia: boolean;
  canDecide: boolean;
  /** The moderator's organisation: a match on another organisation's bank came from a signal shared with it. */
  orgId: number;
  /** entries:write: may give an opinion (confirm, false positive, seen) of a shared signal. */
  canGiveFeedback: boolean;
  /** Called once a decision is recorded on this case, with a sentence saying what was done. */
  onDecided: (caseId: number, summary: string) => void;
}

/**
 * One case. The parent renders it with `key={id}`, so everything here (the reveal, the decision chosen, the
 * reason typed, the claim, the shortcut handler) belongs to this one case and starts fresh on the next; and a
 * decision is sent with the version of the case as shown, so it can never land on another case or a changed one.
 */
export function CaseView({ id, canSeeMedia, canDecide, orgId, canGiveFeedback, onDecided }: CaseViewProps) {
  const { data, error, reload } = useLoad(() => api<CaseDetail>('GET', `/v1/cases/${id}`), [id]);
  const [settings] = useSettings();
  const [revealed, setRevealed] = useState(false);
  const [decision, setDecision] = useState<string | null>(null);
  const [reason, setReason] = useState('');
  const [failure, setFailure] = useState<{ message: string; stale: boolean } | null>(null);
  const [busy, setBusy] = useState(false);
  const [claim, setClaim] = useState<{ mine: boolean; note: string } | null>(null);
  const form = useRef<HTMLFormElement | null>(null);
  const heading = useScreen(data ? `Case ${data.id}` : null, data !== null);
  const open = data?.status === 'open';

  // Opening an open case claims it (renewed while it stays open here); leaving gives the claim back.
  useEffect(() => {
    if (!canDecide || !open) return;
    let live = true;
    const take = () =>
      api<{ claim_expires_at: string }>('POST', `/v1/cases/${id}/claim`).then(
        (c) =>
          live &&
          setClaim({
            mine: true,
            note: `You have this case until ${new Date(c.claim_expires_at).toLocaleTimeString()}; others see it as taken.`,
          }),
        (e: unknown) => live && setClaim({ mine: false, note: e instanceof Error ? e.message : String(e) }),
      );
    const release = () =>
      void api('DELETE', `/v1/cases/${id}/claim`, undefined, { keepalive: true }).catch(() => undefined);
    void take();
    const timer = setInterval(() => void take(), RENEW_MS);
    window.addEventListener('pagehide', release);
    return () => {
      live = false;
      clearInterval(timer);
      window.removeEventListener('pagehide', release);
      release();
    };
  }, [id, canDecide, open]);

  const applyTemplate = useCallback(
    (index: number) => {
      const template = TEMPLATES[index];
      if (!template || !data) return;
      setDecision(template.decision);
      setReason(template.text(data));
    },
    [data],
  );

  const decide = useCallback(async () => {
    if (!data || busy || !form.current || !form.current.reportValidity()) return;
    const fields = new FormData(form.current);
    setBusy(true);
    try {
      const result = await api<{ statement_id: string | null }>('POST', `/v1/cases/${data.id}/decision`, {
        decision,
        ground_type: fields.get('ground_type'),
        ground: fields.get('ground'),
        reason,
        version: data.version,
      });
      const label = DECISIONS.find((d) => d.value === decision)?.label.toLowerCase() ?? decision;
      onDecided(
        data.id,
        `Case ${data.id} (${data.external_id ?? 'no content id'}) decided: ${label}${
          result.statement_id ? `; statement of reasons ${result.statement_id}` : ''
        }.`,
      );
    } catch (e) {
      const stale = e instanceof ApiError && e.status === 409;
      setFailure({ message: e instanceof Error ? e.message : String(e), stale });
    } finally {
      setBusy(false);
    }
  }, [busy, data, decision, onDecided, reason]);

  useEffect(() => {
    const onKey = (event: KeyboardEvent) => {
      if (event.key === 'Enter' && (event.ctrlKey || event.metaKey)) {
        if (document.querySelector('dialog[open]')) return;
        event.preventDefault();
        void decide();
        return;
      }
      if (!shortcutAllowed(event, settings.shortcuts)) return;
      const choice = DECISIONS.find((d) => d.key === event.key);
      if (choice) setDecision(choice.value);
      else if (event.key === 'v') setRevealed((r) => !r);
      else if (/^[1-9]$/.test(event.key)) applyTemplate(Number(event.key) - 1);
      else return;
      event.preventDefault();
    };
    window.addEventListener('keydown', onKey);
    return () => window.removeEventListener('keydown', onKey);
  }, [applyTemplate, decide, settings.shortcuts]);

  if (error)
    return (
      <p role="alert" className="error">
        {error}
      </p>
    );
  if (!data) return <p aria-busy="true">Loading case {id}…</p>;
  const concealed = !revealed && (settings.blur || settings.greyscale);
  const mediaClass = [
    'media',
    concealed && settings.blur && 'blur',
    concealed && settings.greyscale && 'grey',
  ]
    .filter(Boolean)
    .join(' ');
  const canAct = canDecide && open && claim?.mine !== false;
  const shortcut = (keys: string) => (settings.shortcuts ? keys : undefined);
  return (
    <section aria-labelledby="case-title" className="case" data-case-id={data.id}>
      <p>
        <a href="#/queue">← Back to the queue</a>
      </p>
      <h1 id="case-title" ref={heading} tabIndex={-1}>
        Case {data.id} <span className={`badge ${data.priority}`}>{data.priority}</span>{' '}
        <span className="badge">{data.status}</span>
      </h1>
      <p className="muted">
        Opened <time dateTime={data.created_at}>{relativeTime(data.created_at)}</time> ·{' '}
        <Due at={data.due_at} open={open} />
      </p>
      {claim && (
        <p className={claim.mine ? 'muted' : 'error'} data-testid="claim">
          {claim.note}
        </p>
      )}
      <div className="columns">
        <div>
          <h2>Content {data.external_id}</h2>
          {data.has_media && canSeeMedia ? (
            <figure className="media-frame">
              <img
                src={`/v1/submissions/${data.submission_id}/media`}
                alt={
                  concealed
                    ? 'Submitted media, blurred until revealed'
                    : `Submitted media of ${data.external_id ?? `case ${data.id}`}`
                }
                className={mediaClass}
                data-testid="case-media"
              />
              {(settings.blur || settings.greyscale) && (
                <figcaption>
                  <button
                    type="button"
                    onClick={() => setRevealed((r) => !r)}
                    aria-pressed={revealed}
                    aria-keyshortcuts={shortcut('v')}
                  >
                    {revealed ? 'Blur again' : 'Reveal media'} {settings.shortcuts && <kbd>v</kbd>}
                  </button>
                </figcaption>
              )}
            </figure>
          ) : (
            <p className="muted" data-testid="no-media">
              {data.has_media
                ? 'Your role may not see media.'
                : data.submission_id
                  ? data.submission?.media_purged_at
                    ? 'No media: it was deleted at the end of its retention period.'
                    : 'No media: the platform sent signals (hashes) only.'
                  : 'No media: this case came from a report or alert.'}
            </p>
          )}
          <Evidence data={data} orgId={orgId} canGiveFeedback={canGiveFeedback} />
          {data.decisions.length > 0 && (
            <>
              <h2>Decisions</h2>
              <ul>
                {data.decisions.map((d) => (
                  <li key={d.id}>
                    {d.decision} — {d.ground}: {d.reason} ({d.automated ? 'automated' : d.decided_by_name},{' '}
                    <time dateTime={d.created_at}>{relativeTime(d.created_at)}</time>)
                  </li>
                ))}
              </ul>
            </>
          )}
        </div>
        {canDecide && open && (
          <form
            ref={form}
            id="decision-form"
            className="decision"
            aria-labelledby="decide-title"
            onSubmit={(event) => {
              event.preventDefault();
              void decide();
            }}
          >
            <h2 id="decide-title">Decide on case {data.id}</h2>
            <fieldset disabled={!canAct}>
              <legend>Decision</legend>
              {DECISIONS.map((d) => (
                <label key={d.value} className="choice">
                  <input
                    type="radio"
                    name="decision"
                    value={d.value}
                    required
                    checked={decision === d.value}
                    onChange={() => setDecision(d.value)}
                    aria-keyshortcuts={shortcut(d.key)}
                  />
                  {d.label} {settings.shortcuts && <kbd>{d.key}</kbd>}
                </label>
              ))}
            </fieldset>
            <fieldset disabled={!canAct}>
              <legend>Reason template</legend>
              {TEMPLATES.map((t, i) => (
                <button
                  key={t.name}
                  type="button"
                  className="secondary"
                  onClick={() => applyTemplate(i)}
                  aria-keyshortcuts={shortcut(String(i + 1))}
                >
                  {settings.shortcuts && <kbd>{i + 1}</kbd>} {t.name}
                </button>
              ))}
            </fieldset>
            <fieldset disabled={!canAct} className="plain">
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
              <textarea
                id="reason"
                name="reason"
                required
                minLength={3}
                rows={4}
                value={reason}
                onChange={(e) => setReason(e.currentTarget.value)}
              />
            </fieldset>
            {failure && (
              <div role="alert" className="error">
                <p>{failure.message}</p>
                {failure.stale && (
                  <button type="button" onClick={() => (setFailure(null), reload())}>
                    Load the case again
                  </button>
                )}
              </div>
            )}
            <button type="submit" disabled={!canAct || busy} aria-keyshortcuts="Control+Enter">
              Record decision on case {data.id} <kbd>Ctrl+Enter</kbd>
            </button>
          </form>
        )}
      </div>
    </section>
  );
}

function Due({ at, open }: { at: string; open: boolean }) {
  const overdue = open && Date.parse(at) < Date.now();
  return (
    <span className={overdue ? 'overdue' : undefined}>
      {overdue ? 'Overdue: was due ' : 'Due '}
      <time dateTime={at} title={new Date(at).toLocaleString()}>
        {relativeTime(at)}
      </time>
    </span>
  );
}

function distanceText(e: Evidence): string {
  const type = e.signalType ?? e.signal_type ?? 'signal';
  if (type === 'md5' || type === 'sha256') return `identical file (${type} hash)`;
  const bits = type === 'pdq' || type === 'vpdq' ? ' of 256 bits' : '';
  const within =
    e.threshold === undefined
      ? ''
      : `; this bank matches at ${e.threshold} or less, so ${
          e.distance === 0
            ? 'this is an identical image'
            : e.distance <= e.threshold / 3
              ? 'this is a close copy'
              : 'this is a looser match: compare carefully'
        }`;
  return `${type} distance ${e.distance}${bits} differ${within}`;
}

function Evidence({
  data,
  orgId,
  canGiveFeedback,
}: {
  data: CaseDetail;
  orgId: number;
  canGiveFeedback: boolean;
}) {
  const context = (data.submission?.context ?? {}) as Record<string, string | null>;
  // One opinion per signal: a signal matched by several of the upload's hashes gets its controls once.
  const firstOfEntry = (i: number) =>
    data.evidence.findIndex((e) => e.entry.id === data.evidence[i].entry.id) === i;
  return (
    <>
      <h2>Evidence</h2>
      <ul className="evidence">
        {data.evidence.map((e, i) => {
          const shared = e.bank.orgId !== undefined && e.bank.orgId !== orgId;
          return (
            <li key={i}>
              Matched bank <strong>{e.bank.name}</strong>
              {shared && <> (shared with you)</>} entry {e.entry.id}
              {e.entry.note && <> (note: “{e.entry.note}”)</>}: {distanceText(e)}
              {e.entry.labels.length > 0 && <> · labels: {e.entry.labels.join(', ')}</>}
              {shared && firstOfEntry(i) && (
                <SignalOpinion entryId={e.entry.id} bankName={e.bank.name} canGive={canGiveFeedback} />
              )}
            </li>
          );
        })}
        {data.reports.map((r) =>
          r.kind === 'alert' ? (
            <li key={`r${r.id}`}>
              Alert from <strong>{r.source}</strong>
              {r.detail.group && <> · group: {r.detail.group}</>}
              {r.detail.tier && <> · tier: {r.detail.tier}</>}
              {r.category && <> · category: {r.category}</>}
              {r.url && <> · {r.url}</>}
            </li>
          ) : (
            <li key={`r${r.id}`}>
              User report
              {r.detail.reporter_id ? <> by reporter {r.detail.reporter_id}</> : <> (reporter not given)</>}
              {r.category && <> · category: {r.category}</>}
              {r.detail.text && <blockquote>{r.detail.text}</blockquote>}
            </li>
          ),
        )}
        {data.evidence.length === 0 && data.reports.length === 0 && <li>No evidence recorded.</li>}
      </ul>
      {data.submission && (
        <>
          <h2>Upload</h2>
          <p>
            Uploaded by {data.submission.uploader_id ?? 'an unnamed user'}{' '}
            <time dateTime={data.submission.created_at}>{relativeTime(data.submission.created_at)}</time>
            {context.surface && <> · surface: {context.surface}</>}
            {context.country && <> · country: {context.country}</>}
            {context.content_type && <> · {context.content_type}</>}
          </p>
          {data.submission.uploader_id && (
            <>
              <h3>Their earlier cases here</h3>
              {data.uploader_history.length === 0 ? (
                <p className="muted">None: this is their first case in your organisation.</p>
              ) : (
                <ul data-testid="uploader-history">
                  {data.uploader_history.map((h) => (
                    <li key={h.case_id}>
                      <a href={`#/cases/${h.case_id}`}>Case {h.case_id}</a> ({h.external_id}): {h.status}
                      {h.decision && <> — {h.decision}</>}
                    </li>
                  ))}
                </ul>
              )}
            </>
          )}
        </>
      )}
    </>
  );
}
