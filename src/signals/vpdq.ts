import { compareVideos } from '../hashing/vpdq/compare.js';
import { formatVpdqSignal, parseVpdqSignal } from '../hashing/vpdq/format.js';
import type { SignalType } from './signal-type.js';
import { videoTypeIndex } from './type-indexes.js';

const frame = (hex: string, quality: number, timestamp: string) => `${hex},${quality},${timestamp}`;
const A = 'e271017837246aaccddea259648fb7d62f435c89d9e99b2497763e216c8d055c';
const B = 'ebcc8b06b0266ea34cf9b85972a983a4f94669af05fc9d52aa9662f975499514';
const C = 'f8f8f0cee0f4a84f06370a22038f63f0b36e2ed596621e1d33e6b39c4e9c9b22';

/** vPDQ video hash: PDQ of sampled frames; videos match when >= 80% of the query's frames match. */
export const vpdqSignal: SignalType = {
  name: 'vpdq',
  description: 'vPDQ video hash: a JSON array of "pdqhex,quality,timestamp" frame strings (HMA/pytx form)',
  contentTypes: ['video'],
  matchKind: 'video',
  defaultThreshold: 31,
  maxThreshold: 128,
  // A video matches on the share of its frames within the type's threshold, not on one distance per bank.
  perBankThresholds: false,
  createIndex: videoTypeIndex,
  fromHash: (result) => (result.vpdq && result.vpdq.length > 0 ? formatVpdqSignal(result.vpdq) : undefined),
  hma: { name: 'vpdq', bankedFor: ['video'] },
  display: { label: 'vPDQ', short: (value) => `${(JSON.parse(value) as unknown[]).length} frames` },
  examples: [
    JSON.stringify([frame(A, 100, '0.0'), frame(B, 100, '1.0')]),
    JSON.stringify([frame(C, 100, '0.0'), frame(C, 90, '2.0')]),
  ],
  normalize(value: unknown): string {
    return formatVpdqSignal(parseVpdqSignal(value));
  },
  compare(a: string, b: string, threshold = 31) {
    const result = compareVideos(parseVpdqSignal(a), parseVpdqSignal(b), { distance: threshold });
    return {
      distance: Math.round((100 - result.queryMatchPercent) * 100) / 100,
      match: result.match,
      detail: `${result.queryMatchPercent.toFixed(0)}%[${result.comparedMatchPercent.toFixed(0)}%]`,
    };
  },
};
