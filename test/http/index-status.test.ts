import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bearer, startTestApp, type TestApp } from '../helpers/app.js';

const HASH = 'f8f8f0cee0f4a84f06370a22038f63f0b36e2ed596621e1d33e6b39c4e9c9b22';

describe('index status reports bucket statistics', () => {
  let t: TestApp;
  let key: string;

  beforeAll(async () => {
    t = await startTestApp('sqlite');
    key = (await t.organisation('Operator', 'viewer')).key;
  });
  afterAll(() => t.close());

  it('shows an empty index, then a skewed one: 200 copies of one hash fill one bucket of every table', async () => {
    const get = (url: string) => t.app.inject({ method: 'GET', url, headers: bearer(key) });
    const before = (await get('/v1/index/status')).json().signal_types.pdq.buckets;
    expect(before).toMatchObject({ largest: 0, p99: 0, layouts: [] });

    for (let i = 0; i < 200; i++)
      t.ctx.index.load({ id: 900_001 + i, bankId: 1, signalType: 'pdq', value: HASH });
    t.ctx.index.finishLoad();

    const v1 = await get('/v1/index/status');
    expect(v1.statusCode).toBe(200);
    const buckets = v1.json().signal_types.pdq.buckets;
    expect(buckets).toEqual({
      largest: 200,
      p99: 0,
      even_length: 0,
      layouts: ['identity'],
      per_table_largest: Array.from({ length: 16 }, () => 200),
    });
    // The existing fields are unchanged, and types without a hash index report no buckets.
    expect(v1.json().signal_types.pdq.size).toBe(200);
    expect(v1.json().signal_types.md5).not.toHaveProperty('buckets');

    const hma = await get('/m/index/status?signal_type=pdq');
    expect(hma.statusCode).toBe(200);
    expect(hma.json().pdq).toMatchObject({ size: 200, buckets: { largest: 200, p99: 0 } });
    expect(hma.json().pdq.buckets.per_table_largest).toHaveLength(16);
  });

  it('requires authentication', async () => {
    expect((await t.app.inject({ method: 'GET', url: '/v1/index/status' })).statusCode).toBe(401);
  });
});
