/**
 * `kaitiaki serve --hma-listen HOST:PORT --hma-org ORG`: the HMA facade alone, without a key, beside the API; it
 * says where it listens and as whom, and refuses a public address or an unknown organisation before starting.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { BIN, runCli } from '../helpers/cli.js';

describe('kaitiaki serve --hma-listen', () => {
  it('serves the HMA facade without a key on its own address, as the organisation given', async () => {
    const dataDir = join(mkdtempSync(join(tmpdir(), 'kaitiaki-hma-')), 'data');
    expect((await runCli(['init', '--data-dir', dataDir, '--json'])).code).toBe(0);
    const child = spawn(
      process.execPath,
      [BIN, 'serve', '--data-dir', dataDir, '--port', '0', '--quiet', '--hma-listen', '127.0.0.1:0'],
      { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, KAITIAKI_HMA_ORG: '1' } },
    );
    try {
      const [api, hma, as] = await new Promise<string[]>((resolve, reject) => {
        let out = '';
        child.stdout.on('data', (d: Buffer) => {
          out += d.toString();
          const main = /serving on (http:\/\/\S+) /.exec(out);
          const listener =
            /HMA listener \(no authentication: HMA facade only\) on (http:\/\/\S+), acting as (hma:[^(]+) \(/.exec(
              out,
            );
          if (main && listener) resolve([main[1], listener[1], listener[2]]);
        });
        child.on('exit', (code) => reject(new Error(`serve exited ${code}`)));
      });
      expect(as.trim()).toMatch(/^hma:/);
      const created = await fetch(`${hma}/c/banks`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ name: 'FROM_COOP', enabled_ratio: 0.5 }),
      });
      expect(created.status).toBe(201);
      expect(await (await fetch(`${hma}//c/banks`)).json()).toEqual([
        { name: 'FROM_COOP', matching_enabled_ratio: 0.5 },
      ]);
      expect((await fetch(`${hma}/v1/banks`)).status).toBe(404);
      expect((await fetch(`${api}/c/banks`)).status).toBe(401);
    } finally {
      child.kill('SIGTERM');
      await new Promise((r) => child.once('exit', r));
    }
  }, 30_000);

  it('refuses a public address, an unknown organisation, or one without the other', async () => {
    const dataDir = join(mkdtempSync(join(tmpdir(), 'kaitiaki-hma-')), 'data');
    const serve = (...args: string[]) =>
      runCli(['serve', '--data-dir', dataDir, '--port', '0', '--quiet', ...args]);
    const open = await serve('--hma-listen', '0.0.0.0:0', '--hma-org', '1');
    expect(open.code).not.toBe(0);
    expect(open.stderr).toMatch(/loopback or private.*--hma-listen-force/);
    const unknown = await serve('--hma-listen', '127.0.0.1:0', '--hma-org', 'Nobody Here');
    expect(unknown.code).not.toBe(0);
    expect(unknown.stderr).toMatch(/organisation "Nobody Here" not found/);
    const alone = await serve('--hma-listen', '127.0.0.1:0');
    expect(alone.code).not.toBe(0);
    expect(alone.stderr).toMatch(/--hma-listen and --hma-org go together/);
  }, 30_000);
});
