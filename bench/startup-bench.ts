/**
 * `npm run bench -- startup [--size 10000000]`: how long `kaitiaki serve` takes to open the store and load an
 * index of that many PDQ hashes from SQLite, until it answers.
 */
import { readConfig } from '../src/config/config.js';
import { AppContext } from '../src/context.js';
import { cleanup, freshStore, seed, startServer } from './server-harness.js';

export async function run(args: string[]): Promise<unknown> {
  const i = args.indexOf('--size');
  const size = Number(i >= 0 ? args[i + 1] : 10_000_000);
  const log = (m: string) => process.stderr.write(`bench startup: ${m}\n`);
  const { dataDir } = await freshStore('sqlite', 'startup');
  try {
    const ctx = await AppContext.open(readConfig({ KAITIAKI_SQLITE_SYNCHRONOUS: 'NORMAL' }, { dataDir }));
    const seedStart = performance.now();
    await seed(ctx, size, log);
    await ctx.close();
    const seedSeconds = (performance.now() - seedStart) / 1000;
    const server = await startServer(['--data-dir', dataDir], {});
    const ready = await fetch(`${server.url}/health/ready`);
    server.child.kill('SIGTERM');
    log(`${size} hashes: serving after ${server.startupSeconds.toFixed(1)} s`);
    return {
      backend: 'sqlite',
      index_size: size,
      startup_s: server.startupSeconds,
      ready_status: ready.status,
      seed_s: seedSeconds,
    };
  } finally {
    cleanup(dataDir);
  }
}
