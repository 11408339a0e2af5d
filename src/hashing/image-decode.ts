/**
 * Image decoding for hashing: any format libvips reads (JPEG, PNG, WebP, GIF first frame, TIFF, AVIF, HEIF)
 * to interleaved 8-bit pixels, exactly as the hash-sharing programmes' reference pipeline sees them:
 * decoded sRGB bytes as they are (no ICC transform, no gamma), alpha ignored, no EXIF rotation unless asked.
 */
import sharp, { type Metadata, type Sharp, type SharpOptions } from 'sharp';
import { MediaError } from '../core/errors.js';

export interface DecodedImage {
  pixels: Uint8Array;
  width: number;
  height: number;
  /** 1 (grey), 2 (grey + alpha), 3 (RGB) or 4 (RGBA); alpha is never read by the hashers. */
  channels: number;
}

export interface ImageDecodeOptions {
  /** Apply the EXIF orientation tag before hashing. Off by default: the reference hashers ignore it. */
  exifRotate?: boolean;
  /** Refuse images with more pixels than this (decompression bombs). Default 100 megapixels. */
  maxPixels?: number;
}

export const DEFAULT_MAX_PIXELS = 100_000_000;

// libvips keeps a cache of operations; a hashing service decodes each file once.
sharp.cache(false);

/** Width x height as the file's header claims them (0 when it says nothing); reads the header only. */
export async function claimedPixels(input: string | Buffer): Promise<number> {
  try {
    const meta = await sharp(input, { limitInputPixels: false }).metadata();
    return (meta.width ?? 0) * (meta.height ?? 0);
  } catch (err) {
    throw describeDecodeFailure(err);
  }
}

export async function decodeImage(
  input: string | Buffer,
  options: ImageDecodeOptions = {},
): Promise<DecodedImage> {
  const maxPixels = options.maxPixels ?? DEFAULT_MAX_PIXELS;
  const open = (extra: SharpOptions = {}) =>
    sharp(input, { ignoreIcc: true, limitInputPixels: maxPixels, failOn: 'error', ...extra });
  let meta: Metadata;
  try {
    // Only the header is read here, so the pixel limit is lifted to learn the claimed size and say it.
    meta = await open({ limitInputPixels: false }).metadata();
  } catch (err) {
    throw describeDecodeFailure(err);
  }
  const pixelCount = (meta.width ?? 0) * (meta.height ?? 0);
  if (pixelCount > maxPixels) {
    throw new MediaError(
      `image is ${meta.width}x${meta.height} (${pixelCount} pixels), over the limit of ${maxPixels} pixels`,
      'KAI_ERR_MEDIA_TOO_LARGE',
    );
  }
  try {
    if (meta.space === 'cmyk') return await decodeCmyk(open(), options);
    let pipeline = open();
    if (options.exifRotate) pipeline = pipeline.rotate();
    const { data, info } = await pipeline.raw().toBuffer({ resolveWithObject: true });
    // 16-bit images arrive scaled to 8 bits by libvips; ImageMagick rounds some samples one step differently.
    const pixels = new Uint8Array(data.buffer, data.byteOffset, data.length);
    return { pixels, width: info.width, height: info.height, channels: info.channels };
  } catch (err) {
    throw describeDecodeFailure(err);
  }
}

/**
 * CMYK JPEGs: libjpeg's plain conversion R = (255 - C)(255 - K) / 255, rounded, which is what the reference
 * decoders produce. libvips would otherwise apply a CMYK ICC profile and shift the hash by a few bits.
 */
async function decodeCmyk(pipeline: Sharp, options: ImageDecodeOptions): Promise<DecodedImage> {
  if (options.exifRotate) pipeline = pipeline.rotate();
  const { data, info } = await pipeline
    .pipelineColourspace('cmyk')
    .toColourspace('cmyk')
    .raw()
    .toBuffer({ resolveWithObject: true });
  const n = info.width * info.height;
  const rgb = new Uint8Array(n * 3);
  for (let i = 0; i < n; i++) {
    const keep = 255 - data[i * 4 + 3];
    for (let c = 0; c < 3; c++) rgb[i * 3 + c] = Math.round(((255 - data[i * 4 + c]) * keep) / 255);
  }
  return { pixels: rgb, width: info.width, height: info.height, channels: 3 };
}

function describeDecodeFailure(err: unknown): MediaError {
  if (err instanceof MediaError) return err;
  const detail = err instanceof Error ? err.message.split('\n')[0] : String(err);
  if (/pixel limit/i.test(detail)) {
    return new MediaError(
      `image is over the pixel limit (decompression bomb?): ${detail}`,
      'KAI_ERR_MEDIA_TOO_LARGE',
      {
        cause: err,
      },
    );
  }
  if (/unsupported image format/i.test(detail)) {
    return new MediaError(
      'not an image in a supported format (JPEG, PNG, WebP, GIF, TIFF, AVIF, HEIF)',
      'KAI_ERR_MEDIA_UNSUPPORTED',
      { cause: err },
    );
  }
  return new MediaError(`could not decode image: ${detail}`, 'KAI_ERR_MEDIA_CORRUPT', { cause: err });
}

/**
 * The C++ command-line hasher's pre-resize: any image over 512 px on a side is squashed to exactly 512x512
 * by nearest-neighbour sampling (CImg's default), aspect ratio not kept.
 */
export function resizeNearest512(image: DecodedImage): DecodedImage {
  const { width, height, channels, pixels } = image;
  if (width <= 512 && height <= 512) return image;
  const size = 512;
  const out = new Uint8Array(size * size * channels);
  const srcCols = new Int32Array(size);
  for (let x = 0; x < size; x++) srcCols[x] = Math.floor((x * width) / size);
  for (let y = 0; y < size; y++) {
    const srcRow = Math.floor((y * height) / size) * width;
    for (let x = 0; x < size; x++) {
      const s = (srcRow + srcCols[x]) * channels;
      const o = (y * size + x) * channels;
      for (let c = 0; c < channels; c++) out[o + c] = pixels[s + c];
    }
  }
  return { pixels: out, width: size, height: size, channels };
}
