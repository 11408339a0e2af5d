import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { VPDQ_DATA } from '../../../test/helpers/shared.js';
import { pdqDistance } from '../pdq/hash256.js';
import { compareVideos } from './compare.js';
import { formatVpdqLines, formatVpdqSignal, parseVpdqLines, parseVpdqSignal, pythonG3 } from './format.js';
import { frameModulus, hashVideoFile, type VpdqFrame } from './vpdq.js';

const video = (name: string) => join(VPDQ_DATA, 'videos', `${name}.mp4`);
const expected = (name: string) =>
  parseVpdqLines(readFileSync(join(VPDQ_DATA, 'expected', `${name}.txt`), 'utf8'));

/** The reference's own acceptance rule: same frames, per-frame distance < 31 where both qualities are >= 50. */
function compareWithReference(name: string, got: VpdqFrame[], want: VpdqFrame[]) {
  expect(got.map((f) => f.frame)).toEqual(want.map((f) => f.frame));
  let sum = 0;
  let max = 0;
  let exact = 0;
  let compared = 0;
  want.forEach((w, i) => {
    expect(got[i].timestamp).toBeCloseTo(w.timestamp, 3);
    if (w.quality < 50 || got[i].quality < 50) return;
    const d = pdqDistance(w.pdq, got[i].pdq);
    expect(d, `${name} frame ${w.frame}`).toBeLessThan(31);
    sum += d;
    max = Math.max(max, d);
    exact += d === 0 ? 1 : 0;
    compared++;
  });
  console.log(
    `vpdq ${name}: ${got.length} frames, mean distance ${(sum / compared).toFixed(2)}, max ${max}, exact ${exact}/${compared}`,
  );
}

describe('vPDQ against the reference hashes (every frame, native size)', () => {
  const names = [
    'chair-19-sd-bar',
    'chair-22-sd-grey-bar',
    'chair-orig-22-sd-bar',
    'doorknob-hd-no-bar',
    'pattern-sd-grey-bar',
    'test-padded-dimensions',
  ];
  it.each(names)('%s', async (name) => {
    const result = await hashVideoFile(video(name), { secondsPerHash: 0 });
    compareWithReference(name, result.frames, expected(name));
  });

  it('matches the 128x128 reference when frames are scaled first', async () => {
    const result = await hashVideoFile(video('pattern-sd-grey-bar'), {
      secondsPerHash: 0,
      downsample: { width: 128, height: 128 },
    });
    compareWithReference(
      'pattern-sd-grey-bar-128x128',
      result.frames,
      expected('pattern-sd-grey-bar-128x128'),
    );
  });
});

describe('vPDQ sampling, comparison and formats', () => {
  it('samples one frame per second by default, at multiples of trunc(seconds * fps)', async () => {
    const result = await hashVideoFile(video('doorknob-hd-no-bar'));
    const mod = frameModulus(1, result.frameRate);
    expect(mod).toBe(Math.trunc(result.frameRate));
    expect(result.frames.length).toBeGreaterThan(1);
    for (const f of result.frames) expect(f.frame % mod).toBe(0);
    expect(result.frames.map((f) => f.frame)).toEqual(
      expected('doorknob-hd-no-bar')
        .filter((f) => f.frame % mod === 0)
        .map((f) => f.frame),
    );
  });

  it('matches a video with itself and with a re-encode, not with a different scene', () => {
    const chair19 = expected('chair-19-sd-bar');
    const chair22 = expected('chair-22-sd-grey-bar');
    const pattern = expected('pattern-sd-grey-bar');
    expect(compareVideos(chair19, chair19)).toEqual({
      queryMatchPercent: 100,
      comparedMatchPercent: 100,
      match: true,
    });
    expect(compareVideos(chair19, chair22).match).toBe(true);
    const different = compareVideos(chair19, pattern);
    expect(different.match).toBe(false);
    expect(different.queryMatchPercent).toBeLessThan(80);
  });

  it('round-trips the line format and the HMA signal string', () => {
    const frames = expected('doorknob-hd-no-bar').slice(0, 40);
    expect(parseVpdqLines(formatVpdqLines(frames))).toEqual(frames);
    const signal = formatVpdqSignal(frames);
    const back = parseVpdqSignal(signal);
    expect(back.map((f) => [f.pdq, f.quality])).toEqual(frames.map((f) => [f.pdq, f.quality]));
    expect(formatVpdqSignal(back)).toBe(signal);
  });

  it("formats timestamps like Python's format(x, '.3')", () => {
    expect([0, 1, 0.033, 12.345, 123.4, 1234.5, 0.00001].map(pythonG3)).toEqual([
      '0.0',
      '1.0',
      '0.033',
      '12.3',
      '123.0',
      '1.23e+03',
      '1e-05',
    ]);
  });

  it('refuses malformed signal strings with the reason', () => {
    expect(() => parseVpdqSignal('[]')).toThrow(/non-empty/);
    expect(() => parseVpdqSignal('nope')).toThrow(/JSON array/);
    expect(() => parseVpdqSignal(JSON.stringify(['abc,100,0']))).toThrow(/frame 0: the hash/);
    expect(() => parseVpdqSignal(JSON.stringify([`${'a'.repeat(64)},101,0`]))).toThrow(/quality/);
    expect(() => parseVpdqSignal(JSON.stringify([`${'a'.repeat(64)},100,-1`]))).toThrow(/timestamp/);
  });
});

describe('vPDQ refuses bad files clearly', () => {
  const dir = mkdtempSync(join(tmpdir(), 'kaitiaki-vpdq-'));
  const write = (name: string, data: Uint8Array | string) => {
    const path = join(dir, name);
    writeFileSync(path, data);
    return path;
  };

  it.each([
    ['an empty file', () => write('empty.mp4', '')],
    [
      'a truncated mp4',
      () => write('truncated.mp4', readFileSync(video('chair-19-sd-bar')).subarray(0, 20_000)),
    ],
    ['a text file named .mp4', () => write('text.mp4', 'this is not a video\n'.repeat(50))],
  ])('%s', async (_label, make) => {
    await expect(hashVideoFile(make())).rejects.toMatchObject({
      name: 'MediaError',
      message: expect.stringMatching(/video|stream/),
    });
  });
});
