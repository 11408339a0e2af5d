import { useState } from 'react';
import { api } from '../../api/client';
import { useLoad, useScreen } from '../../app/hooks';

/** The audit trail, newest first, 50 records a page, with people's names. */
export function Audit() {
  const [cursors, setCursors] = useState<(string | null)[]>([null]);
  const cursor = cursors[cursors.length - 1];
  const { data, error } = useLoad(
    () =>
      api<{
        items: {
          id: number;
          actor: string;
          actor_name: string;
          action: string;
          subject_type: string;
          subject_id: string;
          created_at: string;
          hash: string;
        }[];
        next_cursor: string | null;
      }>('GET', `/v1/audit?order=desc&limit=50${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`),
    [cursor],
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
                <td title={r.actor}>{r.actor_name}</td>
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
      <nav className="pager" aria-label="Pages">
        <button
          type="button"
          disabled={cursors.length === 1}
          onClick={() => setCursors((c) => c.slice(0, -1))}
        >
          Newer
        </button>
        <span>Page {cursors.length}, newest first</span>
        <button
          type="button"
          disabled={!data?.next_cursor}
          onClick={() => data?.next_cursor && setCursors((c) => [...c, data.next_cursor])}
        >
          Older
        </button>
      </nav>
    </section>
  );
}
