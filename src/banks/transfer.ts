/**
 * Bulk import and export of bank entries as JSON lines or CSV, streamed: lines are read and written in
 * batches, so a million entries never sit in memory at once. Import is idempotent on (bank, type, value) and
 * reports each bad line with its number instead of stopping (unless asked to stop at the first).
 */
import { createInterface } from 'node:readline';
import type { Readable, Writable } from 'node:stream';
import { once } from 'node:events';
import { csvLine, csvUnescape } from '../core/csv.js';
import { ValidationError, errorMessage } from '../core/errors.js';
import type { Bank } from '../store/banks.js';
import {
  prepareEntry,
  type EntryInput,
  type EntryService,
  type EntrySource,
  type Entry,
} from '../store/entries.js';
import type { NewEntryRow } from '../store/schema.js';

export type TransferFormat = 'jsonl' | 'csv';

export interface ImportProgress {
  lines: number;
  inserted: number;
  duplicates: number;
  errors: number;
}

export interface ImportReport extends ImportProgress {
  /** The first bad lines (at most 100), each with its line number and what was wrong. */
  errorSamples: { line: number; message: string }[];
}

export interface ImportOptions {
  format: TransferFormat;
  source?: EntrySource;
  contributorOrgId: number;
  stopOnError?: boolean;
  batchSize?: number;
  onProgress?: (progress: ImportProgress) => void;
  /** Refuse lines longer than this (a single hostile line must not exhaust memory). */
  maxLineLength?: number;
}

const CSV_COLUMNS = ['signal_type', 'value', 'labels', 'note', 'external_id', 'status'] as const;

/** Splits one CSV line (RFC 4180 quoting; fields may not span lines). */
export function splitCsvLine(line: string): string[] {
  const cells: string[] = [];
  let cell = '';
  let quoted = false;
  for (let i = 0; i < line.length; i++) {
    const ch = line[i];
    if (quoted) {
      if (ch === '"' && line[i + 1] === '"') {
        cell += '"';
        i++;
      } else if (ch === '"') quoted = false;
      else cell += ch;
    } else if (ch === '"') quoted = true;
    else if (ch === ',') {
      cells.push(cell);
      cell = '';
    } else cell += ch;
  }
  if (quoted) throw new ValidationError('unterminated quoted field');
  cells.push(cell);
  return cells;
}

function splitLabels(text: string | undefined): string[] | undefined {
  if (!text) return undefined;
  return text
    .split(/[|;]/)
    .map((l) => l.trim())
    .filter(Boolean);
}

const JSON_FIELDS = new Set([
  'signal_type',
  'type',
  'value',
  'signal',
  'labels',
  'note',
  'external_id',
  'status',
]);

function entryFromJson(line: string): EntryInput {
  let record: unknown;
  try {
    record = JSON.parse(line);
  } catch {
    throw new ValidationError('not valid JSON');
  }
  if (typeof record !== 'object' || record === null || Array.isArray(record))
    throw new ValidationError('each line must be a JSON object');
  const r = record as Record<string, unknown>;
  const unknown = Object.keys(r).filter((k) => !JSON_FIELDS.has(k));
  if (unknown.length > 0)
    throw new ValidationError(
      `unknown field${unknown.length > 1 ? 's' : ''} ${unknown.map((k) => `"${k}"`).join(', ')}`,
    );
  if (r.labels !== undefined && !Array.isArray(r.labels))
    throw new ValidationError('labels must be an array of strings');
  return {
    signalType: String(r.signal_type ?? r.type ?? ''),
    value: r.value ?? r.signal,
    labels: r.labels as string[] | undefined,
    note: (r.note as string | undefined) ?? null,
    externalId: (r.external_id as string | undefined) ?? null,
    status: r.status as EntryInput['status'],
  } as EntryInput;
}

function entryFromCsv(cells: string[], header: string[]): EntryInput {
  const get = (name: string) => {
    const i = header.indexOf(name);
    return i >= 0 ? csvUnescape(cells[i]) : undefined;
  };
  if (cells.length !== header.length)
    throw new ValidationError(`expected ${header.length} fields, got ${cells.length}`);
  return {
    signalType: get('signal_type') ?? '',
    value: get('value') ?? '',
    labels: splitLabels(get('labels')),
    note: get('note') || null,
    externalId: get('external_id') || null,
    status: (get('status') || undefined) as EntryInput['status'],
  };
}

function validateCsvHeader(line: string): string[] {
  const header = splitCsvLine(line.replace(/^\uFEFF/, '')).map((h) => h.trim().toLowerCase());
  const unknown = header.filter((h) => !(CSV_COLUMNS as readonly string[]).includes(h));
  if (unknown.length > 0)
    throw new ValidationError(
      `CSV header has unknown column(s) ${unknown.join(', ')}; known: ${CSV_COLUMNS.join(', ')}`,
    );
  if (!header.includes('signal_type') || !header.includes('value'))
    throw new ValidationError('CSV header must name signal_type and value');
  return header;
}

export async function importEntries(
  entries: EntryService,
  bank: Bank,
  input: Readable,
  options: ImportOptions,
): Promise<ImportReport> {
  const batchSize = options.batchSize ?? 2000;
  const maxLineLength = options.maxLineLength ?? 2_000_000;
  const report: ImportReport = { lines: 0, inserted: 0, duplicates: 0, errors: 0, errorSamples: [] };
  const context = {
    bankId: bank.id,
    orgId: bank.orgId,
    contributorOrgId: options.contributorOrgId,
    source: options.source ?? 'import',
    defaultLabels: bank.defaultLabels,
  };
  let batch: Omit<NewEntryRow, 'seq'>[] = [];
  let header: string[] | null = null;
  const flush = async () => {
    if (batch.length === 0) return;
    const inserted = await entries.insertManyCounting(batch);
    report.inserted += inserted;
    report.duplicates += batch.length - inserted;
    batch = [];
    options.onProgress?.({
      lines: report.lines,
      inserted: report.inserted,
      duplicates: report.duplicates,
      errors: report.errors,
    });
  };
  const lines = createInterface({ input, crlfDelay: Infinity });
  let lineNumber = 0;
  for await (const line of lines) {
    lineNumber++;
    if (line.trim() === '') continue;
    try {
      if (line.length > maxLineLength)
        throw new ValidationError(`line is longer than ${maxLineLength} characters`);
      if (options.format === 'csv' && header === null) {
        header = validateCsvHeader(line);
        continue;
      }
      report.lines++;
      const input =
        options.format === 'jsonl' ? entryFromJson(line) : entryFromCsv(splitCsvLine(line), header!);
      batch.push(prepareEntry(input, context));
    } catch (err) {
      if (options.format === 'csv' && header === null) throw err;
      report.errors++;
      if (report.errorSamples.length < 100)
        report.errorSamples.push({ line: lineNumber, message: errorMessage(err) });
      if (options.stopOnError) {
        await flush();
        throw new ValidationError(
          `line ${lineNumber}: ${errorMessage(err)} (import stopped; ${report.inserted} entries added before it)`,
          'KAI_ERR_IMPORT_LINE',
        );
      }
    }
    if (batch.length >= batchSize) await flush();
  }
  await flush();
  return report;
}

async function write(out: Writable, text: string): Promise<void> {
  if (!out.write(text)) await once(out, 'drain');
}

export function entryRecord(entry: Entry): Record<string, unknown> {
  return {
    signal_type: entry.signalType,
    value: entry.value,
    labels: entry.labels,
    note: entry.note,
    external_id: entry.externalId,
    status: entry.status,
  };
}

/** Writes every entry of the bank; the output re-imports to the same entries. Returns the count. */
export async function exportEntries(
  entries: EntryService,
  bankId: number,
  out: Writable,
  format: TransferFormat,
): Promise<number> {
  let count = 0;
  if (format === 'csv') await write(out, csvLine([...CSV_COLUMNS]));
  for await (const batch of entries.streamBank(bankId)) {
    let chunk = '';
    for (const entry of batch) {
      if (format === 'jsonl') chunk += JSON.stringify(entryRecord(entry)) + '\n';
      else
        chunk += csvLine([
          entry.signalType,
          entry.value,
          entry.labels.join('|'),
          entry.note,
          entry.externalId,
          entry.status,
        ]);
    }
    await write(out, chunk);
    count += batch.length;
  }
  return count;
}
