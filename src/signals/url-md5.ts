import { ExactIndex } from '../index/exact-index.js';
import type { SignalType, SignalTypeIndex, TypeIndexMatch, TypeIndexSearchOptions } from './signal-type.js';
import { canonicalUrl, urlMd5Variations } from './url-canonical.js';

const MD5 = /^[0-9a-f]{32}$/;

/** The MD5s a value stands for: itself when it is one, else those of the link's variations. */
function md5sOf(value: string): string[] {
  return MD5.test(value) ? [value] : urlMd5Variations(value);
}

/** Each entry under every MD5 it stands for; a link asked for matches through any of its variations. */
function urlMd5Index(): SignalTypeIndex {
  const index = new ExactIndex();
  let entries = 0;
  return {
    get count() {
      return entries;
    },
    add(id, bankId, value) {
      const before = index.count;
      for (const md5 of md5sOf(value)) index.add(id, bankId, md5);
      if (index.count > before) entries++;
    },
    remove(id, value) {
      let removed = false;
      for (const md5 of md5sOf(value)) removed = index.remove(id, md5) || removed;
      if (removed) entries--;
    },
    search(value, _threshold, options: TypeIndexSearchOptions = {}): TypeIndexMatch[] {
      const seen = new Map<number, TypeIndexMatch>();
      for (const md5 of md5sOf(value))
        for (const m of index.lookup(md5, options.bankFilter))
          if (!seen.has(m.id)) seen.set(m.id, { id: m.id, bankId: m.bankId, distance: 0 });
      return [...seen.values()];
    },
    memoryBytes: () => index.memoryBytes(),
  };
}

/**
 * MD5s of links, as lists that publish hashes rather than links hold them (TCAP's URL hash list: each URL expanded
 * into up to 13 "working variations", each hashed). A value is either such an MD5 (stored as it is) or a link:
 * asked for, a link matches when the MD5 of any of its variations (url-canonical.ts) is listed; stored, it is
 * listed under all of them. So a platform matches its links without holding the raw list.
 */
export const urlMd5Signal: SignalType = {
  name: 'url_md5',
  description:
    'MD5 of a link in one of its written forms (32 hex characters), or a link, which matches through the MD5s of its variations',
  contentTypes: ['other'],
  matchKind: 'exact',
  defaultThreshold: 0,
  maxThreshold: 0,
  perBankThresholds: true,
  normalize(value: unknown): string {
    if (typeof value === 'string' && MD5.test(value.trim().toLowerCase())) return value.trim().toLowerCase();
    return canonicalUrl(value);
  },
  compare(a: string, b: string) {
    const of = new Set(md5sOf(a));
    const match = md5sOf(b).some((md5) => of.has(md5));
    return { distance: match ? 0 : 1, match };
  },
  createIndex: urlMd5Index,
  display: { label: 'URL MD5', short: (value) => (value.length > 48 ? `${value.slice(0, 45)}…` : value) },
  examples: ['4f0aa5a3b1d2f3f4a5b6c7d8e9f00112', 'example.org/watch/123'],
};
