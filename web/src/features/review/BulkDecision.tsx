import { useEffect, useRef, useState, type FormEvent } from 'react';
import { api } from '../../api/client';
import { DECISIONS } from './CaseView';

interface BulkResult {
  decided: number;
  refused: number;
  results: { id: number; decided: boolean; error?: string }[];
}

/**
 * One decision for the selected cases, with the same statement-of-reasons care as one case: a decision, its
 * ground and a reason the users are told; each case is decided on the version the moderator saw.
 */
export function BulkDecision({
  selected,
  open,
  onClose,
  onDone,
}: {
  selected: Map<number, number>;
  open: boolean;
  onClose: () => void;
  onDone: (summary: string) => void;
}) {
  const dialog = useRef<HTMLDialogElement | null>(null);
  const [failure, setFailure] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  useEffect(() => {
    const d = dialog.current;
    if (!d) return;
    if (open && !d.open) d.showModal();
    if (!open && d.open) d.close();
  }, [open]);
  const submit = async (event: FormEvent<HTMLFormElement>) => {
    event.preventDefault();
    const form = new FormData(event.currentTarget);
    setBusy(true);
    try {
      const result = await api<BulkResult>('POST', '/v1/cases/decisions', {
        cases: [...selected].map(([id, version]) => ({ id, version })),
        decision: form.get('decision'),
        ground_type: form.get('ground_type'),
        ground: form.get('ground'),
        reason: form.get('reason'),
      });
      const refused = result.results.filter((r) => !r.decided);
      onDone(
        `${result.decided} of ${selected.size} selected cases decided${
          refused.length ? `; not decided: ${refused.map((r) => `case ${r.id} (${r.error})`).join('; ')}` : ''
        }.`,
      );
      setFailure(null);
    } catch (e) {
      setFailure(e instanceof Error ? e.message : String(e));
    } finally {
      setBusy(false);
    }
  };
  return (
    <dialog ref={dialog} onClose={onClose} aria-labelledby="bulk-title" className="prefs">
      <form className="decision" onSubmit={submit}>
        <h2 id="bulk-title">Decide {selected.size} selected cases</h2>
        <p className="muted">
          Each case gets its own statement of reasons with this text. A case that changed since the queue
          showed it, or that someone else has open, is left as it is.
        </p>
        <fieldset>
          <legend>Decision</legend>
          {DECISIONS.filter((d) => d.value !== 'escalate').map((d) => (
            <label key={d.value} className="choice">
              <input type="radio" name="decision" value={d.value} required />
              {d.label}
            </label>
          ))}
        </fieldset>
        <label htmlFor="bulk-ground-type">Ground</label>
        <select id="bulk-ground-type" name="ground_type" defaultValue="terms">
          <option value="terms">Incompatible with our terms</option>
          <option value="illegal">Illegal content</option>
        </select>
        <label htmlFor="bulk-ground">Legal or contractual ground</label>
        <input
          id="bulk-ground"
          name="ground"
          required
          minLength={3}
          defaultValue="Terms of service: terrorist and violent extremist content"
        />
        <label htmlFor="bulk-reason">Reason (shown to each user in their statement of reasons)</label>
        <textarea id="bulk-reason" name="reason" required minLength={3} rows={4} />
        {failure && (
          <p role="alert" className="error">
            {failure}
          </p>
        )}
        <div className="inline">
          <button type="submit" disabled={busy}>
            Record for {selected.size} cases
          </button>
          <button type="button" className="secondary" onClick={onClose}>
            Cancel
          </button>
        </div>
      </form>
    </dialog>
  );
}
