import { type FormEvent, useState } from 'react';
import { api, type CaseDetail } from '../../api/client';
import { relativeTime, useLoad, useScreen } from '../../app/hooks';

interface AppealView {
  id: number;
  decision_id: number;
  case_id: number;
  appellant_id: string;
  channel: string;
  statement: string;
  status: string;
  original_decider: string;
  automated_detection: boolean;
  assignee: string | null;
  filed_at: string;
  due_at: string;
  overdue: boolean;
  decided_at: string | null;
  decided_by: string | null;
  reply: string | null;
}

/** Appeals waiting for a decision (overdue first when asked), each linking to its decision screen. */
export function Appeals() {
  const heading = useScreen('Appeals');
  const [overdue, setOverdue] = useState(false);
  const { data, error } = useLoad(
    () => api<{ items: AppealView[] }>('GET', `/v1/appeals?status=open${overdue ? '&overdue=true' : ''}`),
    [overdue],
  );
  return (
    <section aria-labelledby="appeals-title">
      <h1 id="appeals-title" ref={heading} tabIndex={-1}>
        Appeals
      </h1>
      <p className="muted">
        Users appeal decisions (including uploads blocked by a hash match). A reviewer other than the one who
        decided answers within 14 days, with reasons.
      </p>
      <label className="choice">
        <input type="checkbox" checked={overdue} onChange={(e) => setOverdue(e.target.checked)} /> Only
        overdue
      </label>
      {error && (
        <p role="alert" className="error">
          {error}
        </p>
      )}
      <table>
        <caption className="visually-hidden">Open appeals</caption>
        <thead>
          <tr>
            <th scope="col">Appeal</th>
            <th scope="col">Filed</th>
            <th scope="col">Reply due</th>
            <th scope="col">First detection</th>
            <th scope="col">Channel</th>
          </tr>
        </thead>
        <tbody>
          {(data?.items ?? []).map((a) => (
            <tr key={a.id}>
              <td>
                <a href={`#/appeals/${a.id}`}>Appeal {a.id}</a>
              </td>
              <td>
                <time dateTime={a.filed_at}>{relativeTime(a.filed_at)}</time>
              </td>
              <td className={a.overdue ? 'overdue' : undefined}>
                <time dateTime={a.due_at}>
                  {a.overdue ? `overdue (${relativeTime(a.due_at)})` : relativeTime(a.due_at)}
                </time>
              </td>
              <td>{a.automated_detection ? 'automated' : 'by a person'}</td>
              <td>{a.channel}</td>
            </tr>
          ))}
        </tbody>
      </table>
      {data?.items.length === 0 && <p className="muted">No appeal is waiting.</p>}
    </section>
  );
}

/**
 * One appeal: the user's statement and context, the decision under appeal with its evidence, and the form to
 * uphold or reverse it with a reasoned reply. The reviewer who took the decision cannot decide the appeal.
 */
export function AppealDecision({ id, me }: { id: number; me: string }) {
  const appeal = useLoad(() => api<AppealView>('GET', `/v1/appeals/${id}`), [id]);
  const kase = useLoad(
    () => (appeal.data ? api<CaseDetail>('GET', `/v1/cases/${appeal.data.case_id}`) : Promise.resolve(null)),
    [appeal.data?.case_id],
  );
  const heading = useScreen(`Appeal ${id}`, !!appeal.data);
  const [failure, setFailure] = useState<string | null>(null);
  const [replyError, setReplyError] = useState<string | null>(null);
  const a = appeal.data;
  const c = kase.data;
  const decision = c?.decisions.find((d) => d.id === a?.decision_id);
  const own = a?.original_decider === me;

  const decide = async (event: FormEvent<HTMLFormElement>) => {
    event.preventDefault();
    const form = new FormData(event.currentTarget);
    const reply = String(form.get('reply') ?? '').trim();
    const outcome = form.get('outcome');
    if (!outcome) return setFailure('Choose upheld or reversed.');
    if (reply.length < 10)
      return setReplyError('The reply gives the user your reasons (10 characters or more).');
    setReplyError(null);
    try {
      await api('POST', `/v1/appeals/${id}/decision`, { outcome, reply });
      setFailure(null);
      appeal.reload();
    } catch (e) {
      setFailure(e instanceof Error ? e.message : String(e));
    }
  };

  if (appeal.error)
    return (
      <p role="alert" className="error">
        {appeal.error}
      </p>
    );
  if (!a) return <p className="loading">Loading…</p>;
  return (
    <section aria-labelledby="appeal-title" className="appeal">
      <p>
        <a href="#/appeals">← Appeals</a>
      </p>
      <h1 id="appeal-title" ref={heading} tabIndex={-1}>
        Appeal {a.id} <span className="badge">{a.status}</span>
      </h1>
      <div className="columns">
        <div>
          <h2>The user&apos;s appeal</h2>
          <dl>
            <dt>Appellant</dt>
            <dd>{a.appellant_id}</dd>
            <dt>Filed</dt>
            <dd>
              <time dateTime={a.filed_at}>{new Date(a.filed_at).toLocaleString()}</time> via {a.channel}
            </dd>
            <dt>Reply due</dt>
            <dd className={a.overdue ? 'overdue' : undefined}>
              <time dateTime={a.due_at}>{new Date(a.due_at).toLocaleString()}</time> ({relativeTime(a.due_at)}
              )
            </dd>
          </dl>
          <blockquote aria-label="The user's statement">{a.statement}</blockquote>
          {c?.submission && (
            <>
              <h3>Upload context</h3>
              <dl>
                {Object.entries(c.submission.context).map(([k, v]) => (
                  <div key={k}>
                    <dt>{k}</dt>
                    <dd>{typeof v === 'string' ? v : JSON.stringify(v)}</dd>
                  </div>
                ))}
                <dt>Uploaded</dt>
                <dd>{new Date(c.submission.created_at).toLocaleString()}</dd>
              </dl>
            </>
          )}
          {c && c.uploader_history.length > 0 && (
            <>
              <h3>This user&apos;s other content</h3>
              <ul>
                {c.uploader_history.map((h) => (
                  <li key={h.case_id}>
                    {h.external_id ?? `case ${h.case_id}`}: {h.decision ?? h.status}
                  </li>
                ))}
              </ul>
            </>
          )}
        </div>
        <div>
          <h2>The decision under appeal</h2>
          {decision ? (
            <dl>
              <dt>Decision</dt>
              <dd>
                {decision.decision} ({decision.automated ? 'automated' : `by ${decision.decided_by_name}`})
              </dd>
              <dt>Ground</dt>
              <dd>{decision.ground}</dd>
              <dt>Reason given</dt>
              <dd>{decision.reason}</dd>
              <dt>Content</dt>
              <dd>{c?.external_id ?? '—'}</dd>
            </dl>
          ) : (
            <p className="muted">Loading the decision…</p>
          )}
          <h3>Evidence</h3>
          {c && c.evidence.length === 0 && <p className="muted">No hash match: a report, alert or order.</p>}
          <ul className="evidence">
            {(c?.evidence ?? []).map((e, i) => (
              <li key={i}>
                {e.signal_type ?? e.signalType} match in bank <strong>{e.bank.name}</strong> at distance{' '}
                {e.distance}
                {e.entry.labels.length > 0 && <> — labels: {e.entry.labels.join(', ')}</>}
              </li>
            ))}
          </ul>
        </div>
      </div>

      <h2>Decision on the appeal</h2>
      {a.status !== 'open' ? (
        <div className="decision" role="status">
          <p>
            <strong>{a.status === 'reversed' ? 'Reversed' : 'Upheld'}</strong> by {a.decided_by} on{' '}
            {new Date(a.decided_at!).toLocaleString()}
            {a.status === 'reversed' && ': the content is restored and the statement of reasons corrected.'}
          </p>
          <blockquote aria-label="Reply to the user">{a.reply}</blockquote>
        </div>
      ) : own ? (
        <p className="notice" role="note">
          You took the decision under appeal, so another reviewer must decide this appeal.
        </p>
      ) : (
        <form className="decision" onSubmit={decide} aria-label="Decide the appeal" noValidate>
          <fieldset>
            <legend>Outcome</legend>
            <label className="choice">
              <input type="radio" name="outcome" value="upheld" /> Upheld: the decision stands
            </label>
            <label className="choice">
              <input type="radio" name="outcome" value="reversed" /> Reversed: restore the content and correct
              the statement of reasons
            </label>
          </fieldset>
          <label htmlFor="appeal-reply">Reasoned reply to the user</label>
          <textarea
            id="appeal-reply"
            name="reply"
            rows={4}
            aria-invalid={!!replyError}
            aria-describedby={replyError ? 'appeal-reply-error' : undefined}
          />
          {replyError && (
            <p id="appeal-reply-error" className="error field-error">
              {replyError}
            </p>
          )}
          {failure && (
            <p role="alert" className="error">
              {failure}
            </p>
          )}
          <button type="submit">Send decision</button>
        </form>
      )}
    </section>
  );
}
