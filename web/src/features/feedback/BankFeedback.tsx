import { useRef, useState, type FormEvent } from 'react';
import { api } from '../../api/client';
import { relativeTime, useLoad } from '../../app/hooks';
import { failureText, KIND_LABEL, type DisputedEntry, type FeedbackItem } from './types';

interface BankFeedbackProps {
  bankId: number;
  /** banks:write: may reinstate or retire a disputed signal. */
  canResolve: boolean;
  /** Called after a decision changed a signal (the entries listed beside this view are stale). */
  onChanged: () => void;
}

/** Per signal: how many organisations hold each opinion, and who said what. Newest opinion first. */
function bySignal(items: FeedbackItem[]): { entryId: number; items: FeedbackItem[] }[] {
  const groups = new Map<number, FeedbackItem[]>();
  for (const item of items) {
    const group = groups.get(item.entry_id);
    if (group) group.push(item);
    else groups.set(item.entry_id, [item]);
  }
  return [...groups].map(([entryId, list]) => ({ entryId, items: list }));
}

const SOURCE_LABEL: Record<string, string> = {
  api: '',
  appeal: 'filed by an appeal reversal',
  flood: 'filed by flood control',
};

/**
 * The owner's view of what other organisations think of the bank's signals: the disputed ones first (they match for
 * nobody until the owner reinstates or retires them), then every opinion per signal, with its organisation.
 */
export function BankFeedback({ bankId, canResolve, onChanged }: BankFeedbackProps) {
  const feedback = useLoad(
    () => api<{ items: FeedbackItem[] }>('GET', `/v1/banks/${bankId}/feedback`),
    [bankId],
  );
  const disputed = useLoad(
    () => api<{ items: DisputedEntry[] }>('GET', `/v1/banks/${bankId}/entries?status=disputed&limit=200`),
    [bankId],
  );
  const [said, setSaid] = useState('');
  const heading = useRef<HTMLHeadingElement | null>(null);
  const groups = bySignal(feedback.data?.items ?? []);
  const disputedIds = new Set((disputed.data?.items ?? []).map((e) => e.id));

  const decided = (message: string) => {
    setSaid(message);
    feedback.reload();
    disputed.reload();
    onChanged();
    // The form that had focus is gone with the dispute: focus goes back to this view's heading.
    heading.current?.focus();
  };

  return (
    <section aria-labelledby="feedback-title" className="bank-feedback">
      <h2 id="feedback-title" ref={heading} tabIndex={-1}>
        Feedback from organisations
      </h2>
      {(feedback.error || disputed.error) && (
        <p role="alert" className="error">
          {feedback.error ?? disputed.error}
        </p>
      )}
      <p role="status" className={said ? 'notice' : undefined}>
        {said}
      </p>
      <h3>Disputed signals</h3>
      {disputed.data && disputed.data.items.length === 0 && (
        <p className="muted">None: every signal of this bank matches as usual.</p>
      )}
      {disputed.data && disputed.data.items.length > 0 && (
        <>
          <p>
            Enough organisations said these are false positives: they match for nobody until you reinstate or
            retire them.
          </p>
          <ul className="plain disputes">
            {disputed.data.items.map((entry) => (
              <li key={entry.id}>
                <Dispute
                  bankId={bankId}
                  entry={entry}
                  falsePositives={
                    (feedback.data?.items ?? []).filter(
                      (i) => i.entry_id === entry.id && i.kind === 'false_positive',
                    ).length
                  }
                  canResolve={canResolve}
                  onDecided={decided}
                />
              </li>
            ))}
          </ul>
        </>
      )}
      <h3>Opinions per signal</h3>
      {feedback.data && groups.length === 0 && (
        <p className="muted">No organisation has given an opinion of this bank’s signals yet.</p>
      )}
      {groups.length > 0 && (
        <div className="scroll" tabIndex={0} role="region" aria-label="Opinions per signal">
          <table>
            <thead>
              <tr>
                <th scope="col">Signal</th>
                <th scope="col">Confirm</th>
                <th scope="col">False positive</th>
                <th scope="col">Seen</th>
                <th scope="col">Who said what</th>
              </tr>
            </thead>
            <tbody>
              {groups.map((g) => {
                const count = (kind: string) => g.items.filter((i) => i.kind === kind).length;
                return (
                  <tr key={g.entryId} data-entry-id={g.entryId}>
                    <th scope="row">
                      {g.entryId}{' '}
                      {disputedIds.has(g.entryId) && <span className="badge disputed">disputed</span>}
                    </th>
                    <td>{count('confirm')}</td>
                    <td>{count('false_positive')}</td>
                    <td>{count('seen')}</td>
                    <td>
                      <ul className="plain">
                        {g.items.map((i) => (
                          <li key={i.organisation_id}>
                            <strong>{i.organisation_name}</strong>: {KIND_LABEL[i.kind] ?? i.kind}
                            {i.reason && <> — “{i.reason}”</>}
                            {SOURCE_LABEL[i.source] && <> ({SOURCE_LABEL[i.source]})</>}{' '}
                            <time
                              className="muted"
                              dateTime={i.updated_at}
                              title={new Date(i.updated_at).toLocaleString()}
                            >
                              {relativeTime(i.updated_at)}
                            </time>
                          </li>
                        ))}
                      </ul>
                    </td>
                  </tr>
                );
              })}
            </tbody>
          </table>
        </div>
      )}
    </section>
  );
}

function Dispute({
  bankId,
  entry,
  falsePositives,
  canResolve,
  onDecided,
}: {
  bankId: number;
  entry: DisputedEntry;
  falsePositives: number;
  canResolve: boolean;
  onDecided: (message: string) => void;
}) {
  const [reason, setReason] = useState('');
  const [busy, setBusy] = useState(false);
  const [failure, setFailure] = useState<string | null>(null);
  const id = `dispute-${entry.id}`;

  const decide = async (event: FormEvent<HTMLFormElement>) => {
    event.preventDefault();
    const submitter = (event.nativeEvent as SubmitEvent).submitter as HTMLButtonElement | null;
    const decision = submitter?.value;
    if (busy || (decision !== 'reinstate' && decision !== 'retire')) return;
    setBusy(true);
    setFailure(null);
    try {
      await api('POST', `/v1/banks/${bankId}/entries/${entry.id}/dispute`, {
        decision,
        reason: reason.trim(),
      });
      onDecided(
        decision === 'reinstate'
          ? `Signal ${entry.id} reinstated: it matches again for everyone.`
          : `Signal ${entry.id} retired: it no longer matches.`,
      );
    } catch (e) {
      setFailure(failureText('Not decided', e));
      setBusy(false);
    }
  };

  return (
    <form className="dispute" aria-labelledby={`${id}-title`} onSubmit={(e) => void decide(e)}>
      <h4 id={`${id}-title`}>
        Signal {entry.id} <span className="badge disputed">disputed</span>
      </h4>
      <p>
        <code title={entry.value}>
          {entry.signal_type} {entry.value.length > 40 ? `${entry.value.slice(0, 40)}…` : entry.value}
        </code>
        {entry.labels.length > 0 && <> · labels: {entry.labels.join(', ')}</>} · {falsePositives}{' '}
        {falsePositives === 1 ? 'organisation says' : 'organisations say'} false positive
      </p>
      {canResolve ? (
        <>
          <label htmlFor={`${id}-reason`}>Reason for your decision (kept in the audit trail)</label>
          <textarea
            id={`${id}-reason`}
            rows={2}
            required
            maxLength={2000}
            value={reason}
            onChange={(e) => setReason(e.currentTarget.value)}
          />
          <div className="inline">
            <button type="submit" value="reinstate" disabled={busy}>
              Reinstate
            </button>
            <button type="submit" value="retire" className="secondary" disabled={busy}>
              Retire
            </button>
          </div>
          {failure && (
            <p role="alert" className="error">
              {failure}
            </p>
          )}
        </>
      ) : (
        <p className="muted">Someone with permission to change banks decides.</p>
      )}
    </form>
  );
}
