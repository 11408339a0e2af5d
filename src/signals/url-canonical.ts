/**
 * URL canonicalisation for the `url` and `url_md5` signal types: two links to the same page give the same
 * canonical form, so a platform matches links however they were written.
 *
 * The canonical form is `host[:port]/path[?query]`, without the scheme:
 * - http and https are the same link (the scheme is dropped; other schemes are refused);
 * - the host is lower-cased, internationalised names become punycode, a trailing dot and a leading `www.` go;
 * - the user name and password, the fragment and the default ports (80, 443) go;
 * - dot segments are resolved, a trailing slash goes (`/a/` is `/a`, `/` is nothing);
 * - percent-encoding is made uniform: escapes of unreserved characters (letters, digits, `-._~`) are decoded, the
 *   other escapes upper-cased, and characters that need escaping are escaped;
 * - tracking parameters go (`utm_*`, `fbclid`, `gclid`, `dclid`, `gbraid`, `wbraid`, `msclkid`, `mc_cid`,
 *   `mc_eid`, `igshid`, `yclid`, `_hsenc`, `_hsmi`); the other parameters keep their values and are sorted by name
 *   (stable, so repeated names keep their order).
 * A value without a scheme (`example.org/a`) is read as http.
 */
import { createHash } from 'node:crypto';
import { ValidationError } from '../core/errors.js';

const TRACKING =
  /^(utm_.*|fbclid|gclid|dclid|gbraid|wbraid|msclkid|mc_cid|mc_eid|igshid|yclid|_hsenc|_hsmi)$/i;
const UNRESERVED = /[A-Za-z0-9\-._~]/;

/** Decodes escapes of unreserved characters, upper-cases the others (`%7e` -> `~`, `%2f` -> `%2F`). */
function uniformEscapes(text: string): string {
  return text.replace(/%([0-9a-fA-F]{2})/g, (_all, hex: string) => {
    const char = String.fromCharCode(parseInt(hex, 16));
    return UNRESERVED.test(char) ? char : `%${hex.toUpperCase()}`;
  });
}

export interface CanonicalUrl {
  /** Lower-case host without `www.` and without a trailing dot, port appended when not 80 or 443. */
  host: string;
  /** Starts with `/` unless empty (the root). */
  path: string;
  /** `?a=1&b=2` or empty. */
  query: string;
}

export function canonicalUrlParts(value: unknown): CanonicalUrl {
  if (typeof value !== 'string' || value.trim() === '' || value.length > 8192)
    throw new ValidationError('a url value is a link of at most 8192 characters', 'KAI_ERR_HASH_INVALID');
  const trimmed = value.trim();
  const withScheme = /^[a-z][a-z0-9+.-]*:\/\//i.test(trimmed) ? trimmed : `http://${trimmed}`;
  let url: URL;
  try {
    url = new URL(withScheme);
  } catch {
    throw new ValidationError(`"${trimmed.slice(0, 200)}" is not a URL`, 'KAI_ERR_HASH_INVALID');
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:')
    throw new ValidationError(
      `url signals are http or https links, not ${url.protocol}`,
      'KAI_ERR_HASH_INVALID',
    );
  let hostname = url.hostname.toLowerCase().replace(/\.$/, '');
  if (hostname.startsWith('www.') && hostname.length > 4) hostname = hostname.slice(4);
  // A link worth listing names a domain (example.org) or an address; a bare word is more likely not a link at all.
  if (!hostname.includes('.') && !hostname.startsWith('['))
    throw new ValidationError(
      `a url signal needs a host such as example.org; got "${hostname.slice(0, 80)}"`,
      'KAI_ERR_HASH_INVALID',
    );
  const port = url.port === '' || url.port === '80' || url.port === '443' ? '' : `:${url.port}`;
  let path = uniformEscapes(url.pathname);
  while (path.endsWith('/')) path = path.slice(0, -1);
  const params: string[] = [];
  if (url.search.length > 1) {
    for (const pair of url.search.slice(1).split('&')) {
      if (pair === '') continue;
      const name = decodeURIComponentSafe(pair.split('=')[0].replace(/\+/g, ' '));
      if (TRACKING.test(name)) continue;
      params.push(uniformEscapes(pair));
    }
  }
  const sorted = params
    .map((p, i) => ({ p, i, name: p.split('=')[0] }))
    .sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : a.i - b.i))
    .map((x) => x.p);
  return { host: hostname + port, path, query: sorted.length ? `?${sorted.join('&')}` : '' };
}

function decodeURIComponentSafe(text: string): string {
  try {
    return decodeURIComponent(text);
  } catch {
    return text;
  }
}

/** The canonical form of a link: `host[:port]/path[?query]`. */
export function canonicalUrl(value: unknown): string {
  const { host, path, query } = canonicalUrlParts(value);
  return host + path + query;
}

/**
 * The forms a link is commonly written in, for lists that publish MD5s of URLs rather than the URLs (TCAP's URL
 * hash list expands each URL into up to 13 "working variations" before hashing; its exact set is not published,
 * so this is our set, 13 at most): http and https, with and without `www.`, with and without a trailing slash,
 * and without a scheme (with and without `www.` and the slash), plus the canonical form. Duplicates are dropped.
 */
export function urlVariations(value: unknown): string[] {
  const { host, path, query } = canonicalUrlParts(value);
  const forms = new Set<string>();
  forms.add(host + path + query);
  for (const h of [host, `www.${host}`])
    for (const p of [path, `${path}/`]) {
      for (const scheme of ['http://', 'https://']) forms.add(scheme + h + p + query);
      forms.add(h + p + query);
    }
  return [...forms].slice(0, 13);
}

export const md5Hex = (text: string) => createHash('md5').update(text, 'utf8').digest('hex');

/** MD5s of the variations of a link (what a `url_md5` list holds). */
export function urlMd5Variations(value: unknown): string[] {
  return urlVariations(value).map(md5Hex);
}
