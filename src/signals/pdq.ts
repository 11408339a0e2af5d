import { ValidationError } from '../core/errors.js';
import { hammingWords, isPdqHex, pdqHexToWords } from '../hashing/pdq/hash256.js';
import { PDQ_MATCH_THRESHOLD } from '../hashing/pdq/pdq.js';
import { shortHash, type SignalType } from './signal-type.js';
import { hammingTypeIndex } from './type-indexes.js';

/** PDQ perceptual photo hash: 64 hex characters, Hamming distance, match at <= 31 by default. */
export const pdqSignal: SignalType = {
  name: 'pdq',
  description: 'PDQ perceptual image hash (64 hex characters); Hamming distance, match at <= 31',
  contentTypes: ['photo'],
  matchKind: 'hamming',
  defaultThreshold: PDQ_MATCH_THRESHOLD,
  maxThreshold: 128,
  perBankThresholds: true,
  createIndex: () => hammingTypeIndex(),
  // A photo too flat to hash well (quality < 50) is printed but never matched.
  fromHash: (result) => (result.pdq && result.pdqUsable ? result.pdq : undefined),
  hma: { name: 'pdq', bankedFor: ['photo'] },
  display: { label: 'PDQ', short: shortHash },
  examples: [
    'f8f8f0cee0f4a84f06370a22038f63f0b36e2ed596621e1d33e6b39c4e9c9b22',
    '30a10efd71cc3d429013d48d0ffffc52e34e0e17ada952a9d29685211ea9e5af',
    'e64cc9d91c623882f8d1f1d9a398e78c9f199b3bd83924f2b7e11e0bf861b064',
  ],
  normalize(value: unknown): string {
    if (typeof value !== 'string') {
      throw new ValidationError('a pdq value must be a string of 64 hex characters', 'KAI_ERR_HASH_INVALID');
    }
    // Upper-case hex is accepted on the way in (some exporters write it) and stored in the canonical lower case.
    const lower = value.trim().toLowerCase();
    // Only a bad value is parsed, for its precise error; a bulk import checks a million good ones.
    if (!isPdqHex(lower)) pdqHexToWords(lower);
    return lower;
  },
  compare(a: string, b: string, threshold = PDQ_MATCH_THRESHOLD) {
    const distance = hammingWords(pdqHexToWords(a), pdqHexToWords(b));
    return { distance, match: distance <= threshold };
  },
};
