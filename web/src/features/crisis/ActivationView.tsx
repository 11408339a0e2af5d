/**
 * One activation of an incident (one protocol's view of it): its state as steps, the criteria checklist, the
 * decisions with their human-rights notes, the transition history, and for the coordinator the moves it can make.
 */
import { useState, type FormEvent } from 'react';
import { api, ApiError } from '../../api/client';
import {
  CONCLUSION_BASES,
  inZone,
  MAIN_PATH,
  localTime,
  stateLabel,
  type Activation,
  type Incident,
  type ProtocolVersion,
} from './types';

/** awareness → assessing → active → de-escalating → concluded → debriefed, or ending as not activated. */
export function StateSteps({ activation }: { activation: Activation }) {
  const reached = new Set(activation.transitions.map((t) => t.to));
  const steps =
    activation.state === 'not_activated'
      ? [...MAIN_PATH.filter((s) => reached.has(s) && s !== 'not_activated'), 'not_activated']
      : MAIN_PATH;
  const current = steps.indexOf(activation.state);
  return (
    <ol className="steps" aria-label={`State of the ${activation.protocol.name} activation`}>
      {steps.map((state, i) => {
        const status = i < current ? 'done' : i === current ? 'current' : 'todo';
        return (
          <li key={state} className={status} aria-current={status === 'current' ? 'step' : undefined}>
            {stateLabel(state)}
            <span className="visually-hidden">
              {status === 'done' ? ' (passed)' : status === 'current' ? ' (current state)' : ''}
            </span>
          </li>
        );
      })}
    </ol>
  );
}

/**
 * Every criterion of the protocol's types with its latest assertion (the one that counts); without the
 * protocol definition (a protocol this organisation cannot read), the assertions alone.
 */
function Criteria({
  activation,
  protocol,
  observer,
}: {
  activation: Activation;
  protocol: ProtocolVersion | null;
  observer: boolean;
}) {
  const latest = new Map(activation.criteria.map((c) => [c.criterion, c]));
  const types = protocol?.definition.types.filter((t) => !activation.type || t.key === activation.type) ?? [];
  const rows = new Map<string, { label: string; types: string[] }>();
  for (const type of types)
    for (const c of type.criteria) {
      const row = rows.get(c.key) ?? { label: c.label, types: [] };
      row.types.push(type.key);
      rows.set(c.key, row);
    }
  for (const c of activation.criteria)
    if (!rows.has(c.criterion)) rows.set(c.criterion, { label: c.criterion, types: [] });
  if (rows.size === 0) return <p className="muted">No criteria asserted yet.</p>;
  return (
    <div className="scroll" tabIndex={0} role="region" aria-label={`Criteria, ${activation.protocol.name}`}>
      <table className="criteria">
        <caption className="visually-hidden">Criteria checklist: the latest assertion of each counts</caption>
        <thead>
          <tr>
            <th scope="col">Criterion</th>
            <th scope="col">Status</th>
            <th scope="col">Asserted</th>
            <th scope="col">Evidence</th>
          </tr>
        </thead>
        <tbody>
          {[...rows.entries()].map(([key, row]) => {
            const c = latest.get(key);
            return (
              <tr key={key}>
                <td>
                  {row.label}
                  {row.types.length > 0 && !activation.type && (
                    <div className="muted small">for {row.types.join(', ')}</div>
                  )}
                </td>
                <td className={c ? (c.met ? 'met' : 'unmet') : 'muted'}>
                  {c ? (c.met ? '✓ met' : '✗ not met') : 'not asserted'}
                </td>
                <td>
                  {c ? (
                    <>
                      {c.actor}, <time dateTime={c.asserted.at}>{localTime(c.asserted)}</time>
                      {c.note && <div>{c.note}</div>}
                    </>
                  ) : (
                    '—'
                  )}
                </td>
                <td>
                  {!c ? (
                    '—'
                  ) : observer || c.evidence === null ? (
                    `${c.evidence_count} reference${c.evidence_count === 1 ? '' : 's'} (not shown to observers)`
                  ) : c.evidence.length === 0 ? (
                    'none'
                  ) : (
                    <ul className="plain">
                      {c.evidence.map((e) => (
                        <li key={e}>{e}</li>
                      ))}
                    </ul>
                  )}
                </td>
              </tr>
            );
          })}
        </tbody>
      </table>
    </div>
  );
}

function Decisions({ activation }: { activation: Activation }) {
  if (activation.decisions.length === 0) return <p className="muted">No decisions recorded yet.</p>;
  return (
    <ul className="decisions">
      {activation.decisions.map((d, i) => (
        <li key={i}>
          <p>
            <strong>{d.actor}</strong> ({d.role}, organisation {d.organisation_id}) decided{' '}
            <strong>{d.type}</strong> at <time dateTime={d.decided.at}>{localTime(d.decided)}</time>
          </p>
          <p>
            <span className="muted">Rationale:</span> {d.rationale}
          </p>
          <dl className="pairs">
            <dt>Necessity</dt>
            <dd>{d.human_rights.necessity}</dd>
            <dt>Proportionality</dt>
            <dd>{d.human_rights.proportionality}</dd>
            <dt>Scope</dt>
            <dd>{d.human_rights.scope}</dd>
            <dt>Bystander content</dt>
            <dd>
              {d.human_rights.bystander_content
                ? `in scope: ${d.human_rights.bystander_decision ?? ''}`
                : 'out of scope'}
            </dd>
          </dl>
        </li>
      ))}
    </ul>
  );
}

/** Times in the incident's zone; a move recorded in another zone (a coordinator abroad) says so too. */
function History({ activation, zone }: { activation: Activation; zone: string }) {
  return (
    <div
      className="scroll"
      tabIndex={0}
      role="region"
      aria-label={`Transitions, ${activation.protocol.name}`}
    >
      <table>
        <caption className="visually-hidden">
          Transitions, oldest first, in the incident&apos;s time zone
        </caption>
        <thead>
          <tr>
            <th scope="col">When ({zone})</th>
            <th scope="col">Move</th>
            <th scope="col">By</th>
            <th scope="col">Reason</th>
          </tr>
        </thead>
        <tbody>
          {activation.transitions.map((t, i) => (
            <tr key={i}>
              <td>
                <time dateTime={t.at}>{inZone(t.at, zone)}</time>
                {t.zone !== zone && (
                  <div className="muted small">
                    recorded in {t.zone}: {localTime(t)}
                  </div>
                )}
              </td>
              <td>
                {t.from === 'none' ? 'opened' : stateLabel(t.from)} → {stateLabel(t.to)}
              </td>
              <td>{t.actor}</td>
              <td>{t.reason}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}

/** The coordinator's moves: one button per state the activation can go to next, with the reason each needs. */
function Moves({
  activation,
  protocol,
  onMoved,
}: {
  activation: Activation;
  protocol: ProtocolVersion | null;
  onMoved: (incident: Incident, summary: string) => void;
}) {
  const [error, setError] = useState<string | null>(null);
  // The reason is the one field checked here; the server's refusals are about the move, not a field.
  const [reasonMissing, setReasonMissing] = useState(false);
  const [busy, setBusy] = useState(false);
  const [basis, setBasis] = useState('');
  const id = `move-${activation.id}`;
  if (activation.next_states.length === 0) return null;
  // Re-escalating from de-escalating keeps the decided type; only the first activation picks one.
  const needsType = activation.next_states.includes('active') && activation.state !== 'deescalating';
  const needsBasis = activation.next_states.includes('concluded');

  const move = async (event: FormEvent<HTMLFormElement>) => {
    event.preventDefault();
    const submitter = (event.nativeEvent as SubmitEvent).submitter as HTMLButtonElement | null;
    const to = submitter?.value;
    if (!to) return;
    const form = new FormData(event.currentTarget);
    const reason = String(form.get('reason') ?? '').trim();
    setReasonMissing(reason.length < 3);
    if (reason.length < 3) {
      setError('Give a reason for the move (3 characters or more): it goes into the record.');
      document.getElementById(`${id}-reason`)?.focus();
      return;
    }
    const body: Record<string, string> = { to, reason };
    if (to === 'active' && needsType) body.type = String(form.get('type') ?? '');
    if (to === 'concluded') {
      if (form.get('basis')) body.basis = String(form.get('basis'));
      const text = String(form.get('basis_text') ?? '').trim();
      if (text) body.basis_text = text;
    }
    setBusy(true);
    setError(null);
    try {
      const incident = await api<Incident>(
        'POST',
        `/v1/crisis/activations/${activation.id}/transitions`,
        body,
      );
      (event.target as HTMLFormElement).reset();
      setBasis('');
      onMoved(incident, `${activation.protocol.name}: moved to ${stateLabel(to)}.`);
      // The button pressed is gone with the old state: focus goes back to the activation's heading.
      document.getElementById(`activation-${activation.id}-title`)?.focus();
    } catch (e) {
      // The server says why (409: out of order, criteria unmet, deciders missing; 400: a basis missing).
      const status = e instanceof ApiError ? ` (${e.status})` : '';
      setError(`Not moved${status}: ${e instanceof Error ? e.message : String(e)}`);
    } finally {
      setBusy(false);
    }
  };

  return (
    <form className="moves" onSubmit={move} aria-label={`Move the ${activation.protocol.name} activation`}>
      <div className="field">
        <label htmlFor={`${id}-reason`}>Reason for the move</label>
        <textarea
          id={`${id}-reason`}
          name="reason"
          rows={2}
          maxLength={4000}
          aria-describedby={reasonMissing ? `${id}-error` : undefined}
          aria-invalid={reasonMissing || undefined}
        />
      </div>
      {needsType && (
        <div className="field">
          <label htmlFor={`${id}-type`}>Activation type (for Active)</label>
          <select id={`${id}-type`} name="type">
            {(protocol?.definition.types ?? []).map((t) => (
              <option key={t.key} value={t.key}>
                {t.label} ({t.key})
              </option>
            ))}
          </select>
        </div>
      )}
      {needsBasis && (
        <>
          <div className="field">
            <label htmlFor={`${id}-basis`}>Basis for concluding</label>
            <select id={`${id}-basis`} name="basis" value={basis} onChange={(e) => setBasis(e.target.value)}>
              <option value="">Choose a basis…</option>
              {CONCLUSION_BASES.map(([key, label]) => (
                <option key={key} value={key}>
                  {label}
                </option>
              ))}
            </select>
          </div>
          {basis === 'other' && (
            <div className="field">
              <label htmlFor={`${id}-basis-text`}>The basis, in words</label>
              <input id={`${id}-basis-text`} name="basis_text" maxLength={4000} />
            </div>
          )}
        </>
      )}
      {error && (
        <p id={`${id}-error`} role="alert" className="error">
          {error}
        </p>
      )}
      <div className="inline">
        {activation.next_states.map((to) => (
          <button key={to} type="submit" name="to" value={to} disabled={busy}>
            Move to {stateLabel(to)}
          </button>
        ))}
      </div>
    </form>
  );
}

export function ActivationView({
  activation,
  protocol,
  observer,
  canMove,
  onMoved,
  zone,
}: {
  activation: Activation;
  protocol: ProtocolVersion | null;
  observer: boolean;
  canMove: boolean;
  /** The incident's time zone: every time on the page is read in it. */
  zone: string;
  onMoved: (incident: Incident, summary: string) => void;
}) {
  const titleId = `activation-${activation.id}-title`;
  return (
    <section className="activation" aria-labelledby={titleId}>
      <h2 id={titleId} tabIndex={-1}>
        {activation.protocol.name}{' '}
        <span className="muted small">
          ({activation.protocol.key} v{activation.protocol.version})
        </span>
      </h2>
      <p>
        Type: <strong>{activation.type_label ?? activation.type ?? 'not decided'}</strong>
        {activation.type && activation.type_label && <span className="muted"> ({activation.type})</span>} ·
        State: <strong data-testid={`state-${activation.id}`}>{stateLabel(activation.state)}</strong>
        {activation.review_due && (
          <>
            {' '}
            · Review due <time dateTime={activation.review_due.at}>{localTime(activation.review_due)}</time>
          </>
        )}
      </p>
      <StateSteps activation={activation} />
      {activation.conclusion && (
        <p>
          Concluded on the basis: {activation.conclusion.basis.replace(/_/g, ' ')}
          {activation.conclusion.text ? ` (${activation.conclusion.text})` : ''}
        </p>
      )}
      {activation.not_activated_reason && <p>Not activated: {activation.not_activated_reason}</p>}
      {canMove && <Moves activation={activation} protocol={protocol} onMoved={onMoved} />}
      <h3>Criteria</h3>
      <Criteria activation={activation} protocol={protocol} observer={observer} />
      <h3>Decisions</h3>
      <Decisions activation={activation} />
      <h3>Transition history</h3>
      <History activation={activation} zone={zone} />
    </section>
  );
}
