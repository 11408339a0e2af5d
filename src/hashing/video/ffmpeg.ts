/**
 * Video decoding through FFmpeg (Debian's `ffmpeg` package): ffprobe for the stream's facts, ffmpeg for raw RGB24
 * frames on a pipe, read frame by frame so a long video never sits in memory. Like the vPDQ reference: every
 * decoded frame exactly once in decode order (no frame-rate conversion), area scaling, no auto-rotation.
 */
import { spawn } from 'node:child_process';
import { basename } from 'node:path';
import { DependencyError, MediaError } from '../../core/errors.js';

export interface VideoInfo {
  width: number;
  height: number;
  frameRate: number;
  durationSeconds: number;
  codec: string;
  /** From the container; an estimate for progress only. */
  frameCountEstimate?: number;
}

export interface VideoLimits {
  maxPixelsPerFrame?: number;
  maxDurationSeconds?: number;
}

export const DEFAULT_VIDEO_LIMITS: Required<VideoLimits> = {
  maxPixelsPerFrame: 8192 * 8192,
  maxDurationSeconds: 3 * 3600,
};

const FFPROBE = process.env.KAITIAKI_FFPROBE ?? 'ffprobe';
const FFMPEG = process.env.KAITIAKI_FFMPEG ?? 'ffmpeg';

function run(
  command: string,
  args: string[],
): Promise<{ stdout: string; stderr: string; code: number | null }> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr = (stderr + d.toString()).slice(-4000)));
    child.on('error', (err: NodeJS.ErrnoException) => reject(missingTool(command, err)));
    child.on('close', (code) => resolve({ stdout, stderr, code }));
  });
}

function missingTool(command: string, err: NodeJS.ErrnoException): Error {
  if (err.code === 'ENOENT') {
    return new DependencyError(
      `${command} is not installed; video hashing needs FFmpeg (e.g. apt-get install ffmpeg)`,
      'KAI_ERR_FFMPEG_MISSING',
    );
  }
  return err;
}

/** FFmpeg's last complaint, with the files' folders left out (a server's temporary paths are nobody's business). */
function lastLine(text: string, ...paths: string[]): string {
  const line = text.trim().split('\n').filter(Boolean).slice(-1)[0] ?? 'no detail';
  return paths.reduce((out, path) => out.split(path).join(basename(path)), line);
}

/**
 * Runs ffmpeg to write a file (a transcode, as opposed to decodeFrames' pipe of frames for hashing). `files` are
 * the paths in `args`, named in errors without their folders.
 */
export async function runFfmpeg(args: string[], files: string[]): Promise<void> {
  const { stderr, code } = await run(FFMPEG, ['-nostdin', '-v', 'error', ...args]);
  if (code === 0) return;
  throw new MediaError(
    `ffmpeg could not transcode: ${lastLine(stderr, ...files)}`,
    'KAI_ERR_MEDIA_TRANSCODE',
  );
}

export function parseFrameRate(rate: string | undefined): number {
  if (!rate) return 0;
  const [num, den] = rate.split('/').map(Number);
  const value = den ? num / den : num;
  return Number.isFinite(value) && value > 0 ? value : 0;
}

export async function probeVideo(path: string, limits: VideoLimits = {}): Promise<VideoInfo> {
  const { maxPixelsPerFrame, maxDurationSeconds } = { ...DEFAULT_VIDEO_LIMITS, ...limits };
  const { stdout, stderr, code } = await run(FFPROBE, [
    '-v',
    'error',
    '-select_streams',
    'v:0',
    '-show_entries',
    'stream=width,height,avg_frame_rate,r_frame_rate,nb_frames,duration,codec_name:format=duration',
    '-of',
    'json',
    path,
  ]);
  if (code !== 0)
    throw new MediaError(`not a readable video: ${lastLine(stderr, path)}`, 'KAI_ERR_MEDIA_CORRUPT');
  const parsed = JSON.parse(stdout) as {
    streams?: {
      width?: number;
      height?: number;
      avg_frame_rate?: string;
      r_frame_rate?: string;
      nb_frames?: string;
      duration?: string;
      codec_name?: string;
    }[];
    format?: { duration?: string };
  };
  const stream = parsed.streams?.[0];
  if (!stream || !stream.width || !stream.height)
    throw new MediaError('file has no video stream', 'KAI_ERR_MEDIA_UNSUPPORTED');
  const frameRate = parseFrameRate(stream.avg_frame_rate) || parseFrameRate(stream.r_frame_rate);
  if (!frameRate) throw new MediaError('video has no usable frame rate', 'KAI_ERR_MEDIA_CORRUPT');
  if (stream.width * stream.height > maxPixelsPerFrame) {
    throw new MediaError(
      `video frames are ${stream.width}x${stream.height}, over the limit of ${maxPixelsPerFrame} pixels`,
      'KAI_ERR_MEDIA_TOO_LARGE',
    );
  }
  const durationSeconds = Number(stream.duration ?? parsed.format?.duration ?? 0) || 0;
  if (durationSeconds > maxDurationSeconds) {
    throw new MediaError(
      `video lasts ${durationSeconds.toFixed(0)} s, over the limit of ${maxDurationSeconds} s`,
      'KAI_ERR_MEDIA_TOO_LARGE',
    );
  }
  const frames = Number(stream.nb_frames);
  return {
    width: stream.width,
    height: stream.height,
    frameRate,
    durationSeconds,
    codec: stream.codec_name ?? 'unknown',
    ...(Number.isFinite(frames) && frames > 0 ? { frameCountEstimate: frames } : {}),
  };
}

export interface FrameSize {
  width: number;
  height: number;
}

/**
 * Calls onFrame(frameNumber, rgb) for every decoded frame, in order; `rgb` is reused between calls. Resolves with
 * the number of frames once FFmpeg has finished; rejects (and stops FFmpeg) on a decoding error or when
 * onFrame throws.
 */
export function decodeFrames(
  path: string,
  size: FrameSize,
  onFrame: (frameNumber: number, rgb: Uint8Array) => void,
  signal?: AbortSignal,
): Promise<number> {
  const frameBytes = size.width * size.height * 3;
  return new Promise((resolve, reject) => {
    const child = spawn(
      FFMPEG,
      [
        '-nostdin',
        '-v',
        'error',
        '-noautorotate',
        '-i',
        path,
        '-map',
        '0:v:0',
        // accurate_rnd: the swscale rounding that reproduces the reference's frames most closely (measured).
        '-vf',
        `scale=${size.width}:${size.height}:flags=area+accurate_rnd,format=rgb24`,
        '-sws_flags',
        'area+accurate_rnd',
        '-fps_mode',
        'passthrough',
        '-f',
        'rawvideo',
        '-pix_fmt',
        'rgb24',
        'pipe:1',
      ],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    const frame = new Uint8Array(frameBytes);
    let filled = 0;
    let frameNumber = 0;
    let stderr = '';
    let failed: Error | null = null;
    const fail = (err: Error) => {
      if (failed) return;
      failed = err;
      child.kill('SIGKILL');
    };
    signal?.addEventListener(
      'abort',
      () => fail(new MediaError('video hashing was cancelled', 'KAI_ERR_CANCELLED')),
      { once: true },
    );
    child.stdout.on('data', (chunk: Buffer) => {
      let offset = 0;
      while (offset < chunk.length && !failed) {
        const take = Math.min(frameBytes - filled, chunk.length - offset);
        frame.set(chunk.subarray(offset, offset + take), filled);
        filled += take;
        offset += take;
        if (filled === frameBytes) {
          filled = 0;
          try {
            onFrame(frameNumber++, frame);
          } catch (err) {
            fail(err instanceof Error ? err : new Error(String(err)));
          }
        }
      }
    });
    child.stderr.on('data', (d: Buffer) => (stderr = (stderr + d.toString()).slice(-4000)));
    child.on('error', (err: NodeJS.ErrnoException) => fail(missingTool(FFMPEG, err)));
    child.on('close', (code) => {
      if (failed) return reject(failed);
      if (code !== 0)
        return reject(
          new MediaError(`could not decode video: ${lastLine(stderr, path)}`, 'KAI_ERR_MEDIA_CORRUPT'),
        );
      if (frameNumber === 0)
        return reject(new MediaError('video has no decodable frame', 'KAI_ERR_MEDIA_CORRUPT'));
      resolve(frameNumber);
    });
  });
}
