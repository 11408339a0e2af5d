/**
 * vPDQ video-to-video comparison as python-threatexchange does it: frames below quality 50 are dropped and
 * identical hashes deduplicated; a frame matches at distance <= 31; query-match % is the share of the query's
 * frames with a match in the other video, compared-match % the same the other way; the videos match when
 * query-match % >= 80 and compared-match % >= 0.
 */
import { hammingWords, pdqHexToWords } from '../pdq/hash256.js';

export interface VpdqCompareOptions {
  distance?: number;
  qualityThreshold?: number;
  queryMatchPercent?: number;
  comparedMatchPercent?: number;
}

export interface VpdqComparison {
  queryMatchPercent: number;
  comparedMatchPercent: number;
  match: boolean;
}

export const VPDQ_COMPARE_DEFAULTS: Required<VpdqCompareOptions> = {
  distance: 31,
  qualityThreshold: 50,
  queryMatchPercent: 80,
  comparedMatchPercent: 0,
};

function usableUnique(frames: { pdq: string; quality: number }[], qualityThreshold: number): Uint32Array[] {
  const unique = new Set<string>();
  for (const frame of frames) if (frame.quality >= qualityThreshold) unique.add(frame.pdq);
  return [...unique].map((hex) => pdqHexToWords(hex));
}

function matchedShare(from: Uint32Array[], to: Uint32Array[], distance: number): number {
  if (from.length === 0) return 0;
  let matched = 0;
  for (const a of from) if (to.some((b) => hammingWords(a, b) <= distance)) matched++;
  return (matched * 100) / from.length;
}

export function compareVideos(
  query: { pdq: string; quality: number }[],
  compared: { pdq: string; quality: number }[],
  options: VpdqCompareOptions = {},
): VpdqComparison {
  const o = { ...VPDQ_COMPARE_DEFAULTS, ...options };
  const q = usableUnique(query, o.qualityThreshold);
  const c = usableUnique(compared, o.qualityThreshold);
  const queryMatchPercent = matchedShare(q, c, o.distance);
  const comparedMatchPercent = matchedShare(c, q, o.distance);
  const match =
    q.length > 0 &&
    c.length > 0 &&
    queryMatchPercent >= o.queryMatchPercent &&
    comparedMatchPercent >= o.comparedMatchPercent;
  return { queryMatchPercent, comparedMatchPercent, match };
}
