import { ValidationError } from '../core/errors.js';
import type { SignalType } from './signal-type.js';

/** Builds a cryptographic-digest signal type: fixed-length hex, case-insensitive in, lower case out. */
export function exactHexSignal(spec: {
  name: string;
  description: string;
  hexLength: number;
  examples: string[];
}): SignalType {
  const pattern = new RegExp(`^[0-9a-f]{${spec.hexLength}}$`);
  return {
    name: spec.name,
    description: spec.description,
    contentTypes: ['photo', 'video', 'other'],
    matchKind: 'exact',
    defaultThreshold: 0,
    maxThreshold: 0,
    examples: spec.examples,
    normalize(value: unknown): string {
      if (typeof value !== 'string') {
        throw new ValidationError(
          `a ${spec.name} value must be a string of ${spec.hexLength} hex characters`,
          'KAI_ERR_HASH_INVALID',
        );
      }
      const lower = value.trim().toLowerCase();
      if (!pattern.test(lower)) {
        throw new ValidationError(
          `a ${spec.name} value has ${spec.hexLength} hex characters (0-9, a-f); got ${JSON.stringify(value.slice(0, 80))}`,
          'KAI_ERR_HASH_INVALID',
        );
      }
      return lower;
    },
    compare(a: string, b: string) {
      const match = a === b;
      return { distance: match ? 0 : 1, match };
    },
  };
}
