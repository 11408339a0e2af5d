import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bearer, multipart, startTestApp, type TestApp } from '../helpers/app.js';
import { TEST_DIALECTS } from '../helpers/databases.js';
import { PDQ_DATA } from '../helpers/shared.js';

const BRIDGE = 'f8f8f0cee0f4a84f06370a22038f63f0b36e2ed596621e1d33e6b39c4e9c9b22';
const ROTATED = '30a10efd71cc3d429013d48d0ffffc52e34e0e17ada952a9d29685211ea9e5af';
const image = (file: string) => readFileSync(join(PDQ_DATA, 'images', file));

describe.each(TEST_DIALECTS)('HTTP API on %s', (dialect) => {
  let t: TestApp;
  let platformA: { id: number; key: string };
  let platformB: { id: number; key: string };
  let bankA: number;

  beforeAll(async () => {
    t = await startTestApp(dialect);
    platformA = await t.organisation('Platform A', 'moderator');
    platformB = await t.organisation('Platform B', 'integration');
    const created = await t.app.inject({
      method: 'POST',
      url: '/v1/banks',
      headers: bearer(platformA.key),
      payload: { name: 'A_TVEC', default_labels: ['glorification'], thresholds: { pdq: 31 } },
    });
    expect(created.statusCode).toBe(201);
    bankA = created.json().id;
  });
  afterAll(() => t.close());

  const post = (url: string, key: string, payload: unknown) =>
    t.app.inject({ method: 'POST', url, headers: bearer(key), payload: payload as object });

  describe('authentication and authorisation', () => {
    it('refuses a request without a key, with a malformed header, or with an unknown key', async () => {
      const none = await t.app.inject({ method: 'GET', url: '/v1/banks' });
      expect(none.statusCode).toBe(401);
      expect(none.headers['content-type']).toMatch(/application\/problem\+json/);
      expect(none.json()).toMatchObject({ code: 'KAI_ERR_UNAUTHENTICATED', status: 401 });
      const malformed = await t.app.inject({
        method: 'GET',
        url: '/v1/banks',
        headers: { authorization: 'Basic abc' },
      });
      expect(malformed.json().code).toBe('KAI_ERR_BAD_AUTH_HEADER');
      const unknown = await t.app.inject({
        method: 'GET',
        url: '/v1/banks',
        headers: bearer('kt_AAAAAAAA_' + 'B'.repeat(32)),
      });
      expect(unknown.json().code).toBe('KAI_ERR_BAD_API_KEY');
    });

    it('refuses what the role does not allow (403) and names the permission', async () => {
      const response = await post('/v1/banks', platformB.key, { name: 'B_BANK' });
      expect(response.statusCode).toBe(403);
      expect(response.json().detail).toMatch(/integration.*banks:write/);
      expect((await post('/v1/keys', platformA.key, { name: 'x', role: 'admin' })).statusCode).toBe(403);
      expect((await post('/v1/organisations', platformA.key, { name: 'x' })).statusCode).toBe(403);
    });

    it("hides one organisation's banks and entries from another (404, as if absent)", async () => {
      for (const url of [`/v1/banks/${bankA}`, `/v1/banks/${bankA}/entries`, `/v1/banks/${bankA}/export`]) {
        const response = await t.app.inject({ method: 'GET', url, headers: bearer(platformB.key) });
        expect(response.statusCode, url).toBe(404);
      }
      const list = await t.app.inject({ method: 'GET', url: '/v1/banks', headers: bearer(platformB.key) });
      expect(list.json().items).toEqual([]);
      expect(
        (await post(`/v1/banks/${bankA}/entries`, platformB.key, { signal_type: 'pdq', value: BRIDGE }))
          .statusCode,
      ).toBe(404);
    });

    it('revoked keys stop working at once', async () => {
      const created = await post('/v1/keys', t.adminKey, { name: 'short-lived', role: 'viewer' });
      expect(created.statusCode).toBe(201);
      const { key, id } = created.json();
      expect(
        (await t.app.inject({ method: 'GET', url: '/v1/me', headers: bearer(key) })).json(),
      ).toMatchObject({ role: 'viewer' });
      await t.app.inject({ method: 'DELETE', url: `/v1/keys/${id}`, headers: bearer(t.adminKey) });
      expect((await t.app.inject({ method: 'GET', url: '/v1/me', headers: bearer(key) })).statusCode).toBe(
        401,
      );
    });
  });

  describe('matching', () => {
    it('matches a signal added a moment ago, with evidence, and only for organisations that may see it', async () => {
      const added = await post(`/v1/banks/${bankA}/entries`, platformA.key, {
        signal_type: 'pdq',
        value: BRIDGE,
        external_id: 'gifct-123',
      });
      expect(added.statusCode).toBe(201);
      const again = await post(`/v1/banks/${bankA}/entries`, platformA.key, {
        signal_type: 'pdq',
        value: BRIDGE.toUpperCase(),
      });
      expect(again.statusCode).toBe(200);
      expect(again.json()).toMatchObject({ id: added.json().id, created: false });

      const near = await post('/v1/match', platformA.key, { signals: [{ type: 'pdq', value: BRIDGE }] });
      expect(near.json().matches).toEqual([
        {
          signal_index: 0,
          signal_type: 'pdq',
          distance: 0,
          bank: { id: bankA, name: 'A_TVEC', organisation_id: platformA.id },
          entry: {
            id: added.json().id,
            labels: ['glorification'],
            contributor_organisation_id: platformA.id,
            source: 'manual',
            external_id: 'gifct-123',
          },
        },
      ]);
      expect(
        (await post('/v1/match', platformA.key, { signals: [{ type: 'pdq', value: ROTATED }] })).json()
          .matches,
      ).toEqual([]);
      // Platform B sees nothing until the bank is shared with it.
      expect(
        (await post('/v1/match', platformB.key, { signals: [{ type: 'pdq', value: BRIDGE }] })).json()
          .matches,
      ).toEqual([]);
      await post(`/v1/banks/${bankA}/shares`, platformA.key, { organisation_id: platformB.id });
      // A share is an offer: nothing changes for B until B accepts it.
      expect(
        (await post('/v1/match', platformB.key, { signals: [{ type: 'pdq', value: BRIDGE }] })).json()
          .matches,
      ).toEqual([]);
      const adminB = await t.ctx.apiKeys.create(platformB.id, { name: 'B admin', role: 'admin' });
      expect((await post(`/v1/shares/incoming/${bankA}/accept`, adminB.key, {})).json()).toMatchObject({
        bank_id: bankA,
        status: 'accepted',
        policy: 'review',
      });
      expect(
        (await post('/v1/match', platformB.key, { signals: [{ type: 'pdq', value: BRIDGE }] })).json()
          .matches,
      ).toHaveLength(1);
    });

    it('hashes and matches an upload; a variant of the photo matches, an unrelated one does not', async () => {
      const variant = multipart('file', 'blur.jpg', image('bridge-mods/blur-a-lot.jpg'));
      const response = await t.app.inject({
        method: 'POST',
        url: '/v1/match',
        headers: { ...bearer(platformA.key), ...variant.headers },
        payload: variant.payload,
      });
      expect(response.statusCode).toBe(200);
      const body = response.json();
      expect(body.signals.pdq).toMatchObject({ quality: 100, usable: true });
      expect(body.matches).toHaveLength(1);
      expect(body.matches[0].distance).toBeLessThanOrEqual(31);
      const other = multipart('file', 'c.png', image('misc-images/c.png'));
      const unrelated = await t.app.inject({
        method: 'POST',
        url: '/v1/match',
        headers: { ...bearer(platformA.key), ...other.headers },
        payload: other.payload,
      });
      expect(unrelated.json().matches).toEqual([]);
    });

    it('respects per-bank thresholds and disabled banks and entries', async () => {
      const nearHash = BRIDGE.slice(0, 62) + 'ff'; // a few bits away
      expect(
        (await post('/v1/match', platformA.key, { signals: [{ type: 'pdq', value: nearHash }] })).json()
          .matches,
      ).toHaveLength(1);
      await t.app.inject({
        method: 'PATCH',
        url: `/v1/banks/${bankA}`,
        headers: bearer(platformA.key),
        payload: { thresholds: { pdq: 0 } },
      });
      expect(
        (await post('/v1/match', platformA.key, { signals: [{ type: 'pdq', value: nearHash }] })).json()
          .matches,
      ).toHaveLength(0);
      await t.app.inject({
        method: 'PATCH',
        url: `/v1/banks/${bankA}`,
        headers: bearer(platformA.key),
        payload: { thresholds: { pdq: 31 }, enabled: false },
      });
      expect(
        (await post('/v1/match', platformA.key, { signals: [{ type: 'pdq', value: BRIDGE }] })).json()
          .matches,
      ).toHaveLength(0);
      await t.app.inject({
        method: 'PATCH',
        url: `/v1/banks/${bankA}`,
        headers: bearer(platformA.key),
        payload: { enabled: true },
      });
      expect(
        (await post('/v1/match', platformA.key, { signals: [{ type: 'pdq', value: BRIDGE }] })).json()
          .matches,
      ).toHaveLength(1);
    });

    it('reports the index status', async () => {
      const status = await t.app.inject({
        method: 'GET',
        url: '/v1/index/status',
        headers: bearer(platformA.key),
      });
      expect(status.json().signal_types.pdq.size).toBeGreaterThanOrEqual(1);
      expect(status.json().signal_types.pdq.memory_bytes).toBeGreaterThan(0);
    });
  });

  describe('bad input is refused clearly and changes nothing', () => {
    it.each([
      [
        'a malformed hash',
        { signals: [{ type: 'pdq', value: 'abc' }] },
        'KAI_ERR_HASH_INVALID',
        /64 hex characters/,
      ],
      [
        'an unknown signal type',
        { signals: [{ type: 'photodna', value: 'abc' }] },
        'KAI_ERR_SIGNAL_TYPE_UNKNOWN',
        /photodna/,
      ],
      [
        'an unknown field',
        { signals: [{ type: 'pdq', value: BRIDGE }], extra: true },
        'KAI_ERR_VALIDATION',
        /unknown field "extra"/,
      ],
      ['a missing field', {}, 'KAI_ERR_VALIDATION', /signals/],
    ])('%s', async (_label, payload, code, detail) => {
      const response = await post('/v1/match', platformA.key, payload);
      expect(response.statusCode).toBe(400);
      expect(response.json()).toMatchObject({ code, status: 400 });
      expect(response.json().detail).toMatch(detail);
    });

    it('malformed JSON, wrong content type, oversized body', async () => {
      const malformed = await t.app.inject({
        method: 'POST',
        url: '/v1/match',
        headers: { ...bearer(platformA.key), 'content-type': 'application/json' },
        payload: '{"signals": [',
      });
      expect(malformed.statusCode).toBe(400);
      expect(malformed.json().code).toBe('KAI_ERR_MALFORMED_JSON');
      const wrongType = await t.app.inject({
        method: 'POST',
        url: '/v1/banks',
        headers: { ...bearer(platformA.key), 'content-type': 'application/xml' },
        payload: '<bank/>',
      });
      expect(wrongType.statusCode).toBe(415);
      const big = await t.app.inject({
        method: 'POST',
        url: '/v1/match',
        headers: { ...bearer(platformA.key), 'content-type': 'application/json' },
        payload: JSON.stringify({ signals: [{ type: 'vpdq', value: 'x'.repeat(2 * 1024 * 1024) }] }),
      });
      expect(big.statusCode).toBe(413);
      expect(big.json().code).toBe('KAI_ERR_BODY_TOO_LARGE');
    });

    it('an entry with a bad hash is not stored', async () => {
      const before = await t.ctx.entries.count(bankA);
      const response = await post(`/v1/banks/${bankA}/entries`, platformA.key, {
        signal_type: 'pdq',
        value: 'g'.repeat(64),
      });
      expect(response.statusCode).toBe(400);
      expect(await t.ctx.entries.count(bankA)).toBe(before);
    });

    it('an upload that is not an image', async () => {
      const upload = multipart('file', 'x.jpg', Buffer.from('definitely not a jpeg'));
      const response = await t.app.inject({
        method: 'POST',
        url: '/v1/hash',
        headers: { ...bearer(platformA.key), ...upload.headers },
        payload: upload.payload,
      });
      expect(response.statusCode).toBe(200); // content decides: this is an 'other' file, hashed by its bytes
      expect(response.json()).toMatchObject({ content_type: 'other' });
      const noFile = await post('/v1/hash', platformA.key, { file: 'x' });
      expect(noFile.statusCode).toBe(400);
      expect(noFile.json().code).toBe('KAI_ERR_NOT_MULTIPART');
    });
  });

  describe('bulk import and export', () => {
    it('imports JSON lines idempotently, reports bad lines by number, and exports what re-imports', async () => {
      const bank = (await post('/v1/banks', platformA.key, { name: 'IMPORTED' })).json().id;
      const lines = [
        JSON.stringify({ signal_type: 'pdq', value: BRIDGE, labels: ['a'] }),
        JSON.stringify({ signal_type: 'pdq', value: 'nothex' }),
        'not json',
        JSON.stringify({ signal_type: 'md5', value: 'D41D8CD98F00B204E9800998ECF8427E' }),
        JSON.stringify({ signal_type: 'pdq', value: ROTATED, colour: 'red' }),
      ].join('\n');
      const url = `/v1/banks/${bank}/import`;
      const headers = { ...bearer(platformA.key), 'content-type': 'application/x-ndjson' };
      const first = await t.app.inject({ method: 'POST', url, headers, payload: lines });
      expect(first.json()).toMatchObject({ lines: 5, inserted: 2, duplicates: 0, errors: 3 });
      expect(first.json().error_samples.map((e: { line: number }) => e.line)).toEqual([2, 3, 5]);
      expect(first.json().error_samples[2].message).toMatch(/unknown field "colour"/);
      const second = await t.app.inject({ method: 'POST', url, headers, payload: lines });
      expect(second.json()).toMatchObject({ inserted: 0, duplicates: 2 });

      const exported = await t.app.inject({
        method: 'GET',
        url: `/v1/banks/${bank}/export?format=csv`,
        headers: bearer(platformA.key),
      });
      expect(exported.headers['content-type']).toMatch(/text\/csv/);
      const csv = exported.body.trim().split('\n');
      expect(csv[0]).toBe('signal_type,value,labels,note,external_id,status');
      expect(csv.slice(1).sort()).toEqual(
        [`md5,d41d8cd98f00b204e9800998ecf8427e,,,,active`, `pdq,${BRIDGE},a,,,active`].sort(),
      );
      const copy = (await post('/v1/banks', platformA.key, { name: 'COPY' })).json().id;
      const reimport = await t.app.inject({
        method: 'POST',
        url: `/v1/banks/${copy}/import`,
        headers: { ...bearer(platformA.key), 'content-type': 'text/csv' },
        payload: exported.body,
      });
      expect(reimport.json()).toMatchObject({ inserted: 2, errors: 0 });
    });
  });

  describe('HMA-compatible facade', () => {
    it('creates banks, adds signals, looks them up and compares, in HMA shapes', async () => {
      const headers = bearer(platformA.key);
      const created = await t.app.inject({
        method: 'POST',
        url: '/c/banks',
        headers,
        payload: { name: 'HMA_BANK', enabled_ratio: 1.0 },
      });
      expect(created.statusCode).toBe(201);
      expect(created.json()).toEqual({ name: 'HMA_BANK', matching_enabled_ratio: 1 });
      expect(
        (await t.app.inject({ method: 'POST', url: '/c/banks', headers, payload: { name: 'HMA_BANK' } }))
          .statusCode,
      ).toBe(403);
      expect(
        (await t.app.inject({ method: 'POST', url: '/c/banks', headers, payload: { name: 'lower_case' } }))
          .statusCode,
      ).toBe(400);
      const added = await t.app.inject({
        method: 'POST',
        url: '/c/bank/HMA_BANK/signal',
        headers,
        payload: { pdq: ROTATED },
      });
      expect(added.json()).toMatchObject({ signals: { pdq: ROTATED } });
      const id = added.json().id;
      const lookup = await t.app.inject({
        method: 'GET',
        url: `/m/lookup?signal_type=pdq&signal=${ROTATED}`,
        headers,
      });
      expect(lookup.json()).toEqual({ HMA_BANK: [{ bank_content_id: id, distance: '0' }] });
      const raw = await t.app.inject({
        method: 'GET',
        url: `/m/raw_lookup?signal_type=pdq&signal=${ROTATED}&include_distance=true&banks=HMA_BANK`,
        headers,
      });
      expect(raw.json()).toEqual({ matches: [{ bank_content_id: id, distance: '0' }] });
      const compare = await t.app.inject({
        method: 'POST',
        url: '/m/compare',
        headers,
        payload: { pdq: [BRIDGE, ROTATED] },
      });
      expect(compare.json()).toEqual({ pdq: [false, { distance: 120 }] });
      const banks = await t.app.inject({ method: 'GET', url: '/c/banks', headers });
      expect(banks.json()).toContainEqual({ name: 'HMA_BANK', matching_enabled_ratio: 1 });
      const disabled = await t.app.inject({
        method: 'PUT',
        url: `/c/bank/HMA_BANK/content/${id}`,
        headers,
        payload: { disable_until_ts: 0 },
      });
      expect(disabled.json()).toMatchObject({ disable_until_ts: 0 });
      expect(
        (
          await t.app.inject({ method: 'GET', url: `/m/lookup?signal_type=pdq&signal=${ROTATED}`, headers })
        ).json(),
      ).toEqual({});
      const status = await t.app.inject({ method: 'GET', url: '/m/index/status?signal_type=pdq', headers });
      expect(status.json().pdq).toMatchObject({ present: true });
      expect((await t.app.inject({ method: 'GET', url: '/status' })).body).toBe('I-AM-ALIVE');
      const hashed = multipart('photo', 'bridge.jpg', image('dih/bridge-1-original.jpg'));
      const hash = await t.app.inject({
        method: 'POST',
        url: '/h/hash',
        headers: { ...headers, ...hashed.headers },
        payload: hashed.payload,
      });
      expect(hash.json()).toEqual({ pdq: BRIDGE });
      const deleted = await t.app.inject({
        method: 'DELETE',
        url: `/c/bank/HMA_BANK/content/${id}`,
        headers,
      });
      expect(deleted.json()).toEqual({ deleted: 1 });
    });
  });

  describe('documentation', () => {
    it('serves OpenAPI with every route documented', async () => {
      const spec = (await t.app.inject({ method: 'GET', url: '/openapi.json' })).json();
      expect(spec.openapi).toBe('3.1.0');
      for (const path of [
        '/v1/match',
        '/v1/hash',
        '/v1/banks',
        '/v1/banks/{id}/import',
        '/m/lookup',
        '/c/banks',
      ])
        expect(spec.paths[path], path).toBeDefined();
      expect((await t.app.inject({ method: 'GET', url: '/docs/' })).statusCode).toBe(200);
    });
  });

  it('keeps data across a restart and reloads the index', async () => {
    const reopened = await t.test.reopen();
    const { AppContext } = await import('../../src/context.js');
    const ctx = new AppContext(t.ctx.config, reopened);
    try {
      const report = await ctx.start();
      expect(report.entries).toBeGreaterThanOrEqual(3);
      const matches = await ctx.matcher.match(platformA.id, [{ type: 'pdq', value: BRIDGE }]);
      expect(matches.map((m) => m.bank.name)).toContain('A_TVEC');
    } finally {
      await ctx.close();
    }
  });
});

describe.each(TEST_DIALECTS)('audit trail through the API on %s', (dialect) => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp(dialect);
  });
  afterAll(() => t.close());

  it('records every change with its actor, readable by admins, and the chain verifies', async () => {
    const org = await t.organisation('Audited', 'admin');
    const bank = await t.app.inject({
      method: 'POST',
      url: '/v1/banks',
      headers: bearer(org.key),
      payload: { name: 'AUDITED' },
    });
    const bankId = bank.json().id;
    const entry = await t.app.inject({
      method: 'POST',
      url: `/v1/banks/${bankId}/entries`,
      headers: bearer(org.key),
      payload: { signal_type: 'md5', value: 'd41d8cd98f00b204e9800998ecf8427e' },
    });
    await t.app.inject({
      method: 'DELETE',
      url: `/v1/banks/${bankId}/entries/${entry.json().id}`,
      headers: bearer(org.key),
    });
    const trail = await t.app.inject({ method: 'GET', url: '/v1/audit', headers: bearer(org.key) });
    expect(trail.statusCode).toBe(200);
    const actions = trail
      .json()
      .items.map((r: { action: string; actor: string; organisation_id: number }) => [
        r.action,
        r.organisation_id,
      ]);
    expect(actions).toEqual([
      ['bank.create', org.id],
      ['entry.create', org.id],
      ['entry.delete', org.id],
    ]);
    expect(trail.json().items[0].actor).toMatch(/^key:\d+$/);
    // The instance administrators see everything; others only their own.
    const everything = await t.app.inject({
      method: 'GET',
      url: '/v1/audit?limit=1000',
      headers: bearer(t.adminKey),
    });
    expect(everything.json().items.length).toBeGreaterThanOrEqual(3);
    const viewer = await t.organisation('Viewer org', 'viewer');
    expect(
      (await t.app.inject({ method: 'GET', url: '/v1/audit', headers: bearer(viewer.key) })).statusCode,
    ).toBe(403);
    expect(await t.ctx.audit.verify()).toMatchObject({ ok: true });
  });

  it('a refused change leaves no audit record', async () => {
    const before = (await t.ctx.audit.verify()) as { records: number };
    const org = await t.organisation('Refused', 'admin');
    const response = await t.app.inject({
      method: 'POST',
      url: '/v1/banks',
      headers: bearer(org.key),
      payload: { name: 'bad name!' },
    });
    expect(response.statusCode).toBe(400);
    expect(await t.ctx.audit.verify()).toMatchObject({ records: before.records });
  });
});

describe('upload limits', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp('sqlite', { KAITIAKI_MAX_UPLOAD_BYTES: '50000' });
  });
  afterAll(() => t.close());

  it('refuses an upload over the limit with 413 and a clear code', async () => {
    const org = await t.organisation('Uploader', 'integration');
    const big = multipart(
      'file',
      'big.jpg',
      readFileSync(join(PDQ_DATA, 'images', 'dih', 'bridge-1-original.jpg')),
    );
    const response = await t.app.inject({
      method: 'POST',
      url: '/v1/hash',
      headers: { ...bearer(org.key), ...big.headers },
      payload: big.payload,
    });
    expect(response.statusCode).toBe(413);
    expect(response.json().code).toBe('KAI_ERR_UPLOAD_TOO_LARGE');
    const submission = await t.app.inject({
      method: 'POST',
      url: '/v1/submissions',
      headers: { ...bearer(org.key), ...big.headers },
      payload: big.payload,
    });
    expect(submission.statusCode).toBe(413);
  });
});
