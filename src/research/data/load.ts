/**
 * Reading exposure events from CSV (with a header line) or JSON lines, streamed: rows are yielded one at a time
 * with their line number, validated against the dataset's public keys and bounds.
 */
import { createInterface } from 'node:readline';
import type { Readable } from 'node:stream';
import { ValidationError } from '../../core/errors.js';
import {
  ALL_COLUMNS,
  CATEGORICAL_COLUMNS,
  DEFAULT_BOUNDS,
  IDENTIFIER_COLUMNS,
  NUMERIC_COLUMNS,
  type DatasetMeta,
  type EventRow,
} from './events.js';

export type InputFormat = 'csv' | 'jsonl';

function rowError(line: number, message: string): ValidationError {
  return new ValidationError(`line ${line}: ${message}`, 'KAI_ERR_RESEARCH_ROW');
}

/** Checks one parsed record and returns it as an EventRow. */
export function validateRow(meta: DatasetMeta, record: Record<string, unknown>, line: number): EventRow {
  for (const key of Object.keys(record)) {
    if (!(ALL_COLUMNS as readonly string[]).includes(key)) throw rowError(line, `unknown column "${key}"`);
  }
  const row: Partial<EventRow> = {};
  for (const c of IDENTIFIER_COLUMNS) {
    const v = record[c];
    const s = typeof v === 'number' && Number.isFinite(v) ? String(v) : v;
    if (typeof s !== 'string' || s.length === 0 || s.length > 200) throw rowError(line, `${c} must be a non-empty string of at most 200 characters`);
    row[c] = s;
  }
  for (const c of CATEGORICAL_COLUMNS) {
    const v = record[c];
    if (typeof v !== 'string' || !meta.publicKeys[c].includes(v)) {
      throw rowError(line, `${c} ${JSON.stringify(v)} is not in the public key set (${meta.publicKeys[c].join(', ')})`);
    }
    row[c] = v;
  }
  for (const c of NUMERIC_COLUMNS) {
    const raw = record[c];
    const v = typeof raw === 'string' && raw.trim() !== '' ? Number(raw) : raw;
    const [low, high] = meta.bounds[c] ?? DEFAULT_BOUNDS[c];
    if (typeof v !== 'number' || !Number.isFinite(v) || v < low || v > high) {
      throw rowError(line, `${c} must be a number in [${low}, ${high}], got ${JSON.stringify(raw)}`);
    }
    if (c !== 'ts' && !Number.isInteger(v)) throw rowError(line, `${c} must be an integer`);
    if ((c === 'engaged' || c === 'linger') && v !== 0 && v !== 1) throw rowError(line, `${c} must be 0 or 1`);
    row[c] = v;
  }
  return row as EventRow;
}

/** Splits one CSV line (RFC 4180 quoting; no newlines inside fields). */
function splitCsv(line: string, lineNo: number): string[] {
  const out: string[] = [];
  let i = 0;
  while (i <= line.length) {
    if (line[i] === '"') {
      let value = '';
      i++;
      for (;;) {
        if (i >= line.length) throw rowError(lineNo, 'unterminated quoted field');
        if (line[i] === '"') {
          if (line[i + 1] === '"') {
            value += '"';
            i += 2;
            continue;
          }
          i++;
          break;
        }
        value += line[i++];
      }
      out.push(value);
      if (i < line.length && line[i] !== ',') throw rowError(lineNo, 'text after a quoted field');
      i++;
    } else {
      const end = line.indexOf(',', i);
      const stop = end === -1 ? line.length : end;
      out.push(line.slice(i, stop));
      i = stop + 1;
    }
  }
  return out;
}

/** Yields validated rows from a stream, with their 1-based line numbers. */
export async function* readEvents(
  input: Readable,
  format: InputFormat,
  meta: DatasetMeta,
): AsyncGenerator<EventRow> {
  const lines = createInterface({ input, crlfDelay: Infinity });
  let lineNo = 0;
  let header: string[] | null = null;
  for await (const raw of lines) {
    lineNo++;
    const line = raw.trim();
    if (line === '') continue;
    if (line.length > 100_000) throw rowError(lineNo, 'line longer than 100,000 characters');
    let record: Record<string, unknown>;
    if (format === 'jsonl') {
      let parsed: unknown;
      try {
        parsed = JSON.parse(line);
      } catch {
        throw rowError(lineNo, 'not valid JSON');
      }
      if (!parsed || typeof parsed !== 'object' || Array.isArray(parsed)) throw rowError(lineNo, 'must be a JSON object');
      record = parsed as Record<string, unknown>;
    } else {
      const cells = splitCsv(line, lineNo);
      if (!header) {
        header = cells.map((c) => c.trim());
        const missing = ALL_COLUMNS.filter((c) => !header!.includes(c));
        if (missing.length) throw rowError(lineNo, `the header lacks ${missing.join(', ')}`);
        continue;
      }
      if (cells.length !== header.length) throw rowError(lineNo, `${cells.length} fields, the header has ${header.length}`);
      record = Object.fromEntries(header.map((h, i) => [h, cells[i]]));
    }
    yield validateRow(meta, record, lineNo);
  }
  if (format === 'csv' && !header) throw new ValidationError('the CSV input is empty (no header line)', 'KAI_ERR_RESEARCH_ROW');
}

/** One row as a CSV line in ALL_COLUMNS order (the generator's output format). */
export function eventCsvHeader(): string {
  return ALL_COLUMNS.join(',') + '\n';
}

export function eventCsvLine(row: EventRow): string {
  return (
    ALL_COLUMNS.map((c) => {
      const v = String(row[c]);
      return /[",\n\r]/.test(v) ? `"${v.replace(/"/g, '""')}"` : v;
    }).join(',') + '\n'
  );
}
