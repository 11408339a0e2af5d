/**
 * `npm run bench -- api [--size 1000000] [--seconds 15] [--connections 50] [--backends sqlite,postgres]`:
 * /v1/match throughput and latency with a loaded index. Queries alternate between near-duplicates of indexed
 * hashes (a match, so the entry is read from the store) and random hashes (no match). Also reports the server's
 * start-up time (store open + index load) at that size.
 */
import { readConfig } from '../src/config/config.js';
import { AppContext } from '../src/context.js';
import { benchArgs, cleanup, freshStore, load, queryHashes, seed, startServer } from './server-harness.js';

async function benchBackend(
  backend: 'sqlite' | 'postgres',
  size: number,
  seconds: number,
  connections: number,
  workers: number,
) {
  const log = (m: string) => process.stderr.write(`bench api ${backend}: ${m}\n`);
  const { dataDir, databaseUrl } = await freshStore(backend, 'api');
  // Seeding is not what is measured: skip the per-commit fsync while loading.
  const ctx = await AppContext.open(
    readConfig({ KAITIAKI_SQLITE_SYNCHRONOUS: 'NORMAL' }, { dataDir, databaseUrl }),
  );
  const seeded = await seed(ctx, size, log);
  await ctx.close();
  const server = await startServer(
    [
      ...(databaseUrl ? ['--database-url', databaseUrl] : ['--data-dir', dataDir]),
      '--workers',
      String(workers),
    ],
    {
      KAITIAKI_RATE_LIMIT_PER_MINUTE: '100000000',
    },
  );
  log(`server up in ${server.startupSeconds.toFixed(1)} s with ${size} hashes`);
  try {
    const payloads = queryHashes(seeded.sample, 10_000).map((value) =>
      JSON.stringify({ signals: [{ type: 'pdq', value }] }),
    );
    await load(server.url, '/v1/match', seeded.key, payloads, 3, connections); // warm-up
    const result = await load(server.url, '/v1/match', seeded.key, payloads, seconds, connections);
    log(
      `${result.requests_per_s.toFixed(0)} req/s, p50 ${result.p50_ms} ms, p99 ${result.p99_ms} ms, ${result.errors} errors`,
    );
    return {
      backend,
      server_workers: workers,
      index_size: size,
      connections,
      duration_s: seconds,
      startup_s: server.startupSeconds,
      ...result,
    };
  } finally {
    server.child.kill('SIGTERM');
    cleanup(dataDir);
  }
}

export async function run(args: string[]): Promise<unknown> {
  const { size, seconds, connections, backends } = benchArgs(args, {
    size: 1_000_000,
    seconds: 15,
    connections: 50,
  });
  const runs = [];
  const i = args.indexOf('--server-workers');
  const workerCounts = (i >= 0 ? args[i + 1] : '1').split(',').map(Number);
  for (const backend of backends)
    for (const workers of workerCounts)
      runs.push(await benchBackend(backend, size, seconds, connections, workers));
  return runs;
}
