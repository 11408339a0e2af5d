/** Worker thread for the hashing pool: hashes the files it is sent, one at a time. */
import { parentPort } from 'node:worker_threads';
import { KaitiakiError } from '../core/errors.js';
import { hashFile, type HashOptions } from './hash-file.js';

export interface HashTask {
  id: number;
  path: string;
  options: HashOptions;
}

export type HashReply =
  | { id: number; ok: true; result: Awaited<ReturnType<typeof hashFile>> }
  | { id: number; ok: false; error: { code: string; message: string } };

parentPort?.on('message', async (task: HashTask) => {
  let reply: HashReply;
  try {
    reply = { id: task.id, ok: true, result: await hashFile(task.path, task.options) };
  } catch (err) {
    const code = err instanceof KaitiakiError ? err.code : 'KAI_ERR_INTERNAL';
    reply = {
      id: task.id,
      ok: false,
      error: { code, message: err instanceof Error ? err.message : String(err) },
    };
  }
  parentPort?.postMessage(reply);
});
