/**
 * Uniform integers for the exact samplers. DP noise always uses the cryptographic source (node:crypto); tests may
 * pass a seeded source to make a statistical check reproducible. Every draw is an exact uniform integer obtained by
 * rejection, so no floating-point value ever reaches the noise.
 */
import { randomFillSync } from 'node:crypto';

export interface RandomSource {
  /** A uniform 32-bit unsigned integer. */
  next32(): number;
}

/** node:crypto, read in 64 KiB blocks (one system call per 16,384 words). */
export class CryptoRandom implements RandomSource {
  private readonly words = new Uint32Array(16_384);
  private position = this.words.length;

  next32(): number {
    if (this.position === this.words.length) {
      randomFillSync(this.words);
      this.position = 0;
    }
    return this.words[this.position++];
  }
}

/**
 * A seeded source (SplitMix32-style mixing of a counter) for reproducible tests of the samplers' distributions. It is
 * not cryptographic and must never produce released noise.
 */
export class SeededRandom implements RandomSource {
  private state: number;
  constructor(seed: number) {
    this.state = seed >>> 0;
  }
  next32(): number {
    this.state = (this.state + 0x9e3779b9) >>> 0;
    let z = this.state;
    z = Math.imul(z ^ (z >>> 16), 0x85ebca6b) >>> 0;
    z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35) >>> 0;
    return (z ^ (z >>> 16)) >>> 0;
  }
}

let shared: RandomSource | null = null;
/** The process-wide cryptographic source. */
export function cryptoRandom(): RandomSource {
  shared ??= new CryptoRandom();
  return shared;
}

const TWO32 = 0x1_0000_0000;

/** Uniform in [0, n) for 1 ≤ n ≤ 2^32, by rejection (no modulo bias). */
export function belowSmall(rng: RandomSource, n: number): number {
  if (n === 1) return 0;
  const limit = TWO32 - (TWO32 % n);
  for (;;) {
    const x = rng.next32();
    if (x < limit) return x % n;
  }
}

/** Uniform in [0, n) for any n ≥ 1, exactly. */
export function below(rng: RandomSource, n: bigint): bigint {
  if (n <= 0n) throw new RangeError('below(n) needs n ≥ 1');
  if (n <= 0x1_0000_0000n) return BigInt(belowSmall(rng, Number(n)));
  const bits = n.toString(2).length;
  const words = Math.ceil(bits / 32);
  const excess = BigInt(words * 32 - bits);
  for (;;) {
    let x = 0n;
    for (let i = 0; i < words; i++) x = (x << 32n) | BigInt(rng.next32());
    x >>= excess;
    if (x < n) return x;
  }
}
