/** A tiny seeded PRNG (xorshift32) for reproducible test corpora and benchmarks. Not for anything secret. */
export function xorshift32(seed: number): () => number {
  let state = seed >>> 0 || 1;
  return () => {
    state ^= state << 13;
    state ^= state >>> 17;
    state ^= state << 5;
    return state >>> 0;
  };
}
