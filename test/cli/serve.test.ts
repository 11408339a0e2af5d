/**
 * `kaitiaki serve --workers 2`: two processes share the port, each with its own index; a write through one is
 * found by the other within the change feed's poll interval (the multi-process design, on one machine).
 */
import { spawn } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { BIN, runCli } from '../helpers/cli.js';

const HASH = '30a10efd71cc3d429013d48d0ffffc52e34e0e17ada952a9d29685211ea9e5af';

describe('kaitiaki serve --workers', () => {
  it('serves from two processes that stay in step through the store', async () => {
    const dataDir = join(mkdtempSync(join(tmpdir(), 'kaitiaki-workers-')), 'data');
    const key = JSON.parse((await runCli(['init', '--data-dir', dataDir, '--json'])).stdout)
      .admin_key as string;
    const child = spawn(
      process.execPath,
      [BIN, 'serve', '--data-dir', dataDir, '--port', '0', '--quiet', '--workers', '2'],
      {
        stdio: ['ignore', 'pipe', 'pipe'],
        env: { ...process.env, KAITIAKI_INDEX_POLL_MS: '200' },
      },
    );
    try {
      const url = await new Promise<string>((resolve, reject) => {
        let out = '';
        child.stdout.on('data', (d: Buffer) => {
          out += d.toString();
          const m = /serving on (http:\/\/\S+) with 2 workers/.exec(out);
          if (m) resolve(m[1]);
        });
        child.on('exit', (code) => reject(new Error(`serve exited ${code}`)));
      });
      const call = async (method: string, path: string, body?: unknown) => {
        const response = await fetch(`${url}${path}`, {
          method,
          // A new connection per request, so the cluster spreads them over both processes.
          headers: {
            authorization: `Bearer ${key}`,
            'content-type': 'application/json',
            connection: 'close',
          },
          body: body === undefined ? undefined : JSON.stringify(body),
        });
        return (await response.json()) as Record<string, unknown>;
      };
      const bank = await call('POST', '/v1/banks', { name: 'SHARED' });
      await call('POST', `/v1/banks/${bank.id}/entries`, { signal_type: 'pdq', value: HASH });
      // Requests go to either process; after a poll interval both must find the new entry.
      await new Promise((r) => setTimeout(r, 1000));
      for (let i = 0; i < 10; i++) {
        const result = await call('POST', '/v1/match', { signals: [{ type: 'pdq', value: HASH }] });
        expect((result.matches as unknown[]).length, `request ${i}`).toBe(1);
      }
    } finally {
      child.kill('SIGTERM');
      await new Promise((r) => child.once('exit', r));
    }
  }, 30_000);
});
