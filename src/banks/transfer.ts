/**
 * Bulk import and export of bank entries as JSON lines or CSV, streamed: lines are read and written in
 * batches, so a million entries never sit in memory at once. Import is idempotent on (bank, type, value) and
 * reports each bad line with its number instead of stopping (unless asked to stop at the first).
 */
import type { Readable, Writable } from 'node:stream';
import { once } from 'node:events';
import { StringDecoder } from 'node:string_decoder';
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
import { assertLabelsInTaxonomy } from '../store/labels.js';
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
  /** The bank's taxonomy (its label keys): a line with a label outside it is a bad line. Null or absent: none. */
  taxonomy?: ReadonlySet<string> | null;
  stopOnError?: boolean;
  batchSize?: number;
  onProgress?: (progress: ImportProgress) => void;
  /** Refuse lines longer than this (a single hostile line must not exhaust memory). */
  maxLineLength?: number;
}

const CSV_COLUMNS = ['signal_type', 'value', 'labels', 'note', 'external_id', 'status'] as const;

/**
 * Lines per transaction when the import has a process to itself (the CLI). Each commit syncs to disk and rewrites
 * every index page the batch touched, so big batches are far cheaper per line (1M signals at 2,000 a batch took
 * 64 s); a batch holds the write lock while it inserts, about a second here, which a server writing to the same
 * SQLite file waits out (busy_timeout is 10 s).
 */
const IMPORT_BATCH = 100_000;

/**
 * Lines per transaction for an import inside the server: better-sqlite3 runs a batch synchronously, so a batch
 * is a pause of the server's event loop and of its other writes; this keeps that pause near what it was before.
 */
export const SERVER_IMPORT_BATCH = 10_000;

/** readline's line breaks: \n, \r\n or a lone \r. */
const LINE_BREAK = /\r\n|\n|\r/;

/**
 * The lines of a stream, a chunk's worth at a time. readline hands out one line per awaited promise, and a million
 * of those cost about as much as parsing the lines; this breaks lines exactly where readline does, so line
 * numbers stay the same.
 */
async function* lineBatches(input: Readable): AsyncGenerator<string[]> {
  const decoder = new StringDecoder('utf8');
  let rest = '';
  for await (const chunk of input as AsyncIterable<Buffer | string>) {
    const text = rest + (typeof chunk === 'string' ? chunk : decoder.write(chunk));
    // A chunk that ends in \r may end half of a \r\n: that \r waits for the next chunk.
    const end = text.endsWith('\r') ? text.length - 1 : text.length;
    const lines = text.slice(0, end).split(LINE_BREAK);
    rest = lines.pop()! + text.slice(end);
    if (lines.length > 0) yield lines;
  }
  const lines = (rest + decoder.end()).split(LINE_BREAK);
  if (lines[lines.length - 1] === '') lines.pop();
  if (lines.length > 0) yield lines;
}

/** Splits one CSV line (RFC 4180 quoting; fields may not span lines). */
export function splitCsvLine(line: string): string[] {
  // Most lines of a hash list quote nothing; those split natively, far faster than the loop below.
  if (!line.includes('"')) return line.split(',');
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

/** Where each known column sits in the header's order (-1 when absent), looked up once per file. */
type CsvLayout = Record<(typeof CSV_COLUMNS)[number], number> & { width: number };

function csvLayout(header: string[]): CsvLayout {
  const layout = { width: header.length } as CsvLayout;
  for (const column of CSV_COLUMNS) layout[column] = header.indexOf(column);
  return layout;
}

function entryFromCsv(cells: string[], layout: CsvLayout): EntryInput {
  const get = (i: number) => (i >= 0 ? csvUnescape(cells[i]) : undefined);
  if (cells.length !== layout.width)
    throw new ValidationError(`expected ${layout.width} fields, got ${cells.length}`);
  return {
    signalType: get(layout.signal_type) ?? '',
    value: get(layout.value) ?? '',
    labels: splitLabels(get(layout.labels)),
    note: get(layout.note) || null,
    externalId: get(layout.external_id) || null,
    status: (get(layout.status) || undefined) as EntryInput['status'],
  };
}

function validateCsvHeader(line: string): CsvLayout {
  const header = splitCsvLine(line.replace(/^\uFEFF/, '')).map((h) => h.trim().toLowerCase());
  const unknown = header.filter((h) => !(CSV_COLUMNS as readonly string[]).includes(h));
  if (unknown.length > 0)
    throw new ValidationError(
      `CSV header has unknown column(s) ${unknown.join(', ')}; known: ${CSV_COLUMNS.join(', ')}`,
    );
  if (!header.includes('signal_type') || !header.includes('value'))
    throw new ValidationError('CSV header must name signal_type and value');
  return csvLayout(header);
}

export async function importEntries(
  entries: EntryService,
  bank: Bank,
  input: Readable,
  options: ImportOptions,
): Promise<ImportReport> {
  const batchSize = options.batchSize ?? IMPORT_BATCH;
  const maxLineLength = options.maxLineLength ?? 2_000_000;
  const report: ImportReport = { lines: 0, inserted: 0, duplicates: 0, errors: 0, errorSamples: [] };
  const context = {
    bankId: bank.id,
    orgId: bank.orgId,
    contributorOrgId: options.contributorOrgId,
    source: options.source ?? 'import',
    defaultLabels: bank.defaultLabels,
    now: new Date().toISOString(),
  };
  let batch: Omit<NewEntryRow, 'seq'>[] = [];
  let header: CsvLayout | null = null;
  const flush = async () => {
    if (batch.length === 0) return;
    const inserted = await entries.insertManyCounting(batch);
    report.inserted += inserted;
    report.duplicates += batch.length - inserted;
    batch = [];
    context.now = new Date().toISOString();
    options.onProgress?.({
      lines: report.lines,
      inserted: report.inserted,
      duplicates: report.duplicates,
      errors: report.errors,
    });
  };
  let lineNumber = 0;
  for await (const lines of lineBatches(input)) {
    for (const line of lines) {
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
        // Default labels are checked when set; only the labels a line gives can fall outside the taxonomy.
        if (input.labels) assertLabelsInTaxonomy(input.labels, options.taxonomy ?? null, bank);
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
