/**
 * Tech Against Terrorism's TCAP hash list (the API pytx's `tat` exchange reads):
 * `GET <base>api/hash-list/v2/all?order=asc&after=<ts,id>` with a bearer token answers
 * `{count, next, previous, checkpoint, results: [{hash_digest, algorithm, ideology, file_type, deleted, created_on,
 * updated_on, id}]}`. PDQ, MD5 and SHA256 digests become pdq, md5 and sha256 entries labelled `tcap`,
 * `ideology:<ideology>` and `file_type:<type>`; `deleted: true` removes the signal.
 *
 * The checkpoint is `<updated_on>,<id>` of the newest record applied. It never moves backwards: a record at or
 * before it (a server whose cursor went backwards) is quarantined, not applied, so an old version never overwrites
 * a newer one or revives a deletion.
 */
import { ValidationError } from '../core/errors.js';
import { excerpt, sourceGet, SourceError, sourceRequest, sourceUrl } from './fetch.js';
import type { SourceDeps, SourceKind, SourcePage, SourceRecord } from './source.js';

export interface TcapConfig {
  baseUrl: string;
  /** The list's path under the base (pytx's `api/hash-list/v2/all`; TCAP's docs also show `hash-list/v2/all`). */
  path: string;
  /** A bearer token; or username and password, exchanged for one at `token-auth/tcap/` (as pytx's client does). */
  token: string | null;
  username: string | null;
  password: string | null;
  /** Only this ideology (the API's `ideology` filter), or all. */
  ideology: string | null;
}

const DEFAULT_BASE = 'https://app.terrorismanalytics.org/';
const DEFAULT_PATH = 'api/hash-list/v2/all';
const ALGORITHMS: Record<string, string> = { PDQ: 'pdq', MD5: 'md5', SHA256: 'sha256', 'SHA-256': 'sha256' };

interface Position {
  ts: number;
  id: number;
}

export function parseTcapCheckpoint(raw: string): Position {
  const match = /^(\d+(?:\.\d+)?),(\d+)$/.exec(raw.trim());
  if (!match)
    throw new ValidationError(
      `a TCAP checkpoint is "<unix time>,<id>"; got ${JSON.stringify(raw.slice(0, 80))}`,
    );
  return { ts: Number(match[1]), id: Number(match[2]) };
}

const after = (a: Position, b: Position) => a.ts > b.ts || (a.ts === b.ts && a.id > b.id);

/** Unix seconds (number or numeric string) or an ISO text, as ISO 8601; null when absent or unreadable. */
function isoTime(value: unknown): string | null {
  if (typeof value === 'number' && Number.isFinite(value)) return new Date(value * 1000).toISOString();
  if (typeof value === 'string' && value !== '') {
    const asNumber = Number(value);
    const date = Number.isFinite(asNumber) ? new Date(asNumber * 1000) : new Date(value);
    return Number.isNaN(date.getTime()) ? null : date.toISOString();
  }
  return null;
}

function unixTime(value: unknown): number | null {
  if (typeof value === 'number' && Number.isFinite(value)) return value;
  if (typeof value === 'string' && value !== '') {
    const asNumber = Number(value);
    if (Number.isFinite(asNumber)) return asNumber;
    const ms = new Date(value).getTime();
    return Number.isNaN(ms) ? null : ms / 1000;
  }
  return null;
}

const labelPart = (value: unknown) =>
  String(value)
    .trim()
    .toLowerCase()
    .replace(/[^a-z0-9_.:/ -]+/g, '-')
    .slice(0, 48);

function toRecord(item: unknown): { record: SourceRecord; position: Position | null } {
  const raw = JSON.stringify(item) ?? 'null';
  if (typeof item !== 'object' || item === null || Array.isArray(item))
    return { record: { op: 'unreadable', reason: 'a result is not a JSON object', raw }, position: null };
  const r = item as Record<string, unknown>;
  const ts = unixTime(r.updated_on ?? r.created_on);
  const id = typeof r.id === 'number' ? r.id : Number(r.id);
  const position = ts !== null && Number.isInteger(id) ? { ts, id } : null;
  const fail = (reason: string) => ({ record: { op: 'unreadable' as const, reason, raw }, position });
  if (typeof r.hash_digest !== 'string') return fail('hash_digest is missing or not a string');
  if (typeof r.algorithm !== 'string') return fail('algorithm is missing or not a string');
  const signalType = ALGORITHMS[r.algorithm.toUpperCase()];
  if (!signalType)
    return fail(`algorithm "${r.algorithm.slice(0, 40)}" is not one Kaitiaki stores (PDQ, MD5, SHA256)`);
  if (!position) return fail('updated_on and id are missing or not numbers');
  const externalId = `tcap:${id}`;
  if (r.deleted === true || r.deleted === 'true')
    return { record: { op: 'delete', signalType, value: r.hash_digest, externalId, raw }, position };
  const labels = ['tcap'];
  if (r.ideology) labels.push(`ideology:${labelPart(r.ideology)}`);
  if (r.file_type) labels.push(`file_type:${labelPart(r.file_type)}`);
  return {
    record: {
      op: 'upsert',
      signalType,
      value: r.hash_digest,
      labels,
      externalId,
      createdAt: isoTime(r.created_on),
      updatedAt: isoTime(r.updated_on),
      raw,
    },
    position,
  };
}

/** Tokens from logins, per API root and user (and password: a changed one logs in again), kept for half an hour (TCAP's JWTs are short-lived). */
const loginTokens = new Map<string, { token: string; until: number }>();

async function bearerToken(config: TcapConfig, deps: SourceDeps, fresh: boolean): Promise<string> {
  if (config.token) return config.token;
  const key = `${config.baseUrl}\n${config.username}\n${config.password}`;
  const cached = loginTokens.get(key);
  if (cached && !fresh && cached.until > Date.now()) return cached.token;
  const response = await sourceRequest(
    'POST',
    new URL('token-auth/tcap/', config.baseUrl).toString(),
    { 'content-type': 'application/json', accept: 'application/json' },
    JSON.stringify({ username: config.username, password: config.password }),
    deps,
  );
  if (response.status === 400 || response.status === 401 || response.status === 403)
    throw new SourceError(
      `TCAP refused the username or password (HTTP ${response.status})`,
      'KAI_ERR_SOURCE_AUTH',
    );
  if (response.status !== 200)
    throw new SourceError(`TCAP's login answered HTTP ${response.status}: ${excerpt(response.body)}`);
  let token: unknown;
  try {
    token = (JSON.parse(response.body.toString('utf8')) as { token?: unknown }).token;
  } catch {
    token = undefined;
  }
  if (typeof token !== 'string' || token === '')
    throw new SourceError("TCAP's login answered without a token", 'KAI_ERR_SOURCE_AUTH');
  loginTokens.set(key, { token, until: Date.now() + 30 * 60_000 });
  return token;
}

export const tcapSource: SourceKind<TcapConfig> = {
  name: 'tcap',
  aliases: ['tat'],
  description:
    "Tech Against Terrorism's TCAP hash list (PDQ and MD5 of archived terrorist content), by cursor",
  defaultIntervalSeconds: 900,
  configFields: [
    { name: 'base_url', type: 'string', required: false, description: `API root (default ${DEFAULT_BASE})` },
    {
      name: 'path',
      type: 'string',
      required: false,
      description: `the list under base_url (default ${DEFAULT_PATH})`,
    },
    {
      name: 'token',
      type: 'string',
      required: false,
      secret: true,
      description: 'bearer token (a TCAP JWT); or username and password',
    },
    { name: 'username', type: 'string', required: false, description: 'TCAP user, to log in for a token' },
    { name: 'password', type: 'string', required: false, secret: true, description: "that user's password" },
    {
      name: 'ideology',
      type: 'string',
      required: false,
      description: 'only this ideology (islamist, far-right)',
    },
  ],
  parseConfig(raw: unknown): TcapConfig {
    if (typeof raw !== 'object' || raw === null || Array.isArray(raw))
      throw new ValidationError('a tcap configuration is an object {base_url?, token, ideology?}');
    const c = raw as Record<string, unknown>;
    const unknown = Object.keys(c).filter(
      (k) => !['base_url', 'path', 'token', 'username', 'password', 'ideology'].includes(k),
    );
    if (unknown.length) throw new ValidationError(`unknown tcap setting(s) ${unknown.join(', ')}`);
    const text = (v: unknown) => typeof v === 'string' && v.length > 0 && v.length <= 4096;
    const login = c.username !== undefined || c.password !== undefined;
    if (
      login
        ? !(text(c.username) && text(c.password)) || c.token !== undefined
        : !text(c.token) || /\s/.test(c.token as string)
    )
      throw new ValidationError(
        'give the TCAP bearer token (token, no spaces, at most 4096 characters) or a username and password, not both',
      );
    let baseUrl = sourceUrl(c.base_url ?? DEFAULT_BASE, 'base_url');
    if (!baseUrl.endsWith('/')) baseUrl += '/';
    if (
      c.ideology !== undefined &&
      c.ideology !== null &&
      (typeof c.ideology !== 'string' || !/^[a-z-]{1,40}$/i.test(c.ideology))
    )
      throw new ValidationError('ideology must be a name such as islamist or far-right');
    const path = c.path ?? DEFAULT_PATH;
    if (
      typeof path !== 'string' ||
      !/^[A-Za-z0-9._~/-]{1,200}$/.test(path) ||
      path.startsWith('/') ||
      path.includes('..')
    )
      throw new ValidationError('path is a relative path such as api/hash-list/v2/all');
    return {
      baseUrl,
      path,
      token: login ? null : (c.token as string),
      username: login ? (c.username as string) : null,
      password: login ? (c.password as string) : null,
      ideology: (c.ideology as string | undefined) ?? null,
    };
  },
  redact: (config) => ({
    base_url: config.baseUrl,
    ...(config.path !== DEFAULT_PATH ? { path: config.path } : {}),
    ...(config.username ? { username: config.username, password: '(set)' } : { token: '(set)' }),
    ideology: config.ideology,
  }),
  create(config: TcapConfig, deps: SourceDeps) {
    return {
      async fetchPage(checkpoint: string | null): Promise<SourcePage> {
        const current = checkpoint ? parseTcapCheckpoint(checkpoint) : null;
        const url = new URL(config.path, config.baseUrl);
        url.searchParams.set('order', 'asc');
        if (checkpoint) url.searchParams.set('after', checkpoint);
        if (config.ideology) url.searchParams.set('ideology', config.ideology);
        const ask = async (fresh: boolean) =>
          sourceGet(
            url.toString(),
            { authorization: `Bearer ${await bearerToken(config, deps, fresh)}`, accept: 'application/json' },
            deps,
          );
        let response = await ask(false);
        // A token from a login may have expired: log in once more.
        if ((response.status === 401 || response.status === 403) && config.username)
          response = await ask(true);
        if (response.status === 401 || response.status === 403)
          throw new SourceError(`TCAP refused the token (HTTP ${response.status})`, 'KAI_ERR_SOURCE_AUTH');
        if (response.status !== 200)
          throw new SourceError(`TCAP answered HTTP ${response.status}: ${excerpt(response.body)}`);
        let body: unknown;
        try {
          body = JSON.parse(response.body.toString('utf8'));
        } catch {
          throw new SourceError(
            `TCAP answered a body that is not JSON (truncated?): ${excerpt(response.body)}`,
            'KAI_ERR_SOURCE_BAD_PAGE',
          );
        }
        const page = body as { results?: unknown; next?: unknown; count?: unknown; checkpoint?: unknown };
        if (typeof body !== 'object' || body === null || !Array.isArray(page.results))
          throw new SourceError('TCAP answered JSON without a results list', 'KAI_ERR_SOURCE_BAD_PAGE');
        const records: SourceRecord[] = [];
        let newest = current;
        for (const item of page.results as unknown[]) {
          const { record, position } = toRecord(item);
          if (position && current && !after(position, current)) {
            // The cursor went backwards: this record is not newer than what was applied. Never re-apply it.
            records.push({
              op: 'unreadable',
              reason: `record at ${position.ts},${position.id} is not after the checkpoint ${checkpoint} (the list's cursor went backwards); not applied`,
              raw: record.raw,
            });
            continue;
          }
          records.push(record);
          if (position && (!newest || after(position, newest))) newest = position;
        }
        const count = typeof page.count === 'number' ? page.count : null;
        // A page that moved the checkpoint nowhere (all of it at or before it) ends the run: asking again would
        // only get the same page.
        const more =
          page.results.length > 0 && typeof page.next === 'string' && page.next !== '' && newest !== current;
        return {
          records,
          checkpoint: newest && newest !== current ? `${newest.ts},${newest.id}` : null,
          hasMore: more,
          lagRecords: count === null ? (more ? null : 0) : Math.max(0, count - page.results.length),
        };
      },
    };
  },
};
