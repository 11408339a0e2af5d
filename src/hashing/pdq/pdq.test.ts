import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { PDQ_DATA, readCsv } from '../../../test/helpers/shared.js';
import { decodeImage, resizeNearest512 } from '../image-decode.js';
import { hammingWords, pdqHexToWords, pdqWordsToHex } from './hash256.js';
import {
  DIHEDRAL_NAMES,
  jaroszWindowSize,
  lumaFromPixels,
  pdqBackend,
  pdqDihedralFromLuma,
  pdqDihedralFromPixels,
  pdqFromPixels,
  usePdqBackend,
} from './pdq.js';

async function hashImage(file: string, resize512 = false) {
  let image = await decodeImage(join(PDQ_DATA, 'images', file));
  if (resize512) image = resizeNearest512(image);
  return pdqFromPixels(image.pixels, image.width, image.height, image.channels);
}

describe('PDQ conformance with the reference vectors (bit for bit)', () => {
  const full = readCsv(join(PDQ_DATA, 'expected-full-resolution.csv'));
  it.each(full.map((row) => [row.file, row.pdq, Number(row.quality)] as const))(
    'full resolution: %s',
    async (file, pdq, quality) => {
      const result = await hashImage(file);
      expect(result.hash).toBe(pdq);
      expect(result.quality).toBe(quality);
    },
  );

  const nearest = readCsv(join(PDQ_DATA, 'expected-512-nearest.csv'));
  it.each(nearest.map((row) => [row.file, row.pdq, Number(row.quality)] as const))(
    '512 nearest-neighbour pipeline: %s',
    async (file, pdq, quality) => {
      const result = await hashImage(file, true);
      expect(result.hash).toBe(pdq);
      expect(result.quality).toBe(quality);
    },
  );

  it('derives the 8 dihedral variants of bridge-1 from the DCT', async () => {
    const expected = readCsv(join(PDQ_DATA, 'expected-dihedral-bridge-1-original.csv'));
    const image = await decodeImage(join(PDQ_DATA, 'images', 'dih', 'bridge-1-original.jpg'));
    const luma = lumaFromPixels(image.pixels, image.width, image.height, image.channels);
    const result = pdqDihedralFromLuma(luma, image.width, image.height);
    expect(expected.map((row) => row.variant).sort()).toEqual([...DIHEDRAL_NAMES].sort());
    for (const row of expected)
      expect({
        variant: row.variant,
        pdq: result.variants[row.variant as keyof typeof result.variants],
      }).toEqual({ variant: row.variant, pdq: row.pdq });
  });
});

describe('PDQ algorithm edges', () => {
  it('hashes images under 5 px on a side to zeros with quality 0', () => {
    const pixels = new Uint8Array(4 * 100 * 3).map((_, i) => (i * 37) % 256);
    expect(pdqFromPixels(pixels, 4, 100, 3)).toEqual({ hash: '0'.repeat(64), quality: 0 });
    expect(pdqFromPixels(pixels, 100, 4, 3)).toEqual({ hash: '0'.repeat(64), quality: 0 });
  });

  it('gives quality 0 to a flat image and high quality to a textured one', () => {
    const flat = new Uint8Array(200 * 150 * 3).fill(128);
    expect(pdqFromPixels(flat, 200, 150, 3).quality).toBe(0);
    const noise = new Uint8Array(200 * 150 * 3);
    let seed = 7;
    for (let i = 0; i < noise.length; i++) noise[i] = (seed = (seed * 1103515245 + 12345) >>> 0) >>> 24;
    expect(pdqFromPixels(noise, 200, 150, 3).quality).toBeGreaterThanOrEqual(50);
  });

  it('computes the Jarosz window as ceil(dim / 128)', () => {
    expect(jaroszWindowSize(1600)).toBe(13);
    expect(jaroszWindowSize(1004)).toBe(8);
    expect(jaroszWindowSize(128)).toBe(1);
    expect(jaroszWindowSize(129)).toBe(2);
  });

  it('treats grey and RGB-expanded grey the same', () => {
    const grey = new Uint8Array(90 * 70).map((_, i) => (i * 13 + (i >> 5)) % 256);
    const rgb = new Uint8Array(grey.length * 3).map((_, i) => grey[Math.floor(i / 3)]);
    expect(pdqFromPixels(grey, 90, 70, 1)).toEqual(pdqFromPixels(rgb, 90, 70, 3));
  });
});

describe('PDQ hash encoding', () => {
  it('round-trips hex through words and puts bit k at nibble 63 - k/4', () => {
    const hex = 'f8f8f0cee0f4a84f06370a22038f63f0b36e2ed596621e1d33e6b39c4e9c9b22';
    expect(pdqWordsToHex(pdqHexToWords(hex))).toBe(hex);
    const words = new Uint32Array(8);
    words[0] = 1; // bit 0
    expect(pdqWordsToHex(words)).toBe('0'.repeat(63) + '1');
    words[0] = 0;
    words[7] = 0x80000000; // bit 255
    expect(pdqWordsToHex(words)).toBe('8' + '0'.repeat(63));
  });

  it('measures Hamming distance as the popcount of the XOR', () => {
    const a = pdqHexToWords('f'.repeat(64));
    const b = pdqHexToWords('0'.repeat(64));
    expect(hammingWords(a, b)).toBe(256);
    expect(hammingWords(a, a)).toBe(0);
    expect(hammingWords(pdqHexToWords('0'.repeat(63) + '7'), b)).toBe(3);
  });

  it('rejects malformed hashes with a message that says what is wrong', () => {
    expect(() => pdqHexToWords('abc')).toThrow(/64 hex characters, got 3/);
    expect(() => pdqHexToWords('g'.repeat(64))).toThrow(/0-9 and a-f/);
    expect(() => pdqHexToWords('F'.repeat(64))).toThrow(/lower-case/);
  });
});

describe('PDQ backends', () => {
  function randomImage(width: number, height: number, channels: number, seed: number): Uint8Array {
    const pixels = new Uint8Array(width * height * channels);
    let state = seed;
    for (let i = 0; i < pixels.length; i++) {
      state = (Math.imul(state, 1103515245) + 12345) >>> 0;
      // Smooth structure plus noise, so hashes are not all decided by noise.
      pixels[i] = (((i / channels) % width) * 3 + (state >>> 27)) & 255;
    }
    return pixels;
  }

  it('WebAssembly and TypeScript give the same bits on odd sizes and channel counts', () => {
    usePdqBackend('wasm');
    expect(pdqBackend()).toBe('wasm');
    const sizes: [number, number, number][] = [
      [5, 5, 3],
      [7, 13, 1],
      [64, 64, 3],
      [65, 63, 4],
      [131, 67, 2],
      [256, 256, 3],
      [257, 129, 4],
      [1000, 3, 3],
      [34, 42, 3],
      [40, 40, 1],
      [333, 1025, 3],
    ];
    try {
      for (const [width, height, channels] of sizes) {
        const pixels = randomImage(width, height, channels, width * 31 + height);
        usePdqBackend('wasm');
        const fromWasm = pdqFromPixels(pixels, width, height, channels);
        const dihedralWasm = pdqDihedralFromPixels(pixels, width, height, channels);
        usePdqBackend('js');
        const fromJs = pdqFromPixels(pixels, width, height, channels);
        const dihedralJs = pdqDihedralFromPixels(pixels, width, height, channels);
        expect({ size: `${width}x${height}x${channels}`, ...fromWasm }).toEqual({
          size: `${width}x${height}x${channels}`,
          ...fromJs,
        });
        expect(dihedralWasm).toEqual(dihedralJs);
      }
    } finally {
      usePdqBackend('wasm');
    }
  });
});
