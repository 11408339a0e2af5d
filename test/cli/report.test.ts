import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { run } from '../../src/cli/run.js';
import type { CliIo } from '../../src/cli/io.js';

function io(): CliIo & { out: () => string; err: () => string } {
  const stdout = new PassThrough();
  const stderr = new PassThrough();
  let out = '';
  let err = '';
  stdout.on('data', (d: Buffer) => (out += d.toString()));
  stderr.on('data', (d: Buffer) => (err += d.toString()));
  return { stdout, stderr, exitCode: 0, out: () => out, err: () => err };
}

describe('kaitiaki report', () => {
  const dataDir = join(mkdtempSync(join(tmpdir(), 'kaitiaki-report-')), 'data');

  it('prints a company report of an empty period as JSON, CSV or HTML, and refuses bad input', async () => {
    expect(await run(['init', '--data-dir', dataDir, '--json'], io())).toBe(0);
    const json = io();
    expect(
      await run(
        ['report', 'company', '--from', '2026-01-01', '--to', '2027-01-01', '--data-dir', dataDir],
        json,
      ),
    ).toBe(0);
    const report = JSON.parse(json.out());
    expect(report).toMatchObject({
      report: 'company',
      period: { from: '2026-01-01T00:00:00.000Z', to: '2027-01-01T00:00:00.000Z' },
    });
    expect(report.totals.decisions).toBe(0);

    const csv = io();
    await run(
      [
        'report',
        'company',
        '--from',
        '2026-01-01',
        '--to',
        '2027-01-01',
        '--format',
        'csv',
        '--data-dir',
        dataDir,
      ],
      csv,
    );
    expect(csv.out().split('\n')).toContain('totals.decisions,0');

    const file = join(dataDir, 'report.html');
    await run(
      [
        'report',
        'company',
        '--from',
        '2026-01-01',
        '--to',
        '2027-01-01',
        '--format',
        'html',
        '--out',
        file,
        '--data-dir',
        dataDir,
      ],
      io(),
    );
    expect(readFileSync(file, 'utf8')).toContain('<!doctype html>');

    await expect(
      run(['report', 'company', '--from', '2027-01-01', '--to', '2026-01-01', '--data-dir', dataDir], io()),
    ).rejects.toThrow(/end after it starts/);
    await expect(
      run(['report', 'yearly', '--from', '2026-01-01', '--to', '2027-01-01', '--data-dir', dataDir], io()),
    ).rejects.toThrow(/report kind/);
    await expect(
      run(
        ['report', 'government', '--from', '2026-01-01', '--to', '2027-01-01', '--data-dir', dataDir],
        io(),
      ),
    ).rejects.toThrow(/government report is for/);
  });
});
