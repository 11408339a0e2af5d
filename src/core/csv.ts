/**
 * CSV writing with RFC 4180 quoting, shared by the CLI printers and bank exports. A cell that a spreadsheet would
 * run as a formula (it begins with =, +, -, @, a tab or a carriage return) is written with a leading apostrophe,
 * which spreadsheets show as text; csvUnescape takes it off again on import, so exports still round-trip.
 */
const FORMULA_START = /^'*[=+\-@\t\r]/;

export function csvCell(value: unknown): string {
  const raw = value === undefined || value === null ? '' : String(value);
  const text = FORMULA_START.test(raw) ? `'${raw}` : raw;
  return /[",\n\r]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}

/** The value a csvCell was written from (after RFC 4180 unquoting). */
export function csvUnescape(cell: string): string {
  return cell.startsWith("'") && FORMULA_START.test(cell) ? cell.slice(1) : cell;
}

export function csvLine(values: unknown[]): string {
  return values.map(csvCell).join(',') + '\n';
}
