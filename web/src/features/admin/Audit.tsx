import { api } from '../../api/client';
import { useLoad, useScreen } from '../../app/hooks';

export function Audit() {
  const { data, error } = useLoad(
    () =>
      api<{
        items: {
          id: number;
          actor: string;
          action: string;
          subject_type: string;
          subject_id: string;
          created_at: string;
          hash: string;
        }[];
      }>('GET', '/v1/audit?limit=200'),
    [],
  );
  const heading = useScreen('Audit trail');
  return (
    <section aria-labelledby="audit-title">
      <h1 id="audit-title" ref={heading} tabIndex={-1}>
        Audit trail
      </h1>
      {error && (
        <p role="alert" className="error">
          {error}
        </p>
      )}
      <div className="scroll" tabIndex={0} role="region" aria-label="Audit records">
        <table>
          <thead>
            <tr>
              <th scope="col">#</th>
              <th scope="col">When</th>
              <th scope="col">Who</th>
              <th scope="col">What</th>
              <th scope="col">Subject</th>
              <th scope="col">Hash</th>
            </tr>
          </thead>
          <tbody>
            {data?.items.map((r) => (
              <tr key={r.id}>
                <td>{r.id}</td>
                <td>{new Date(r.created_at).toLocaleString()}</td>
                <td>{r.actor}</td>
                <td>{r.action}</td>
                <td>
                  {r.subject_type} {r.subject_id}
                </td>
                <td>
                  <code>{r.hash.slice(0, 12)}</code>
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
    </section>
  );
}
