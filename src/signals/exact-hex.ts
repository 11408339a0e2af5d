import { ValidationError } from '../core/errors.js';
import type { HashResult } from '../hashing/hash-file.js';
import { shortHash, type ContentType, type SignalType } from './signal-type.js';
import { exactTypeIndex } from './type-indexes.js';

/** Builds a cryptographic-digest signal type: fixed-length hex, case-insensitive in, lower case out. */
export function exactHexSignal(spec: {
  name: string;
  description: string;
  hexLength: number;
  examples: string[];
  label: string;
  fromHash?: (result: HashResult) => string | undefined;
  hma?: { name: string; bankedFor: ContentType[] };
}): SignalType {
  const pattern = new RegExp(`^[0-9a-f]{${spec.hexLength}}$`);
  return {
    name: spec.name,
    description: spec.description,
    contentTypes: ['photo', 'video', 'other'],
    matchKind: 'exact',
    defaultThreshold: 0,
    maxThreshold: 0,
    perBankThresholds: true,
    createIndex: exactTypeIndex,
    ...(spec.fromHash ? { fromHash: spec.fromHash } : {}),
    ...(spec.hma ? { hma: spec.hma } : {}),
    display: { label: spec.label, short: shortHash },
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
