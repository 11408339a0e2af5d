/**
 * `npm run bench -- submissions [--size 100000] [--seconds 15] [--connections 20] [--backends sqlite,postgres]`:
 * POST /v1/submissions with signals, end to end (match, policy, submission row, case when queued, audit records,
 * all committed durably: SQLite with synchronous=FULL), half of them near-duplicates of banked hashes (queued for
 * review) and half unknown (no match), each with its own Idempotency-Key.
 */
import { randomUUID } from 'node:crypto';
import { readConfig } from '../src/config/config.js';
import { AppContext } from '../src/context.js';
import { benchArgs, cleanup, freshStore, load, queryHashes, seed, startServer } from './server-harness.js';

async function benchBackend(
  backend: 'sqlite' | 'postgres',
  size: number,
  seconds: number,
  connections: number,
) {
  const log = (m: string) => process.stderr.write(`bench submissions ${backend}: ${m}\n`);
  const { dataDir, databaseUrl } = await freshStore(backend, 'submissions');
  const ctx = await AppContext.open(
    readConfig({ KAITIAKI_SQLITE_SYNCHRONOUS: 'NORMAL' }, { dataDir, databaseUrl }),
  );
  const seeded = await seed(ctx, size, log);
  await ctx.close();
  const server = await startServer(databaseUrl ? ['--database-url', databaseUrl] : ['--data-dir', dataDir], {
    KAITIAKI_RATE_LIMIT_PER_MINUTE: '100000000',
  });
  try {
    const payloads = queryHashes(seeded.sample, 10_000).map((value, i) =>
      JSON.stringify({ external_id: `post-${i}`, signals: [{ type: 'pdq', value }] }),
    );
    const runId = randomUUID().slice(0, 8);
    const keys = (i: number) => ({ 'idempotency-key': `${runId}-${i}` });
    await load(server.url, '/v1/submissions', seeded.key, payloads, 2, connections, (i) =>
      keys(i + 10_000_000),
    ); // warm-up
    const result = await load(
      server.url,
      '/v1/submissions',
      seeded.key,
      payloads,
      seconds,
      connections,
      keys,
    );
    log(
      `${result.requests_per_s.toFixed(0)} submissions/s, p50 ${result.p50_ms} ms, p99 ${result.p99_ms} ms, ${result.errors} errors`,
    );
    return {
      backend,
      durable: backend === 'sqlite' ? 'synchronous=FULL' : 'PostgreSQL defaults (fsync on commit)',
      bank_size: size,
      connections,
      duration_s: seconds,
      submissions_per_s: result.requests_per_s,
      p50_ms: result.p50_ms,
      p99_ms: result.p99_ms,
      max_ms: result.max_ms,
      errors: result.errors,
      requests: result.requests,
    };
  } finally {
    server.child.kill('SIGTERM');
    cleanup(dataDir);
  }
}

export async function run(args: string[]): Promise<unknown> {
  const { size, seconds, connections, backends } = benchArgs(args, {
    size: 100_000,
    seconds: 15,
    connections: 20,
  });
  const runs = [];
  for (const backend of backends) runs.push(await benchBackend(backend, size, seconds, connections));
  return runs;
}
