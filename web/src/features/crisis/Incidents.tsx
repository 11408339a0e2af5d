/**
 * The incidents a person's organisation coordinates or takes part in. Real incidents and exercises are listed
 * apart (a choice at the top, never one list), live ones first.
 */
import { useState } from 'react';
import { api } from '../../api/client';
import { useLoad, useScreen } from '../../app/hooks';
import { DrillRun } from './DrillRun';
import { localTime, stateLabel, type IncidentSummary } from './types';

interface IncidentPage {
  items: IncidentSummary[];
  next_cursor: string | null;
}

/** Every page of one kind (exercises or real incidents): a network has tens of incidents, not thousands. */
async function allIncidents(exercise: boolean): Promise<IncidentSummary[]> {
  const items: IncidentSummary[] = [];
  let cursor: string | null = null;
  do {
    const query: string = `exercise=${exercise}&limit=200${cursor ? `&cursor=${cursor}` : ''}`;
    const page: IncidentPage = await api<IncidentPage>('GET', `/v1/crisis/incidents?${query}`);
    items.push(...page.items);
    cursor = page.next_cursor;
  } while (cursor);
  // Live first; within each, the newest first.
  return items.sort((a, b) => Number(b.live) - Number(a.live) || b.id - a.id);
}

export function Incidents({ canCoordinate }: { canCoordinate: boolean }) {
  const [exercise, setExercise] = useState(false);
  const heading = useScreen('Crisis incidents');
  const { data, error } = useLoad(() => allIncidents(exercise), [exercise]);
  return (
    <section aria-labelledby="crisis-title">
      <h1 id="crisis-title" ref={heading} tabIndex={-1}>
        Crisis incidents
      </h1>
      <div className="filters" role="group" aria-label="Which incidents">
        <button type="button" aria-pressed={!exercise} onClick={() => setExercise(false)}>
          Real incidents
        </button>
        <button type="button" aria-pressed={exercise} onClick={() => setExercise(true)}>
          Exercises
        </button>
      </div>
      {canCoordinate && <DrillRun />}
      {error && (
        <p role="alert" className="error">
          {error}
        </p>
      )}
      <div className="scroll" tabIndex={0} role="region" aria-label={exercise ? 'Exercises' : 'Incidents'}>
        <table>
          <caption className="visually-hidden">
            {exercise ? 'Exercise incidents' : 'Real incidents'}, live ones first
          </caption>
          <thead>
            <tr>
              <th scope="col">Incident</th>
              <th scope="col">Live</th>
              <th scope="col">Activations</th>
              <th scope="col">Reported (incident time)</th>
            </tr>
          </thead>
          <tbody>
            {data?.map((incident) => (
              <tr key={incident.id} className={incident.live ? 'urgent' : undefined}>
                <td>
                  {incident.exercise && <span className="badge exercise">EXERCISE</span>}{' '}
                  <a href={`#/crisis/${incident.id}`}>{incident.title}</a>
                </td>
                <td>{incident.live ? <strong>live</strong> : 'no'}</td>
                <td>{incident.states.map(stateLabel).join(', ') || '—'}</td>
                <td>
                  <time dateTime={incident.created.at}>{localTime(incident.created)}</time>{' '}
                  <span className="muted">{incident.created.zone}</span>
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
      {data && data.length === 0 && (
        <p className="muted">{exercise ? 'No exercises yet.' : 'No incidents yet.'}</p>
      )}
    </section>
  );
}
