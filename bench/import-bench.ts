/**
 * `npm run bench -- import [--signals 1000000]`: `kaitiaki bank import` of a list of GIFCT-like size, as a user
 * runs it (a child process on a fresh SQLite store, FULL durability), from CSV and from JSON lines; then the same
 * file imported again (every line already there: the idempotent path). The baseline in the same run is the floor
 * SQLite itself sets: the same rows inserted with one prepared statement into a table with the same indexes.
 */
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import BetterSqlite3 from 'better-sqlite3';

const BIN = new URL('../src/bin/kaitiaki.js', import.meta.url).pathname;

function kaitiaki(args: string[]): { seconds: number; stdout: string } {
  const started = performance.now();
  const result = spawnSync(process.execPath, [BIN, ...args], { encoding: 'utf8' });
  if (result.status !== 0 && result.status !== 1)
    throw new Error(`kaitiaki ${args.join(' ')} failed: ${result.stderr}`);
  return { seconds: (performance.now() - started) / 1000, stdout: result.stdout };
}

function writeList(dir: string, signals: number): { csv: string; jsonl: string; values: string[] } {
  const values = Array.from({ length: signals }, (_, i) =>
    i % 10 === 9 ? randomBytes(16).toString('hex') : randomBytes(32).toString('hex'),
  );
  const type = (i: number) => (i % 10 === 9 ? 'md5' : 'pdq');
  const csv = join(dir, 'list.csv');
  const jsonl = join(dir, 'list.jsonl');
  const csvLines = ['signal_type,value,labels,external_id'];
  const jsonLines: string[] = [];
  values.forEach((value, i) => {
    csvLines.push(`${type(i)},${value},glorification,gifct-${i}`);
    jsonLines.push(
      JSON.stringify({ signal_type: type(i), value, labels: ['glorification'], external_id: `gifct-${i}` }),
    );
  });
  writeFileSync(csv, csvLines.join('\n') + '\n');
  writeFileSync(jsonl, jsonLines.join('\n') + '\n');
  return { csv, jsonl, values };
}

/** The same rows through one prepared INSERT per row, 2,000 rows a transaction: what SQLite alone costs. */
function sqliteFloor(dir: string, values: string[]): number {
  const db = new BetterSqlite3(join(dir, 'floor.sqlite'));
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = FULL');
  db.pragma('cache_size = -131072');
  db.exec(`create table entries (id integer primary key autoincrement, bank_id integer, org_id integer,
    signal_type text, value text, labels text, contributor_org_id integer, source text, external_id text,
    note text, status text, created_at text, updated_at text, seq integer,
    unique (bank_id, signal_type, value));
    create index entries_seq on entries (seq); create index entries_bank_id on entries (bank_id, id);`);
  const insert =
    db.prepare(`insert into entries (bank_id, org_id, signal_type, value, labels, contributor_org_id,
    source, external_id, note, status, created_at, updated_at, seq) values (1, 1, ?, ?, '["glorification"]', 1,
    'import', ?, null, 'active', ?, ?, ?) on conflict do nothing`);
  const started = performance.now();
  const batch = db.transaction((from: number, to: number) => {
    const now = new Date().toISOString();
    for (let i = from; i < to; i++)
      insert.run(i % 10 === 9 ? 'md5' : 'pdq', values[i], `gifct-${i}`, now, now, i);
  });
  for (let i = 0; i < values.length; i += 2000) batch(i, Math.min(values.length, i + 2000));
  db.close();
  return (performance.now() - started) / 1000;
}

export async function run(args: string[]): Promise<unknown> {
  const i = args.indexOf('--signals');
  const signals = Number(i >= 0 ? args[i + 1] : 1_000_000);
  const log = (m: string) => process.stderr.write(`bench import: ${m}\n`);
  const dir = mkdtempSync(join(tmpdir(), 'kaitiaki-import-bench-'));
  // The machine is shared: its load says how much of the two cores this run had (the floor below ran alongside).
  const loadBefore = loadavg()[0];
  try {
    const list = writeList(dir, signals);
    const runs: Record<string, unknown>[] = [];
    for (const [format, file] of [
      ['csv', list.csv],
      ['jsonl', list.jsonl],
    ] as const) {
      const dataDir = join(dir, `store-${format}`);
      kaitiaki(['init', '--data-dir', dataDir]);
      kaitiaki(['bank', 'create', 'GIFCT', '--data-dir', dataDir]);
      const first = kaitiaki(['bank', 'import', 'GIFCT', file, '--data-dir', dataDir, '--no-progress']);
      if (!first.stdout.includes(`${signals} new`))
        throw new Error(`unexpected import result: ${first.stdout}`);
      const again = kaitiaki(['bank', 'import', 'GIFCT', file, '--data-dir', dataDir, '--no-progress']);
      if (!again.stdout.includes(`${signals} already there`))
        throw new Error(`unexpected re-import: ${again.stdout}`);
      log(
        `${format}: ${signals} signals in ${first.seconds.toFixed(1)} s; again (all there) ${again.seconds.toFixed(1)} s`,
      );
      runs.push({
        format,
        signals,
        seconds: first.seconds,
        signals_per_s: Math.round(signals / first.seconds),
        reimport_seconds: again.seconds,
      });
    }
    const floor = sqliteFloor(dir, list.values);
    log(`SQLite floor (prepared inserts): ${floor.toFixed(1)} s`);
    const csvRun = runs[0] as { seconds: number };
    return {
      signals,
      seconds: csvRun.seconds,
      signals_per_s: Math.round(signals / csvRun.seconds),
      target_seconds: 20,
      runs,
      baseline: { what: 'prepared INSERT per row, same indexes, same durability', seconds: floor },
      ratio_to_sqlite_floor: csvRun.seconds / floor,
      machine: '2 cores, SQLite synchronous=FULL',
      load_average: { before: loadBefore, after: loadavg()[0] },
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
