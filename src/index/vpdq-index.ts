/**
 * vPDQ video matching: every unique frame hash (quality >= 50) of every indexed video goes into one PDQ index;
 * a query video's frames are range-searched, and each video they touch is scored with the two percentages
 * vPDQ defines: the share of the query's unique frames that match some frame of the video (query-match %)
 * and the share of the video's unique frames matched by some query frame (compared-match %).
 */
import { pdqHexToWords } from '../hashing/pdq/hash256.js';
import { PdqIndex, type IndexBucketStats } from './pdq-index.js';

export interface VpdqFrameInput {
  pdq: string;
  quality: number;
}

export interface VpdqMatch {
  id: number;
  bankId: number;
  queryMatchPercent: number;
  comparedMatchPercent: number;
}

export interface VpdqSearchOptions {
  distance?: number;
  qualityThreshold?: number;
  queryMatchPercent?: number;
  comparedMatchPercent?: number;
  bankFilter?: (bankId: number) => boolean;
}

export const VPDQ_DEFAULTS = {
  distance: 31,
  qualityThreshold: 50,
  queryMatchPercent: 80,
  comparedMatchPercent: 0,
};

/** Unique usable frame hashes of a video, in first-seen order. */
export function uniqueUsableFrames(
  frames: VpdqFrameInput[],
  qualityThreshold = VPDQ_DEFAULTS.qualityThreshold,
): string[] {
  const seen = new Set<string>();
  for (const frame of frames) if (frame.quality >= qualityThreshold) seen.add(frame.pdq);
  return [...seen];
}

interface IndexedVideo {
  bankId: number;
  frameIds: number[];
  uniqueFrames: number;
}

export class VpdqIndex {
  private readonly frames = new PdqIndex();
  private readonly videos = new Map<number, IndexedVideo>();
  /** Frame id (in the PDQ index) -> the video it belongs to. */
  private readonly videoOfFrame = new Map<number, number>();
  private nextFrameId = 1;

  get count(): number {
    return this.videos.size;
  }

  /** Indexes a video's frames; returns false for a video with no usable frame (it could never match). */
  add(id: number, bankId: number, frames: VpdqFrameInput[]): boolean {
    if (this.videos.has(id)) return true;
    const unique = uniqueUsableFrames(frames);
    if (unique.length === 0) return false;
    const frameIds: number[] = [];
    for (const hash of unique) {
      const frameId = this.nextFrameId++;
      this.frames.add(frameId, bankId, pdqHexToWords(hash));
      this.videoOfFrame.set(frameId, id);
      frameIds.push(frameId);
    }
    this.videos.set(id, { bankId, frameIds, uniqueFrames: unique.length });
    this.frameHashes.set(id, unique);
    return true;
  }

  private readonly frameHashes = new Map<number, string[]>();

  remove(id: number): boolean {
    const video = this.videos.get(id);
    const hashes = this.frameHashes.get(id);
    if (!video || !hashes) return false;
    video.frameIds.forEach((frameId, i) => {
      this.frames.remove(frameId, hashes[i]);
      this.videoOfFrame.delete(frameId);
    });
    this.videos.delete(id);
    this.frameHashes.delete(id);
    return true;
  }

  search(query: VpdqFrameInput[], options: VpdqSearchOptions = {}): VpdqMatch[] {
    const o = { ...VPDQ_DEFAULTS, ...options };
    const unique = uniqueUsableFrames(query, o.qualityThreshold);
    if (unique.length === 0) return [];
    // Per candidate video: which query frames matched it, and which of its frames were matched.
    const queryHits = new Map<number, Set<number>>();
    const targetHits = new Map<number, Set<number>>();
    unique.forEach((hash, queryFrame) => {
      for (const match of this.frames.search(hash, o.distance, { bankFilter: o.bankFilter })) {
        const videoId = this.videoOfFrame.get(match.id);
        if (videoId === undefined) continue;
        if (!queryHits.has(videoId)) {
          queryHits.set(videoId, new Set());
          targetHits.set(videoId, new Set());
        }
        queryHits.get(videoId)!.add(queryFrame);
        targetHits.get(videoId)!.add(match.id);
      }
    });
    const results: VpdqMatch[] = [];
    for (const [videoId, hits] of queryHits) {
      const video = this.videos.get(videoId)!;
      const queryMatchPercent = (hits.size * 100) / unique.length;
      const comparedMatchPercent = (targetHits.get(videoId)!.size * 100) / video.uniqueFrames;
      if (queryMatchPercent >= o.queryMatchPercent && comparedMatchPercent >= o.comparedMatchPercent) {
        results.push({ id: videoId, bankId: video.bankId, queryMatchPercent, comparedMatchPercent });
      }
    }
    return results.sort((a, b) => b.queryMatchPercent - a.queryMatchPercent || a.id - b.id);
  }

  /** Bucket statistics of the frame index (see PdqIndex.bucketStats). */
  bucketStats(): IndexBucketStats {
    return this.frames.bucketStats();
  }

  memoryBytes(): number {
    return this.frames.memoryBytes() + this.videoOfFrame.size * 40 + this.videos.size * 120;
  }
}
