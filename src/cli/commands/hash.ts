/** `kaitiaki hash PATH...`: signals for files and directories, in parallel, with progress and a summary. */
import { readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { availableParallelism } from 'node:os';
import { SingleBar } from 'cli-progress';
import { InvalidArgumentError, type Command } from 'commander';
import { HASH_TYPES, type HashOptions, type HashResult, type HashType } from '../../hashing/hash-file.js';
import { hashFilesInParallel, type PoolOutcome } from '../../hashing/worker-pool.js';
import type { CliIo } from '../io.js';
import { csvLine, tableLines } from '../output.js';

type Format = 'jsonl' | 'csv' | 'table';

interface HashCommandOptions {
  recursive?: boolean;
  format?: Format;
  types?: HashType[];
  pdqResize: 'full' | 512;
  dihedral?: boolean;
  secondsPerHash: number;
  exifRotate?: boolean;
  jobs: number;
  progress: boolean;
}

function parseTypes(value: string): HashType[] {
  const types = value
    .split(',')
    .map((t) => t.trim().toLowerCase())
    .filter(Boolean);
  for (const t of types) {
    if (!(HASH_TYPES as readonly string[]).includes(t))
      throw new InvalidArgumentError(`unknown type "${t}" (known: ${HASH_TYPES.join(', ')})`);
  }
  return types as HashType[];
}

function parseResize(value: string): 'full' | 512 {
  if (value === 'full') return 'full';
  if (value === '512') return 512;
  throw new InvalidArgumentError('use 512 or full');
}

function parseSeconds(value: string): number {
  const n = Number(value);
  if (!Number.isFinite(n) || n < 0)
    throw new InvalidArgumentError('a number of seconds >= 0 (0 = every frame)');
  return n;
}

function parseJobs(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1 || n > 256)
    throw new InvalidArgumentError('a whole number from 1 to 256');
  return n;
}

function parseFormat(value: string): Format {
  if (value === 'jsonl' || value === 'csv' || value === 'table') return value;
  throw new InvalidArgumentError('jsonl, csv or table');
}

/** Expands the arguments to files; a directory without --recursive is reported as an error for that path. */
async function collectFiles(paths: string[], recursive: boolean): Promise<string[]> {
  const files: string[] = [];
  const walk = async (dir: string) => {
    const entries = (await readdir(dir, { withFileTypes: true })).sort((a, b) =>
      a.name.localeCompare(b.name),
    );
    for (const entry of entries) {
      const path = join(dir, entry.name);
      if (entry.isDirectory()) await walk(path);
      else files.push(path);
    }
  };
  for (const path of paths) {
    const info = await stat(path).catch(() => null);
    if (info?.isDirectory() && recursive) await walk(path);
    else files.push(path); // missing files and directories give their own error line
  }
  return files;
}

function jsonRecord(outcome: PoolOutcome): Record<string, unknown> {
  if (!outcome.ok) return { file: outcome.path, error: outcome.error };
  const r: HashResult = outcome.result;
  const record: Record<string, unknown> = { file: outcome.path, type: r.type };
  if (r.md5) record.md5 = r.md5;
  if (r.sha256) record.sha256 = r.sha256;
  if (r.pdq !== undefined) {
    record.pdq = r.pdq;
    record.quality = r.quality;
    if (!r.pdqUsable) record.pdq_usable = false;
  }
  if (r.dihedral) record.dihedral = r.dihedral;
  if (r.vpdq)
    record.vpdq = r.vpdq.map((f) => ({
      frame: f.frame,
      quality: f.quality,
      pdq: f.pdq,
      timestamp: Number(f.timestamp.toFixed(3)),
    }));
  return record;
}

const CSV_HEADER = ['file', 'type', 'md5', 'sha256', 'pdq', 'quality', 'pdq_usable', 'vpdq_frames', 'error'];

function csvRecord(outcome: PoolOutcome): unknown[] {
  if (!outcome.ok)
    return [outcome.path, '', '', '', '', '', '', '', `${outcome.error.code}: ${outcome.error.message}`];
  const r = outcome.result;
  return [
    outcome.path,
    r.type,
    r.md5,
    r.sha256,
    r.pdq,
    r.quality,
    r.pdq === undefined ? '' : String(r.pdqUsable),
    r.vpdq?.length,
    '',
  ];
}

function tableRow(outcome: PoolOutcome): string[] {
  if (!outcome.ok) return [outcome.path, 'error', `${outcome.error.code}: ${outcome.error.message}`, ''];
  const r = outcome.result;
  const signal = r.pdq ?? (r.vpdq ? `${r.vpdq.length} vPDQ frames` : (r.sha256 ?? ''));
  const quality = r.quality === undefined ? '' : `${r.quality}${r.pdqUsable ? '' : ' (too low to match)'}`;
  return [outcome.path, r.type, signal, quality];
}

async function hashCommand(paths: string[], options: HashCommandOptions, io: CliIo): Promise<void> {
  const started = Date.now();
  const files = await collectFiles(paths, Boolean(options.recursive));
  const format: Format = options.format ?? (io.stdout.isTTY ? 'table' : 'jsonl');
  const hashOptions: HashOptions = {
    types: options.types,
    pdqResize: options.pdqResize,
    dihedral: options.dihedral,
    secondsPerHash: options.secondsPerHash,
    exifRotate: options.exifRotate,
  };
  const showProgress = options.progress && Boolean(io.stderr.isTTY) && (!io.stdout.isTTY || files.length > 3);
  const bar = showProgress
    ? new SingleBar({
        stream: io.stderr,
        format: 'hashing [{bar}] {value}/{total} files | {eta}s left',
        hideCursor: true,
      })
    : null;
  bar?.start(files.length, 0);

  if (format === 'csv') io.stdout.write(csvLine(CSV_HEADER));
  // Results come back in completion order; they are printed in input order.
  const pending = new Map<number, PoolOutcome>();
  const tableRows: string[][] = [];
  let printed = 0;
  const counts = { photo: 0, video: 0, other: 0, failed: 0, lowQuality: 0 };
  const print = (outcome: PoolOutcome) => {
    if (outcome.ok) {
      counts[outcome.result.type]++;
      if (outcome.result.pdq !== undefined && !outcome.result.pdqUsable) counts.lowQuality++;
    } else counts.failed++;
    if (format === 'jsonl') io.stdout.write(JSON.stringify(jsonRecord(outcome)) + '\n');
    else if (format === 'csv') io.stdout.write(csvLine(csvRecord(outcome)));
    else tableRows.push(tableRow(outcome));
  };
  for await (const outcome of hashFilesInParallel(files, hashOptions, options.jobs)) {
    pending.set(outcome.index, outcome);
    while (pending.has(printed)) {
      print(pending.get(printed)!);
      pending.delete(printed++);
    }
    bar?.increment();
  }
  bar?.stop();
  if (format === 'table') io.stdout.write(tableLines(['file', 'type', 'signal', 'quality'], tableRows));
  const seconds = ((Date.now() - started) / 1000).toFixed(1);
  io.stderr.write(
    `hashed ${files.length - counts.failed} of ${files.length} files (${counts.photo} photos, ${counts.video} videos, ${counts.other} other) ` +
      `in ${seconds} s; ${counts.failed} failed; ${counts.lowQuality} with PDQ quality < 50 (not usable for matching)\n`,
  );
  if (counts.failed > 0) io.exitCode = 1;
}

export function registerHashCommand(program: Command, io: CliIo): void {
  program
    .command('hash')
    .description('compute signals (PDQ, vPDQ, MD5, SHA-256) for files and directories')
    .argument('<paths...>', 'files or directories')
    .option('-r, --recursive', 'hash the files inside directories')
    .option(
      '-f, --format <format>',
      'jsonl, csv or table (default: table on a terminal, else jsonl)',
      parseFormat,
    )
    .option('-t, --types <types>', `comma-separated subset of ${HASH_TYPES.join(',')}`, parseTypes)
    .option(
      '--pdq-resize <mode>',
      'full (default; what hash-sharing programmes use) or 512 (C++ CLI pipeline)',
      parseResize,
      'full',
    )
    .option('--dihedral', 'also print the 8 rotations and flips of each PDQ hash')
    .option('--seconds-per-hash <seconds>', 'vPDQ sampling interval; 0 = every frame', parseSeconds, 1)
    .option(
      '--exif-rotate',
      'apply the EXIF orientation before hashing (off: the reference hashers ignore it)',
    )
    .option('-j, --jobs <n>', 'worker threads', parseJobs, availableParallelism())
    .option('--no-progress', 'no progress bar')
    .action((paths: string[], options: HashCommandOptions) => hashCommand(paths, options, io));
}
