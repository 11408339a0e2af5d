/** The HTTP API, from the browser: the session cookie travels by itself; changes carry the CSRF token. */
let csrfToken: string | null = null;

export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

export async function api<T>(method: string, path: string, body?: unknown): Promise<T> {
  const headers: Record<string, string> = {};
  if (body !== undefined) headers['content-type'] = 'application/json';
  if (method !== 'GET' && csrfToken) headers['x-csrf-token'] = csrfToken;
  const response = await fetch(path, {
    method,
    headers,
    credentials: 'same-origin',
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  if (response.status === 204) return undefined as T;
  const data = (await response.json().catch(() => ({}))) as {
    detail?: string;
    code?: string;
    csrf_token?: string;
  };
  if (!response.ok)
    throw new ApiError(
      response.status,
      data.code ?? 'ERROR',
      data.detail ?? `request failed (${response.status})`,
    );
  if (data.csrf_token) csrfToken = data.csrf_token;
  return data as T;
}

export interface SessionUser {
  id: number;
  email: string;
  display_name: string;
  role: string;
  organisation_id: number;
  permissions: string[];
}

export interface Evidence {
  signal_type?: string;
  signalType?: string;
  distance: number;
  bank: { id: number; name: string; orgId?: number };
  entry: { id: number; labels: string[]; contributorOrgId?: number };
}

export interface CaseSummary {
  id: number;
  submission_id: number | null;
  external_id: string | null;
  status: string;
  priority: string;
  due_at: string;
  evidence: Evidence[];
  created_at: string;
}

export interface CaseDetail extends CaseSummary {
  reports: {
    id: number;
    kind: string;
    source: string;
    url: string | null;
    category: string | null;
    created_at: string;
  }[];
  decisions: {
    id: number;
    decision: string;
    ground: string;
    reason: string;
    automated: boolean;
    decided_by: string;
    created_at: string;
  }[];
}
