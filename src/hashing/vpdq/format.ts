/**
 * vPDQ serialisations: the reference's line file (`frame,quality,hex,timestamp` with 3 decimals) and the
 * python-threatexchange / HMA signal string (a JSON array of "hex,quality,timestamp" strings with the timestamp
 * in Python's `.3` format, 3 significant digits).
 */
import { ValidationError } from '../../core/errors.js';
import { isPdqHex } from '../pdq/hash256.js';
import type { VpdqFrame } from './vpdq.js';

export const MAX_VPDQ_FRAMES = 100_000;

export function formatVpdqLines(frames: VpdqFrame[]): string {
  return (
    frames.map((f) => `${f.frame},${f.quality},${f.pdq},${f.timestamp.toFixed(3)}`).join('\n') +
    (frames.length ? '\n' : '')
  );
}

export function parseVpdqLines(text: string): VpdqFrame[] {
  return text
    .split(/\r?\n/)
    .filter((line) => line.trim() !== '')
    .map((line, i) => {
      const [frame, quality, pdq, timestamp] = line.split(',');
      return validateFrame(
        { frame: Number(frame), quality: Number(quality), pdq, timestamp: Number(timestamp) },
        `line ${i + 1}`,
      );
    });
}

/** Python's format(x, '.3'): 3 significant digits, trailing zeros dropped, exponent form outside 1e-4..1e3. */
export function pythonG3(x: number): string {
  if (x === 0) return '0.0';
  const exponent = Math.floor(Math.log10(Math.abs(Number(x.toPrecision(3)))));
  if (exponent < -4 || exponent >= 3) {
    const [mantissa, exp] = x.toExponential(2).split('e');
    const trimmed = mantissa.replace(/\.?0+$/, '');
    const sign = exp.startsWith('-') ? '-' : '+';
    return `${trimmed}e${sign}${exp.replace(/^[+-]/, '').padStart(2, '0')}`;
  }
  const fixed = x.toPrecision(3);
  return fixed.includes('.') ? fixed.replace(/0+$/, '').replace(/\.$/, '.0') : `${fixed}.0`;
}

export function formatVpdqSignal(frames: Pick<VpdqFrame, 'pdq' | 'quality' | 'timestamp'>[]): string {
  return JSON.stringify(frames.map((f) => `${f.pdq},${f.quality},${pythonG3(f.timestamp)}`));
}

/** Parses and validates the signal string; frame numbers are not part of it and are numbered in order. */
export function parseVpdqSignal(value: unknown): VpdqFrame[] {
  let parsed: unknown = value;
  if (typeof value === 'string') {
    try {
      parsed = JSON.parse(value);
    } catch {
      throw new ValidationError(
        'a vpdq value is a JSON array of "hex,quality,timestamp" strings',
        'KAI_ERR_HASH_INVALID',
      );
    }
  }
  if (!Array.isArray(parsed) || parsed.length === 0) {
    throw new ValidationError(
      'a vpdq value is a non-empty JSON array of "hex,quality,timestamp" strings',
      'KAI_ERR_HASH_INVALID',
    );
  }
  if (parsed.length > MAX_VPDQ_FRAMES)
    throw new ValidationError(`a vpdq value has at most ${MAX_VPDQ_FRAMES} frames`, 'KAI_ERR_HASH_INVALID');
  return parsed.map((feature, i) => {
    if (typeof feature !== 'string')
      throw new ValidationError(
        `vpdq frame ${i}: not a "hex,quality,timestamp" string`,
        'KAI_ERR_HASH_INVALID',
      );
    const [pdq, quality, timestamp, extra] = feature.split(',');
    if (extra !== undefined)
      throw new ValidationError(`vpdq frame ${i}: expected 3 fields`, 'KAI_ERR_HASH_INVALID');
    return validateFrame(
      { frame: i, pdq, quality: Number(quality), timestamp: Number(timestamp) },
      `vpdq frame ${i}`,
    );
  });
}

function validateFrame(frame: VpdqFrame, where: string): VpdqFrame {
  if (!isPdqHex(frame.pdq ?? ''))
    throw new ValidationError(
      `${where}: the hash must be 64 lower-case hex characters`,
      'KAI_ERR_HASH_INVALID',
    );
  if (!Number.isInteger(frame.quality) || frame.quality < 0 || frame.quality > 100) {
    throw new ValidationError(`${where}: quality must be an integer from 0 to 100`, 'KAI_ERR_HASH_INVALID');
  }
  if (!Number.isFinite(frame.timestamp) || frame.timestamp < 0) {
    throw new ValidationError(`${where}: timestamp must be a number >= 0`, 'KAI_ERR_HASH_INVALID');
  }
  if (!Number.isInteger(frame.frame) || frame.frame < 0)
    throw new ValidationError(`${where}: bad frame number`, 'KAI_ERR_HASH_INVALID');
  return frame;
}
