/**
 * The crisis page of one incident, refreshed every few seconds: its activations (state, criteria, decisions,
 * history, and the coordinator's moves), the incident bank's numbers, members' live numbers with a chart,
 * notifications to acknowledge and situational-awareness updates. An observer (crisis:observe without
 * crisis:read) gets the same page without evidence or the bank; the server already leaves those out.
 */
import { useEffect, useRef, useState, type FormEvent } from 'react';
import { api, ApiError, type SessionUser } from '../../api/client';
import { useLoad, useScreen } from '../../app/hooks';
import { ActivationView } from './ActivationView';
import { MinuteChart } from './MinuteChart';
import { inZone, localTime, type Incident, type Notification, type ProtocolVersion } from './types';

const POLL_MS = 5000;

/** An endpoint another part of the server may not have yet (notifications, the after-action report): 404 → null. */
async function optional<T>(path: string): Promise<T | null> {
  try {
    return await api<T>('GET', path);
  } catch (e) {
    if (e instanceof ApiError && e.status === 404) return null;
    throw e;
  }
}

/** The protocol versions the activations run under, for their criteria labels (null where not readable). */
async function protocolsOf(incident: Incident): Promise<Map<number, ProtocolVersion | null>> {
  const keys = [...new Set(incident.activations.map((a) => a.protocol.key))];
  const versions = new Map<string, ProtocolVersion[]>();
  await Promise.all(
    keys.map(async (key) => {
      const found = await optional<{ items: ProtocolVersion[] }>(
        `/v1/crisis/protocols/${encodeURIComponent(key)}/versions`,
      ).catch(() => null);
      versions.set(key, found?.items ?? []);
    }),
  );
  return new Map(
    incident.activations.map((a) => [
      a.id,
      versions.get(a.protocol.key)?.find((v) => v.version === a.protocol.version) ?? null,
    ]),
  );
}

function Numbers({ incident }: { incident: Incident }) {
  const n = incident.numbers;
  return (
    <dl className="numbers">
      <div>
        <dt>Visually distinct items</dt>
        <dd data-testid="distinct-items">{n.distinct_items}</dd>
      </div>
      <div>
        <dt>Total hashes</dt>
        <dd data-testid="total-hashes">{n.total_hashes}</dd>
      </div>
      <div>
        <dt>Hashes added after conclusion</dt>
        <dd>{n.added_after_conclusion}</dd>
      </div>
      <div>
        <dt>First hash</dt>
        <dd>{n.first_hash_at ? inZone(n.first_hash_at, incident.zone) : '—'}</dd>
      </div>
    </dl>
  );
}

function Members({ incident, ownOrg }: { incident: Incident; ownOrg: number }) {
  if (incident.members.length === 0) return <p className="muted">No member has reported numbers yet.</p>;
  return (
    <>
      <div className="scroll" tabIndex={0} role="region" aria-label="Members’ numbers">
        <table>
          <caption className="visually-hidden">Each member&apos;s matches, blocks and first block</caption>
          <thead>
            <tr>
              <th scope="col">Member</th>
              <th scope="col">Matches</th>
              <th scope="col">Blocks</th>
              <th scope="col">First block (incident time)</th>
            </tr>
          </thead>
          <tbody>
            {incident.members.map((m) => (
              <tr key={m.organisation_id}>
                <td>
                  Organisation {m.organisation_id}
                  {m.organisation_id === ownOrg ? ' (yours)' : ''}
                </td>
                <td>{m.matches}</td>
                <td>{m.blocks}</td>
                <td>{m.first_block_at ? inZone(m.first_block_at, incident.zone) : '—'}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
      <MinuteChart members={incident.members} zone={incident.zone} />
    </>
  );
}

/** Who was told, and who acknowledged; a participant acknowledges its own pending notifications here. */
function Notifications({
  items,
  incident,
  ownOrg,
  canAck,
  onAcked,
}: {
  items: Notification[];
  incident: Incident;
  ownOrg: number;
  canAck: boolean;
  onAcked: (summary: string) => void;
}) {
  const [error, setError] = useState<string | null>(null);
  const protocolOf = new Map(incident.activations.map((a) => [a.id, a.protocol.name]));
  const acked = items.filter((n) => n.acked).length;
  const ack = async (n: Notification) => {
    setError(null);
    try {
      await api('POST', `/v1/crisis/notifications/${n.id}/ack`);
      onAcked(`Notification to ${n.contact.name} acknowledged.`);
    } catch (e) {
      setError(`Not acknowledged: ${e instanceof Error ? e.message : String(e)}`);
    }
  };
  return (
    <>
      <p>
        {acked} of {items.length} notification{items.length === 1 ? '' : 's'} acknowledged.
      </p>
      {error && (
        <p role="alert" className="error">
          {error}
        </p>
      )}
      {items.length > 0 && (
        <div className="scroll" tabIndex={0} role="region" aria-label="Notifications">
          <table>
            <caption className="visually-hidden">Notifications of the activations</caption>
            <thead>
              <tr>
                <th scope="col">Protocol</th>
                <th scope="col">To</th>
                <th scope="col">Due (incident time)</th>
                <th scope="col">Acknowledged</th>
              </tr>
            </thead>
            <tbody>
              {items.map((n) => (
                <tr key={n.id}>
                  <td>{protocolOf.get(n.activation_id) ?? n.activation_id}</td>
                  <td>
                    {n.contact.name}
                    {n.organisation_id !== null && (
                      <span className="muted"> (organisation {n.organisation_id})</span>
                    )}
                  </td>
                  <td>
                    <time dateTime={n.due.at}>{localTime(n.due)}</time>
                  </td>
                  <td>
                    {n.acked ? (
                      `${localTime(n.acked)}${n.late ? ' (late)' : ''}`
                    ) : canAck && n.organisation_id === ownOrg ? (
                      <button type="button" onClick={() => void ack(n)}>
                        Acknowledge
                        <span className="visually-hidden"> the notification to {n.contact.name}</span>
                      </button>
                    ) : (
                      'pending'
                    )}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
    </>
  );
}

function Updates({
  incident,
  canPost,
  onPosted,
}: {
  incident: Incident;
  canPost: boolean;
  onPosted: (incident: Incident) => void;
}) {
  const [error, setError] = useState<string | null>(null);
  const post = async (event: FormEvent<HTMLFormElement>) => {
    event.preventDefault();
    const form = event.currentTarget;
    const text = String(new FormData(form).get('text') ?? '').trim();
    if (!text) {
      setError('Write the update first.');
      return;
    }
    setError(null);
    try {
      onPosted(await api<Incident>('POST', `/v1/crisis/incidents/${incident.id}/updates`, { text }));
      form.reset();
    } catch (e) {
      setError(`Not posted: ${e instanceof Error ? e.message : String(e)}`);
    }
  };
  const newest = [...incident.updates].reverse();
  return (
    <>
      {canPost && (
        <form className="update-form" onSubmit={post} aria-label="Post an update">
          <label htmlFor="update-text">New situational-awareness update</label>
          <textarea id="update-text" name="text" rows={3} maxLength={10_000} />
          {error && (
            <p role="alert" className="error">
              {error}
            </p>
          )}
          <button type="submit">Post update</button>
        </form>
      )}
      {newest.length === 0 ? (
        <p className="muted">No updates yet.</p>
      ) : (
        <ol className="updates" reversed>
          {newest.map((u) => (
            <li key={u.id}>
              <p className="muted">
                <time dateTime={u.at}>{localTime(u)}</time> · {u.actor} · {u.numbers.distinct_items} distinct
                items, {u.numbers.total_hashes} hashes at the time
              </p>
              <p className="update-text">{u.text}</p>
            </li>
          ))}
        </ol>
      )}
    </>
  );
}

export function IncidentPage({
  id,
  user,
  can,
}: {
  id: number;
  user: SessionUser;
  can: (permission: string) => boolean;
}) {
  const observer = !can('crisis:read');
  // A server without notifications answers 404 once; the poll then stops asking.
  const noNotifications = useRef(false);
  const { data, error, reload } = useLoad(async () => {
    const incident = await api<Incident>('GET', `/v1/crisis/incidents/${id}`);
    const notifications = noNotifications.current
      ? null
      : await optional<{ items: Notification[] }>(`/v1/crisis/incidents/${id}/notifications`);
    if (notifications === null) noNotifications.current = true;
    return { incident, notifications, at: new Date() };
  }, [id]);
  // A move or a post answers with the whole record: shown at once, before the next poll.
  const [fresh, setFresh] = useState<{ incident: Incident; at: Date } | null>(null);
  const [announcement, setAnnouncement] = useState('');
  // The poll keeps one timer: reload() is a new function at every render.
  const reloadRef = useRef(reload);
  reloadRef.current = reload;
  useEffect(() => {
    const timer = setInterval(() => reloadRef.current(), POLL_MS);
    return () => clearInterval(timer);
  }, []);
  const latest = fresh && (!data || fresh.at > data.at) ? fresh : data;
  const incident = latest?.incident ?? null;
  const notifications = data?.notifications ?? null;
  const heading = useScreen(incident ? `Crisis: ${incident.title}` : null, incident !== null);

  const protocolKeys =
    incident?.activations.map((a) => `${a.protocol.key}@${a.protocol.version}`).join() ?? '';
  const protocols = useLoad(
    () => (incident ? protocolsOf(incident) : Promise.resolve(new Map<number, ProtocolVersion | null>())),
    [protocolKeys],
  );
  const states = incident?.activations.map((a) => a.state).join() ?? '';
  // The after-action report, where the server has one: looked for again when a state changes.
  const report = useLoad(
    () => optional<unknown>(`/v1/crisis/incidents/${id}/report`).catch(() => null),
    [id, states],
  );

  if (!incident)
    return error ? (
      <p role="alert" className="error">
        {error}
      </p>
    ) : (
      <p className="loading">Loading…</p>
    );

  const coordinator = can('crisis:coordinate') && incident.coordinator_org_id === user.organisation_id;
  const onChanged = (next: Incident, summary?: string) => {
    setFresh({ incident: next, at: new Date() });
    if (summary) setAnnouncement(summary);
    reload();
  };

  return (
    <article className="crisis" aria-labelledby="incident-title">
      <p>
        <a href="#/crisis">← All incidents</a>
      </p>
      <h1 id="incident-title" ref={heading} tabIndex={-1}>
        {incident.exercise && (
          <>
            <span className="badge exercise">EXERCISE</span>{' '}
          </>
        )}
        {incident.title}
      </h1>
      {incident.exercise && (
        <p className="exercise-banner">This is an exercise: nothing here concerns a real incident.</p>
      )}
      {observer && (
        <p role="note" className="observer-note">
          Observer view: process, decisions and numbers; no media or signals
        </p>
      )}
      <p className="live-status">
        Updated <time dateTime={latest!.at.toISOString()}>{latest!.at.toLocaleTimeString('en-GB')}</time>
        {error && <span className="error"> · could not refresh: {error}</span>}
      </p>
      {/* Not the shell's sticky banner: this page refreshes itself, the message stays where the move was made. */}
      <p role="status" aria-live="polite" className={announcement ? 'notice' : 'visually-hidden'}>
        {announcement}
      </p>
      {incident.summary && <p>{incident.summary}</p>}
      <dl className="pairs">
        <dt>Incident time zone</dt>
        <dd>{incident.zone}</dd>
        {incident.occurred && (
          <>
            <dt>Occurred</dt>
            <dd>
              <time dateTime={incident.occurred.at}>{localTime(incident.occurred)}</time>
            </dd>
          </>
        )}
        <dt>Reported</dt>
        <dd>
          <time dateTime={incident.created.at}>{localTime(incident.created)}</time> by {incident.created_by}
        </dd>
        {incident.countries.length > 0 && (
          <>
            <dt>Countries</dt>
            <dd>{incident.countries.join(', ')}</dd>
          </>
        )}
        {!observer && incident.bank_id !== null && (
          <>
            <dt>Incident bank</dt>
            <dd>
              {can('banks:read') ? (
                <a href={`#/banks/${incident.bank_id}`}>bank {incident.bank_id}</a>
              ) : (
                `bank ${incident.bank_id}`
              )}
            </dd>
          </>
        )}
      </dl>
      {report.data !== null && report.data !== undefined && (
        <p>
          <a href={`/v1/crisis/incidents/${incident.id}/report.html`} target="_blank" rel="noreferrer">
            After-action report (opens in a new tab)
          </a>
        </p>
      )}

      <section aria-labelledby="numbers-title">
        <h2 id="numbers-title">Shared hashes</h2>
        <Numbers incident={incident} />
      </section>

      <section aria-labelledby="members-title">
        <h2 id="members-title">Members&apos; live numbers</h2>
        <Members incident={incident} ownOrg={user.organisation_id} />
      </section>

      {notifications && (
        <section aria-labelledby="notifications-title">
          <h2 id="notifications-title" tabIndex={-1}>
            Notifications
          </h2>
          <Notifications
            items={notifications.items}
            incident={incident}
            ownOrg={user.organisation_id}
            canAck={can('crisis:read')}
            onAcked={(summary) => {
              // The Acknowledge button pressed is gone: focus goes back to the section's heading.
              document.getElementById('notifications-title')?.focus();
              setAnnouncement(summary);
              reload();
            }}
          />
        </section>
      )}

      {incident.activations.map((a) => (
        <ActivationView
          key={a.id}
          activation={a}
          protocol={protocols.data?.get(a.id) ?? null}
          observer={observer}
          canMove={coordinator}
          onMoved={onChanged}
          zone={incident.zone}
        />
      ))}

      <section aria-labelledby="updates-title">
        <h2 id="updates-title">Situational-awareness updates</h2>
        <Updates
          incident={incident}
          canPost={coordinator}
          onPosted={(next) => onChanged(next, 'Update posted.')}
        />
      </section>
    </article>
  );
}
