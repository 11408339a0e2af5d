/**
 * The 256-bit PDQ hash as data: 64 lower-case hex characters on the wire, eight 32-bit words in memory.
 *
 * Bit k (k = row * 16 + col of the 16x16 DCT) is bit k of the 256-bit integer printed big-endian, exactly as
 * the reference's `Hash256::format`. Word w holds bits 32w..32w+31, so word 0 is the last 8 hex characters.
 */
import { ValidationError } from '../../core/errors.js';

export const PDQ_HEX_LENGTH = 64;
const PDQ_HEX_PATTERN = /^[0-9a-f]{64}$/;

export function isPdqHex(value: string): boolean {
  return PDQ_HEX_PATTERN.test(value);
}

/** Parses 64 hex characters (lower case, as on the wire) into 8 words; throws a clear error otherwise. */
export function pdqHexToWords(hex: string, out: Uint32Array = new Uint32Array(8)): Uint32Array {
  if (typeof hex !== 'string' || !PDQ_HEX_PATTERN.test(hex)) {
    throw new ValidationError(describeBadPdq(hex), 'KAI_ERR_HASH_INVALID');
  }
  for (let w = 0; w < 8; w++) {
    const start = PDQ_HEX_LENGTH - 8 * (w + 1);
    out[w] = parseInt(hex.slice(start, start + 8), 16) >>> 0;
  }
  return out;
}

/** The same without validation, for values the store has validated already (a start-up load of millions). */
export function pdqHexToWordsUnchecked(hex: string, out: Uint32Array = new Uint32Array(8)): Uint32Array {
  for (let w = 0; w < 8; w++) out[w] = parseInt(hex.slice(56 - 8 * w, 64 - 8 * w), 16) >>> 0;
  return out;
}

function describeBadPdq(hex: unknown): string {
  if (typeof hex !== 'string') return `a PDQ hash must be a string of 64 hex characters, got ${typeof hex}`;
  if (hex.length !== PDQ_HEX_LENGTH) return `a PDQ hash has 64 hex characters, got ${hex.length}`;
  if (/[A-F]/.test(hex) && /^[0-9a-fA-F]{64}$/.test(hex)) return 'a PDQ hash must be lower-case hex';
  return 'a PDQ hash may contain only the characters 0-9 and a-f';
}

export function pdqWordsToHex(words: ArrayLike<number>): string {
  let hex = '';
  for (let w = 7; w >= 0; w--) hex += (words[w] >>> 0).toString(16).padStart(8, '0');
  return hex;
}

/** Packs 256 booleans (bit k set when bits[k] is true) into words. */
export function packBits(isSet: (k: number) => boolean): Uint32Array {
  const words = new Uint32Array(8);
  for (let k = 0; k < 256; k++) if (isSet(k)) words[k >>> 5] |= 1 << (k & 31);
  return words;
}

export function popcount32(x: number): number {
  x -= (x >>> 1) & 0x55555555;
  x = (x & 0x33333333) + ((x >>> 2) & 0x33333333);
  x = (x + (x >>> 4)) & 0x0f0f0f0f;
  return Math.imul(x, 0x01010101) >>> 24;
}

/** Hamming distance between two hashes held as 8 words each (at offsets, so flat arrays work too). */
export function hammingWords(a: ArrayLike<number>, b: ArrayLike<number>, aOffset = 0, bOffset = 0): number {
  let d = 0;
  for (let w = 0; w < 8; w++) d += popcount32((a[aOffset + w] ^ b[bOffset + w]) >>> 0);
  return d;
}

export function pdqDistance(hexA: string, hexB: string): number {
  return hammingWords(pdqHexToWords(hexA), pdqHexToWords(hexB));
}
