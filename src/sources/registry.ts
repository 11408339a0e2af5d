import { ValidationError } from '../core/errors.js';
import { kaitiakiCrisisSource } from './kaitiaki-crisis.js';
import { kaitiakiHubSource } from './kaitiaki-hub.js';
import { listSource } from './list.js';
import type { SourceKind } from './source.js';
import { tcapSource } from './tcap.js';

/** Every source kind this build knows, by name. Names (and aliases) must be unique (checked at load). */
export const SOURCE_KINDS: ReadonlyMap<string, SourceKind<unknown>> = buildRegistry([
  tcapSource as SourceKind<unknown>,
  listSource as SourceKind<unknown>,
  kaitiakiHubSource as SourceKind<unknown>,
  kaitiakiCrisisSource as SourceKind<unknown>,
]);

function buildRegistry(kinds: SourceKind<unknown>[]): Map<string, SourceKind<unknown>> {
  const map = new Map<string, SourceKind<unknown>>();
  const names = new Set<string>();
  for (const kind of kinds) {
    for (const name of [kind.name, ...(kind.aliases ?? [])]) {
      if (names.has(name)) throw new Error(`source kind "${name}" is registered twice`);
      names.add(name);
    }
    map.set(kind.name, kind);
  }
  return map;
}

/** A kind by name or alias (HMA's exchange API names); a clear error listing the known ones otherwise. */
export function getSourceKind(name: unknown): SourceKind<unknown> {
  if (typeof name === 'string') {
    const direct = SOURCE_KINDS.get(name);
    if (direct) return direct;
    for (const kind of SOURCE_KINDS.values()) if (kind.aliases?.includes(name)) return kind;
  }
  throw new ValidationError(
    `unknown source kind ${JSON.stringify(name)}; known kinds: ${[...SOURCE_KINDS.keys()].join(', ')}`,
    'KAI_ERR_SOURCE_KIND_UNKNOWN',
  );
}
