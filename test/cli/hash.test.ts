import { execFileSync } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../helpers/cli.js';
import { pngClaiming } from '../helpers/png.js';
import { PDQ_DATA, readCsv, VPDQ_DATA } from '../helpers/shared.js';

const images = (file: string) => join(PDQ_DATA, 'images', file);
const jsonLines = (text: string) =>
  text
    .trim()
    .split('\n')
    .map((line) => JSON.parse(line) as Record<string, unknown>);

describe('kaitiaki hash', () => {
  const full = readCsv(join(PDQ_DATA, 'expected-full-resolution.csv'));
  const nearest = readCsv(join(PDQ_DATA, 'expected-512-nearest.csv'));
  let dir: string;

  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'kaitiaki-cli-'));
    writeFileSync(join(dir, 'empty.jpg'), '');
    writeFileSync(
      join(dir, 'truncated.jpg'),
      readFileSync(images('dih/bridge-1-original.jpg')).subarray(0, 3000),
    );
    writeFileSync(join(dir, 'text.jpg'), 'not an image at all\n');
    writeFileSync(join(dir, 'bomb.png'), pngClaiming(50_000, 50_000));
    writeFileSync(join(dir, 'report.pdf'), '%PDF-1.4\n1 0 obj << >> endobj\n%%EOF\n');
  });

  it('prints the reference PDQ hashes of every image, recursively, as JSON lines', async () => {
    const { code, stdout, stderr } = await runCli(['hash', '-r', join(PDQ_DATA, 'images'), '--no-progress']);
    expect(code).toBe(0);
    const byFile = new Map(jsonLines(stdout).map((r) => [String(r.file), r]));
    for (const row of full) {
      expect(byFile.get(images(row.file)), row.file).toMatchObject({
        type: 'photo',
        pdq: row.pdq,
        quality: Number(row.quality),
      });
    }
    expect(byFile.get(images('misc-images/small.jpg'))).toMatchObject({ quality: 0, pdq_usable: false });
    expect(stderr).toMatch(
      /hashed 37 of 37 files \(37 photos, 0 videos, 0 other\) .* 0 failed; 1 with PDQ quality < 50/,
    );
  });

  it('reproduces the C++ pipeline with --pdq-resize 512, as CSV', async () => {
    const files = nearest.slice(0, 12).map((row) => images(row.file));
    const { code, stdout } = await runCli([
      'hash',
      '--pdq-resize',
      '512',
      '--format',
      'csv',
      '--types',
      'pdq',
      ...files,
    ]);
    expect(code).toBe(0);
    const rows = stdout
      .trim()
      .split('\n')
      .map((line) => line.split(','));
    expect(rows[0]).toEqual([
      'file',
      'type',
      'md5',
      'sha256',
      'pdq',
      'quality',
      'pdq_usable',
      'vpdq_frames',
      'error',
    ]);
    expect(rows.slice(1).map((r) => [r[0], r[4], r[5]])).toEqual(
      nearest.slice(0, 12).map((row) => [images(row.file), row.pdq, row.quality]),
    );
  });

  it('computes MD5 and SHA-256 like md5sum and sha256sum, for any file', async () => {
    const file = join(dir, 'report.pdf');
    const { stdout } = await runCli(['hash', file]);
    const [record] = jsonLines(stdout);
    expect(record).toMatchObject({ type: 'other' });
    expect(record.md5).toBe(execFileSync('md5sum', [file]).toString().split(' ')[0]);
    expect(record.sha256).toBe(execFileSync('sha256sum', [file]).toString().split(' ')[0]);
    expect(record.pdq).toBeUndefined();
  });

  it('gives each bad file a clear error line, goes on, and exits 1', async () => {
    const good = images('misc-images/wee.jpg');
    const bad = ['empty.jpg', 'truncated.jpg', 'text.jpg', 'bomb.png'].map((f) => join(dir, f));
    const { code, stdout, stderr } = await runCli(['hash', good, ...bad, dir]);
    expect(code).toBe(1);
    const records = jsonLines(stdout);
    expect(records.map((r) => r.file)).toEqual([good, ...bad, dir]);
    expect(records[0]).toMatchObject({
      pdq: '6227401f601ff4ccafcc9fad4b0d95d371a2eb7265a3285234d228ca94deeb2d',
    });
    const errors = records.slice(1).map((r) => r.error as { code: string; message: string });
    expect(errors.map((e) => e.code)).toEqual([
      'KAI_ERR_MEDIA_EMPTY',
      'KAI_ERR_MEDIA_CORRUPT',
      'KAI_ERR_MEDIA_UNSUPPORTED',
      'KAI_ERR_MEDIA_TOO_LARGE',
      'KAI_ERR_MEDIA_IS_DIRECTORY',
    ]);
    expect(errors[3].message).toMatch(/50000x50000/);
    expect(stderr).toMatch(/5 failed/);
  });

  it('hashes videos with vPDQ frames and the dihedral variants of photos', async () => {
    const clip = join(dir, 'clip.mp4');
    copyFileSync(join(VPDQ_DATA, 'videos', 'doorknob-hd-no-bar.mp4'), clip);
    const { code, stdout } = await runCli([
      'hash',
      clip,
      images('dih/bridge-1-original.jpg'),
      '--dihedral',
      '--seconds-per-hash',
      '0',
    ]);
    expect(code).toBe(0);
    const [video, photo] = jsonLines(stdout);
    expect(video).toMatchObject({ type: 'video' });
    const frames = video.vpdq as { frame: number; pdq: string; quality: number; timestamp: number }[];
    expect(frames.length).toBe(120);
    expect(frames[1]).toMatchObject({ frame: 1, timestamp: 0.033 });
    const dihedral = readCsv(join(PDQ_DATA, 'expected-dihedral-bridge-1-original.csv'));
    expect(photo.dihedral).toEqual(Object.fromEntries(dihedral.map((row) => [row.variant, row.pdq])));
  });

  it('refuses unknown types and formats as usage errors (exit 2)', async () => {
    const types = await runCli(['hash', '--types', 'pdq,photodna', images('misc-images/wee.jpg')]);
    expect(types.code).toBe(2);
    expect(types.stderr).toMatch(/unknown type "photodna"/);
    const format = await runCli(['hash', '--format', 'xml', images('misc-images/wee.jpg')]);
    expect(format.code).toBe(2);
    mkdirSync(join(dir, 'sub'), { recursive: true });
  });
});
