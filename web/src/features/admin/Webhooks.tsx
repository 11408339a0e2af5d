import { api } from '../../api/client';
import { useLoad, useScreen } from '../../app/hooks';

export function Webhooks() {
  const hooks = useLoad(
    () => api<{ items: { id: number; url: string; enabled: boolean }[] }>('GET', '/v1/webhooks'),
    [],
  );
  const deliveries = useLoad(
    () =>
      api<{
        items: {
          id: number;
          action_id: string;
          webhook_id: number;
          attempt: number;
          status_code: number | null;
          error: string | null;
          created_at: string;
        }[];
      }>('GET', '/v1/webhooks/deliveries'),
    [],
  );
  const dead = useLoad(
    () =>
      api<{ items: { id: string; type: string; last_error: string | null }[] }>(
        'GET',
        '/v1/actions?status=dead',
      ),
    [],
  );
  const heading = useScreen('Webhooks');
  return (
    <section aria-labelledby="webhooks-title">
      <h1 id="webhooks-title" ref={heading} tabIndex={-1}>
        Webhooks
      </h1>
      {hooks.data && hooks.data.items.length === 0 && (
        <p>No webhooks yet: add one with POST /v1/webhooks so that your platform hears about decisions.</p>
      )}
      <ul>
        {hooks.data?.items.map((h) => (
          <li key={h.id}>
            {h.url} {h.enabled ? '' : '(disabled)'}
          </li>
        ))}
      </ul>
      <h2>Deliveries</h2>
      <div className="scroll" tabIndex={0} role="region" aria-label="Webhook deliveries">
        <table>
          <thead>
            <tr>
              <th scope="col">Webhook</th>
              <th scope="col">Action</th>
              <th scope="col">Attempt</th>
              <th scope="col">Result</th>
              <th scope="col">When</th>
            </tr>
          </thead>
          <tbody>
            {deliveries.data?.items.map((d) => (
              <tr key={d.id}>
                <td>
                  {hooks.data?.items.find((h) => h.id === d.webhook_id)?.url ??
                    `webhook ${d.webhook_id} (removed)`}
                </td>
                <td>
                  <code>{d.action_id.slice(0, 8)}</code>
                </td>
                <td>{d.attempt}</td>
                <td>{d.error ?? `delivered (${d.status_code})`}</td>
                <td>{new Date(d.created_at).toLocaleString()}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
      {deliveries.data && deliveries.data.items.length === 0 && <p>No deliveries yet.</p>}
      <h2>Dead letters</h2>
      {dead.data?.items.length ? (
        <ul>
          {dead.data.items.map((a) => (
            <li key={a.id}>
              {a.type}: {a.last_error}
            </li>
          ))}
        </ul>
      ) : (
        <p>None.</p>
      )}
    </section>
  );
}
