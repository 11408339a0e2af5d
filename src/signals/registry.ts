import { ValidationError } from '../core/errors.js';
import { md5Signal } from './md5.js';
import { pdqSignal } from './pdq.js';
import { sha256Signal } from './sha256.js';
import type { SignalType } from './signal-type.js';
import { vpdqSignal } from './vpdq.js';

/** Every signal type this build knows, by wire name. Names must be unique (checked at load). */
export const SIGNAL_TYPES: ReadonlyMap<string, SignalType> = buildRegistry([
  pdqSignal,
  vpdqSignal,
  md5Signal,
  sha256Signal,
]);

function buildRegistry(types: SignalType[]): Map<string, SignalType> {
  const map = new Map<string, SignalType>();
  for (const type of types) {
    if (map.has(type.name)) throw new Error(`signal type "${type.name}" is registered twice`);
    map.set(type.name, type);
  }
  return map;
}

export function getSignalType(name: unknown): SignalType {
  const type = typeof name === 'string' ? SIGNAL_TYPES.get(name) : undefined;
  if (!type) {
    throw new ValidationError(
      `unknown signal type ${JSON.stringify(name)}; known types: ${[...SIGNAL_TYPES.keys()].join(', ')}`,
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
