import { ValidationError } from '../core/errors.js';
import type { ContentType } from '../hashing/content-type.js';
import type { HashResult } from '../hashing/hash-file.js';
import { md5Signal } from './md5.js';
import { pdqSignal } from './pdq.js';
import { sha256Signal } from './sha256.js';
import type { SignalType } from './signal-type.js';
import { urlSignal } from './url.js';
import { urlMd5Signal } from './url-md5.js';
import { vpdqSignal } from './vpdq.js';

const registry = new Map<string, SignalType>();

/**
 * Adds a signal type to this process. The built-in types are registered here, one line each; a deployment or a
 * test can register its own before the server starts. Names (and HMA names) must be unique.
 */
export function registerSignalType(type: SignalType): void {
  if (!/^[a-z][a-z0-9_]{0,31}$/.test(type.name))
    throw new Error(`signal type name "${type.name}" must be lower case letters, digits and _ (<= 32)`);
  if (registry.has(type.name)) throw new Error(`signal type "${type.name}" is registered twice`);
  const hmaName = type.hma?.name ?? type.name;
  for (const other of registry.values())
    if ((other.hma?.name ?? other.name) === hmaName)
      throw new Error(`signal type "${type.name}" has the HMA name "${hmaName}" of "${other.name}"`);
  registry.set(type.name, type);
}

for (const type of [pdqSignal, vpdqSignal, md5Signal, sha256Signal, urlSignal, urlMd5Signal])
  registerSignalType(type);

/** Every signal type this process knows, by wire name. */
export const SIGNAL_TYPES: ReadonlyMap<string, SignalType> = registry;

export function getSignalType(name: unknown): SignalType {
  const type = typeof name === 'string' ? registry.get(name) : undefined;
  if (!type) {
    throw new ValidationError(
      `unknown signal type ${JSON.stringify(name)}; known types: ${[...registry.keys()].join(', ')}`,
      'KAI_ERR_SIGNAL_TYPE_UNKNOWN',
    );
  }
  return type;
}

/** Validates and canonicalises a (type, value) pair from outside. */
export function normalizeSignal(type: unknown, value: unknown): { type: string; value: string } {
  const signalType = getSignalType(type);
  return { type: signalType.name, value: signalType.normalize(value) };
}

/** The matchable signals of a hashed file, one per registered type that reads one off it. */
export function signalsOf(result: HashResult): { type: string; value: string }[] {
  const signals: { type: string; value: string }[] = [];
  for (const type of registry.values()) {
    const value = type.fromHash?.(result);
    if (value) signals.push({ type: type.name, value });
  }
  return signals;
}

/** A type's name on the HMA facade (e.g. md5 is `video_md5` there). */
export function hmaNameOf(type: string): string {
  return registry.get(type)?.hma?.name ?? type;
}

/** Our type for a name used on the HMA facade; names we do not alias pass through (and are validated later). */
export function typeFromHmaName(hmaName: string): string {
  for (const type of registry.values()) if (type.hma?.name === hmaName) return type.name;
  return hmaName;
}

/** Whether HMA banks and looks up this type for hashed content of this kind (md5 only for videos). */
export function hmaBanksFor(type: string, content: ContentType): boolean {
  const hma = registry.get(type)?.hma;
  return hma ? hma.bankedFor.includes(content) : false;
}
