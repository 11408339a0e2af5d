import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hashFile } from '../../src/hashing/hash-file.js';
import { probeVideo } from '../../src/hashing/video/ffmpeg.js';
import { VpdqIndex } from '../../src/index/vpdq-index.js';
import {
  cropRect,
  IMAGE_TRANSFORMS,
  imageVariant,
  logoLayout,
  reachability,
  screenLayout,
  TRANSFORM_NAMES,
  VIDEO_TRANSFORMS,
  videoVariant,
  type ImageReach,
  type TransformName,
  type VideoReach,
} from '../../src/media/variants.js';
import { PDQ_DATA, VPDQ_DATA } from '../helpers/shared.js';

const WITH_PARAMS = TRANSFORM_NAMES.filter((name) => name !== 'mirror');

/** A 640x480 "photo": sky, sun, hills, a house and trees, with grain, as sharp renders it. */
async function makePhoto(): Promise<Buffer> {
  const svg = `<svg xmlns="http://www.w3.org/2000/svg" width="640" height="480">
    <defs><linearGradient id="sky" x1="0" y1="0" x2="0" y2="1">
      <stop offset="0" stop-color="#3b6fb6"/><stop offset="1" stop-color="#cfe3f5"/></linearGradient></defs>
    <rect width="640" height="480" fill="url(#sky)"/>
    <circle cx="500" cy="90" r="45" fill="#ffd96b"/>
    <path d="M0 300 Q160 200 320 290 T640 260 V480 H0 Z" fill="#4f7f3a"/>
    <path d="M0 380 Q200 320 400 370 T640 350 V480 H0 Z" fill="#2f5a25"/>
    <rect x="110" y="250" width="120" height="90" fill="#b5651d"/>
    <polygon points="100,250 170,195 240,250" fill="#7a2e12"/>
    <rect x="155" y="295" width="28" height="45" fill="#3a2410"/>
    <circle cx="400" cy="300" r="38" fill="#1e4d1a"/><rect x="394" y="330" width="12" height="40" fill="#4a3018"/>
    <circle cx="560" cy="320" r="30" fill="#245c1f"/><rect x="555" y="345" width="10" height="35" fill="#4a3018"/>
  </svg>`;
  const scene = await sharp(Buffer.from(svg)).raw().toBuffer({ resolveWithObject: true });
  const grain = await sharp({
    create: {
      width: 640,
      height: 480,
      channels: 3,
      background: '#000',
      noise: { type: 'gaussian', mean: 128, sigma: 24 },
    },
  })
    .raw()
    .toBuffer();
  const pixels = Buffer.alloc(640 * 480 * 3);
  const channels = scene.info.channels;
  for (let p = 0; p < 640 * 480; p++)
    for (let c = 0; c < 3; c++) {
      const v = scene.data[p * channels + c] + (grain[p * 3 + c] - 128) * 0.5;
      pixels[p * 3 + c] = Math.max(0, Math.min(255, Math.round(v)));
    }
  return sharp(pixels, { raw: { width: 640, height: 480, channels: 3 } })
    .blur(0.8)
    .jpeg({ quality: 92 })
    .toBuffer();
}

async function rgb(image: Buffer) {
  const { data, info } = await sharp(image).removeAlpha().raw().toBuffer({ resolveWithObject: true });
  return { data, width: info.width, height: info.height };
}

const distances: string[] = [];

describe('variant parameters', () => {
  it('are the same for the same seed and differ between seeds, for photos and videos', () => {
    for (const table of [IMAGE_TRANSFORMS, VIDEO_TRANSFORMS]) {
      for (const name of TRANSFORM_NAMES) {
        const t = table[name];
        expect(t.params(7)).toEqual(t.params(7));
      }
      for (const name of WITH_PARAMS) {
        const seeds = Array.from({ length: 20 }, (_, seed) => seed);
        const seen = new Set(seeds.map((seed) => JSON.stringify(table[name].params(seed))));
        // A re-encode has one integer parameter (11 JPEG qualities, 9 CRFs), so seeds share values.
        expect(seen.size, name).toBeGreaterThanOrEqual(name === 'reencode' ? 6 : 20);
      }
    }
    expect(IMAGE_TRANSFORMS.mirror.params(1)).toEqual(IMAGE_TRANSFORMS.mirror.params(2));
  });

  it('stay in their promised ranges over many seeds', () => {
    const corners = new Set<string>();
    for (let seed = 0; seed < 200; seed++) {
      const crop = IMAGE_TRANSFORMS.crop.params(seed);
      expect(crop.left + crop.right).toBeGreaterThanOrEqual(0.059);
      expect(crop.left + crop.right).toBeLessThanOrEqual(0.101);
      expect(crop.top + crop.bottom).toBeGreaterThanOrEqual(0.059);
      expect(Math.min(crop.left, crop.right, crop.top, crop.bottom)).toBeGreaterThan(0);
      const { quality } = IMAGE_TRANSFORMS.reencode.params(seed);
      expect(quality).toBeGreaterThanOrEqual(55);
      expect(quality).toBeLessThanOrEqual(65);
      const { crf } = VIDEO_TRANSFORMS.reencode.params(seed);
      expect(crf).toBeGreaterThanOrEqual(32);
      expect(crf).toBeLessThanOrEqual(40);
      const logo = IMAGE_TRANSFORMS.logo.params(seed);
      corners.add(logo.corner);
      const { box } = logoLayout(640, 480, logo);
      expect((box.width * box.height) / (640 * 480)).toBeGreaterThan(0.098);
      expect((box.width * box.height) / (640 * 480)).toBeLessThan(0.152);
      const screen = VIDEO_TRANSFORMS.screen_recording.params(seed);
      expect(Math.abs(screen.gamma - 1)).toBeGreaterThanOrEqual(0.08);
      expect(Math.abs(screen.brightness)).toBeGreaterThanOrEqual(0.02);
      expect(screen.frameRate).toBeLessThanOrEqual(0.8);
      const layout = screenLayout(320, 240, screen, true);
      expect(layout.canvas.width).toBeGreaterThan(320);
      expect(layout.canvas.height).toBeGreaterThan(240);
      expect(layout.content.x + layout.content.width).toBeLessThanOrEqual(layout.canvas.width);
      expect(layout.content.y + layout.content.height).toBeLessThanOrEqual(layout.canvas.height);
      for (const v of [...Object.values(layout.capture), ...Object.values(layout.content)])
        expect(v % 2).toBe(0);
    }
    expect(corners.size).toBe(4);
  });

  it('refuse a bad seed or an unknown transform', async () => {
    expect(() => IMAGE_TRANSFORMS.crop.params(-1)).toThrow(/seed/);
    expect(() => IMAGE_TRANSFORMS.crop.params(1.5)).toThrow(/seed/);
    await expect(imageVariant(Buffer.from('x'), 'blur' as TransformName, 1)).rejects.toMatchObject({
      code: 'KAI_ERR_VARIANT_TRANSFORM',
    });
    const tiny = await sharp({ create: { width: 8, height: 8, channels: 3, background: '#777' } })
      .png()
      .toBuffer();
    await expect(imageVariant(tiny, 'crop', -2)).rejects.toMatchObject({ code: 'KAI_ERR_VARIANT_SEED' });
    // Even a thumbnail gets every variant.
    for (const name of TRANSFORM_NAMES)
      expect((await sharp(await imageVariant(tiny, name, 5)).metadata()).width).toBeGreaterThan(0);
    await expect(imageVariant(Buffer.from('not an image'), 'crop', 1)).rejects.toMatchObject({
      code: 'KAI_ERR_MEDIA_CORRUPT',
    });
  });
});

describe('photo variants', () => {
  let photo: Buffer;
  const variants = new Map<TransformName, Buffer>();

  beforeAll(async () => {
    photo = await makePhoto();
    for (const name of TRANSFORM_NAMES) variants.set(name, await imageVariant(photo, name, 11));
  });

  it.each(TRANSFORM_NAMES)(
    '%s decodes, differs from the original and repeats for the same seed',
    async (name) => {
      const variant = variants.get(name)!;
      const meta = await sharp(variant).metadata();
      expect(meta.format).toBe(name === 'reencode' ? 'jpeg' : 'png');
      expect(variant.equals(photo)).toBe(false);
      expect((await imageVariant(photo, name, 11)).equals(variant)).toBe(true);
      if (name !== 'mirror') expect((await imageVariant(photo, name, 12)).equals(variant)).toBe(false);
    },
  );

  it('crop trims the drawn edges and keeps the pixels inside', async () => {
    const r = cropRect(640, 480, IMAGE_TRANSFORMS.crop.params(11));
    const cropped = await rgb(variants.get('crop')!);
    expect(cropped.width).toBe(r.width);
    expect(cropped.height).toBe(r.height);
    expect(cropped.width / 640).toBeGreaterThanOrEqual(0.9);
    expect(cropped.width / 640).toBeLessThanOrEqual(0.94);
    const original = await rgb(photo);
    const at = (img: typeof original, x: number, y: number) => img.data[(y * img.width + x) * 3];
    expect(at(cropped, 0, 0)).toBe(at(original, r.x, r.y));
    expect(at(cropped, 100, 50)).toBe(at(original, r.x + 100, r.y + 50));
  });

  it('mirror is exactly the horizontally flipped pixels', async () => {
    const original = await rgb(photo);
    const mirrored = await rgb(variants.get('mirror')!);
    expect([mirrored.width, mirrored.height]).toEqual([640, 480]);
    const flipped = Buffer.alloc(original.data.length);
    for (let y = 0; y < 480; y++)
      for (let x = 0; x < 640; x++)
        original.data.copy(flipped, (y * 640 + 639 - x) * 3, (y * 640 + x) * 3, (y * 640 + x) * 3 + 3);
    expect(mirrored.data.equals(flipped)).toBe(true);
  });

  it('logo changes only a box of 10-15% of the area in the drawn corner', async () => {
    const p = IMAGE_TRANSFORMS.logo.params(11);
    const { box } = logoLayout(640, 480, p);
    const original = await rgb(photo);
    const logo = await rgb(variants.get('logo')!);
    let minX = 640;
    let minY = 480;
    let maxX = -1;
    let maxY = -1;
    for (let y = 0; y < 480; y++)
      for (let x = 0; x < 640; x++) {
        const i = (y * 640 + x) * 3;
        if (Math.abs(logo.data[i] - original.data[i]) <= 2) continue;
        [minX, minY, maxX, maxY] = [
          Math.min(minX, x),
          Math.min(minY, y),
          Math.max(maxX, x),
          Math.max(maxY, y),
        ];
      }
    expect([minX, minY, maxX + 1, maxY + 1]).toEqual([box.x, box.y, box.x + box.width, box.y + box.height]);
    const share = ((maxX + 1 - minX) * (maxY + 1 - minY)) / (640 * 480);
    expect(share).toBeGreaterThanOrEqual(0.098);
    expect(share).toBeLessThanOrEqual(0.152);
    expect(minX < 320).toBe(p.corner.endsWith('left'));
    expect(minY < 240).toBe(p.corner.startsWith('top'));
  });

  it('screen_recording is a larger canvas with the picture inside a uniform border', async () => {
    const p = IMAGE_TRANSFORMS.screen_recording.params(11);
    const { canvas, content } = screenLayout(640, 480, p);
    const screen = await rgb(variants.get('screen_recording')!);
    expect([screen.width, screen.height]).toEqual([canvas.width, canvas.height]);
    expect(screen.width).toBeGreaterThan(640);
    expect(screen.height).toBeGreaterThan(480);
    const at = (x: number, y: number) => screen.data[(y * screen.width + x) * 3];
    for (const [x, y] of [
      [0, 0],
      [screen.width - 1, screen.height - 1],
      [content.x - 1, content.y + 10],
      [content.x + 10, content.y + content.height],
    ])
      expect(at(x, y)).toBe(p.border);
    // The sky inside is still blue (after the tone change), not border.
    const blue = screen.data[((content.y + 20) * screen.width + content.x + 20) * 3 + 2];
    expect(blue).toBeGreaterThan(p.border + 60);
  });

  it('reencode stays within reach of PDQ at 31; a 10-15% logo, a crop and a mirror do not', async () => {
    const results = new Map<TransformName, ImageReach>();
    for (const name of TRANSFORM_NAMES)
      results.set(name, (await reachability(photo, variants.get(name)!)) as ImageReach);
    for (const [name, r] of results)
      distances.push(
        `photo (synthetic 640x480) ${name}: distance ${r.distance}, reachable ${r.reachable}, ` +
          `quality ${r.quality.variant}, nearest dihedral ${r.dihedralDistance}`,
      );
    expect(results.get('reencode')!.quality.original).toBeGreaterThanOrEqual(50);
    expect(results.get('reencode')).toMatchObject({ kind: 'image', reachable: true });
    // Measured: a logo box of 10-15% of the area moves PDQ by 50-80 bits (see the report of this branch).
    expect(results.get('logo')).toMatchObject({ kind: 'image', reachable: false });
    expect(results.get('crop')).toMatchObject({ kind: 'image', reachable: false });
    // PDQ is not flip-invariant: a mirror is far, but within reach of the original's banked flipx hash.
    expect(results.get('mirror')!.distance).toBeGreaterThan(31);
    expect(results.get('mirror')!.dihedralDistance).toBeLessThanOrEqual(31);
  });

  it('on the reference bridge photo: reencode stays within reach at several seeds, logo does not', async () => {
    const bridge = readFileSync(join(PDQ_DATA, 'images', 'dih', 'bridge-1-original.jpg'));
    for (const name of TRANSFORM_NAMES) {
      for (const seed of [1, 2, 3]) {
        const r = (await reachability(bridge, await imageVariant(bridge, name, seed))) as ImageReach;
        distances.push(
          `photo (bridge) ${name} seed ${seed}: distance ${r.distance}, reachable ${r.reachable}, ` +
            `nearest dihedral ${r.dihedralDistance}`,
        );
        if (name === 'reencode') expect(r.reachable, `${name} seed ${seed}`).toBe(true);
        if (name === 'logo') expect(r.reachable, `${name} seed ${seed}`).toBe(false);
      }
    }
  });
});

describe('video variants', () => {
  let dir: string;
  let clip: string;
  const out = (name: string, seed: number) => join(dir, `${name}-${seed}.mp4`);

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'kaitiaki-variants-'));
    clip = join(dir, 'clip.mp4');
    execFileSync('ffmpeg', [
      ...['-nostdin', '-v', 'error', '-f', 'lavfi', '-i', 'testsrc=size=320x240:rate=25:duration=3'],
      ...['-c:v', 'libx264', '-preset', 'veryfast', '-crf', '18', '-pix_fmt', 'yuv420p', clip],
    ]);
    for (const name of TRANSFORM_NAMES) await videoVariant(clip, out(name, 11), name, 11);
  });

  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it.each(TRANSFORM_NAMES)(
    '%s decodes, differs from the original and repeats for the same seed',
    async (name) => {
      const info = await probeVideo(out(name, 11));
      expect(info.codec).toBe('h264');
      expect(info.durationSeconds).toBeGreaterThan(2.5);
      const bytes = readFileSync(out(name, 11));
      expect(bytes.equals(readFileSync(clip))).toBe(false);
      await videoVariant(clip, out(name, 111), name, 11);
      expect(readFileSync(out(name, 111)).equals(bytes)).toBe(true);
      if (name !== 'mirror') {
        await videoVariant(clip, out(name, 12), name, 12);
        expect(readFileSync(out(name, 12)).equals(bytes)).toBe(false);
      }
    },
  );

  it('crop is smaller, screen_recording larger and slower, the rest keep the geometry', async () => {
    const original = await probeVideo(clip);
    const crop = await probeVideo(out('crop', 11));
    const r = cropRect(320, 240, VIDEO_TRANSFORMS.crop.params(11), true);
    expect([crop.width, crop.height]).toEqual([r.width, r.height]);
    expect(crop.width).toBeLessThan(320);
    const p = VIDEO_TRANSFORMS.screen_recording.params(11);
    const screen = await probeVideo(out('screen_recording', 11));
    expect([screen.width, screen.height]).toEqual(Object.values(screenLayout(320, 240, p, true).canvas));
    expect(screen.frameRate).toBeCloseTo(original.frameRate * p.frameRate, 1);
    for (const name of ['reencode', 'logo', 'mirror'] as const) {
      const info = await probeVideo(out(name, 11));
      expect([info.width, info.height, info.frameRate]).toEqual([320, 240, original.frameRate]);
    }
  });

  it('mirror is the flipped picture', async () => {
    const frame = async (path: string) =>
      execFileSync('ffmpeg', [
        ...[
          '-nostdin',
          '-v',
          'error',
          '-i',
          path,
          '-frames:v',
          '1',
          '-f',
          'rawvideo',
          '-pix_fmt',
          'gray',
          '-',
        ],
      ]);
    const original = await frame(clip);
    const mirrored = await frame(out('mirror', 11));
    let flippedDiff = 0;
    let plainDiff = 0;
    for (let y = 0; y < 240; y++)
      for (let x = 0; x < 320; x++) {
        flippedDiff += Math.abs(mirrored[y * 320 + x] - original[y * 320 + 319 - x]);
        plainDiff += Math.abs(mirrored[y * 320 + x] - original[y * 320 + x]);
      }
    expect(flippedDiff / (320 * 240)).toBeLessThan(3);
    expect(plainDiff / (320 * 240)).toBeGreaterThan(20);
  });

  it('reachability follows the vPDQ index match rule; reencode is within reach, the others are not', async () => {
    const index = new VpdqIndex();
    index.add(1, 1, (await hashFile(clip, { types: ['vpdq'] })).vpdq!);
    for (const name of TRANSFORM_NAMES) {
      const r = (await reachability(clip, out(name, 11))) as VideoReach;
      expect(r.kind).toBe('video');
      expect(r.reachable).toBe(r.distance !== null && r.distance <= 31);
      expect(r.reachable).toBe(r.matchedFrameShare >= 80);
      const query = (await hashFile(out(name, 11), { types: ['vpdq'] })).vpdq!;
      expect(index.search(query).length > 0, name).toBe(r.reachable);
      expect(r.reachable, name).toBe(name === 'reencode');
      distances.push(
        `video (testsrc 320x240 3 s) ${name}: distance ${r.distance}, reachable ${r.reachable}, ` +
          `matched frames ${r.matchedFrameShare.toFixed(0)}% of ${r.frames.variant} (original ${r.frames.original})`,
      );
    }
    const same = (await reachability(clip, clip)) as VideoReach;
    expect(same).toMatchObject({ distance: 0, reachable: true, matchedFrameShare: 100 });
  });

  it('on a camera clip (the reference chair video, 3 s at 320x240): reencode is within reach', async () => {
    const chair = join(dir, 'chair.mp4');
    execFileSync('ffmpeg', [
      ...['-nostdin', '-v', 'error', '-i', join(VPDQ_DATA, 'videos', 'chair-orig-22-sd-bar.mp4'), '-t', '3'],
      ...['-vf', 'scale=320:240', '-an', '-c:v', 'libx264', '-preset', 'veryfast', '-crf', '18', chair],
    ]);
    for (const name of TRANSFORM_NAMES) {
      const variant = join(dir, `chair-${name}.mp4`);
      await videoVariant(chair, variant, name, 1);
      const r = (await reachability(chair, variant)) as VideoReach;
      distances.push(
        `video (chair 320x240 3 s) ${name}: distance ${r.distance}, reachable ${r.reachable}, ` +
          `matched frames ${r.matchedFrameShare.toFixed(0)}% of ${r.frames.variant} (original ${r.frames.original})`,
      );
      if (name === 'reencode') expect(r.reachable).toBe(true);
    }
  });

  it('refuses to overwrite the original', async () => {
    await expect(videoVariant(clip, clip, 'crop', 1)).rejects.toMatchObject({
      code: 'KAI_ERR_VARIANT_OUTPUT',
    });
  });
});

afterAll(() => console.log(distances.join('\n')));
