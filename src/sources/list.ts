/**
 * A list of signals in a CSV or JSON-lines file, at an http(s) URL or a local path, fetched whole on a schedule.
 * The columns are those of `kaitiaki bank import` (signal_type, value, labels, note, external_id, status) plus an
 * optional `deleted` column.
 *
 * Deletions: each fetch that brings a changed list is the whole list (a snapshot). A signal in the mirror bank that
 * the new list no longer has is deleted; so is a row marked `deleted` (true, 1 or yes) or with status `retired`.
 * A row that is bad is quarantined. When its signal itself is readable (a bad label, say), the mirror keeps that
 * signal as it was: a typo in one column never deletes it; it goes only when the row is gone or marked deleted.
 *
 * Unchanged lists cost nothing: URLs are asked with If-None-Match / If-Modified-Since (a 304 ends the run), and a
 * body or file whose SHA-256 equals the last one applied is not parsed again.
 */
import { createHash } from 'node:crypto';
import { readFile, realpath, stat } from 'node:fs/promises';
import { isAbsolute, relative, resolve } from 'node:path';
import { csvUnescape } from '../core/csv.js';
import { ValidationError } from '../core/errors.js';
import { splitCsvLine } from '../banks/transfer.js';
import { excerpt, sourceGet, SourceError, sourceUrl } from './fetch.js';
import type { SourceDeps, SourceKind, SourcePage, SourceRecord } from './source.js';

export interface ListConfig {
  url: string | null;
  path: string | null;
  format: 'csv' | 'jsonl';
}

interface ListCheckpoint {
  etag?: string;
  lastModified?: string;
  sha256?: string;
}

const CSV_COLUMNS = ['signal_type', 'value', 'labels', 'note', 'external_id', 'status', 'deleted'];
const JSON_FIELDS = new Set([...CSV_COLUMNS, 'type', 'signal']);
const TRUE = new Set(['true', '1', 'yes']);

function formatOf(location: string, explicit: unknown): 'csv' | 'jsonl' {
  if (explicit === 'csv' || explicit === 'jsonl') return explicit;
  if (explicit !== undefined && explicit !== null) throw new ValidationError('format must be csv or jsonl');
  const name = location.split(/[?#]/)[0].toLowerCase();
  if (name.endsWith('.csv')) return 'csv';
  if (name.endsWith('.jsonl') || name.endsWith('.ndjson')) return 'jsonl';
  throw new ValidationError(
    `cannot tell the format of "${location.slice(0, 200)}" from its name; give format csv or jsonl`,
  );
}

/** A local path, only under the operator's KAITIAKI_SOURCE_FILE_ROOT (a caller may never name any file it likes). */
async function localPath(path: string, deps: SourceDeps): Promise<string> {
  if (!deps.fileRoot)
    throw new ValidationError(
      'local list files are off: an operator can allow a directory with KAITIAKI_SOURCE_FILE_ROOT',
      'KAI_ERR_SOURCE_FILE_DISABLED',
    );
  const root = await realpath(deps.fileRoot).catch(() => resolve(deps.fileRoot!));
  const full = resolve(root, path);
  const real = await realpath(full).catch(() => full);
  const rel = relative(root, real);
  if (rel.startsWith('..') || isAbsolute(rel))
    throw new ValidationError(
      `"${path}" is outside KAITIAKI_SOURCE_FILE_ROOT (${root})`,
      'KAI_ERR_SOURCE_FILE_OUTSIDE_ROOT',
    );
  return real;
}

const labelsOf = (text: string | undefined) =>
  text
    ? text
        .split(/[|;]/)
        .map((l) => l.trim())
        .filter(Boolean)
    : undefined;

function fromFields(get: (name: string) => unknown, raw: string): SourceRecord {
  const signalType = String(get('signal_type') ?? get('type') ?? '');
  const value = get('value') ?? get('signal');
  const deleted = get('deleted');
  const status = get('status');
  const externalId = (get('external_id') as string | undefined) || null;
  if ((deleted !== undefined && TRUE.has(String(deleted).toLowerCase())) || status === 'retired')
    return { op: 'delete', signalType, value, externalId, raw };
  const labels = get('labels');
  if (labels !== undefined && !Array.isArray(labels))
    return { op: 'unreadable', reason: 'labels must be a list of strings', raw };
  return {
    op: 'upsert',
    signalType,
    value,
    labels: labels as string[] | undefined,
    note: (get('note') as string | undefined) || null,
    externalId,
    raw,
  };
}

/** Parses a whole list into records; a bad line becomes an unreadable record with its line number. */
export function parseList(text: string, format: 'csv' | 'jsonl'): SourceRecord[] {
  const records: SourceRecord[] = [];
  const lines = text.split(/\r?\n/);
  let header: string[] | null = null;
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i];
    if (line.trim() === '') continue;
    const at = `line ${i + 1}: `;
    if (format === 'csv' && header === null) {
      header = splitCsvLine(line.replace(/^\uFEFF/, '')).map((h) => h.trim().toLowerCase());
      const unknown = header.filter((h) => !CSV_COLUMNS.includes(h));
      if (unknown.length || !header.includes('signal_type') || !header.includes('value'))
        throw new SourceError(
          `the list's CSV header must name signal_type and value and only known columns (${CSV_COLUMNS.join(', ')}); got ${JSON.stringify(line.slice(0, 200))}`,
          'KAI_ERR_SOURCE_BAD_PAGE',
        );
      continue;
    }
    if (format === 'csv') {
      let cells: string[];
      try {
        cells = splitCsvLine(line);
      } catch (err) {
        records.push({ op: 'unreadable', reason: at + (err as Error).message, raw: line });
        continue;
      }
      if (cells.length !== header!.length) {
        records.push({
          op: 'unreadable',
          reason: `${at}expected ${header!.length} fields, got ${cells.length}`,
          raw: line,
        });
        continue;
      }
      const cols = header!;
      const get = (name: string) => {
        const index = cols.indexOf(name);
        if (index < 0) return undefined;
        const cell = csvUnescape(cells[index]);
        return name === 'labels' ? labelsOf(cell) : cell;
      };
      records.push(withLine(fromFields(get, line), at));
    } else {
      let parsed: unknown;
      try {
        parsed = JSON.parse(line);
      } catch {
        records.push({ op: 'unreadable', reason: `${at}not valid JSON`, raw: line });
        continue;
      }
      if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
        records.push({ op: 'unreadable', reason: `${at}each line must be a JSON object`, raw: line });
        continue;
      }
      const r = parsed as Record<string, unknown>;
      const unknown = Object.keys(r).filter((k) => !JSON_FIELDS.has(k));
      if (unknown.length) {
        records.push({ op: 'unreadable', reason: `${at}unknown field(s) ${unknown.join(', ')}`, raw: line });
        continue;
      }
      records.push(
        withLine(
          fromFields((name) => r[name], line),
          at,
        ),
      );
    }
  }
  return records;
}

/** Line numbers go before the quarantine reasons (the runner's too). */
function withLine(record: SourceRecord, at: string): SourceRecord {
  return { ...record, where: at.slice(0, -2) };
}

function parseCheckpoint(raw: string | null): ListCheckpoint {
  if (!raw) return {};
  try {
    return JSON.parse(raw) as ListCheckpoint;
  } catch {
    return {};
  }
}

export const listSource: SourceKind<ListConfig> = {
  name: 'list',
  aliases: ['local_file'],
  description:
    'a CSV or JSON-lines list (the columns of `kaitiaki bank import`, plus deleted) at a URL or a local path',
  defaultIntervalSeconds: 3600,
  configFields: [
    { name: 'url', type: 'string', required: false, description: 'http(s) URL of the list (or path)' },
    {
      name: 'path',
      type: 'string',
      required: false,
      description: 'a file under KAITIAKI_SOURCE_FILE_ROOT (or url)',
    },
    { name: 'format', type: 'string', required: false, description: 'csv or jsonl (default: from the name)' },
  ],
  parseConfig(raw: unknown): ListConfig {
    if (typeof raw !== 'object' || raw === null || Array.isArray(raw))
      throw new ValidationError('a list configuration is an object {url | path, format?}');
    const c = raw as Record<string, unknown>;
    const unknown = Object.keys(c).filter((k) => !['url', 'path', 'format'].includes(k));
    if (unknown.length) throw new ValidationError(`unknown list setting(s) ${unknown.join(', ')}`);
    if ((c.url === undefined) === (c.path === undefined))
      throw new ValidationError('a list has either a url or a path');
    if (c.url !== undefined) {
      const url = sourceUrl(c.url, 'url');
      return { url, path: null, format: formatOf(url, c.format) };
    }
    if (typeof c.path !== 'string' || c.path.length === 0 || c.path.length > 1024)
      throw new ValidationError('path must be a file name of at most 1024 characters');
    return { url: null, path: c.path, format: formatOf(c.path, c.format) };
  },
  redact: (config) => ({
    ...(config.url ? { url: config.url } : { path: config.path }),
    format: config.format,
  }),
  create(config: ListConfig, deps: SourceDeps) {
    return {
      async fetchPage(checkpoint: string | null): Promise<SourcePage> {
        const last = parseCheckpoint(checkpoint);
        const next: ListCheckpoint = {};
        let body: Buffer;
        if (config.url) {
          const headers: Record<string, string> = {};
          if (last.etag) headers['if-none-match'] = last.etag;
          if (last.lastModified) headers['if-modified-since'] = last.lastModified;
          const response = await sourceGet(config.url, headers, deps);
          if (response.status === 304)
            return { records: [], checkpoint: null, hasMore: false, lagRecords: 0 };
          if (response.status !== 200)
            throw new SourceError(`the list answered HTTP ${response.status}: ${excerpt(response.body)}`);
          const etag = response.headers.etag;
          const modified = response.headers['last-modified'];
          if (typeof etag === 'string') next.etag = etag;
          if (typeof modified === 'string') next.lastModified = modified;
          body = response.body;
        } else {
          const file = await localPath(config.path!, deps);
          const info = await stat(file).catch((err: NodeJS.ErrnoException) => {
            throw new SourceError(`cannot read the list file ${config.path}: ${err.code ?? err.message}`);
          });
          if (info.size > deps.maxBytes)
            throw new SourceError(
              `the list file is ${info.size} bytes, over the limit of ${deps.maxBytes}`,
              'KAI_ERR_OUTBOUND_TOO_LARGE',
            );
          body = await readFile(file);
        }
        next.sha256 = createHash('sha256').update(body).digest('hex');
        if (next.sha256 === last.sha256)
          return { records: [], checkpoint: JSON.stringify(next), hasMore: false, lagRecords: 0 };
        const text = body.toString('utf8');
        return {
          records: parseList(text, config.format),
          checkpoint: JSON.stringify(next),
          hasMore: false,
          snapshot: true,
          lagRecords: 0,
        };
      },
    };
  },
};
