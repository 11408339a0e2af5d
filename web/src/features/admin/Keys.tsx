import { type FormEvent, useState } from 'react';
import { api } from '../../api/client';
import { useLoad, useScreen } from '../../app/hooks';

export function Keys() {
  const [created, setCreated] = useState<string | null>(null);
  const [failure, setFailure] = useState<string | null>(null);
  const create = async (event: FormEvent<HTMLFormElement>) => {
    event.preventDefault();
    const form = new FormData(event.currentTarget);
    try {
      const result = await api<{ key: string }>('POST', '/v1/keys', {
        name: form.get('name'),
        role: form.get('role'),
      });
      setCreated(result.key);
      setFailure(null);
      reload();
    } catch (e) {
      setFailure(e instanceof Error ? e.message : String(e));
    }
  };
  const { data, error, reload } = useLoad(
    () =>
      api<{
        items: {
          id: number;
          name: string;
          prefix: string;
          role: string;
          last_used_at: string | null;
          revoked_at: string | null;
        }[];
      }>('GET', '/v1/keys'),
    [],
  );
  const heading = useScreen('API keys');
  return (
    <section aria-labelledby="keys-title">
      <h1 id="keys-title" ref={heading} tabIndex={-1}>
        API keys
      </h1>
      {error && (
        <p role="alert" className="error">
          {error}
        </p>
      )}
      <form className="inline" onSubmit={create} aria-label="Create an API key">
        <label htmlFor="key-name">Name</label>
        <input id="key-name" name="name" required maxLength={100} />
        <label htmlFor="key-role">Role</label>
        <select id="key-role" name="role" defaultValue="integration">
          <option value="integration">integration (a platform's machine client)</option>
          <option value="viewer">viewer</option>
          <option value="moderator">moderator</option>
          <option value="admin">admin</option>
        </select>
        <button type="submit">Create key</button>
      </form>
      {failure && (
        <p role="alert" className="error">
          {failure}
        </p>
      )}
      {created && (
        <p role="status" className="notice">
          New key (shown once; store it now): <code data-testid="new-key">{created}</code>
        </p>
      )}
      <div className="scroll" tabIndex={0} role="region" aria-label="API keys">
        <table>
          <thead>
            <tr>
              <th scope="col">Name</th>
              <th scope="col">Key</th>
              <th scope="col">Role</th>
              <th scope="col">Last used</th>
              <th scope="col">State</th>
            </tr>
          </thead>
          <tbody>
            {data?.items.map((k) => (
              <tr key={k.id}>
                <td>{k.name}</td>
                <td>
                  <code>kt_{k.prefix}_…</code>
                </td>
                <td>{k.role}</td>
                <td>{k.last_used_at ? new Date(k.last_used_at).toLocaleString() : 'never'}</td>
                <td>{k.revoked_at ? 'revoked' : 'active'}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
    </section>
  );
}
