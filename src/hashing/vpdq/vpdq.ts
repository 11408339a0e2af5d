/**
 * vPDQ: PDQ hashes of a video's frames, sampled every `secondsPerHash` seconds (0 = every frame), exactly as the
 * reference samples: frameMod = max(1, trunc(secondsPerHash * frameRate)), frame n is hashed when n % frameMod == 0,
 * timestamp = n / frameRate.
 */
import { MediaError } from '../../core/errors.js';
import { pdqFromPixels } from '../pdq/pdq.js';
import { decodeFrames, probeVideo, type FrameSize, type VideoLimits } from '../video/ffmpeg.js';

export interface VpdqFrame {
  frame: number;
  quality: number;
  pdq: string;
  /** Seconds from the start. */
  timestamp: number;
}

export interface VpdqResult {
  frames: VpdqFrame[];
  frameRate: number;
  width: number;
  height: number;
  durationSeconds: number;
}

export interface VpdqOptions extends VideoLimits {
  /** Default 1.0; 0 hashes every frame. */
  secondsPerHash?: number;
  /** Scale every frame to this size first (area filter), e.g. 128x128 as in the reference's -s option. */
  downsample?: FrameSize;
  /** Stop with an error after this many decoded frames. */
  maxFrames?: number;
  onProgress?: (framesDone: number, totalFramesEstimate?: number) => void;
  signal?: AbortSignal;
}

export function frameModulus(secondsPerHash: number, frameRate: number): number {
  return Math.max(1, Math.trunc(secondsPerHash * frameRate));
}

export async function hashVideoFile(path: string, options: VpdqOptions = {}): Promise<VpdqResult> {
  const secondsPerHash = options.secondsPerHash ?? 1;
  if (!Number.isFinite(secondsPerHash) || secondsPerHash < 0) {
    throw new MediaError('seconds per hash must be a number >= 0', 'KAI_ERR_BAD_OPTION');
  }
  const info = await probeVideo(path, options);
  const size = options.downsample ?? { width: info.width, height: info.height };
  const frameMod = frameModulus(secondsPerHash, info.frameRate);
  const maxFrames = options.maxFrames ?? Number.POSITIVE_INFINITY;
  const frames: VpdqFrame[] = [];
  await decodeFrames(
    path,
    size,
    (n, rgb) => {
      if (n >= maxFrames)
        throw new MediaError(`video has more than ${maxFrames} frames`, 'KAI_ERR_MEDIA_TOO_LARGE');
      if (n % frameMod === 0) {
        const { hash, quality } = pdqFromPixels(rgb, size.width, size.height, 3);
        frames.push({ frame: n, quality, pdq: hash, timestamp: n / info.frameRate });
      }
      options.onProgress?.(n + 1, info.frameCountEstimate);
    },
    options.signal,
  );
  return {
    frames,
    frameRate: info.frameRate,
    width: size.width,
    height: size.height,
    durationSeconds: info.durationSeconds,
  };
}
