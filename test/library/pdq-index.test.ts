// The PDQ index as a library: imported from the package's main entry (src/library.ts, built to dist/src/library.js).
import { describe, expect, it } from 'vitest';
import { PdqIndex, pdqDistance } from '../../src/library.js';

const BRIDGE = 'f8f8f0cee0f4a84f06370a22038f63f0b36e2ed596621e1d33e6b39c4e9c9b22';
const BLURRED = 'f8f8f0cee0f4a84f06370a2a038f63f0b36e26d596621e1d33e6b39c4e9c9b22';
const ROTATED = '30a10efd71cc3d429013d48d0ffffc52e34e0e17ada952a9d29685211ea9e5af';

describe("import { PdqIndex } from 'kaitiaki'", () => {
  it('adds, searches closest first with ids, banks and distances, and removes', () => {
    const index = new PdqIndex();
    index.add(1, 10, BRIDGE);
    index.add(2, 20, BLURRED);
    index.add(3, 10, ROTATED);
    const found = index.search(BLURRED, 31);
    expect(found).toEqual([
      { id: 2, bankId: 20, distance: 0 },
      { id: 1, bankId: 10, distance: pdqDistance(BRIDGE, BLURRED) },
    ]);
    expect(found[1].distance).toBeGreaterThan(0);
    expect(index.search(ROTATED, 0)).toEqual([{ id: 3, bankId: 10, distance: 0 }]);
    expect(index.remove(2, BLURRED)).toBe(true);
    expect(index.remove(2, BLURRED)).toBe(false);
    expect(index.search(BLURRED, 31).map((m) => m.id)).toEqual([1]);
    expect(index.count).toBe(2);
  });

  it('refuses bad input with clear errors', () => {
    const index = new PdqIndex();
    expect(() => index.add(1, 1, 'xyz')).toThrow(/64 hex characters/);
    expect(() => index.add(1, 1, BRIDGE.toUpperCase())).toThrow(/lower-case/);
    expect(() => index.add(0, 1, BRIDGE)).toThrow(/ids are 1/);
    expect(() => index.add(1, Number.NaN, BRIDGE)).toThrow(/bank ids/);
    expect(() => index.search(BRIDGE, 300)).toThrow(/threshold/);
    expect(() => index.search(new Uint32Array(4), 31)).toThrow(/8 words/);
  });
});
