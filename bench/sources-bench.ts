/**
 * `npm run bench -- sources [--signals 200000]`: a CSV list followed as a subscription (`kaitiaki sharing
 * subscribe-list --sync` on a local file, as a user runs it: a child process, fresh SQLite store, FULL
 * durability), against the baseline in the same run: `kaitiaki bank import` of the same file into a plain bank.
 * Then the list changes (1% of rows replaced) and is synced again (the snapshot diff: 1% inserted, 1% deleted, the
 * rest untouched), and synced once more unchanged (the SHA-256 short cut).
 */
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';

const BIN = new URL('../src/bin/kaitiaki.js', import.meta.url).pathname;

function kaitiaki(args: string[], env: Record<string, string> = {}): { seconds: number; stdout: string } {
  const started = performance.now();
  const result = spawnSync(process.execPath, [BIN, ...args], {
    encoding: 'utf8',
    env: { ...process.env, ...env },
    maxBuffer: 64 * 1024 * 1024,
  });
  if (result.status !== 0)
    throw new Error(`kaitiaki ${args.join(' ')} failed: ${result.stderr}${result.stdout}`);
  return { seconds: (performance.now() - started) / 1000, stdout: result.stdout };
}

function writeList(file: string, values: string[]): void {
  const lines = ['signal_type,value,labels,external_id'];
  values.forEach((value, i) =>
    lines.push(`${value.length === 32 ? 'md5' : 'pdq'},${value},glorification,gifct-${i}`),
  );
  writeFileSync(file, lines.join('\n') + '\n');
}

export async function run(args: string[]): Promise<unknown> {
  const i = args.indexOf('--signals');
  const signals = Number(i >= 0 ? args[i + 1] : 200_000);
  const log = (m: string) => process.stderr.write(`bench sources: ${m}\n`);
  const dir = mkdtempSync(join(tmpdir(), 'kaitiaki-sources-bench-'));
  const load = () => loadavg().map((l) => Number(l.toFixed(2)));
  try {
    const values = Array.from({ length: signals }, (_, n) =>
      randomBytes(n % 10 === 9 ? 16 : 32).toString('hex'),
    );
    const list = join(dir, 'list.csv');
    writeList(list, values);
    const env = { KAITIAKI_SOURCE_FILE_ROOT: dir, KAITIAKI_SOURCE_MAX_BYTES: String(4 * 1024 ** 3) };
    const loadBefore = load();

    const importDir = join(dir, 'store-import');
    kaitiaki(['init', '--data-dir', importDir]);
    kaitiaki(['bank', 'create', 'GIFCT', '--data-dir', importDir]);
    const imported = kaitiaki(['bank', 'import', 'GIFCT', list, '--data-dir', importDir, '--no-progress']);
    log(`baseline bank import: ${signals} signals in ${imported.seconds.toFixed(1)} s`);

    const subDir = join(dir, 'store-sub');
    kaitiaki(['init', '--data-dir', subDir]);
    const first = kaitiaki(
      ['sharing', 'subscribe-list', 'GIFCT', 'list.csv', '--sync', '--data-dir', subDir],
      env,
    );
    if (!first.stdout.includes(`applied: ${signals} added or changed`)) throw new Error(first.stdout);
    log(`subscription, first sync: ${first.seconds.toFixed(1)} s`);

    const changed = Math.max(1, Math.round(signals / 100));
    for (let n = 0; n < changed; n++) values[n * 100] = randomBytes(32).toString('hex');
    writeList(list, values);
    const second = kaitiaki(['sharing', 'sync', 'GIFCT', '--data-dir', subDir], env);
    if (!second.stdout.includes(`applied: ${changed} added or changed, ${changed} deleted`))
      throw new Error(second.stdout);
    log(`changed list (${changed} replaced): ${second.seconds.toFixed(1)} s`);
    const third = kaitiaki(['sharing', 'sync', 'GIFCT', '--data-dir', subDir], env);
    if (!third.stdout.includes('unchanged')) throw new Error(third.stdout);
    log(`unchanged list: ${third.seconds.toFixed(1)} s`);
    return {
      signals,
      first_sync_seconds: first.seconds,
      first_sync_signals_per_s: Math.round(signals / first.seconds),
      baseline: { what: 'kaitiaki bank import of the same CSV, same run', seconds: imported.seconds },
      ratio_to_bank_import: first.seconds / imported.seconds,
      changed_rows: changed,
      changed_sync_seconds: second.seconds,
      unchanged_sync_seconds: third.seconds,
      load_before: loadBefore,
      load_after: load(),
      machine: '2 cores shared by 4 engineers, SQLite synchronous=FULL; times include process start',
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
