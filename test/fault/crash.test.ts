/**
 * Fault tests with a real server process: SIGKILL in the middle of a burst of submissions, then restart.
 * Every submission that was answered 2xx must be stored exactly once, retries with the same Idempotency-Key
 * must not duplicate anything, and every decided action must be delivered after the restart.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, describe, expect, it } from 'vitest';
import { BIN, runCli } from '../helpers/cli.js';

const KNOWN = 'f8f8f0cee0f4a84f06370a22038f63f0b36e2ed596621e1d33e6b39c4e9c9b22';
const NEAR = KNOWN.slice(0, 60) + '0000';

function serve(dataDir: string): Promise<{ child: ChildProcess; url: string }> {
  const child = spawn(process.execPath, [BIN, 'serve', '--data-dir', dataDir, '--port', '0', '--quiet'], {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, KAITIAKI_WEBHOOK_ALLOWED_HOSTS: '127.0.0.1' },
  });
  return new Promise((resolve, reject) => {
    let out = '';
    child.stdout!.on('data', (d: Buffer) => {
      out += d.toString();
      const m = /serving on (http:\/\/\S+)/.exec(out);
      if (m) resolve({ child, url: m[1] });
    });
    child.on('exit', (code) => reject(new Error(`server exited (${code}) before serving`)));
  });
}

describe('crash safety (SIGKILL during a burst)', () => {
  const dataDir = join(mkdtempSync(join(tmpdir(), 'kaitiaki-crash-')), 'data');
  const received = new Map<string, number>();
  const hookServer = createServer((req, res) => {
    const id = String(req.headers['kaitiaki-action-id']);
    received.set(id, (received.get(id) ?? 0) + 1);
    req.resume();
    req.on('end', () => res.writeHead(204).end());
  });
  let child: ChildProcess | null = null;
  afterAll(() => {
    child?.kill('SIGKILL');
    hookServer.close();
  });

  it('keeps every answered submission exactly once and delivers every decided action', async () => {
    await new Promise<void>((r) => hookServer.listen(0, '127.0.0.1', r));
    const hookUrl = `http://127.0.0.1:${(hookServer.address() as AddressInfo).port}/hook`;
    const key = JSON.parse((await runCli(['init', '--data-dir', dataDir, '--json'])).stdout)
      .admin_key as string;
    let server = await serve(dataDir);
    child = server.child;
    const call = (
      url: string,
      method: string,
      path: string,
      body?: unknown,
      headers: Record<string, string> = {},
    ) =>
      fetch(`${url}${path}`, {
        signal: AbortSignal.timeout(5000),
        method,
        headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json', ...headers },
        body: body === undefined ? undefined : JSON.stringify(body),
      });
    const bank = (await (await call(server.url, 'POST', '/v1/banks', { name: 'KNOWN' })).json()) as {
      id: number;
    };
    await call(server.url, 'POST', `/v1/banks/${bank.id}/entries`, { signal_type: 'pdq', value: KNOWN });
    await call(server.url, 'POST', '/v1/webhooks', { url: hookUrl });

    // Decide a few cases, then crash right away (deliveries may or may not have happened).
    const decided: string[] = [];
    for (let i = 0; i < 5; i++) {
      const s = (await (
        await call(server.url, 'POST', '/v1/submissions', {
          external_id: `decided-${i}`,
          signals: [{ type: 'pdq', value: NEAR }],
        })
      ).json()) as { case_id: number };
      const d = (await (
        await call(server.url, 'POST', `/v1/cases/${s.case_id}/decision`, {
          decision: 'remove',
          ground_type: 'terms',
          ground: 'TVEC policy',
          reason: 'Known propaganda.',
        })
      ).json()) as { action_id: string };
      decided.push(d.action_id);
    }

    // A burst of submissions, each with its own Idempotency-Key; SIGKILL after ~1.5 s.
    const total = 3000;
    const answered = new Map<string, number>();
    let next = 0;
    const worker = async () => {
      while (next < total) {
        const n = next++;
        try {
          const response = await call(
            server.url,
            'POST',
            '/v1/submissions',
            {
              external_id: `burst-${n}`,
              signals: [
                {
                  type: 'pdq',
                  value: n % 2 ? NEAR : KNOWN.replace(/^..../, (n % 65536).toString(16).padStart(4, '0')),
                },
              ],
            },
            { 'idempotency-key': `burst-${n}` },
          );
          if (response.status >= 200 && response.status < 300)
            answered.set(`burst-${n}`, ((await response.json()) as { id: number }).id);
        } catch {
          return; // the server is gone
        }
      }
    };
    // Killed mid-burst: once a hundred submissions were answered (or after 15 s on a very slow machine), so the
    // kill lands while writes are in flight however fast the machine is.
    const killer = new Promise<void>((resolve) => {
      const started = Date.now();
      const poll = setInterval(() => {
        if (answered.size < 100 && Date.now() - started < 15_000) return;
        clearInterval(poll);
        server.child.kill('SIGKILL');
        resolve();
      }, 5);
    });
    await Promise.all([...Array.from({ length: 32 }, worker), killer]);
    await new Promise<void>((resolve) =>
      server.child.exitCode !== null || server.child.signalCode !== null
        ? resolve()
        : server.child.once('exit', () => resolve()),
    );
    console.log(`crash test: ${answered.size} of ${total} submissions answered before SIGKILL`);
    expect(answered.size).toBeGreaterThan(50);
    expect(answered.size).toBeLessThan(total);

    // Everything answered is stored exactly once, with the id it was answered with.
    const sqlite = new Database(join(dataDir, 'kaitiaki.sqlite'), { readonly: true });
    const rows = sqlite
      .prepare("select id, external_id from submissions where external_id like 'burst-%'")
      .all() as { id: number; external_id: string }[];
    sqlite.close();
    const stored = new Map<string, number[]>();
    for (const row of rows) stored.set(row.external_id, [...(stored.get(row.external_id) ?? []), row.id]);
    for (const [externalId, id] of answered) expect(stored.get(externalId), externalId).toEqual([id]);
    for (const ids of stored.values()) expect(ids).toHaveLength(1);

    // Restart: retries with the same keys are answered from the store, never stored twice.
    server = await serve(dataDir);
    child = server.child;
    const retried = [...answered.keys()].slice(0, 20);
    for (const externalId of retried) {
      const n = Number(externalId.split('-')[1]);
      const response = await call(
        server.url,
        'POST',
        '/v1/submissions',
        {
          external_id: externalId,
          signals: [
            {
              type: 'pdq',
              value: n % 2 ? NEAR : KNOWN.replace(/^..../, (n % 65536).toString(16).padStart(4, '0')),
            },
          ],
        },
        { 'idempotency-key': externalId },
      );
      expect(response.status).toBe(200);
      expect((await response.json()) as { id: number; replayed: boolean }).toMatchObject({
        id: answered.get(externalId),
        replayed: true,
      });
    }

    // Every decided action reaches the receiver after the restart (each at least once; receivers dedupe by id).
    const deadline = Date.now() + 15_000;
    while (decided.some((id) => !received.has(id)) && Date.now() < deadline)
      await new Promise((r) => setTimeout(r, 200));
    for (const id of decided) expect(received.get(id), id).toBeGreaterThanOrEqual(1);
    server.child.kill('SIGTERM');
  }, 60_000);
});
