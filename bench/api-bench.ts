/**
 * `npm run bench -- api [--size 1000000] [--seconds 15] [--connections 50] [--backends sqlite,postgres]`:
 * /v1/match throughput and latency with a loaded index, the server in its own process (`kaitiaki serve`), the
 * load generator (autocannon) in this one. Queries alternate between near-duplicates of indexed hashes (a match,
 * so the entry is read from the store) and random hashes (no match). Also reports the server's start-up time
 * (store open + index load) at that size.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import autocannon from 'autocannon';
import pg from 'pg';
import { initialise } from '../src/cli/commands/init.js';
import { xorshift32 as xorshift } from '../src/core/random.js';
import { readConfig } from '../src/config/config.js';
import { AppContext } from '../src/context.js';
import { pdqWordsToHex } from '../src/hashing/pdq/hash256.js';
import { prepareEntry } from '../src/store/entries.js';

const BIN = new URL('../src/bin/kaitiaki.js', import.meta.url).pathname;
const POSTGRES_ADMIN_URL =
  process.env.KAITIAKI_BENCH_POSTGRES_URL ?? 'postgres://postgres@127.0.0.1:5432/test';

function randomWords(next: () => number): Uint32Array {
  return Uint32Array.from({ length: 8 }, () => next());
}

async function seed(
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

function startServer(
  args: string[],
  env: Record<string, string>,
): Promise<{ child: ChildProcess; url: string; startupSeconds: number }> {
  const started = performance.now();
  const child = spawn(process.execPath, [BIN, 'serve', '--quiet', '--port', '0', ...args], {
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

function bodies(sample: Uint32Array[], count: number): string[] {
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
    return JSON.stringify({ signals: [{ type: 'pdq', value: pdqWordsToHex(words) }] });
  });
}

async function load(url: string, key: string, payloads: string[], seconds: number, connections: number) {
  let i = 0;
  const result = await autocannon({
    url: `${url}/v1/match`,
    connections,
    duration: seconds,
    method: 'POST',
    headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
    requests: [{ setupRequest: (request) => ({ ...request, body: payloads[i++ % payloads.length] }) }],
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

async function benchBackend(
  backend: 'sqlite' | 'postgres',
  size: number,
  seconds: number,
  connections: number,
) {
  const log = (m: string) => process.stderr.write(`bench api ${backend}: ${m}\n`);
  const dataDir = mkdtempSync(join(tmpdir(), 'kaitiaki-bench-api-'));
  let databaseUrl: string | null = null;
  if (backend === 'postgres') {
    const admin = new pg.Client({ connectionString: POSTGRES_ADMIN_URL });
    await admin.connect();
    await admin.query('drop database if exists kaitiaki_bench');
    await admin.query('create database kaitiaki_bench');
    await admin.end();
    databaseUrl = new URL('/kaitiaki_bench', POSTGRES_ADMIN_URL).toString();
  }
  // Seeding is not what is measured: skip the per-commit fsync while loading.
  const config = readConfig({ KAITIAKI_SQLITE_SYNCHRONOUS: 'NORMAL' }, { dataDir, databaseUrl });
  const ctx = await AppContext.open(config);
  const seeded = await seed(ctx, size, log);
  await ctx.close();
  const serverArgs = databaseUrl ? ['--database-url', databaseUrl] : ['--data-dir', dataDir];
  const server = await startServer(serverArgs, { KAITIAKI_RATE_LIMIT_PER_MINUTE: '100000000' });
  log(`server up in ${server.startupSeconds.toFixed(1)} s with ${size} hashes`);
  try {
    const payloads = bodies(seeded.sample, 10_000);
    await load(server.url, seeded.key, payloads, 3, connections); // warm-up
    const result = await load(server.url, seeded.key, payloads, seconds, connections);
    log(
      `${result.requests_per_s.toFixed(0)} req/s, p50 ${result.p50_ms} ms, p99 ${result.p99_ms} ms, ${result.errors} errors`,
    );
    return {
      backend,
      index_size: size,
      connections,
      duration_s: seconds,
      startup_s: server.startupSeconds,
      ...result,
    };
  } finally {
    server.child.kill('SIGTERM');
    rmSync(dataDir, { recursive: true, force: true });
  }
}

export async function run(args: string[]): Promise<unknown> {
  const get = (name: string, fallback: string) => {
    const i = args.indexOf(name);
    return i >= 0 ? args[i + 1] : fallback;
  };
  const size = Number(get('--size', '1000000'));
  const seconds = Number(get('--seconds', '15'));
  const connections = Number(get('--connections', '50'));
  const backends = get('--backends', 'sqlite,postgres').split(',') as ('sqlite' | 'postgres')[];
  const runs = [];
  for (const backend of backends) runs.push(await benchBackend(backend, size, seconds, connections));
  return runs;
}
