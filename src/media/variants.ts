/**
 * Perturbed variants of a photo or a video for crisis drills (issue 12): the edits that re-uploads of a harmful
 * clip usually carry (a re-encode, a crop, a channel's logo, a mirror image, a screen recording). Each transform's
 * parameters come from a seed, so one drill can replay many different variants and a later run replays the same
 * ones. reachability() says whether the project's own PDQ/vPDQ still links a variant to the original's hash at
 * distance 31, the threshold the matchers use.
 */
import { createHash } from 'node:crypto';
import { resolve } from 'node:path';
import sharp, { type OverlayOptions, type Sharp } from 'sharp';
import { KaitiakiError, MediaError, ValidationError } from '../core/errors.js';
import { hashBuffer, hashFile, type HashOptions, type HashResult } from '../hashing/hash-file.js';
import { hammingWords, pdqDistance, pdqHexToWords } from '../hashing/pdq/hash256.js';
import { PDQ_MATCH_THRESHOLD, PDQ_QUALITY_THRESHOLD } from '../hashing/pdq/pdq.js';
import { probeVideo, runFfmpeg, type VideoInfo } from '../hashing/video/ffmpeg.js';
import { compareVideos, VPDQ_COMPARE_DEFAULTS } from '../hashing/vpdq/compare.js';

export const TRANSFORM_NAMES = ['reencode', 'crop', 'logo', 'mirror', 'screen_recording'] as const;
export type TransformName = (typeof TRANSFORM_NAMES)[number];

export interface Transform<P> {
  readonly name: TransformName;
  /** What the variant imitates, for a drill's report. */
  readonly description: string;
  /** The parameters this seed gives (always the same ones for the same seed). */
  params(seed: number): P;
}

/** Fractions of the width (left, right) and height (top, bottom) trimmed away. */
export interface CropParams {
  left: number;
  right: number;
  top: number;
  bottom: number;
}

export type Corner = 'top-left' | 'top-right' | 'bottom-left' | 'bottom-right';

export interface LogoParams {
  corner: Corner;
  /** The box's share of the frame's area. */
  area: number;
  /** Box width / height. */
  aspect: number;
  /** Opacity of the dark box (the marks on it are near-white). */
  opacity: number;
  /** Lines of "text": each word's width as a share of the space beside the emblem. */
  lines: number[][];
}

export interface ScreenRecordingParams {
  /** The clip first passes through this share of its size (a small player window, a low capture resolution). */
  capture: number;
  /** The recorded screen's width as a multiple of the original's: always larger. */
  canvas: number;
  /** The screen's height / width over the clip's: > 1 letterboxes the clip with bars above and below. */
  stretch: number;
  /** The clip's width as a share of the screen's; the rest is border. */
  fill: number;
  /** Where the clip sits between the top (0) and bottom (1) of the free space. */
  offset: number;
  /** Grey level of the border. */
  border: number;
  /** Added to each sample on a 0-1 scale. */
  brightness: number;
  /** Samples become sample^(1 / gamma), as FFmpeg's eq filter does. */
  gamma: number;
}

export interface VideoScreenRecordingParams extends ScreenRecordingParams {
  /** The recording's frame rate as a share of the source's (recorders drop frames). */
  frameRate: number;
}

/**
 * Uniform draws in [0, 1) from SHA-256 of the transform's name, the seed and a counter. Hashing (rather than
 * core/random's xorshift32) keeps neighbouring seeds unrelated, tells seed 0 from seed 1 (xorshift32 folds 0
 * into 1), and gives each transform its own draws for the same seed. A photo and a video drawn with one seed share
 * the geometry, as a clip and its frames in one drill should.
 */
function draws(name: TransformName, seed: number): () => number {
  if (!Number.isSafeInteger(seed) || seed < 0)
    throw new ValidationError(`a variant seed is an integer >= 0, got ${seed}`, 'KAI_ERR_VARIANT_SEED');
  let block = 0;
  let words = Buffer.alloc(0);
  let next = 8;
  return () => {
    if (next === 8) {
      words = createHash('sha256').update(`${name}:${seed}:${block++}`).digest();
      next = 0;
    }
    return words.readUInt32BE(4 * next++) / 2 ** 32;
  };
}

/** A draw mapped to [lo, hi], rounded to 3 decimals so parameters read well in a drill's log. */
function between(u: number, lo: number, hi: number): number {
  return Math.round((lo + u * (hi - lo)) * 1000) / 1000;
}

function integerBetween(u: number, lo: number, hi: number): number {
  return lo + Math.min(hi - lo, Math.floor(u * (hi - lo + 1)));
}

function transform<P>(name: TransformName, description: string, make: (u: () => number) => P): Transform<P> {
  return { name, description, params: (seed) => make(draws(name, seed)) };
}

/** About 8% of each dimension (6-10%), split unevenly between the two edges. */
function cropParams(u: () => number): CropParams {
  const across = between(u(), 0.06, 0.1);
  const down = between(u(), 0.06, 0.1);
  const leftShare = between(u(), 0.2, 0.8);
  const topShare = between(u(), 0.2, 0.8);
  return {
    left: round3(across * leftShare),
    right: round3(across * (1 - leftShare)),
    top: round3(down * topShare),
    bottom: round3(down * (1 - topShare)),
  };
}

const round3 = (x: number) => Math.round(x * 1000) / 1000;

const CORNERS: Corner[] = ['top-left', 'top-right', 'bottom-left', 'bottom-right'];

function logoParams(u: () => number): LogoParams {
  const corner = CORNERS[integerBetween(u(), 0, 3)];
  const area = between(u(), 0.1, 0.15);
  const aspect = between(u(), 1.6, 2.6);
  const opacity = between(u(), 0.6, 0.9);
  const lines: number[][] = [];
  for (let line = integerBetween(u(), 2, 3); line > 0; line--) {
    const words: number[] = [];
    const length = between(u(), 0.55, 0.95);
    let used = 0;
    while (used < length) {
      const word = Math.min(between(u(), 0.12, 0.34), round3(length - used));
      if (word < 0.05) break;
      words.push(word);
      used = round3(used + word + WORD_GAP);
    }
    lines.push(words);
  }
  return { corner, area, aspect, opacity, lines };
}

const WORD_GAP = 0.05;

function screenParams(u: () => number): ScreenRecordingParams {
  // A gamma or brightness too close to neutral would not be the "slight change" the transform promises.
  const darker = u() < 0.5;
  return {
    capture: between(u(), 0.5, 0.7),
    canvas: between(u(), 1.1, 1.3),
    stretch: between(u(), 1.1, 1.4),
    fill: between(u(), 0.8, 0.92),
    offset: between(u(), 0.3, 0.7),
    border: integerBetween(u(), 0, 48),
    brightness: (darker ? -1 : 1) * between(u(), 0.02, 0.06),
    gamma: darker ? between(u(), 0.8, 0.92) : between(u(), 1.08, 1.25),
  };
}

const MIRROR_DESCRIPTION = 'horizontal flip (no parameters: every seed gives the same variant)';
const CROP_DESCRIPTION = 'trims 6-10% of each dimension, split unevenly between the edges';
const LOGO_DESCRIPTION =
  'a semi-transparent box with an emblem and text-like bars in a corner, 10-15% of the area';
const SCREEN_DESCRIPTION =
  'downscaled, letterboxed with a border into a larger canvas, slightly brighter or darker (gamma)';

export const IMAGE_TRANSFORMS = {
  reencode: transform('reencode', 'JPEG re-encode at quality 55-65', (u) => ({
    quality: integerBetween(u(), 55, 65),
  })),
  crop: transform('crop', CROP_DESCRIPTION, cropParams),
  logo: transform('logo', LOGO_DESCRIPTION, logoParams),
  mirror: transform('mirror', MIRROR_DESCRIPTION, () => ({})),
  screen_recording: transform('screen_recording', SCREEN_DESCRIPTION, screenParams),
} as const satisfies Record<TransformName, Transform<unknown>>;

export const VIDEO_TRANSFORMS = {
  reencode: transform('reencode', 'H.264 re-encode at CRF 32-40', (u) => ({
    crf: integerBetween(u(), 32, 40),
  })),
  crop: transform('crop', CROP_DESCRIPTION, cropParams),
  logo: transform('logo', LOGO_DESCRIPTION, logoParams),
  mirror: transform('mirror', MIRROR_DESCRIPTION, () => ({})),
  screen_recording: transform(
    'screen_recording',
    `${SCREEN_DESCRIPTION}, at 50-80% of the frame rate`,
    (u): VideoScreenRecordingParams => ({ ...screenParams(u), frameRate: between(u(), 0.5, 0.8) }),
  ),
} as const satisfies Record<TransformName, Transform<unknown>>;

function checkTransform(name: string): asserts name is TransformName {
  if (!(TRANSFORM_NAMES as readonly string[]).includes(name))
    throw new ValidationError(
      `unknown variant transform "${name}" (one of ${TRANSFORM_NAMES.join(', ')})`,
      'KAI_ERR_VARIANT_TRANSFORM',
    );
}

// ---------------------------------------------------------------------------------------------------------------
// Geometry shared by photos and videos (videos round to even sizes: H.264 in 4:2:0 needs them).

export interface Rect {
  x: number;
  y: number;
  width: number;
  height: number;
}

function snap(value: number, even: boolean): number {
  return even ? Math.max(2, 2 * Math.round(value / 2)) : Math.max(1, Math.round(value));
}

export function cropRect(width: number, height: number, p: CropParams, even = false): Rect {
  const x = snap(width * p.left, even);
  const y = snap(height * p.top, even);
  return {
    x: Math.min(x, width - 1),
    y: Math.min(y, height - 1),
    width: Math.max(1, Math.min(snap(width * (1 - p.left - p.right), even), width - x)),
    height: Math.max(1, Math.min(snap(height * (1 - p.top - p.bottom), even), height - y)),
  };
}

/** The box and, inside it, the emblem and word bars, in frame pixels. */
export function logoLayout(width: number, height: number, p: LogoParams): { box: Rect; marks: Rect[] } {
  const area = p.area * width * height;
  const boxWidth = Math.max(1, Math.round(Math.min(Math.sqrt(area * p.aspect), width * 0.6)));
  const boxHeight = Math.max(1, Math.round(Math.min(area / boxWidth, height * 0.6)));
  const margin = Math.round(0.03 * Math.min(width, height));
  const x = p.corner.endsWith('left') ? margin : width - margin - boxWidth;
  const y = p.corner.startsWith('top') ? margin : height - margin - boxHeight;
  const pad = Math.max(1, Math.round(boxHeight * 0.15));
  const inner = Math.max(1, boxHeight - 2 * pad);
  const marks: Rect[] = [{ x: x + pad, y: y + pad, width: inner, height: inner }];
  const textX = x + 2 * pad + inner;
  const textWidth = Math.max(1, boxWidth - 3 * pad - inner);
  // Lines and the gaps between them share the inner height equally, like a caption's lines of text.
  const lineHeight = inner / (2 * p.lines.length - 1);
  p.lines.forEach((words, line) => {
    let at = 0;
    for (const word of words) {
      marks.push({
        x: Math.round(textX + at * textWidth),
        y: Math.round(y + pad + 2 * line * lineHeight),
        width: Math.max(1, Math.round(word * textWidth)),
        height: Math.max(1, Math.round(lineHeight)),
      });
      at += word + WORD_GAP;
    }
  });
  return { box: { x, y, width: boxWidth, height: boxHeight }, marks };
}

export interface ScreenLayout {
  capture: { width: number; height: number };
  content: Rect;
  canvas: { width: number; height: number };
}

export function screenLayout(
  width: number,
  height: number,
  p: ScreenRecordingParams,
  even = false,
): ScreenLayout {
  const canvasWidth = snap(width * p.canvas, even);
  const canvasHeight = snap(height * p.canvas * p.stretch, even);
  const contentWidth = snap(canvasWidth * p.fill, even);
  const contentHeight = snap((contentWidth * height) / width, even);
  return {
    capture: { width: snap(width * p.capture, even), height: snap(height * p.capture, even) },
    content: {
      x: snap((canvasWidth - contentWidth) / 2, even),
      y: snap((canvasHeight - contentHeight) * p.offset, even),
      width: contentWidth,
      height: contentHeight,
    },
    canvas: { width: canvasWidth, height: canvasHeight },
  };
}

// ---------------------------------------------------------------------------------------------------------------
// Photos (sharp). Only `reencode` writes a JPEG; the others write PNG, so that each variant carries its one named
// perturbation and no compression on top (a drill that wants both chains reencode after another transform).

function decodeFailure(err: unknown): KaitiakiError {
  if (err instanceof KaitiakiError) return err;
  const detail = err instanceof Error ? err.message.split('\n')[0] : String(err);
  return new MediaError(`could not make an image variant: ${detail}`, 'KAI_ERR_MEDIA_CORRUPT', {
    cause: err,
  });
}

/** A variant of a photo: `transform` with the parameters `seed` gives (IMAGE_TRANSFORMS[transform].params). */
export async function imageVariant(input: Buffer, transform: TransformName, seed: number): Promise<Buffer> {
  checkTransform(transform);
  const open = () => sharp(input, { failOn: 'error' });
  try {
    const { width, height } = await open().metadata();
    if (!width || !height) throw new MediaError('image has no size', 'KAI_ERR_MEDIA_CORRUPT');
    switch (transform) {
      case 'reencode': {
        const { quality } = IMAGE_TRANSFORMS.reencode.params(seed);
        return await open().jpeg({ quality, chromaSubsampling: '4:2:0' }).toBuffer();
      }
      case 'crop': {
        const r = cropRect(width, height, IMAGE_TRANSFORMS.crop.params(seed));
        return await png(open().extract({ left: r.x, top: r.y, width: r.width, height: r.height }));
      }
      case 'logo':
        return await png(open().composite([logoOverlay(width, height, IMAGE_TRANSFORMS.logo.params(seed))]));
      case 'mirror':
        return await png(open().flop());
      case 'screen_recording':
        return await screenRecordImage(open, width, height, IMAGE_TRANSFORMS.screen_recording.params(seed));
    }
  } catch (err) {
    throw decodeFailure(err);
  }
}

function png(image: Sharp): Promise<Buffer> {
  return image.png({ compressionLevel: 6 }).toBuffer();
}

function logoOverlay(width: number, height: number, p: LogoParams): OverlayOptions {
  const { box, marks } = logoLayout(width, height, p);
  const rect = (r: Rect, style: string) =>
    `<rect x="${r.x - box.x}" y="${r.y - box.y}" width="${r.width}" height="${r.height}" ${style}/>`;
  const svg =
    `<svg xmlns="http://www.w3.org/2000/svg" width="${box.width}" height="${box.height}">` +
    rect(box, `fill="#000" fill-opacity="${p.opacity}"`) +
    marks.map((m) => rect(m, 'fill="#f4f4f4" fill-opacity="0.95"')).join('') +
    '</svg>';
  return { input: Buffer.from(svg), left: box.x, top: box.y };
}

/** out = 255 * clamp(in^(1/gamma) + brightness), per 8-bit sample, as one lookup table. */
function toneTable(p: ScreenRecordingParams): Uint8Array {
  const table = new Uint8Array(256);
  for (let v = 0; v < 256; v++) {
    const out = Math.pow(v / 255, 1 / p.gamma) + p.brightness;
    table[v] = Math.round(255 * Math.min(1, Math.max(0, out)));
  }
  return table;
}

async function screenRecordImage(
  open: () => Sharp,
  width: number,
  height: number,
  p: ScreenRecordingParams,
): Promise<Buffer> {
  const layout = screenLayout(width, height, p);
  // A recording has no transparency; the hashers ignore alpha anyway.
  const small = await open()
    .removeAlpha()
    .resize(layout.capture.width, layout.capture.height, { fit: 'fill' });
  const captured = await small.raw().toBuffer({ resolveWithObject: true });
  const shown = await sharp(captured.data, { raw: captured.info })
    .resize(layout.content.width, layout.content.height, { fit: 'fill' })
    .raw()
    .toBuffer({ resolveWithObject: true });
  const table = toneTable(p);
  for (let i = 0; i < shown.data.length; i++) shown.data[i] = table[shown.data[i]];
  const { canvas, content } = layout;
  return png(
    sharp(shown.data, { raw: shown.info }).extend({
      left: content.x,
      top: content.y,
      right: canvas.width - content.x - content.width,
      bottom: canvas.height - content.y - content.height,
      background: { r: p.border, g: p.border, b: p.border },
    }),
  );
}

// ---------------------------------------------------------------------------------------------------------------
// Videos (FFmpeg): always H.264 in MP4, video stream only. Variants other than `reencode` use CRF 18 (visually
// lossless) so that their named perturbation, not the compression, is what moves the hash.

const GENTLE_CRF = 18;

/**
 * Writes a variant of the video at inputPath to outputPath (MP4). The same seed gives the same bytes with the same
 * FFmpeg build: x264 runs on one thread (its output otherwise depends on the thread count) and the container
 * carries no encoder version or time.
 */
export async function videoVariant(
  inputPath: string,
  outputPath: string,
  transform: TransformName,
  seed: number,
): Promise<void> {
  checkTransform(transform);
  if (resolve(inputPath) === resolve(outputPath))
    throw new ValidationError('a video variant cannot overwrite its original', 'KAI_ERR_VARIANT_OUTPUT');
  const info = await probeVideo(inputPath);
  const { filter, crf, rate } = videoFilter(info, transform, seed);
  await runFfmpeg(
    [
      '-y',
      '-i',
      inputPath,
      '-map',
      '0:v:0',
      ...(filter ? ['-vf', filter] : []),
      ...(rate ? ['-r', String(rate)] : []),
      '-c:v',
      'libx264',
      '-preset',
      'veryfast',
      '-crf',
      String(crf),
      '-pix_fmt',
      'yuv420p',
      '-threads',
      '1',
      '-map_metadata',
      '-1',
      '-fflags',
      '+bitexact',
      '-flags:v',
      '+bitexact',
      '-f',
      'mp4',
      outputPath,
    ],
    [inputPath, outputPath],
  );
}

function videoFilter(
  info: VideoInfo,
  transform: TransformName,
  seed: number,
): { filter?: string; crf: number; rate?: number } {
  const { width, height } = info;
  switch (transform) {
    case 'reencode':
      return { crf: VIDEO_TRANSFORMS.reencode.params(seed).crf };
    case 'crop': {
      const r = cropRect(width, height, VIDEO_TRANSFORMS.crop.params(seed), true);
      return { filter: `crop=${r.width}:${r.height}:${r.x}:${r.y}`, crf: GENTLE_CRF };
    }
    case 'logo': {
      const p = VIDEO_TRANSFORMS.logo.params(seed);
      const { box, marks } = logoLayout(width, height, p);
      const draw = (r: Rect, colour: string) =>
        `drawbox=x=${r.x}:y=${r.y}:w=${r.width}:h=${r.height}:color=${colour}:t=fill`;
      const filter = [draw(box, `black@${p.opacity}`), ...marks.map((m) => draw(m, '0xf4f4f4@0.95'))].join(
        ',',
      );
      return { filter, crf: GENTLE_CRF };
    }
    case 'mirror':
      return { filter: 'hflip', crf: GENTLE_CRF };
    case 'screen_recording': {
      const p = VIDEO_TRANSFORMS.screen_recording.params(seed);
      const { capture, content, canvas } = screenLayout(width, height, p, true);
      const grey = p.border.toString(16).padStart(2, '0').repeat(3);
      const filter = [
        `scale=${capture.width}:${capture.height}:flags=area`,
        `scale=${content.width}:${content.height}:flags=bicubic`,
        `eq=brightness=${p.brightness}:gamma=${p.gamma}`,
        `pad=${canvas.width}:${canvas.height}:${content.x}:${content.y}:color=0x${grey}`,
        'setsar=1',
      ].join(',');
      return { filter, crf: GENTLE_CRF, rate: Math.round(info.frameRate * p.frameRate * 1000) / 1000 };
    }
  }
}

// ---------------------------------------------------------------------------------------------------------------
// Reachability: would the original's hash, once banked, catch the variant?

export interface ImageReach {
  kind: 'image';
  /** PDQ Hamming distance between the original and the variant. */
  distance: number;
  /** distance <= 31 and both hashes usable (quality >= 50: the matchers drop the others). */
  reachable: boolean;
  quality: { original: number; variant: number };
  /**
   * The nearest of the original's 8 rotations and flips (`kaitiaki hash --dihedral`). Matching does not bank
   * these today; this is the distance a bank holding them would see.
   */
  dihedralDistance: number;
}

export interface VideoReach {
  kind: 'video';
  /**
   * The smallest threshold at which the variant would match under vPDQ's rule: the distance within which 80% of
   * the variant's usable, distinct frames find some frame of the original. null when either has no usable frame.
   */
  distance: number | null;
  /** The project's vPDQ match (hashing/vpdq/compare.ts, the same rule as the vPDQ index) at distance 31. */
  reachable: boolean;
  /** Share (%) of the variant's usable distinct frames within 31 of some original frame (query-match %). */
  matchedFrameShare: number;
  /** The same the other way (compared-match %). */
  comparedMatchPercent: number;
  /** Usable distinct frame hashes on each side. */
  frames: { original: number; variant: number };
}

export type Reach = ImageReach | VideoReach;

export interface ReachOptions {
  /** vPDQ sampling, as for uploads: default one frame hash a second. */
  secondsPerHash?: number;
}

/** Hashes both (photo: PDQ, video: vPDQ) as an upload would be hashed and measures how far apart they are. */
export async function reachability(
  original: Buffer | string,
  variant: Buffer | string,
  options: ReachOptions = {},
): Promise<Reach> {
  const hash = (input: Buffer | string, extra: HashOptions) => {
    const o: HashOptions = { types: ['pdq', 'vpdq'], secondsPerHash: options.secondsPerHash, ...extra };
    return typeof input === 'string' ? hashFile(input, o) : hashBuffer(input, o);
  };
  const [a, b] = await Promise.all([hash(original, { dihedral: true }), hash(variant, {})]);
  if (a.type === 'photo' && b.type === 'photo') return imageReach(a, b);
  if (a.type === 'video' && b.type === 'video') return videoReach(a, b);
  throw new MediaError(
    `reachability compares a photo with a photo or a video with a video, not ${a.type} with ${b.type}`,
    'KAI_ERR_MEDIA_UNSUPPORTED',
  );
}

function imageReach(original: HashResult, variant: HashResult): ImageReach {
  const distance = pdqDistance(original.pdq!, variant.pdq!);
  const quality = { original: original.quality!, variant: variant.quality! };
  const usable = quality.original >= PDQ_QUALITY_THRESHOLD && quality.variant >= PDQ_QUALITY_THRESHOLD;
  const dihedralDistance = Math.min(
    ...Object.values(original.dihedral ?? {}).map((hex) => pdqDistance(hex, variant.pdq!)),
  );
  return {
    kind: 'image',
    distance,
    reachable: usable && distance <= PDQ_MATCH_THRESHOLD,
    quality,
    dihedralDistance,
  };
}

function videoReach(original: HashResult, variant: HashResult): VideoReach {
  const comparison = compareVideos(variant.vpdq ?? [], original.vpdq ?? []);
  const words = (result: HashResult) =>
    [
      ...new Set(
        (result.vpdq ?? [])
          .filter((f) => f.quality >= VPDQ_COMPARE_DEFAULTS.qualityThreshold)
          .map((f) => f.pdq),
      ),
    ].map((hex) => pdqHexToWords(hex));
  const from = words(variant);
  const to = words(original);
  return {
    kind: 'video',
    distance: matchDistance(from, to, VPDQ_COMPARE_DEFAULTS.queryMatchPercent),
    reachable: comparison.match,
    matchedFrameShare: comparison.queryMatchPercent,
    comparedMatchPercent: comparison.comparedMatchPercent,
    frames: { original: to.length, variant: from.length },
  };
}

/** The k-th smallest nearest-frame distance, k being the frame count that `percent` of `from` asks for. */
function matchDistance(from: Uint32Array[], to: Uint32Array[], percent: number): number | null {
  if (from.length === 0 || to.length === 0) return null;
  const nearest = from.map((a) => Math.min(...to.map((b) => hammingWords(a, b)))).sort((x, y) => x - y);
  const needed = Math.max(1, Math.ceil((from.length * percent) / 100));
  return nearest[needed - 1];
}
