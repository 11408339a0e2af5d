/**
 * The hashing API in code: hashFile(path) and hashBuffer(bytes) turn media into every applicable signal:
 * MD5 and SHA-256 for any file, PDQ (and optionally its 8 dihedral variants) for photos, vPDQ for videos.
 */
import { mkdtemp, open, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { extname, join } from 'node:path';
import { MediaError } from '../core/errors.js';
import { sniffContentType, type ContentType } from './content-type.js';
import { exactHashesOfBuffer, exactHashesOfFile } from './exact.js';
import { claimedPixels, decodeImage, DEFAULT_MAX_PIXELS, resizeNearest512 } from './image-decode.js';
import { photoPixelBudget } from './pixel-budget.js';
import { PDQ_QUALITY_THRESHOLD, pdqDihedralFromPixels, pdqFromPixels, type DihedralName } from './pdq/pdq.js';
import { hashVideoFile, type VpdqFrame } from './vpdq/vpdq.js';

export const HASH_TYPES = ['pdq', 'vpdq', 'md5', 'sha256'] as const;
export type HashType = (typeof HASH_TYPES)[number];

export interface HashOptions {
  /** Signal types to compute (default: all that apply to the content). */
  types?: readonly HashType[];
  /** 'full' (default, what hash-sharing programmes use) or 512 (the C++ CLI's nearest-neighbour squash). */
  pdqResize?: 'full' | 512;
  dihedral?: boolean;
  /** vPDQ sampling: default 1 s; 0 hashes every frame. */
  secondsPerHash?: number;
  exifRotate?: boolean;
  maxPixels?: number;
  /** Refuse larger files (default 4 GiB). */
  maxBytes?: number;
  maxVideoSeconds?: number;
  onVideoProgress?: (framesDone: number, totalEstimate?: number) => void;
}

export interface HashResult {
  file?: string;
  type: ContentType;
  bytes: number;
  md5?: string;
  sha256?: string;
  pdq?: string;
  quality?: number;
  /** False when quality < 50: the hash is printed but must not be used for matching. */
  pdqUsable?: boolean;
  dihedral?: Record<DihedralName, string>;
  vpdq?: VpdqFrame[];
  width?: number;
  height?: number;
}

const DEFAULT_MAX_BYTES = 4 * 1024 ** 3;

function wants(options: HashOptions, type: HashType): boolean {
  return !options.types || options.types.includes(type);
}

async function readHead(path: string): Promise<Uint8Array> {
  const handle = await open(path, 'r');
  try {
    const head = Buffer.alloc(512);
    const { bytesRead } = await handle.read(head, 0, head.length, 0);
    return head.subarray(0, bytesRead);
  } finally {
    await handle.close();
  }
}

async function checkFile(path: string, maxBytes: number): Promise<number> {
  let info;
  try {
    info = await stat(path);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new MediaError(
      code === 'ENOENT' ? 'no such file' : `cannot read file (${code ?? 'error'})`,
      'KAI_ERR_MEDIA_UNREADABLE',
    );
  }
  if (info.isDirectory())
    throw new MediaError('is a directory (use --recursive to hash its files)', 'KAI_ERR_MEDIA_IS_DIRECTORY');
  if (!info.isFile()) throw new MediaError('not a regular file', 'KAI_ERR_MEDIA_UNREADABLE');
  if (info.size === 0) throw new MediaError('file is empty', 'KAI_ERR_MEDIA_EMPTY');
  if (info.size > maxBytes)
    throw new MediaError(
      `file is ${info.size} bytes, over the limit of ${maxBytes}`,
      'KAI_ERR_MEDIA_TOO_LARGE',
    );
  return info.size;
}

async function photoSignals(input: string | Buffer, options: HashOptions): Promise<Partial<HashResult>> {
  if (!wants(options, 'pdq')) return {};
  const pixels = Math.min(await claimedPixels(input), options.maxPixels ?? DEFAULT_MAX_PIXELS);
  return photoPixelBudget.run(pixels, () => hashPhoto(input, options));
}

async function hashPhoto(input: string | Buffer, options: HashOptions): Promise<Partial<HashResult>> {
  let image = await decodeImage(input, {
    exifRotate: options.exifRotate,
    maxPixels: options.maxPixels ?? DEFAULT_MAX_PIXELS,
  });
  const { width, height } = image;
  if (options.pdqResize === 512) image = resizeNearest512(image);
  if (options.dihedral) {
    const result = pdqDihedralFromPixels(image.pixels, image.width, image.height, image.channels);
    return {
      pdq: result.hash,
      quality: result.quality,
      pdqUsable: result.quality >= PDQ_QUALITY_THRESHOLD,
      dihedral: result.variants,
      width,
      height,
    };
  }
  const result = pdqFromPixels(image.pixels, image.width, image.height, image.channels);
  return {
    pdq: result.hash,
    quality: result.quality,
    pdqUsable: result.quality >= PDQ_QUALITY_THRESHOLD,
    width,
    height,
  };
}

async function videoSignals(path: string, options: HashOptions): Promise<Partial<HashResult>> {
  if (!wants(options, 'vpdq')) return {};
  const result = await hashVideoFile(path, {
    secondsPerHash: options.secondsPerHash,
    maxDurationSeconds: options.maxVideoSeconds,
    onProgress: options.onVideoProgress,
  });
  return { vpdq: result.frames, width: result.width, height: result.height };
}

const MEDIA_EXTENSIONS: Record<string, ContentType> = Object.fromEntries([
  ...['jpg', 'jpeg', 'png', 'gif', 'webp', 'tif', 'tiff', 'avif', 'heic', 'heif', 'bmp'].map((e) => [
    `.${e}`,
    'photo' as const,
  ]),
  ...['mp4', 'm4v', 'mov', 'webm', 'mkv', 'avi', 'flv', 'ts', '3gp'].map((e) => [`.${e}`, 'video' as const]),
]);

/**
 * The content decides the type; the name is only a hint. A name that promises a photo or video with content that
 * is neither is reported, since it is either damaged or disguised.
 */
function checkNameAgainstContent(path: string, type: ContentType): void {
  const claimed = MEDIA_EXTENSIONS[extname(path).toLowerCase()];
  if (claimed && type === 'other') {
    throw new MediaError(
      `named as a ${claimed} (${extname(path)}) but the content is not a ${claimed} in a supported format`,
      'KAI_ERR_MEDIA_UNSUPPORTED',
    );
  }
}

export async function hashFile(path: string, options: HashOptions = {}): Promise<HashResult> {
  const bytes = await checkFile(path, options.maxBytes ?? DEFAULT_MAX_BYTES);
  const type = sniffContentType(await readHead(path));
  checkNameAgainstContent(path, type);
  const result: HashResult = { file: path, type, bytes };
  if (wants(options, 'md5') || wants(options, 'sha256')) {
    const exact = await exactHashesOfFile(path);
    if (wants(options, 'md5')) result.md5 = exact.md5;
    if (wants(options, 'sha256')) result.sha256 = exact.sha256;
  }
  if (type === 'photo') Object.assign(result, await photoSignals(path, options));
  if (type === 'video') Object.assign(result, await videoSignals(path, options));
  return result;
}

/** Same as hashFile for bytes in memory (uploads). Videos go through a private temporary file for FFmpeg. */
export async function hashBuffer(buffer: Buffer, options: HashOptions = {}): Promise<HashResult> {
  if (buffer.length === 0) throw new MediaError('upload is empty', 'KAI_ERR_MEDIA_EMPTY');
  const maxBytes = options.maxBytes ?? DEFAULT_MAX_BYTES;
  if (buffer.length > maxBytes)
    throw new MediaError(
      `upload is ${buffer.length} bytes, over the limit of ${maxBytes}`,
      'KAI_ERR_MEDIA_TOO_LARGE',
    );
  const type = sniffContentType(buffer.subarray(0, 512));
  const result: HashResult = { type, bytes: buffer.length };
  const exact = exactHashesOfBuffer(buffer);
  if (wants(options, 'md5')) result.md5 = exact.md5;
  if (wants(options, 'sha256')) result.sha256 = exact.sha256;
  if (type === 'photo') Object.assign(result, await photoSignals(buffer, options));
  if (type === 'video' && wants(options, 'vpdq')) {
    const dir = await mkdtemp(join(tmpdir(), 'kaitiaki-upload-'));
    try {
      const path = join(dir, 'upload');
      await writeFile(path, buffer, { mode: 0o600 });
      Object.assign(result, await videoSignals(path, options));
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  }
  return result;
}
