/** The HTTP API, from the browser: the session cookie travels by itself; changes carry the CSRF token. */
let csrfToken: string | null = null;

/** Dispatched on `window` when a call answers 401: the session has ended. */
export const SESSION_ENDED = 'kaitiaki:session-ended';

export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    /** Per-field problems, when the server names them (`path` like `body/reference`). */
    readonly errors: { path: string; message: string }[] = [],
  ) {
    super(message);
  }
}

/** `keepalive` lets a call finish while the page is going away (giving a claim back on leaving). */
export async function api<T>(
  method: string,
  path: string,
  body?: unknown,
  options: { keepalive?: boolean } = {},
): Promise<T> {
  const headers: Record<string, string> = {};
  if (body !== undefined) headers['content-type'] = 'application/json';
  if (method !== 'GET' && csrfToken) headers['x-csrf-token'] = csrfToken;
  const response = await fetch(path, {
    method,
    headers,
    credentials: 'same-origin',
    keepalive: options.keepalive,
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  if (response.status === 204) return undefined as T;
  const data = (await response.json().catch(() => ({}))) as {
    detail?: string;
    code?: string;
    csrf_token?: string;
    errors?: { path: string; message: string }[];
  };
  if (response.status === 401 && path !== '/v1/session') {
    // The session ran out (or was revoked): the app goes back to the sign-in screen and says why.
    window.dispatchEvent(new CustomEvent(SESSION_ENDED));
  }
  if (!response.ok)
    throw new ApiError(
      response.status,
      data.code ?? 'ERROR',
      data.detail ?? `request failed (${response.status})`,
      data.errors ?? [],
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
  /** The bank's threshold for this signal type: a match is a distance at or below it. */
  threshold?: number;
  bank: { id: number; name: string; orgId?: number };
  entry: {
    id: number;
    labels: string[];
    contributorOrgId?: number;
    externalId?: string | null;
    source?: string;
    note?: string | null;
  };
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
  updated_at: string;
  version: number;
  claimed_by: string | null;
  claimed_by_name: string | null;
  claim_expires_at: string | null;
}

export interface CasePage {
  /** Each with where it came from: `match`, `report`, `alert`. */
  items: (CaseSummary & { sources: string[] })[];
  next_cursor: string | null;
  counts: Record<string, number>;
}

export interface CaseDetail extends CaseSummary {
  has_media: boolean;
  submission: {
    id: number;
    uploader_id: string | null;
    context: Record<string, unknown>;
    created_at: string;
    media_purged_at: string | null;
  } | null;
  uploader_history: {
    case_id: number;
    status: string;
    external_id: string | null;
    created_at: string;
    decision: string | null;
  }[];
  reports: {
    id: number;
    kind: string;
    source: string;
    url: string | null;
    category: string | null;
    detail: {
      reporter_id?: string | null;
      text?: string | null;
      group?: string | null;
      tier?: string | null;
    };
    created_at: string;
  }[];
  decisions: {
    id: number;
    decision: string;
    ground: string;
    reason: string;
    automated: boolean;
    decided_by: string;
    decided_by_name: string;
    created_at: string;
  }[];
}
