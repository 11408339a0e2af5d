/** Research access: data owners (datasets, budgets, pending requests) and researchers (mock explorer, submit, results). */
import { useEffect, useState } from 'react';
import { api } from '../../api/client';

interface Dataset {
  id: number;
  name: string;
  description: string;
  public_keys: Record<string, string[]>;
  private_rows: number;
  mock_rows: number;
}
interface Budget {
  researcher_id: number;
  dataset_id: number;
  rho: number;
  rho_spent: number;
  rho_remaining: number;
  epsilon: { delta: number; budget: number; spent: number };
}
interface Noise {
  statistic: string;
  mechanism: string;
  scale: number;
  interval95: number;
}
interface Result {
  kind: string;
  noisy: boolean;
  columns?: string[];
  rows?: { key: string[]; value: number }[];
  value?: number;
  metric?: Record<string, unknown>;
  noise: Noise[];
  cost: { rho: number; delta: number };
}
interface Request {
  id: number;
  dataset_id: number;
  researcher_id: number;
  plan: { aggregate: { kind: string } };
  cost: { rho: number; delta: number };
  status: string;
  reason: string | null;
  created_at: string;
  result: Result | null;
}

const TEMPLATES: Record<string, unknown> = {
  'Amplification of TVEC': {
    aggregate: {
      kind: 'amplification',
      categories: ['tvec'],
      treatment: 'algorithmic',
      control: 'chronological',
    },
    privacy: { mechanism: 'gaussian', rho: 0.05 },
  },
  'Count by category': {
    truncate: { maxRowsPerUser: 50 },
    groupBy: { keys: ['category'] },
    aggregate: { kind: 'count' },
    privacy: { mechanism: 'gaussian', rho: 0.05 },
  },
  'Journeys towards TVEC': {
    aggregate: { kind: 'transition_matrix', maxTransitionsPerUser: 20, target: 'tvec', steps: 10 },
    privacy: { mechanism: 'gaussian', rho: 0.05 },
  },
  'Share@30 by engagement': {
    aggregate: {
      kind: 'share_at_n',
      n: 30,
      categories: ['borderline', 'tvec'],
      cohort: 'engaged',
      maxSessionsPerUser: 3,
    },
    privacy: { mechanism: 'gaussian', rho: 0.05 },
  },
};

const fmt = (x: number) => (Math.abs(x) >= 100 ? x.toFixed(0) : x.toFixed(3));

/** Horizontal bars with the 95 % noise interval drawn as a whisker. */
function Bars({
  bars,
  interval,
  unit = '',
}: {
  bars: { label: string; value: number }[];
  interval: number;
  unit?: string;
}) {
  const max = Math.max(1e-9, ...bars.map((b) => b.value + interval));
  const width = 420;
  const scale = (x: number) => (Math.max(0, x) / max) * width;
  return (
    <svg
      className="chart"
      width={width + 200}
      height={bars.length * 28 + 10}
      role="img"
      aria-label="result chart"
    >
      {bars.map((b, i) => (
        <g key={b.label} transform={`translate(0, ${i * 28 + 5})`}>
          <text x={0} y={15} fontSize={12}>
            {b.label}
          </text>
          <rect x={110} y={3} height={16} width={scale(b.value)} fill="#3b6ea5" />
          {interval > 0 && (
            <line
              x1={110 + scale(b.value - interval)}
              x2={110 + scale(b.value + interval)}
              y1={11}
              y2={11}
              stroke="#222"
            />
          )}
          <text x={120 + scale(b.value + interval)} y={15} fontSize={12}>
            {fmt(b.value)}
            {unit}
          </text>
        </g>
      ))}
    </svg>
  );
}

export function ResultView({ result }: { result: Result }) {
  const noise = result.noise[0];
  let chart = null;
  if (result.rows && result.columns) {
    chart = (
      <Bars
        bars={result.rows.map((r) => ({ label: r.key.join(' / ') || 'all', value: r.value }))}
        interval={noise?.interval95 ?? 0}
      />
    );
  } else if (result.kind === 'amplification' && result.metric && result.metric.level === 'group') {
    const m = result.metric as {
      amplification: number;
      reach: Record<string, number>;
      users: Record<string, number>;
    };
    chart = (
      <>
        <p className="headline">
          Amplification: <strong>{(m.amplification * 100).toFixed(1)} %</strong> (per-capita reach of{' '}
          {String((result.metric.categories as string[]).join(', '))}, {String(result.metric.treatment)} vs{' '}
          {String(result.metric.control)})
        </p>
        <Bars
          bars={Object.keys(m.reach).map((arm) => ({
            label: arm,
            value: (100 * m.reach[arm]) / Math.max(1, m.users[arm]),
          }))}
          interval={0}
          unit=" %"
        />
      </>
    );
  } else if (result.kind === 'transition_matrix' && result.metric) {
    const m = result.metric as {
      categories: string[];
      reachWithinSteps: Record<string, number>;
      steps: number;
      target: string;
    };
    chart = (
      <>
        <p>
          Probability of reaching {m.target} within {m.steps} steps, by starting category:
        </p>
        <Bars bars={m.categories.map((c) => ({ label: c, value: m.reachWithinSteps[c] }))} interval={0} />
      </>
    );
  }
  return (
    <div className="result">
      {chart}
      <details>
        <summary>Numbers and noise</summary>
        <p>
          {result.noisy ? 'Released with noise' : 'Exact (mock data)'}; cost ρ = {result.cost.rho}
          {result.cost.delta > 0 ? `, δ = ${result.cost.delta}` : ''}.
        </p>
        <ul>
          {result.noise.map((n) => (
            <li key={n.statistic}>
              {n.statistic}: {n.mechanism}, scale {fmt(n.scale)}, 95 % within ±{fmt(n.interval95)}
            </li>
          ))}
        </ul>
        <pre>{JSON.stringify(result.rows ?? result.metric ?? result.value, null, 2)}</pre>
      </details>
    </div>
  );
}

function Researcher() {
  const [me, setMe] = useState<{ datasets: Dataset[]; budgets: Budget[] } | null>(null);
  const [datasetId, setDatasetId] = useState<number | null>(null);
  const [plan, setPlan] = useState(JSON.stringify(TEMPLATES['Amplification of TVEC'], null, 2));
  const [result, setResult] = useState<Result | null>(null);
  const [message, setMessage] = useState<string | null>(null);
  const [requests, setRequests] = useState<Request[]>([]);
  const reload = () => {
    api<{ datasets: Dataset[]; budgets: Budget[] }>('GET', '/v1/research/me').then(
      (m) => {
        setMe(m);
        setDatasetId((id) => id ?? m.datasets[0]?.id ?? null);
      },
      (e: Error) => setMessage(e.message),
    );
    api<{ items: Request[] }>('GET', '/v1/research/requests').then(
      (r) => setRequests(r.items),
      () => undefined,
    );
  };
  useEffect(reload, []);
  const run = async (where: 'mock' | 'private') => {
    setMessage(null);
    setResult(null);
    try {
      const body = { plan: JSON.parse(plan) as unknown };
      if (where === 'mock')
        setResult(await api<Result>('POST', `/v1/research/datasets/${datasetId}/mock/query`, body));
      else {
        const request = await api<Request>('POST', `/v1/research/datasets/${datasetId}/requests`, body);
        if (request.result) setResult(request.result);
        else setMessage(`Request ${request.id} waits for the data owner: ${request.reason ?? ''}`);
        reload();
      }
    } catch (e) {
      setMessage(e instanceof Error ? e.message : String(e));
    }
  };
  if (!me) return <p>{message ?? 'Loading…'}</p>;
  const budget = me.budgets.find((b) => b.dataset_id === datasetId);
  return (
    <section>
      <h2>Research: explore the mock, submit, read results</h2>
      {me.datasets.length === 0 && <p>No dataset has been granted to you yet.</p>}
      <label>
        Dataset{' '}
        <select value={datasetId ?? ''} onChange={(e) => setDatasetId(Number(e.target.value))}>
          {me.datasets.map((d) => (
            <option key={d.id} value={d.id}>
              {d.name}
            </option>
          ))}
        </select>
      </label>
      {budget && (
        <p>
          Budget: ρ {fmt(budget.rho_spent)} of {budget.rho} spent (ε {fmt(budget.epsilon.spent)} of{' '}
          {fmt(budget.epsilon.budget)} at δ = {budget.epsilon.delta}).
        </p>
      )}
      <p>
        Templates:{' '}
        {Object.keys(TEMPLATES).map((name) => (
          <span key={name}>
            <button type="button" onClick={() => setPlan(JSON.stringify(TEMPLATES[name], null, 2))}>
              {name}
            </button>{' '}
          </span>
        ))}
      </p>
      <textarea
        aria-label="Query plan"
        rows={12}
        cols={80}
        value={plan}
        onChange={(e) => setPlan(e.target.value)}
      />
      <p>
        <button type="button" onClick={() => run('mock')}>
          Run on the mock (free)
        </button>{' '}
        <button type="button" onClick={() => run('private')}>
          Submit for the private data
        </button>
      </p>
      {message && <p role="alert">{message}</p>}
      {result && <ResultView result={result} />}
      <h3>Your requests</h3>
      <table>
        <thead>
          <tr>
            <th>#</th>
            <th>kind</th>
            <th>ρ</th>
            <th>status</th>
            <th />
          </tr>
        </thead>
        <tbody>
          {requests.map((r) => (
            <tr key={r.id}>
              <td>{r.id}</td>
              <td>{r.plan.aggregate.kind}</td>
              <td>{r.cost.rho}</td>
              <td>
                {r.status}
                {r.reason ? `: ${r.reason}` : ''}
              </td>
              <td>
                {r.result && (
                  <button type="button" className="link" onClick={() => setResult(r.result)}>
                    show
                  </button>
                )}
              </td>
            </tr>
          ))}
        </tbody>
      </table>
    </section>
  );
}

function Owner() {
  const [datasets, setDatasets] = useState<Dataset[]>([]);
  const [budgets, setBudgets] = useState<Record<number, Budget[]>>({});
  const [pending, setPending] = useState<Request[]>([]);
  const [preview, setPreview] = useState<Result | null>(null);
  const [message, setMessage] = useState<string | null>(null);
  const reload = () => {
    api<{ items: Dataset[] }>('GET', '/v1/research/datasets').then(
      async (d) => {
        setDatasets(d.items);
        const all: Record<number, Budget[]> = {};
        for (const ds of d.items)
          all[ds.id] = (
            await api<{ items: Budget[] }>('GET', `/v1/research/datasets/${ds.id}/budgets`)
          ).items;
        setBudgets(all);
      },
      (e: Error) => setMessage(e.message),
    );
    api<{ items: Request[] }>('GET', '/v1/research/review/requests?status=pending').then(
      (r) => setPending(r.items),
      () => undefined,
    );
  };
  useEffect(reload, []);
  const act = async (fn: () => Promise<unknown>) => {
    setMessage(null);
    try {
      await fn();
      reload();
    } catch (e) {
      setMessage(e instanceof Error ? e.message : String(e));
    }
  };
  return (
    <section>
      <h2>Research datasets</h2>
      {message && <p role="alert">{message}</p>}
      <table>
        <thead>
          <tr>
            <th>dataset</th>
            <th>private rows</th>
            <th>mock rows</th>
            <th>budgets (researcher: ρ spent / total)</th>
          </tr>
        </thead>
        <tbody>
          {datasets.map((d) => (
            <tr key={d.id}>
              <td>{d.name}</td>
              <td>{d.private_rows}</td>
              <td>{d.mock_rows}</td>
              <td>
                {(budgets[d.id] ?? []).map((b) => (
                  <span key={b.researcher_id}>
                    #{b.researcher_id}: {fmt(b.rho_spent)} / {b.rho}{' '}
                  </span>
                ))}
              </td>
            </tr>
          ))}
        </tbody>
      </table>
      <h3>Requests waiting for you</h3>
      {pending.length === 0 && <p>None.</p>}
      <table>
        <tbody>
          {pending.map((r) => (
            <tr key={r.id}>
              <td>#{r.id}</td>
              <td>{r.plan.aggregate.kind}</td>
              <td>ρ {r.cost.rho}</td>
              <td>{r.reason}</td>
              <td>
                <button
                  type="button"
                  className="link"
                  onClick={() =>
                    act(async () =>
                      setPreview(await api<Result>('POST', `/v1/research/review/requests/${r.id}/mock`)),
                    )
                  }
                >
                  run on mock
                </button>{' '}
                <button
                  type="button"
                  onClick={() => act(() => api('POST', `/v1/research/review/requests/${r.id}/approve`))}
                >
                  Approve
                </button>{' '}
                <button
                  type="button"
                  onClick={() => {
                    const reason = window.prompt('Reason for the researcher');
                    if (reason)
                      void act(() => api('POST', `/v1/research/review/requests/${r.id}/deny`, { reason }));
                  }}
                >
                  Deny
                </button>
              </td>
            </tr>
          ))}
        </tbody>
      </table>
      {preview && <ResultView result={preview} />}
    </section>
  );
}

export function Research({ can }: { can: (permission: string) => boolean }) {
  return (
    <>
      {can('research:own') && <Owner />}
      {can('research:query') && <Researcher />}
    </>
  );
}
