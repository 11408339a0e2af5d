/**
 * Hashes files on all cores: a pool of worker threads, each running hash-worker. Results arrive as they finish,
 * with the index of the input they belong to.
 */
import { existsSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import type { HashOptions, HashResult } from './hash-file.js';
import type { HashReply, HashTask } from './hash-worker.js';

export type PoolOutcome = { index: number; path: string } & (
  { ok: true; result: HashResult } | { ok: false; error: { code: string; message: string } }
);

/**
 * The compiled worker script. From dist it sits beside this module; from the TypeScript sources (tests) the
 * compiled copy in dist is used, so `npm run build` must have run.
 */
function workerScript(): string {
  const candidates = ['./hash-worker.js', '../../dist/src/hashing/hash-worker.js'].map((rel) =>
    fileURLToPath(new URL(rel, import.meta.url)),
  );
  const found = candidates.find((path) => existsSync(path));
  if (!found)
    throw new Error(`hash worker not found (looked in ${candidates.join(', ')}); run npm run build`);
  return found;
}

export async function* hashFilesInParallel(
  paths: string[],
  options: HashOptions,
  jobs = availableParallelism(),
): AsyncGenerator<PoolOutcome> {
  const workerCount = Math.max(1, Math.min(jobs, paths.length));
  const { onVideoProgress: _dropped, ...transferable } = options;
  const workers = Array.from({ length: workerCount }, () => new Worker(workerScript()));
  const ready: PoolOutcome[] = [];
  let wake: (() => void) | null = null;
  let next = 0;
  let done = 0;
  let crashed: Error | null = null;
  const dispatch = (worker: Worker) => {
    if (next >= paths.length) return;
    const task: HashTask = { id: next, path: paths[next], options: transferable };
    next++;
    worker.postMessage(task);
  };
  for (const worker of workers) {
    worker.on('message', (reply: HashReply) => {
      ready.push({
        index: reply.id,
        path: paths[reply.id],
        ...(reply.ok ? { ok: true, result: reply.result } : { ok: false, error: reply.error }),
      });
      done++;
      dispatch(worker);
      wake?.();
    });
    worker.on('error', (err) => {
      crashed = err;
      wake?.();
    });
    dispatch(worker);
  }
  try {
    while (done < paths.length) {
      if (crashed) throw crashed;
      if (ready.length === 0) await new Promise<void>((resolve) => (wake = resolve));
      wake = null;
      while (ready.length > 0) yield ready.shift()!;
    }
  } finally {
    await Promise.all(workers.map((w) => w.terminate()));
  }
}
