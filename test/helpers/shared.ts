import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

/** `../shared` beside the project root: reference vectors that the project must not copy. */
export const SHARED_DIR = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..', '..', 'shared');
export const PDQ_DATA = join(SHARED_DIR, 'testdata', 'pdq');
export const VPDQ_DATA = join(SHARED_DIR, 'testdata', 'vpdq');

export function sharedAvailable(): boolean {
  return existsSync(join(PDQ_DATA, 'expected-full-resolution.csv'));
}

/** Rows of a CSV file with a header line, as objects keyed by the header's names. */
export function readCsv(path: string): Record<string, string>[] {
  const [header, ...lines] = readFileSync(path, 'utf8').trim().split(/\r?\n/);
  const names = header.split(',');
  return lines.map((line) => {
    const cells = line.split(',');
    return Object.fromEntries(names.map((name, i) => [name, cells[i]]));
  });
}
