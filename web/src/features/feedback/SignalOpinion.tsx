import { useState, type KeyboardEvent } from 'react';
import { api } from '../../api/client';
import { relativeTime, useLoad } from '../../app/hooks';
import { failureText, KIND_LABEL, type FeedbackKind, type OwnFeedback } from './types';

const KINDS: FeedbackKind[] = ['confirm', 'false_positive', 'seen'];

interface SignalOpinionProps {
  entryId: number;
  /** The bank the signal came from (another organisation's, shared with this one). */
  bankName: string;
  /** entries:write: may say something; others only read what their organisation said. */
  canGive: boolean;
}

/**
 * What this organisation thinks of a signal another organisation shared with it: the opinion it gave (one per
 * organisation; a new one replaces it), everyone's counts, and Confirm / False positive / Seen with an optional
 * reason that the bank's owner reads.
 */
export function SignalOpinion({ entryId, bankName, canGive }: SignalOpinionProps) {
  const { data, error, reload } = useLoad(
    () => api<OwnFeedback>('GET', `/v1/signals/${entryId}/feedback`),
    [entryId],
  );
  const [reason, setReason] = useState('');
  const [busy, setBusy] = useState(false);
  const [failure, setFailure] = useState<string | null>(null);
  const id = `opinion-${entryId}`;

  const give = async (kind: FeedbackKind) => {
    if (busy) return;
    setBusy(true);
    setFailure(null);
    try {
      await api('POST', `/v1/signals/${entryId}/feedback`, {
        kind,
        ...(reason.trim() ? { reason: reason.trim() } : {}),
      });
      setReason('');
      reload();
    } catch (e) {
      setFailure(failureText('Not recorded', e));
    } finally {
      setBusy(false);
    }
  };

  // Ctrl+Enter records the case's decision anywhere else on the page; never from this field by accident.
  const keepCtrlEnter = (event: KeyboardEvent<HTMLTextAreaElement>) => {
    if (event.key === 'Enter' && (event.ctrlKey || event.metaKey)) {
      event.preventDefault();
      event.stopPropagation();
    }
  };

  const mine = data?.mine;
  return (
    <div className="opinion" role="group" aria-labelledby={`${id}-title`} data-entry-id={entryId}>
      <h3 id={`${id}-title`}>Your organisation’s opinion of signal {entryId}</h3>
      {error && (
        <p role="alert" className="error">
          {error}
        </p>
      )}
      <p role="status" data-testid="opinion-mine">
        {!data ? (
          'Loading…'
        ) : mine ? (
          <>
            Your organisation said <strong>{KIND_LABEL[mine.kind] ?? mine.kind}</strong>
            {mine.reason && <> (“{mine.reason}”)</>},{' '}
            <time dateTime={mine.updated_at} title={new Date(mine.updated_at).toLocaleString()}>
              {relativeTime(mine.updated_at)}
            </time>
            .
          </>
        ) : (
          'Your organisation has not given an opinion of this signal yet.'
        )}
      </p>
      {data && (
        <p className="muted small" data-testid="opinion-counts">
          All organisations: {data.opinions.confirm} confirm, {data.opinions.false_positive} false positive,{' '}
          {data.opinions.seen} seen.
          {data.status === 'disputed'
            ? ` Disputed: it matches for nobody until the owner of ${bankName} decides.`
            : ` The owner of ${bankName} reads what you say.`}
        </p>
      )}
      {canGive && (
        <>
          <label htmlFor={`${id}-reason`}>Reason (optional, e.g. why it is a false positive)</label>
          <textarea
            id={`${id}-reason`}
            rows={2}
            maxLength={2000}
            value={reason}
            onChange={(e) => setReason(e.currentTarget.value)}
            onKeyDown={keepCtrlEnter}
          />
          <div className="inline">
            {KINDS.map((kind) => (
              <button
                key={kind}
                type="button"
                className={mine?.kind === kind ? undefined : 'secondary'}
                disabled={busy}
                onClick={() => void give(kind)}
              >
                {KIND_LABEL[kind]}
              </button>
            ))}
          </div>
          {failure && (
            <p role="alert" className="error">
              {failure}
            </p>
          )}
        </>
      )}
    </div>
  );
}
