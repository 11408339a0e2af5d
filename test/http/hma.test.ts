/**
 * Real HMA clients (ROOST's Coop among them) unchanged: the unauthenticated HMA listener, hashing and banking by
 * URL through the fetch policy, exchanges, HMA's exact semantics and Coop's request shapes.
 */
import { readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readConfig } from '../../src/config/config.js';
import { enableExpiredHmaContent } from '../../src/banks/hma-expiry.js';
import {
  buildHmaApp,
  hmaPrincipal,
  isPrivateAddress,
  parseHmaListen,
  startHmaServer,
} from '../../src/http/hma-app.js';
import { bearer, startTestApp, type TestApp } from '../helpers/app.js';
import { TEST_DIALECTS } from '../helpers/databases.js';
import { PDQ_DATA } from '../helpers/shared.js';

const BRIDGE = 'f8f8f0cee0f4a84f06370a22038f63f0b36e2ed596621e1d33e6b39c4e9c9b22';
const ROTATED = '30a10efd71cc3d429013d48d0ffffc52e34e0e17ada952a9d29685211ea9e5af';
const BRIDGE_JPEG = readFileSync(join(PDQ_DATA, 'images', 'dih', 'bridge-1-original.jpg'));

/** multipart/form-data with text fields around one file part, the way Coop sends it (file first). */
function form(
  file: { field: string; filename: string; content: Buffer },
  fields: Record<string, string>,
): { payload: Buffer; headers: Record<string, string> } {
  const boundary = '----coop-like-boundary';
  const parts: Buffer[] = [
    Buffer.from(
      `--${boundary}\r\nContent-Disposition: form-data; name="${file.field}"; filename="${file.filename}"\r\nContent-Type: image/jpeg\r\n\r\n`,
    ),
    file.content,
    Buffer.from('\r\n'),
  ];
  for (const [name, value] of Object.entries(fields))
    parts.push(
      Buffer.from(`--${boundary}\r\nContent-Disposition: form-data; name="${name}"\r\n\r\n${value}\r\n`),
    );
  parts.push(Buffer.from(`--${boundary}--\r\n`));
  return {
    payload: Buffer.concat(parts),
    headers: { 'content-type': `multipart/form-data; boundary=${boundary}` },
  };
}

describe.each(TEST_DIALECTS)('HMA clients unchanged, on %s', (dialect) => {
  let t: TestApp;
  let media: Server;
  let mediaRequests: string[];
  let base: string;
  let org: { id: number; key: string };
  let hma: FastifyInstance;

  beforeAll(async () => {
    mediaRequests = [];
    media = createServer((req, res) => {
      mediaRequests.push(req.url ?? '');
      if (req.url === '/bridge.jpg') {
        res.writeHead(200, { 'content-type': 'image/jpeg', 'content-length': BRIDGE_JPEG.length });
        res.end(BRIDGE_JPEG);
      } else {
        res.writeHead(404).end();
      }
    });
    await new Promise<void>((resolve) => media.listen(0, '127.0.0.1', resolve));
    const port = (media.address() as AddressInfo).port;
    base = `http://127.0.0.1:${port}`;
    t = await startTestApp(dialect, { KAITIAKI_FETCH_ALLOWED_HOSTS: `127.0.0.1:${port}` });
    org = await t.organisation('Coop Platform', 'moderator');
    hma = await buildHmaApp(t.ctx, await hmaPrincipal(t.ctx, 'Coop Platform'));
  });
  afterAll(async () => {
    await hma?.close();
    await t?.close();
    await new Promise((resolve) => media?.close(resolve));
  });

  describe('the HMA listener', () => {
    it('serves the facade without a key, as its organisation, and nothing else', async () => {
      const created = await hma.inject({ method: 'POST', url: '/c/banks', payload: { name: 'COOP_BANK' } });
      expect(created.statusCode).toBe(201);
      // The bank belongs to the listener's organisation: that organisation's key sees it on the main API.
      const mine = await t.app.inject({ method: 'GET', url: '/v1/banks', headers: bearer(org.key) });
      expect(mine.json().items.map((b: { name: string }) => b.name)).toContain('COOP_BANK');
      const admin = await t.app.inject({ method: 'GET', url: '/v1/banks', headers: bearer(t.adminKey) });
      expect(admin.json().items.map((b: { name: string }) => b.name)).not.toContain('COOP_BANK');
      expect((await hma.inject({ method: 'GET', url: '/c/banks' })).json()).toContainEqual({
        name: 'COOP_BANK',
        matching_enabled_ratio: 1,
      });
      expect((await hma.inject({ method: 'GET', url: '/status/live' })).body).toBe('I-AM-ALIVE');
      for (const url of ['/v1/banks', '/v1/keys', '/v1/organisations', '/openapi.json', '/docs/', '/ui/'])
        expect((await hma.inject({ method: 'GET', url })).statusCode, url).toBe(404);
      // The main listener still wants a key for the facade.
      expect((await t.app.inject({ method: 'GET', url: '/c/banks' })).statusCode).toBe(401);
    });

    it('listens on a real socket, where a doubled slash reaches it as sent, and refuses a public address', async () => {
      const server = await startHmaServer(t.ctx, {
        listen: '127.0.0.1:0',
        org: 'Coop Platform',
        force: false,
      });
      try {
        expect(server.principal.label).toBe('hma:Coop Platform');
        const response = await fetch(`${server.url}//c/banks`);
        expect(response.status).toBe(200);
        expect(await response.json()).toContainEqual({ name: 'COOP_BANK', matching_enabled_ratio: 1 });
        expect((await fetch(`${server.url}/v1/banks`)).status).toBe(404);
      } finally {
        await server.app.close();
      }
      await expect(
        startHmaServer(t.ctx, { listen: '0.0.0.0:0', org: 'Coop Platform', force: false }),
      ).rejects.toThrow(/loopback or private.*--hma-listen-force/);
    });

    it('refuses to start for an unknown organisation, by id or name', async () => {
      await expect(hmaPrincipal(t.ctx, 'No Such Org')).rejects.toThrow(/No Such Org.*not found/);
      await expect(hmaPrincipal(t.ctx, '999999')).rejects.toThrow(/999999.*not found/);
      const byId = await hmaPrincipal(t.ctx, String(org.id));
      expect(byId).toMatchObject({ orgId: org.id, label: 'hma:Coop Platform' });
      expect(byId.permissions.has('banks:write')).toBe(true);
      expect(byId.permissions.has('keys:manage')).toBe(false);
    });

    it('serves paths with a doubled slash (a base URL ending in /) and leaves the rest of the API alone', async () => {
      expect((await hma.inject({ method: 'GET', url: '//c/banks' })).statusCode).toBe(200);
      expect((await hma.inject({ method: 'GET', url: '//c/bank/COOP_BANK' })).json()).toEqual({
        name: 'COOP_BANK',
        matching_enabled_ratio: 1,
      });
      const main = await t.app.inject({ method: 'GET', url: '//c/banks', headers: bearer(org.key) });
      expect(main.statusCode).toBe(200);
      expect(main.json()).toContainEqual({ name: 'COOP_BANK', matching_enabled_ratio: 1 });
      expect((await t.app.inject({ method: 'GET', url: '//c/banks' })).statusCode).toBe(401);
      expect(
        (await t.app.inject({ method: 'GET', url: '/v1/banks', headers: bearer(org.key) })).statusCode,
      ).toBe(200);
      expect(
        (await t.app.inject({ method: 'GET', url: '//v1/banks', headers: bearer(org.key) })).statusCode,
      ).toBe(404);
    });
  });

  describe('hashing, banking and looking up by URL, through the fetch policy', () => {
    it('hashes, banks and looks up an allowed URL', async () => {
      const url = encodeURIComponent(`${base}/bridge.jpg`);
      const hash = await hma.inject({ method: 'GET', url: `/h/hash?url=${url}` });
      expect(hash.statusCode, hash.body).toBe(200);
      expect(hash.json()).toEqual({ pdq: BRIDGE });
      expect((await hma.inject({ method: 'GET', url: `/h/hash?url=${url}&types=video_md5` })).json()).toEqual(
        {},
      );
      const notVideo = await hma.inject({ method: 'GET', url: `/h/hash?url=${url}&content_type=video` });
      expect(notVideo.statusCode).toBe(400);
      expect(notVideo.json().message).toMatch(/photo, not a video/);
      expect(
        (await hma.inject({ method: 'POST', url: '/c/banks', payload: { name: 'URL_BANK' } })).statusCode,
      ).toBe(201);
      const added = await hma.inject({ method: 'POST', url: `/c/bank/URL_BANK/content?url=${url}` });
      expect(added.statusCode, added.body).toBe(200);
      expect(added.json()).toMatchObject({ signals: { pdq: BRIDGE } });
      const id = added.json().id;
      // A JSON content type with an empty body (HMA's Flask takes it) is no body, not an error.
      const emptyJson = await hma.inject({
        method: 'POST',
        url: `/c/bank/URL_BANK/content?url=${url}`,
        headers: { 'content-type': 'application/json' },
        payload: '',
      });
      expect(emptyJson.statusCode, emptyJson.body).toBe(200);
      expect(emptyJson.json().id).toBe(id);
      // HMA documents metadata as a query parameter; with a JSON body, the body's fields count too.
      expect(
        (await hma.inject({ method: 'POST', url: '/c/banks', payload: { name: 'URL_META' } })).statusCode,
      ).toBe(201);
      const meta = encodeURIComponent(JSON.stringify({ content_uri: 'https://coop.example/i/9' }));
      const withMeta = await hma.inject({
        method: 'POST',
        url: `/c/bank/URL_META/content?url=${url}&metadata=${meta}`,
        payload: { content_id: 'i-9', note: 'from a report' },
      });
      expect(withMeta.statusCode, withMeta.body).toBe(200);
      const stored = await hma.inject({
        method: 'GET',
        url: `/c/bank/URL_META/content/${withMeta.json().id}?include_metadata=true`,
      });
      expect(stored.json()).toMatchObject({
        metadata: { content_id: 'i-9', content_uri: 'https://coop.example/i/9' },
        note: 'from a report',
      });
      const mainEmpty = await t.app.inject({
        method: 'POST',
        url: `/c/bank/URL_BANK/content?url=${url}`,
        headers: { ...bearer(org.key), 'content-type': 'application/json' },
        payload: '',
      });
      expect(mainEmpty.statusCode, mainEmpty.body).toBe(200);
      // Elsewhere on the API an empty JSON body is still refused.
      const v1Empty = await t.app.inject({
        method: 'POST',
        url: '/v1/banks',
        headers: { ...bearer(org.key), 'content-type': 'application/json' },
        payload: '',
      });
      expect(v1Empty.statusCode).toBe(400);
      const lookup = await hma.inject({
        method: 'GET',
        url: `/m/lookup?url=${url}&content_type=photo&banks=URL_BANK`,
      });
      expect(lookup.statusCode, lookup.body).toBe(200);
      expect(lookup.json()).toEqual({ pdq: { URL_BANK: [{ bank_content_id: id, distance: '0' }] } });
      // The main listener fetches too, with a key.
      const keyed = await t.app.inject({
        method: 'GET',
        url: `/h/hash?url=${url}`,
        headers: bearer(org.key),
      });
      expect(keyed.json()).toEqual({ pdq: BRIDGE });
    });

    it('refuses a host outside KAITIAKI_FETCH_ALLOWED_HOSTS without fetching it', async () => {
      const before = mediaRequests.length;
      const refused = encodeURIComponent(base.replace('127.0.0.1', 'localhost') + '/bridge.jpg');
      for (const request of [
        { method: 'GET' as const, url: `/h/hash?url=${refused}` },
        { method: 'POST' as const, url: `/c/bank/URL_BANK/content?url=${refused}` },
        { method: 'GET' as const, url: `/m/lookup?url=${refused}&content_type=photo` },
      ]) {
        const response = await hma.inject(request);
        expect(response.statusCode, request.url).toBe(400);
        expect(response.json().code).toBe('KAI_ERR_URL_HOST_NOT_ALLOWED');
      }
      const ftp = await hma.inject({
        method: 'GET',
        url: `/h/hash?url=${encodeURIComponent('file:///etc/passwd')}`,
      });
      expect(ftp.statusCode).toBe(400);
      expect(mediaRequests.length).toBe(before);
    });
  });

  it('limits requests per client address like the main listener', async () => {
    const limited = await startTestApp(dialect, { KAITIAKI_RATE_LIMIT_PER_MINUTE: '3' });
    try {
      await limited.organisation('Limited', 'moderator');
      const app = await buildHmaApp(limited.ctx, await hmaPrincipal(limited.ctx, 'Limited'));
      const codes = [];
      for (let i = 0; i < 5; i++)
        codes.push((await app.inject({ method: 'GET', url: '/c/banks' })).statusCode);
      expect(codes).toEqual([200, 200, 200, 429, 429]);
      expect((await app.inject({ method: 'GET', url: '/status/live' })).statusCode).toBe(200);
      await app.close();
    } finally {
      await limited.close();
    }
  });

  describe('exchanges', () => {
    it('lists the exchange APIs (source kinds) and keeps credentials per exchange (test/sources/hma-exchanges.test.ts has the rest)', async () => {
      const apis = await hma.inject({ method: 'GET', url: '/c/exchanges/apis' });
      expect(apis.statusCode).toBe(200);
      expect(apis.json()).toEqual(expect.arrayContaining(['tcap', 'tat', 'list']));
      expect((await hma.inject({ method: 'GET', url: '/c/exchanges' })).json()).toEqual([]);
      const credentials = await hma.inject({ method: 'POST', url: '/c/exchanges/api/tat', payload: {} });
      expect(credentials.statusCode).toBe(501);
      expect(credentials.json().message).toMatch(/api_json of POST \/c\/exchanges/);
      for (const url of ['/c/exchange/TAT', '/c/exchange/TAT/status'])
        expect((await hma.inject({ method: 'GET', url })).statusCode, url).toBe(404);
    });
  });

  describe('HMA semantics', () => {
    it('stores enabled_ratio as a fraction and keeps enabled consistent', async () => {
      const created = await hma.inject({
        method: 'POST',
        url: '/c/banks',
        payload: { name: 'HALF_BANK', enabled_ratio: 0.5 },
      });
      expect(created.json()).toEqual({ name: 'HALF_BANK', matching_enabled_ratio: 0.5 });
      expect((await hma.inject({ method: 'GET', url: '/c/bank/HALF_BANK' })).json()).toEqual({
        name: 'HALF_BANK',
        matching_enabled_ratio: 0.5,
      });
      const list = await t.app.inject({ method: 'GET', url: '/v1/banks', headers: bearer(org.key) });
      const bank = list.json().items.find((b: { name: string }) => b.name === 'HALF_BANK');
      expect(bank.enabled).toBe(true);
      const off = await hma.inject({
        method: 'PUT',
        url: '/c/bank/HALF_BANK',
        payload: { enabled_ratio: 0 },
      });
      expect(off.json()).toEqual({ name: 'HALF_BANK', matching_enabled_ratio: 0 });
      const v1 = await t.app.inject({ method: 'GET', url: `/v1/banks/${bank.id}`, headers: bearer(org.key) });
      expect(v1.json().enabled).toBe(false);
      const on = await hma.inject({ method: 'PUT', url: '/c/bank/HALF_BANK', payload: { enabled: true } });
      expect(on.json()).toEqual({ name: 'HALF_BANK', matching_enabled_ratio: 1 });
      await hma.inject({ method: 'PUT', url: '/c/bank/HALF_BANK', payload: { enabled_ratio: 0.25 } });
      // Disabled on the main API: HMA sees 0.
      await t.app.inject({
        method: 'PATCH',
        url: `/v1/banks/${bank.id}`,
        headers: bearer(org.key),
        payload: { enabled: false },
      });
      expect(
        (await hma.inject({ method: 'GET', url: '/c/bank/HALF_BANK' })).json().matching_enabled_ratio,
      ).toBe(0);
    });

    it('draws one coin flip per lookup and matches the banks whose ratio is at least the flip', async () => {
      const ratios: Record<string, number> = { FLIP_LOW: 0.25, FLIP_MID: 0.5, FLIP_HIGH: 0.75, FLIP_ALL: 1 };
      for (const [name, enabled_ratio] of Object.entries(ratios)) {
        expect(
          (await hma.inject({ method: 'POST', url: '/c/banks', payload: { name, enabled_ratio } }))
            .statusCode,
        ).toBe(201);
        const added = await hma.inject({
          method: 'POST',
          url: `/c/bank/${name}/signal`,
          payload: { pdq: ROTATED },
        });
        expect(added.statusCode).toBe(200);
      }
      const banks = Object.keys(ratios).join(',');
      const lookup = async (query: string) =>
        Object.keys(
          (
            await hma.inject({
              method: 'GET',
              url: `/m/lookup?signal_type=pdq&signal=${ROTATED}&banks=${banks}${query}`,
            })
          ).json(),
        ).sort();
      const counts: Record<string, number> = { FLIP_LOW: 0, FLIP_MID: 0, FLIP_HIGH: 0, FLIP_ALL: 0 };
      for (let seed = 0; seed < 80; seed++) {
        const matched = await lookup(`&seed=${seed}`);
        // Reproducible with the same seed.
        expect(await lookup(`&seed=${seed}`)).toEqual(matched);
        // One flip for the whole lookup: whoever matches, every bank with a higher ratio matches too.
        const order = ['FLIP_LOW', 'FLIP_MID', 'FLIP_HIGH', 'FLIP_ALL'];
        const lowest = order.findIndex((name) => matched.includes(name));
        expect(matched).toEqual(order.slice(lowest).sort());
        for (const name of matched) counts[name]++;
      }
      expect(counts.FLIP_ALL).toBe(80);
      expect(counts.FLIP_LOW).toBeGreaterThan(5);
      expect(counts.FLIP_LOW).toBeLessThan(35);
      expect(counts.FLIP_MID).toBeGreaterThan(20);
      expect(counts.FLIP_MID).toBeLessThan(60);
      expect(counts.FLIP_HIGH).toBeGreaterThan(counts.FLIP_MID);
      expect(counts.FLIP_HIGH).toBeLessThan(80);
      expect(await lookup('&bypass_coinflip=true&seed=3')).toEqual(Object.keys(ratios).sort());
      // As HMA, bypass_coinflip lets a bank with ratio 0 (disabled) match too; a flip never does.
      await hma.inject({ method: 'PUT', url: '/c/bank/FLIP_LOW', payload: { enabled_ratio: 0 } });
      expect(await lookup('&seed=3')).not.toContain('FLIP_LOW');
      for (let seed = 0; seed < 20; seed++) expect(await lookup(`&seed=${seed}`)).not.toContain('FLIP_LOW');
      expect(await lookup('&bypass_coinflip=true')).toEqual(Object.keys(ratios).sort());
      // A bank name that is none of yours matches nothing, as in HMA (no error).
      const unknown = await hma.inject({
        method: 'GET',
        url: `/m/lookup?signal_type=pdq&signal=${ROTATED}&banks=NO_SUCH_BANK&bypass_coinflip=true`,
      });
      expect(unknown.statusCode).toBe(200);
      expect(unknown.json()).toEqual({});
    });

    it('omits signals unless include_signals=true, and echoes a future disable_until_ts', async () => {
      await hma.inject({ method: 'POST', url: '/c/banks', payload: { name: 'CONTENT_BANK' } });
      const added = await hma.inject({
        method: 'POST',
        url: '/c/bank/CONTENT_BANK/signal',
        payload: { pdq: BRIDGE },
      });
      const id = added.json().id;
      const plain = await hma.inject({ method: 'GET', url: `/c/bank/CONTENT_BANK/content/${id}` });
      expect(plain.json()).toMatchObject({ id, disable_until_ts: 1 });
      expect(plain.json()).not.toHaveProperty('signals');
      const withSignals = await hma.inject({
        method: 'GET',
        url: `/c/bank/CONTENT_BANK/content/${id}?include_signals=true`,
      });
      expect(withSignals.json().signals).toEqual({ pdq: BRIDGE });
      const lookupUrl = `/m/lookup?signal_type=pdq&signal=${BRIDGE}&banks=CONTENT_BANK`;
      expect(Object.keys((await hma.inject({ method: 'GET', url: lookupUrl })).json())).toEqual([
        'CONTENT_BANK',
      ]);
      const until = Math.floor(Date.now() / 1000) + 7 * 86400;
      const disabled = await hma.inject({
        method: 'PUT',
        url: `/c/bank/CONTENT_BANK/content/${id}`,
        payload: { disable_until_ts: until },
      });
      expect(disabled.statusCode).toBe(200);
      expect(disabled.json()).toMatchObject({ id, disable_until_ts: until });
      expect(
        (await hma.inject({ method: 'GET', url: `/c/bank/CONTENT_BANK/content/${id}` })).json()
          .disable_until_ts,
      ).toBe(until);
      expect((await hma.inject({ method: 'GET', url: lookupUrl })).json()).toEqual({});
      // Until the time comes: then it is enabled again by itself, and the time is still echoed.
      expect(await enableExpiredHmaContent(t.ctx, until * 1000 - 1000)).toBe(0);
      expect(await enableExpiredHmaContent(t.ctx, until * 1000 + 1000)).toBe(1);
      expect(Object.keys((await hma.inject({ method: 'GET', url: lookupUrl })).json())).toEqual([
        'CONTENT_BANK',
      ]);
      expect(await enableExpiredHmaContent(t.ctx, until * 1000 + 1000)).toBe(0);
      // Disabled again on the main API: the old time no longer re-enables it.
      const banks = await t.app.inject({
        method: 'GET',
        url: '/v1/banks?limit=100',
        headers: bearer(org.key),
      });
      const bankId = banks.json().items.find((b: { name: string }) => b.name === 'CONTENT_BANK').id;
      const disabledV1 = await t.app.inject({
        method: 'PATCH',
        url: `/v1/banks/${bankId}/entries/${id}`,
        headers: bearer(org.key),
        payload: { status: 'disabled' },
      });
      expect(disabledV1.statusCode, disabledV1.body).toBe(200);
      expect(await enableExpiredHmaContent(t.ctx, until * 1000 + 1000)).toBe(0);
      expect((await hma.inject({ method: 'GET', url: lookupUrl })).json()).toEqual({});
      await hma.inject({
        method: 'PUT',
        url: `/c/bank/CONTENT_BANK/content/${id}`,
        payload: { disable_until_ts: 0 },
      });
      expect((await hma.inject({ method: 'GET', url: lookupUrl })).json()).toEqual({});
      expect(await enableExpiredHmaContent(t.ctx, until * 1000 + 1000)).toBe(0);
      const enabled = await hma.inject({
        method: 'PUT',
        url: `/c/bank/CONTENT_BANK/content/${id}`,
        payload: { disable_until_ts: 1 },
      });
      expect(enabled.json().disable_until_ts).toBe(1);
      expect(Object.keys((await hma.inject({ method: 'GET', url: lookupUrl })).json())).toEqual([
        'CONTENT_BANK',
      ]);
    });
  });

  describe("Coop's request shapes", () => {
    it('keeps content_id, content_uri and metadata sent with a multipart photo', async () => {
      await hma.inject({ method: 'POST', url: '/c/banks', payload: { name: 'COOP_MEDIA' } });
      const body = form(
        { field: 'photo', filename: 'item.jpg', content: BRIDGE_JPEG },
        {
          content_id: 'item-42',
          content_uri: 'https://coop.example/items/42',
          metadata: JSON.stringify({ reporter: 'trust-and-safety', policy: 'tvec' }),
        },
      );
      const added = await hma.inject({
        method: 'POST',
        url: '/c/bank/COOP_MEDIA/content',
        headers: body.headers,
        payload: body.payload,
      });
      expect(added.statusCode, added.body).toBe(200);
      expect(added.json()).toMatchObject({ signals: { pdq: BRIDGE } });
      const id = added.json().id;
      const content = await hma.inject({
        method: 'GET',
        url: `/c/bank/COOP_MEDIA/content/${id}?include_metadata=true`,
      });
      expect(content.json().metadata).toEqual({
        content_id: 'item-42',
        content_uri: 'https://coop.example/items/42',
        json: { reporter: 'trust-and-safety', policy: 'tvec' },
      });
      expect(content.json()).not.toHaveProperty('signals');
      const lookup = form(
        { field: 'photo', filename: 'item.jpg', content: BRIDGE_JPEG },
        { content_id: 'q-1' },
      );
      const matched = await hma.inject({
        method: 'POST',
        url: '/m/lookup?banks=COOP_MEDIA',
        headers: lookup.headers,
        payload: lookup.payload,
      });
      expect(matched.json()).toEqual({ pdq: { COOP_MEDIA: [{ bank_content_id: id, distance: '0' }] } });
    });

    it("takes metadata in HMA's own shape too, and refuses metadata that is not JSON", async () => {
      await hma.inject({ method: 'POST', url: '/c/banks', payload: { name: 'HMA_META' } });
      const body = form(
        { field: 'photo', filename: 'x.jpg', content: BRIDGE_JPEG },
        { metadata: JSON.stringify({ content_id: 'c-7', json: { a: 1 } }) },
      );
      const added = await hma.inject({
        method: 'POST',
        url: '/c/bank/HMA_META/content',
        headers: body.headers,
        payload: body.payload,
      });
      const content = await hma.inject({
        method: 'GET',
        url: `/c/bank/HMA_META/content/${added.json().id}?include_metadata=true`,
      });
      expect(content.json().metadata).toEqual({ content_id: 'c-7', json: { a: 1 } });
      const bad = form(
        { field: 'photo', filename: 'x.jpg', content: BRIDGE_JPEG },
        { metadata: '{not json' },
      );
      const refused = await hma.inject({
        method: 'POST',
        url: '/c/bank/HMA_META/content',
        headers: bad.headers,
        payload: bad.payload,
      });
      expect(refused.statusCode).toBe(400);
      expect(refused.json().message).toMatch(/metadata/);
    });
  });
});

describe('HMA listener addresses', () => {
  it('reads KAITIAKI_HMA_LISTEN, KAITIAKI_HMA_ORG and KAITIAKI_HMA_LISTEN_FORCE', () => {
    expect(readConfig({}, { dataDir: '/tmp/x' }).hma).toEqual({
      listen: null,
      org: null,
      listenForce: false,
    });
    const env = {
      KAITIAKI_HMA_LISTEN: '10.0.0.5:5000',
      KAITIAKI_HMA_ORG: 'Coop',
      KAITIAKI_HMA_LISTEN_FORCE: 'true',
    };
    expect(readConfig(env, { dataDir: '/tmp/x' }).hma).toEqual({
      listen: '10.0.0.5:5000',
      org: 'Coop',
      listenForce: true,
    });
    expect(readConfig(env, { dataDir: '/tmp/x', hmaOrg: '7' }).hma.org).toBe('7');
  });

  it('parses HOST:PORT, IPv6 in brackets included', () => {
    expect(parseHmaListen('127.0.0.1:5000')).toEqual({ host: '127.0.0.1', port: 5000 });
    expect(parseHmaListen('[::1]:5000')).toEqual({ host: '::1', port: 5000 });
    expect(() => parseHmaListen('127.0.0.1')).toThrow(/HOST:PORT/);
    expect(() => parseHmaListen('127.0.0.1:99999')).toThrow(/port/);
  });

  it('counts loopback and private ranges as private, and nothing else', () => {
    for (const host of [
      '127.0.0.1',
      '127.8.9.10',
      '::1',
      '10.1.2.3',
      '172.16.0.1',
      '172.31.255.255',
      '192.168.1.1',
      'fd12::1',
      'localhost',
    ])
      expect(isPrivateAddress(host), host).toBe(true);
    for (const host of [
      '0.0.0.0',
      '::',
      '8.8.8.8',
      '172.32.0.1',
      '192.169.0.1',
      '2001:db8::1',
      '169.254.169.254',
    ])
      expect(isPrivateAddress(host), host).toBe(false);
  });
});
