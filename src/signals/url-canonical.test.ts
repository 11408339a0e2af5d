import { describe, expect, it } from 'vitest';
import { canonicalUrl, md5Hex, urlMd5Variations, urlVariations } from './url-canonical.js';

describe('URL canonicalisation', () => {
  it.each([
    ['https://Example.ORG/a/b/', 'example.org/a/b'],
    ['http://www.example.org:80/a', 'example.org/a'],
    ['HTTPS://example.org:443/', 'example.org'],
    ['example.org/a', 'example.org/a'],
    ['http://user:pw@example.org./a#frag', 'example.org/a'],
    ['https://example.org:8443/a', 'example.org:8443/a'],
    ['https://example.org/a/./b/../c', 'example.org/a/c'],
    ['https://example.org/%7euser/%2f%41', 'example.org/~user/%2FA'],
    ['https://example.org/caf\u00e9', 'example.org/caf%C3%A9'],
    ['https://b\u00fccher.example/x', 'xn--bcher-kva.example/x'],
    ['https://example.org/p?utm_source=x&b=2&fbclid=1&a=1&gclid=z&UTM_Medium=y', 'example.org/p?a=1&b=2'],
    ['https://example.org/p?z=1&a=2&z=0', 'example.org/p?a=2&z=1&z=0'],
    ['https://example.org/p?utm_source=x', 'example.org/p'],
    ['https://example.org/p?q=a%2fb%7e', 'example.org/p?q=a%2Fb~'],
  ])('%s -> %s', (input, canonical) => {
    expect(canonicalUrl(input)).toBe(canonical);
  });

  it('gives the same form for the ways one link is written', () => {
    const forms = [
      'https://www.example.org/watch/123/?utm_campaign=spread',
      'http://example.org/watch/123',
      'EXAMPLE.org/watch/123/',
      'https://example.org:443/watch/%31%323#t=10',
    ];
    expect(new Set(forms.map(canonicalUrl))).toEqual(new Set(['example.org/watch/123']));
  });

  it('refuses what is not an http(s) link', () => {
    for (const bad of [
      '',
      'ftp://example.org/a',
      'javascript:alert(1)',
      'http://',
      'z'.repeat(64),
      'not a hash',
      42,
      null,
    ])
      expect(() => canonicalUrl(bad), String(bad)).toThrow(/url|URL|host/);
  });

  it('expands a link into at most 13 variations, hashed with MD5', () => {
    const variations = urlVariations('https://example.org/a?b=1');
    // 2 hosts x 2 paths x (http, https, no scheme); the canonical form is one of them.
    expect(variations).toHaveLength(12);
    expect(variations).toContain('example.org/a?b=1');
    expect(variations).toContain('https://www.example.org/a/?b=1');
    expect(variations).toContain('http://example.org/a?b=1');
    expect(urlMd5Variations('https://example.org/a?b=1')).toContain(md5Hex('http://example.org/a?b=1'));
    // The variations of any written form of the link are the same set.
    expect(new Set(urlVariations('http://www.EXAMPLE.org/a/?b=1&utm_source=x'))).toEqual(new Set(variations));
    expect(md5Hex('')).toBe('d41d8cd98f00b204e9800998ecf8427e');
  });
});
