/**
 * "Run a drill" on the incidents page (coordinators only): a scenario as for `kaitiaki drill run`, started on the
 * server (POST /v1/crisis/drills) and watched every 2 seconds until its per-member results are in. The drill calls
 * the hub as an API client, so the scenario carries a coordinator API key of this organisation in `hub.key`.
 */
import { useEffect, useState, type FormEvent } from 'react';
import { api } from '../../api/client';

interface MemberResult {
  name: string;
  uploads: number;
  reachable_after_landing: number;
  blocked_after_landing: number;
  blocked_share: number | null;
  out_of_reach_after_landing: number;
  landing_ms: number | null;
  first_block_ms: number | null;
  errors: number;
}

interface DrillRunView {
  id: number;
  status: 'running' | 'done' | 'failed';
  incident_id: number | null;
  name: string;
  report: { uploads: number; members: MemberResult[]; blocked_after_hash_share: number | null } | null;
  error: string | null;
}

const example = () =>
  JSON.stringify(
    {
      name: 'tabletop',
      hub: { url: window.location.origin, key: 'a coordinator API key of your organisation' },
      protocol: 'tcap',
      type: 'TIER_2',
      members: [{ name: 'member 1', url: 'http://member.example:8080', key: "the member's API key" }],
      media: { frames: ['frame.png'], frame_variants: 2, transforms: ['reencode', 'mirror'] },
      uploads: 200,
      rate_per_second: 40,
      concurrency: 4,
      hash_after_seconds: 1,
    },
    null,
    2,
  );

const pct = (v: number | null) => (v === null ? '—' : `${(v * 100).toFixed(2)}%`);
const ms = (v: number | null) => (v === null ? '—' : `${v} ms`);

export function DrillRun() {
  const [open, setOpen] = useState(false);
  const [scenario, setScenario] = useState(example);
  const [message, setMessage] = useState<string | null>(null);
  const [run, setRun] = useState<DrillRunView | null>(null);

  // While the drill runs, ask again every 2 seconds; stop once it is done or failed (or the page goes).
  const runningId = run?.status === 'running' ? run.id : null;
  useEffect(() => {
    if (runningId === null) return;
    const timer = setInterval(() => {
      api<DrillRunView>('GET', `/v1/crisis/drills/${runningId}`)
        .then(setRun)
        .catch((err: Error) => setMessage(err.message));
    }, 2000);
    return () => clearInterval(timer);
  }, [runningId]);

  const submit = async (event: FormEvent) => {
    event.preventDefault();
    setMessage(null);
    let body: unknown;
    try {
      body = JSON.parse(scenario);
    } catch (err) {
      return setMessage(`The scenario is not JSON: ${(err as Error).message}`);
    }
    try {
      const { id } = await api<{ id: number }>('POST', '/v1/crisis/drills', body);
      setRun({ id, status: 'running', incident_id: null, name: '', report: null, error: null });
    } catch (err) {
      setMessage((err as Error).message);
    }
  };

  return (
    <div className="drill">
      <button type="button" aria-expanded={open} aria-controls="drill-form" onClick={() => setOpen(!open)}>
        Run a drill
      </button>
      {open && (
        <form id="drill-form" onSubmit={submit}>
          <label htmlFor="drill-scenario">Scenario (JSON)</label>
          <p className="muted" id="drill-help">
            As for <code>kaitiaki drill run</code>. <code>hub.key</code> must be a coordinator API key of your
            organisation (the drill calls the hub as an API client); keys are not stored. Every host must be
            allowed by the operator (KAITIAKI_SOURCE_ALLOWED_HOSTS), and media paths are read under
            KAITIAKI_SOURCE_FILE_ROOT.
          </p>
          <textarea
            id="drill-scenario"
            aria-describedby="drill-help"
            rows={16}
            cols={80}
            spellCheck={false}
            value={scenario}
            onChange={(e) => setScenario(e.target.value)}
          />
          <p>
            <button type="submit" disabled={runningId !== null}>
              Start the drill
            </button>
          </p>
        </form>
      )}
      {message && (
        <p role="alert" className="error">
          {message}
        </p>
      )}
      {run && <DrillResult run={run} />}
    </div>
  );
}

function DrillResult({ run }: { run: DrillRunView }) {
  if (run.status === 'running')
    return <p role="status">Drill {run.id} running… (results appear here when it finishes)</p>;
  if (run.status === 'failed' || !run.report)
    return (
      <p role="alert" className="error">
        Drill {run.id} failed: {run.error}
      </p>
    );
  return (
    <div role="status">
      <p>
        Drill {run.id} done: {run.report.uploads} uploads; {pct(run.report.blocked_after_hash_share)} of
        in-reach variants blocked after the hash landed.{' '}
        {run.incident_id !== null && <a href={`#/crisis/${run.incident_id}`}>The exercise incident</a>}
      </p>
      <div className="scroll" tabIndex={0} role="region" aria-label="Drill results per member">
        <table>
          <caption className="visually-hidden">Drill results per member</caption>
          <thead>
            <tr>
              <th scope="col">Member</th>
              <th scope="col">Uploads</th>
              <th scope="col">Blocked / in reach</th>
              <th scope="col">Share</th>
              <th scope="col">Out of reach</th>
              <th scope="col">Hash landed</th>
              <th scope="col">First block</th>
              <th scope="col">Errors</th>
            </tr>
          </thead>
          <tbody>
            {run.report.members.map((m) => (
              <tr key={m.name}>
                <td>{m.name}</td>
                <td>{m.uploads}</td>
                <td>
                  {m.blocked_after_landing}/{m.reachable_after_landing}
                </td>
                <td>{pct(m.blocked_share)}</td>
                <td>{m.out_of_reach_after_landing}</td>
                <td>{ms(m.landing_ms)}</td>
                <td>{ms(m.first_block_ms)}</td>
                <td>{m.errors}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
    </div>
  );
}
