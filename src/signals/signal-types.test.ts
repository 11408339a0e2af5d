import { describe, expect, it } from 'vitest';
import { getSignalType, normalizeSignal, SIGNAL_TYPES } from './registry.js';

// The shared conformance suite: every registered signal type must pass it, so a new type is one file away.
describe.each([...SIGNAL_TYPES.values()].map((type) => [type.name, type] as const))(
  'signal type %s',
  (name, type) => {
    it('has a lower-case wire name and a description', () => {
      expect(name).toMatch(/^[a-z][a-z0-9_]*$/);
      expect(type.description.length).toBeGreaterThan(10);
      expect(type.contentTypes.length).toBeGreaterThan(0);
    });

    it('keeps its examples canonical and matches each example with itself', () => {
      expect(type.examples.length).toBeGreaterThanOrEqual(2);
      for (const example of type.examples) {
        expect(type.normalize(example)).toBe(example);
        const self = type.compare(example, example);
        expect(self.match).toBe(true);
        expect(self.distance).toBe(0);
      }
    });

    it('does not match different examples at distance 0', () => {
      const [a, b] = type.examples;
      expect(type.compare(a, b).distance).toBeGreaterThan(0);
      expect(type.compare(a, b, 0).match).toBe(false);
    });

    it('has a default threshold within its maximum', () => {
      expect(type.defaultThreshold).toBeGreaterThanOrEqual(0);
      expect(type.defaultThreshold).toBeLessThanOrEqual(type.maxThreshold);
    });

    it.each([[''], ['not a hash'], [42], [null], [{}], ['z'.repeat(64)]])(
      'rejects %j with a clear error',
      (bad) => {
        expect(() => type.normalize(bad)).toThrow(/./);
        try {
          type.normalize(bad);
        } catch (err) {
          expect((err as { code?: string }).code).toBe('KAI_ERR_HASH_INVALID');
          expect((err as Error).message.length).toBeGreaterThan(10);
        }
      },
    );
  },
);

describe('signal type registry', () => {
  it('names an unknown type and lists the known ones', () => {
    expect(() => getSignalType('photodna')).toThrow(/unknown signal type "photodna"; known types: pdq/);
  });

  it('canonicalises hex values to lower case', () => {
    const upper = 'F8F8F0CEE0F4A84F06370A22038F63F0B36E2ED596621E1D33E6B39C4E9C9B22';
    expect(normalizeSignal('pdq', upper)).toEqual({ type: 'pdq', value: upper.toLowerCase() });
    expect(normalizeSignal('md5', ' D41D8CD98F00B204E9800998ECF8427E ').value).toBe(
      'd41d8cd98f00b204e9800998ecf8427e',
    );
  });
});
