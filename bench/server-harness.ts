/**
 * Shared by the HTTP benchmarks: a seeded store, `kaitiaki serve` in its own process, and autocannon in this one
 * (the server and the load generator each get one of the machine's two cores).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import autocannon from 'autocannon';
import pg from 'pg';
import { initialise } from '../src/cli/commands/init.js';
import { xorshift32 as xorshift } from '../src/core/random.js';
import type { AppContext } from '../src/context.js';
import { pdqWordsToHex } from '../src/hashing/pdq/hash256.js';
import { prepareEntry } from '../src/store/entries.js';

const BIN = new URL('../src/bin/kaitiaki.js', import.meta.url).pathname;
const POSTGRES_ADMIN_URL =
  process.env.KAITIAKI_BENCH_POSTGRES_URL ?? 'postgres://postgres@127.0.0.1:5432/test';

function randomWords(next: () => number): Uint32Array {
  return Uint32Array.from({ length: 8 }, () => next());
}

export async function seed(
  ctx: AppContext,
  size: number,
  log: (m: string) => void,
): Promise<{ key: string; sample: Uint32Array[] }> {
  const init = await initialise(ctx, 'Bench platform');
  const org = init.organisation.id;
  const bank = await ctx.banks.create(org, { name: 'BENCH' });
  const next = xorshift(12345);
  const sample: Uint32Array[] = [];
  const context = {
    bankId: bank.id,
    orgId: org,
    contributorOrgId: org,
    source: 'import' as const,
    defaultLabels: [],
  };
  for (let start = 0; start < size; start += 5000) {
    const rows = [];
    for (let i = start; i < Math.min(size, start + 5000); i++) {
      const words = randomWords(next);
      if (sample.length < 5000 && i % 97 === 0) sample.push(words);
      rows.push(prepareEntry({ signalType: 'pdq', value: pdqWordsToHex(words) }, context));
    }
    await ctx.entries.insertMany(rows);
    if (start % 200_000 === 0) log(`seeded ${start} entries`);
  }
  const { key } = await ctx.apiKeys.create(org, { name: 'bench', role: 'integration' });
  return { key, sample };
}

export function startServer(
  args: string[],
  env: Record<string, string>,
): Promise<{ child: ChildProcess; url: string; startupSeconds: number }> {
  const started = performance.now();
  const profile = process.env.BENCH_CPU_PROF
    ? [`--cpu-prof`, `--cpu-prof-dir=${process.env.BENCH_CPU_PROF}`]
    : [];
  const child = spawn(process.execPath, [...profile, BIN, 'serve', '--quiet', '--port', '0', ...args], {
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  return new Promise((resolve, reject) => {
    let out = '';
    child.stdout!.on('data', (d: Buffer) => {
      out += d.toString();
      const match = /serving on (http:\/\/\S+)/.exec(out);
      if (match) resolve({ child, url: match[1], startupSeconds: (performance.now() - started) / 1000 });
    });
    child.stderr!.on('data', (d: Buffer) => process.stderr.write(d));
    child.on('exit', (code) => reject(new Error(`server exited with ${code} before serving`)));
  });
}

/** Near-duplicates of indexed hashes (half) and random hashes (half), as PDQ hex. */
export function queryHashes(sample: Uint32Array[], count: number): string[] {
  const next = xorshift(777);
  return Array.from({ length: count }, (_, i) => {
    let words: Uint32Array;
    if (i % 2 === 0) {
      words = Uint32Array.from(sample[next() % sample.length]);
      for (let f = next() % 20; f > 0; f--) {
        const bit = next() % 256;
        words[bit >> 5] ^= 1 << (bit & 31);
      }
    } else words = randomWords(next);
    return pdqWordsToHex(words);
  });
}

export async function load(
  url: string,
  path: string,
  key: string,
  payloads: string[],
  seconds: number,
  connections: number,
  headers: (i: number) => Record<string, string> = () => ({}),
) {
  let i = 0;
  const result = await autocannon({
    url: `${url}${path}`,
    connections,
    duration: seconds,
    method: 'POST',
    headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
    requests: [
      {
        setupRequest: (request) => {
          const n = i++;
          return {
            ...request,
            body: payloads[n % payloads.length],
            headers: { ...request.headers, ...headers(n) },
          };
        },
      },
    ],
  });
  return {
    requests_per_s: result.requests.average,
    p50_ms: result.latency.p50,
    p99_ms: result.latency.p99,
    max_ms: result.latency.max,
    errors: result.errors + result.non2xx + result.timeouts,
    requests: result.requests.total,
  };
}

/** A fresh store for a backend: a temporary SQLite directory, or a new PostgreSQL database. */
export async function freshStore(
  backend: 'sqlite' | 'postgres',
  name: string,
): Promise<{ dataDir: string; databaseUrl: string | null }> {
  const dataDir = mkdtempSync(join(tmpdir(), `kaitiaki-bench-${name}-`));
  if (backend === 'sqlite') return { dataDir, databaseUrl: null };
  const admin = new pg.Client({ connectionString: POSTGRES_ADMIN_URL });
  await admin.connect();
  await admin.query(`drop database if exists kaitiaki_bench_${name}`);
  await admin.query(`create database kaitiaki_bench_${name}`);
  await admin.end();
  return { dataDir, databaseUrl: new URL(`/kaitiaki_bench_${name}`, POSTGRES_ADMIN_URL).toString() };
}

export function cleanup(dataDir: string): void {
  rmSync(dataDir, { recursive: true, force: true });
}

export type Backend = 'sqlite' | 'postgres';

/** `--size N --seconds N --connections N --backends sqlite,postgres`, with the benchmark's own defaults. */
export function benchArgs(args: string[], defaults: { size: number; seconds: number; connections: number }) {
  const get = (name: string, fallback: string) => {
    const i = args.indexOf(name);
    return i >= 0 ? args[i + 1] : fallback;
  };
  return {
    size: Number(get('--size', String(defaults.size))),
    seconds: Number(get('--seconds', String(defaults.seconds))),
    connections: Number(get('--connections', String(defaults.connections))),
    backends: get('--backends', 'sqlite,postgres').split(',') as Backend[],
  };
}

/** One JSON call to a served instance with an API key; an error status throws with the answer's start. */
export async function api(base: string, key: string, method: string, path: string, body?: unknown) {
  const response = await fetch(`${base}${path}`, {
    method,
    headers: {
      authorization: `Bearer ${key}`,
      ...(body === undefined ? {} : { 'content-type': 'application/json' }),
    },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  const text = await response.text();
  if (response.status >= 400) throw new Error(`${method} ${path}: ${response.status} ${text.slice(0, 200)}`);
  return text ? JSON.parse(text) : null;
}
