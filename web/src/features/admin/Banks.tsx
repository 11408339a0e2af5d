import { api } from '../../api/client';
import { useLoad, useScreen } from '../../app/hooks';
import { BankFeedback } from '../feedback/BankFeedback';

export function Banks() {
  const { data, error } = useLoad(
    () =>
      api<{
        items: { id: number; name: string; sharing: string; enabled: boolean; default_labels: string[] }[];
      }>('GET', '/v1/banks?limit=200'),
    [],
  );
  const heading = useScreen('Banks');
  return (
    <section aria-labelledby="banks-title">
      <h1 id="banks-title" ref={heading} tabIndex={-1}>
        Banks
      </h1>
      {error && (
        <p role="alert" className="error">
          {error}
        </p>
      )}
      <div className="scroll" tabIndex={0} role="region" aria-label="Banks">
        <table>
          <thead>
            <tr>
              <th scope="col">Name</th>
              <th scope="col">Sharing</th>
              <th scope="col">Enabled</th>
              <th scope="col">Default labels</th>
            </tr>
          </thead>
          <tbody>
            {data?.items.map((b) => (
              <tr key={b.id}>
                <td>
                  <a href={`#/banks/${b.id}`}>{b.name}</a>
                </td>
                <td>{b.sharing}</td>
                <td>{b.enabled ? 'yes' : 'no'}</td>
                <td>{b.default_labels.join(', ')}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
      {data && data.items.length === 0 && (
        <p>No banks yet. Create one with the API (POST /v1/banks) or `kaitiaki bank create`.</p>
      )}
    </section>
  );
}

/**
 * One bank: its entries, and for its owner what other organisations think of them (feedback, disputes).
 * `orgId` is the signed-in person's organisation; `canResolve` (banks:write) decides disputes.
 */
export function BankEntries({ id, orgId, canResolve }: { id: number; orgId: number; canResolve: boolean }) {
  const bank = useLoad(
    () =>
      api<{ name: string; entry_count: number; organisation_id: number; read_only?: true }>(
        'GET',
        `/v1/banks/${id}`,
      ),
    [id],
  );
  const entries = useLoad(
    () =>
      api<{
        items: {
          id: number;
          signal_type: string;
          value: string;
          labels: string[];
          status: string;
          source: string;
        }[];
      }>('GET', `/v1/banks/${id}/entries?limit=200`),
    [id],
  );
  const heading = useScreen(bank.data ? `Bank ${bank.data.name}` : null, bank.data !== null);
  return (
    <section aria-labelledby="entries-title">
      <p>
        <a href="#/banks">← All banks</a>
      </p>
      <h1 id="entries-title" ref={heading} tabIndex={-1}>
        {bank.data?.name ?? 'Bank'} <span className="count">{bank.data?.entry_count ?? ''}</span>
      </h1>
      {(bank.error || entries.error) && (
        <p role="alert" className="error">
          {bank.error ?? entries.error}
        </p>
      )}
      {/* A mirror of an external list has no feedback of its own: its owner is the list's publisher. */}
      {bank.data && bank.data.organisation_id === orgId && !bank.data.read_only && (
        <BankFeedback
          bankId={id}
          canResolve={canResolve}
          onChanged={() => (bank.reload(), entries.reload())}
        />
      )}
      <h2>Entries</h2>
      <div className="scroll" tabIndex={0} role="region" aria-label="Entries">
        <table>
          <thead>
            <tr>
              <th scope="col">Entry</th>
              <th scope="col">Type</th>
              <th scope="col">Signal</th>
              <th scope="col">Labels</th>
              <th scope="col">Source</th>
              <th scope="col">Status</th>
            </tr>
          </thead>
          <tbody>
            {entries.data?.items.map((e) => (
              <tr key={e.id}>
                <td>{e.id}</td>
                <td>{e.signal_type}</td>
                <td>
                  <code>{e.value.length > 40 ? `${e.value.slice(0, 40)}…` : e.value}</code>
                </td>
                <td>{e.labels.join(', ')}</td>
                <td>{e.source}</td>
                <td>{e.status}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
      {entries.data && entries.data.items.length === 0 && (
        <p>This bank is empty. Add hashes with POST /v1/banks/{id}/entries or `kaitiaki bank import`.</p>
      )}
    </section>
  );
}
