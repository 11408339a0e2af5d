import { ValidationError } from '../core/errors.js';
import type { SignalType } from './signal-type.js';
import { exactTypeIndex } from './type-indexes.js';
import { canonicalUrl } from './url-canonical.js';

/**
 * A link, matched on its canonical form (url-canonical.ts): http or https, host case, `www.`, default ports,
 * a trailing slash, tracking parameters and percent-encoding make no difference. Exact match on that form.
 */
export const urlSignal: SignalType = {
  name: 'url',
  description:
    'a link (http or https), canonicalised: scheme, host case, www., default ports, trailing slash, tracking parameters and percent-encoding do not matter; exact match',
  contentTypes: ['other'],
  matchKind: 'exact',
  defaultThreshold: 0,
  maxThreshold: 0,
  perBankThresholds: true,
  normalize(value: unknown): string {
    const canonical = canonicalUrl(value);
    if (canonical.length > 8192)
      throw new ValidationError(
        'a url value is at most 8192 characters once canonical',
        'KAI_ERR_HASH_INVALID',
      );
    return canonical;
  },
  compare(a: string, b: string) {
    const match = a === b;
    return { distance: match ? 0 : 1, match };
  },
  createIndex: exactTypeIndex,
  display: { label: 'URL', short: (value) => (value.length > 48 ? `${value.slice(0, 45)}…` : value) },
  examples: ['example.org/watch/123', 'example.org/p?a=1&b=2'],
};
