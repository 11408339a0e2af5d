/** URL signals end to end: `url` (canonical links) and `url_md5` (MD5s of link variations), via /v1 and the facade. */
import { createHash } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildHmaApp, hmaPrincipal } from '../../src/http/hma-app.js';
import { bearer, startTestApp, type TestApp } from '../helpers/app.js';
import { TEST_DIALECTS } from '../helpers/databases.js';

const md5 = (text: string) => createHash('md5').update(text).digest('hex');

describe.each(TEST_DIALECTS)('URL signals, on %s', (dialect) => {
  let t: TestApp;
  let org: { id: number; key: string };
  let hma: FastifyInstance;
  const post = (url: string, payload: object) =>
    t.app.inject({ method: 'POST', url, headers: bearer(org.key), payload });
  const match = async (type: string, value: string) =>
    (await post('/v1/match', { signals: [{ type, value }] })).json().matches as {
      bank: { name: string };
      entry: { id: number };
    }[];

  beforeAll(async () => {
    t = await startTestApp(dialect, { KAITIAKI_SOURCE_SCHEDULE: 'false' });
    org = await t.organisation('Link Platform', 'moderator');
    hma = await buildHmaApp(t.ctx, await hmaPrincipal(t.ctx, 'Link Platform'));
    for (const name of ['TVEC_LINKS', 'TCAP_URL_HASHES'])
      expect((await post('/v1/banks', { name })).statusCode).toBe(201);
  });
  afterAll(async () => {
    await hma?.close();
    await t?.close();
  });

  it('matches a link however it is written (scheme, host case, www, port, slash, tracking, fragment)', async () => {
    const banks = (await t.app.inject({ method: 'GET', url: '/v1/banks', headers: bearer(org.key) })).json()
      .items;
    const links = banks.find((b: { name: string }) => b.name === 'TVEC_LINKS').id;
    const added = await post(`/v1/banks/${links}/entries`, {
      signal_type: 'url',
      value: 'https://www.Example.org:443/watch/123/?utm_source=share&v=2#comments',
    });
    expect(added.statusCode, added.body).toBe(201);
    expect(added.json().value).toBe('example.org/watch/123?v=2');
    for (const written of [
      'http://example.org/watch/123?v=2',
      'EXAMPLE.ORG/watch/123/?fbclid=abc&v=2',
      'https://example.org/watch/%31%323?v=2&gclid=x',
    ])
      expect(
        (await match('url', written)).map((m) => m.bank.name),
        written,
      ).toEqual(['TVEC_LINKS']);
    expect(await match('url', 'https://example.org/watch/124?v=2')).toEqual([]);
    const bad = await post('/v1/match', { signals: [{ type: 'url', value: 'ftp://example.org/x' }] });
    expect(bad.statusCode).toBe(400);
    expect(bad.json().code).toBe('KAI_ERR_HASH_INVALID');

    // The HMA facade answers the same for signal_type=url.
    const lookup = await hma.inject({
      method: 'GET',
      url: `/m/lookup?signal_type=url&signal=${encodeURIComponent('http://www.example.org/watch/123/?v=2')}&bypass_coinflip=true`,
    });
    expect(lookup.statusCode, lookup.body).toBe(200);
    expect(Object.keys(lookup.json())).toEqual(['TVEC_LINKS']);
  });

  it('matches a link against a list of URL MD5s through any of its variations, without holding the links', async () => {
    const banks = (await t.app.inject({ method: 'GET', url: '/v1/banks', headers: bearer(org.key) })).json()
      .items;
    const hashes = banks.find((b: { name: string }) => b.name === 'TCAP_URL_HASHES').id;
    // The list holds the MD5 of one written form only (as a TCAP URL hash list holds its variations' MD5s).
    const listed = md5('https://www.bad.example/post/77/');
    const added = await post(`/v1/banks/${hashes}/entries`, {
      signal_type: 'url_md5',
      value: listed.toUpperCase(),
    });
    expect(added.statusCode, added.body).toBe(201);
    expect(added.json().value).toBe(listed);
    for (const written of [
      'http://bad.example/post/77',
      'bad.example/post/77?utm_medium=x',
      'https://BAD.example/post/77',
    ])
      expect(
        (await match('url_md5', written)).map((m) => m.bank.name),
        written,
      ).toEqual(['TCAP_URL_HASHES']);
    // The hash itself matches too; another link does not.
    expect(await match('url_md5', listed)).toHaveLength(1);
    expect(await match('url_md5', 'https://bad.example/post/78')).toEqual([]);
    // A link stored in a url_md5 bank is listed under all its variations' MD5s.
    await post(`/v1/banks/${hashes}/entries`, { signal_type: 'url_md5', value: 'https://other.example/a' });
    expect(await match('url_md5', md5('http://www.other.example/a/'))).toHaveLength(1);
    // Deleting the entry takes every variation out of the index.
    const entries = (
      await t.app.inject({ method: 'GET', url: `/v1/banks/${hashes}/entries`, headers: bearer(org.key) })
    ).json().items as { id: number; value: string }[];
    const linkEntry = entries.find((e) => e.value === 'other.example/a')!;
    const deleted = await t.app.inject({
      method: 'DELETE',
      url: `/v1/banks/${hashes}/entries/${linkEntry.id}`,
      headers: bearer(org.key),
    });
    expect(deleted.statusCode).toBeLessThan(300);
    expect(await match('url_md5', 'https://other.example/a')).toEqual([]);
    expect(await match('url_md5', 'http://bad.example/post/77')).toHaveLength(1);
  });
});
