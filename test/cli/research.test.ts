/** `kaitiaki research`, run in-process on a fresh data directory. */
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { run } from '../../src/cli/run.js';

async function cli(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  const stdout = new PassThrough();
  const stderr = new PassThrough();
  let out = '';
  let err = '';
  stdout.on('data', (d: Buffer) => (out += d.toString()));
  stderr.on('data', (d: Buffer) => (err += d.toString()));
  let code: number;
  try {
    code = await run(args, { stdout, stderr, exitCode: 0 });
  } catch (error) {
    err += (error as Error).message;
    code = (error as { exitCode?: number }).exitCode ?? 1;
  }
  return { code, stdout: out, stderr: err };
}

describe('kaitiaki research', () => {
  const dir = mkdtempSync(join(tmpdir(), 'kaitiaki-research-cli-'));
  const dataDir = join(dir, 'data');
  const store = ['--data-dir', dataDir];

  it('generate is reproducible and writes the ground truth', async () => {
    const a = join(dir, 'a.csv');
    const b = join(dir, 'b.csv');
    const truth = join(dir, 'truth.json');
    expect(
      (await cli(['research', 'generate', '--users', '50', '--seed', '7', '--out', a, '--truth', truth]))
        .code,
    ).toBe(0);
    expect((await cli(['research', 'generate', '--users', '50', '--seed', '7', '--out', b])).code).toBe(0);
    expect(readFileSync(a, 'utf8')).toBe(readFileSync(b, 'utf8'));
    const lines = readFileSync(a, 'utf8').trim().split('\n');
    expect(lines[0]).toBe(
      'user_id,session_id,item_id,creator_id,category,arm,surface,country,ts,position,dwell_ms,engaged,linger',
    );
    expect(JSON.parse(readFileSync(truth, 'utf8')).rows).toBe(lines.length - 1);
    const bad = await cli(['research', 'generate', '--users', '0']);
    expect(bad.code).not.toBe(0);
    expect(bad.stderr).toMatch(/users must be 1 to/);
  });

  it('the owner loop: dataset, load, mock, accredit, budget, requests', async () => {
    expect((await cli(['init', ...store])).code).toBe(0);
    expect((await cli(['research', 'dataset', 'create', 'feed', ...store])).code).toBe(0);
    const loaded = await cli(['research', 'load', 'feed', join(dir, 'a.csv'), ...store]);
    expect(loaded.stdout).toMatch(/^loaded \d+ rows into the private data of feed/);
    expect((await cli(['research', 'mock', 'feed', '--users', '30', ...store])).stdout).toMatch(
      /mock twin of feed: \d+ rows/,
    );
    const accredited = await cli([
      'research',
      'accredit',
      '--principal',
      'key:99',
      '--name',
      'R',
      '--email',
      'r@uni.example',
      '--until',
      '2099-01-01',
      ...store,
    ]);
    expect(accredited.code).toBe(0);
    const id = JSON.parse(accredited.stdout).id;
    const budget = await cli(['research', 'budget', 'feed', String(id), '--rho', '0.5', ...store]);
    expect(budget.stdout).toMatch(/budget ρ = 0.5 \(0 spent\), i.e. ε = \d+\.\d{3} at δ = 0.000001/);
    expect((await cli(['research', 'dataset', 'list', ...store])).stdout).toMatch(/feed/);
    expect((await cli(['research', 'requests', '--status', 'pending', ...store])).code).toBe(0);
  });
});
