/**
 * "Visually distinct items" vs "total hashes", the two numbers GIFCT publishes for an incident (Glendale: 198
 * distinct videos in just under 1,200 hashes). Members hash the same video many times (re-encodes, crops, frames);
 * hashes of one signal type within matching distance of each other are one item (connected components), and
 * signals without a distance (MD5, URLs) count once per distinct value.
 */
import { hammingWords, pdqHexToWords } from '../hashing/pdq/hash256.js';

const PDQ_SAME_ITEM = 31;

export function distinctItems(signals: readonly { signal_type: string; value: string }[]): number {
  const byType = new Map<string, string[]>();
  for (const s of signals) byType.set(s.signal_type, [...(byType.get(s.signal_type) ?? []), s.value]);
  let items = 0;
  for (const [type, values] of byType) {
    const unique = [...new Set(values)];
    items += type === 'pdq' ? pdqComponents(unique) : unique.length;
  }
  return items;
}

/** Connected components of PDQ hashes under distance ≤ 31 (quadratic: incident banks hold thousands at most). */
function pdqComponents(hexes: string[]): number {
  const words = hexes.map((h) => pdqHexToWords(h));
  const parent = hexes.map((_, i) => i);
  const root = (i: number): number => {
    while (parent[i] !== i) i = parent[i] = parent[parent[i]];
    return i;
  };
  for (let i = 0; i < words.length; i++)
    for (let j = i + 1; j < words.length; j++)
      if (hammingWords(words[i], words[j]) <= PDQ_SAME_ITEM) parent[root(i)] = root(j);
  return new Set(parent.map((_, i) => root(i))).size;
}
