/** HMA's exchange endpoints over subscriptions, as an HMA client (ROOST's Coop, say) calls them on the HMA listener. */
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildHmaApp, hmaPrincipal } from '../../src/http/hma-app.js';
import { startTestApp, type TestApp } from '../helpers/app.js';
import { TEST_DIALECTS } from '../helpers/databases.js';
import { startFixtureServer, type FixtureServer } from '../helpers/fixture-server.js';

const PDQ_A = 'f8f8f0cee0f4a84f06370a22038f63f0b36e2ed596621e1d33e6b39c4e9c9b22';
const MD5_A = 'd41d8cd98f00b204e9800998ecf8427e';

describe.each(TEST_DIALECTS)('HMA exchanges over subscriptions, on %s', (dialect) => {
  let t: TestApp;
  let hma: FastifyInstance;
  let fixture: FixtureServer;

  beforeAll(async () => {
    fixture = await startFixtureServer();
    fixture.on('/api/hash-list/v2/all', (req, res) => {
      if (req.headers.authorization !== 'Bearer tok') return void res.writeHead(401).end();
      res.writeHead(200, { 'content-type': 'application/json' }).end(
        JSON.stringify({
          count: 2,
          next: null,
          results: [
            {
              hash_digest: PDQ_A,
              algorithm: 'PDQ',
              ideology: 'islamist',
              file_type: 'png',
              deleted: false,
              updated_on: 1724856487.5,
              id: 7,
            },
            {
              hash_digest: MD5_A,
              algorithm: 'MD5',
              ideology: 'far-right',
              file_type: 'mp4',
              deleted: false,
              updated_on: 1724856488,
              id: 8,
            },
          ],
        }),
      );
    });
    t = await startTestApp(dialect, {
      KAITIAKI_SOURCE_ALLOWED_HOSTS: `127.0.0.1:${fixture.port}`,
      KAITIAKI_SOURCE_SCHEDULE: 'false',
    });
    await t.organisation('Coop Platform', 'moderator');
    hma = await buildHmaApp(t.ctx, await hmaPrincipal(t.ctx, 'Coop Platform'));
  });
  afterAll(async () => {
    await hma?.close();
    await t?.close();
    await fixture?.close();
  });

  it('creates an exchange and its bank, fetches it, shows its status, pauses and deletes it', async () => {
    const schema = await hma.inject({ method: 'GET', url: '/c/exchanges/api/tat/schema' });
    expect(schema.json()).toMatchObject({
      config_schema: { base_url: { type: 'string' } },
      credentials_schema: { token: { type: 'string' }, password: { type: 'string' } },
    });
    expect((await hma.inject({ method: 'GET', url: '/c/exchanges/api/tat' })).json()).toEqual({
      supports_authentification: true,
      has_set_authentification: false,
    });

    const created = await hma.inject({
      method: 'POST',
      url: '/c/exchanges',
      payload: { bank: 'TAT_HASHES', api: 'tat', api_json: { base_url: fixture.base, token: 'tok' } },
    });
    expect(created.statusCode, created.body).toBe(201);
    expect(created.json()).toEqual({ message: 'Created successfully' });
    expect((await hma.inject({ method: 'GET', url: '/c/exchanges' })).json()).toEqual(['TAT_HASHES']);
    // The backing bank exists at once, named as the exchange.
    expect((await hma.inject({ method: 'GET', url: '/c/bank/TAT_HASHES' })).json()).toEqual({
      name: 'TAT_HASHES',
      matching_enabled_ratio: 1,
    });
    expect((await hma.inject({ method: 'GET', url: '/c/exchange/TAT_HASHES' })).json()).toEqual({
      name: 'TAT_HASHES',
      api: 'tcap',
      enabled: true,
      base_url: `${fixture.base}/`,
      token: '(set)',
      ideology: null,
    });
    expect((await hma.inject({ method: 'GET', url: '/c/exchange/TAT_HASHES/status' })).json()).toMatchObject({
      last_fetch_time: 0,
      checkpoint_time: 0,
      success: false,
      fetched_items: 0,
    });

    const sub = await t.ctx.subscriptions.getByName(
      (await t.ctx.organisations.list()).find((o) => o.name === 'Coop Platform')!.id,
      'TAT_HASHES',
    );
    await t.ctx.sourceRunner.catchUp(sub.id);
    const status = (await hma.inject({ method: 'GET', url: '/c/exchange/TAT_HASHES/status' })).json();
    expect(status).toMatchObject({
      checkpoint_time: 1724856488,
      success: true,
      up_to_date: true,
      fetched_items: 2,
    });
    expect(status.last_fetch_time).toBeGreaterThan(1_700_000_000);
    const lookup = await hma.inject({
      method: 'GET',
      url: `/m/lookup?signal_type=pdq&signal=${PDQ_A}&bypass_coinflip=true`,
    });
    expect(Object.keys(lookup.json())).toEqual(['TAT_HASHES']);
    // HMA clients cannot write into the exchange's bank.
    const write = await hma.inject({
      method: 'POST',
      url: '/c/bank/TAT_HASHES/signal',
      payload: { pdq: PDQ_A },
    });
    expect(write.statusCode).toBe(403);

    const paused = await hma.inject({
      method: 'PUT',
      url: '/c/exchange/TAT_HASHES',
      payload: { enabled: false },
    });
    expect(paused.json()).toMatchObject({ name: 'TAT_HASHES', enabled: false });
    expect((await t.ctx.sourceRunner.tick(sub.id)).status).toBe('disabled');

    const bad = await hma.inject({
      method: 'POST',
      url: '/c/exchanges',
      payload: { bank: 'lower', api: 'tat', api_json: { token: 't' } },
    });
    expect(bad.statusCode).toBe(400);
    const unknown = await hma.inject({
      method: 'POST',
      url: '/c/exchanges',
      payload: { bank: 'NCMEC', api: 'ncmec', api_json: {} },
    });
    expect(unknown.statusCode).toBe(400);
    expect(unknown.json().message).toMatch(/unknown source kind "ncmec"/);

    expect((await hma.inject({ method: 'DELETE', url: '/c/exchange/TAT_HASHES' })).statusCode).toBe(200);
    expect((await hma.inject({ method: 'GET', url: '/c/exchanges' })).json()).toEqual([]);
    expect((await hma.inject({ method: 'GET', url: '/c/bank/TAT_HASHES' })).statusCode).toBe(404);
    const after = await hma.inject({
      method: 'GET',
      url: `/m/lookup?signal_type=pdq&signal=${PDQ_A}&bypass_coinflip=true`,
    });
    expect(after.json()).toEqual({});
  });
});
