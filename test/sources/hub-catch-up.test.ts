/**
 * A member catching up on a large hub bank: the hub's ready pages (5,000 records each) are stored in runs of up to
 * 25,000 records, one transaction each, with later pages fetched ahead; nothing is lost or stored twice, and every
 * signal matches at the member afterwards. Hub and member are two apps in this process, over real HTTP.
 */
import { createHash } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { prepareEntry } from '../../src/store/entries.js';
import { bearer, startTestApp, type TestApp } from '../helpers/app.js';

const SIGNALS = 12_000;
const hash = (n: number) => createHash('sha256').update(`catch-up ${n}`).digest('hex');

describe('a member catching up on a large hub bank', () => {
  let hub: TestApp;
  let member: TestApp;
  let memberKey: string;
  let subscription: number;
  let follower: { id: number; key: string };
  let bankId: number;

  beforeAll(async () => {
    hub = await startTestApp('sqlite');
    const hubUrl = await hub.app.listen({ port: 0, host: '127.0.0.1' });
    const owner = await hub.organisation('Owner', 'admin');
    follower = await hub.organisation('Follower', 'admin');
    const bank = await hub.ctx.banks.create(owner.id, { name: 'LARGE' });
    bankId = bank.id;
    const rows = Array.from({ length: SIGNALS }, (_, i) =>
      prepareEntry(
        { signalType: 'pdq', value: hash(i) },
        { bankId: bank.id, orgId: owner.id, contributorOrgId: owner.id, source: 'import', defaultLabels: [] },
      ),
    );
    await hub.ctx.entries.insertManyCounting(rows);
    const call = (url: string, key: string, payload: object) =>
      hub.app.inject({ method: 'POST', url, headers: bearer(key), payload });
    await call(`/v1/banks/${bank.id}/shares`, owner.key, { organisation_id: follower.id });
    await call(`/v1/shares/incoming/${bank.id}/accept`, follower.key, {});
    const hubKey = (await hub.ctx.sharingFeed.identity()).publicKey;

    member = await startTestApp('sqlite', {
      KAITIAKI_SOURCE_ALLOWED_HOSTS: new URL(hubUrl).host,
      KAITIAKI_SOURCE_SCHEDULE: 'false',
    });
    memberKey = (await member.organisation('Platform', 'admin')).key;
    const created = await member.app.inject({
      method: 'POST',
      url: '/v1/subscriptions',
      headers: bearer(memberKey),
      payload: {
        name: 'HUB',
        kind: 'kaitiaki',
        interval_seconds: 1,
        config: { hub_url: hubUrl, collection_id: bank.id, api_key: follower.key, hub_public_key: hubKey },
      },
    });
    expect(created.statusCode, created.body).toBe(201);
    subscription = created.json().id;
  }, 60_000);
  afterAll(async () => {
    await member?.close();
    await hub?.close();
  });

  it('stores the ready pages in one run, then nothing more; every signal matches', async () => {
    const synced = await member.app.inject({
      method: 'POST',
      url: `/v1/subscriptions/${subscription}/sync`,
      headers: bearer(memberKey),
    });
    expect(synced.statusCode, synced.body).toBe(200);
    const runs = synced.json().runs as { status: string; upserted: number }[];
    // 12,000 records in three pages of at most 5,000: one run stores them all (one transaction).
    expect(runs[0]).toMatchObject({ status: 'applied', upserted: SIGNALS });
    expect(runs.slice(1).every((r) => r.upserted === 0)).toBe(true);
    const status = synced.json().subscription;
    expect(status).toMatchObject({ records_upserted: SIGNALS, records_quarantined: 0 });
    const bank = await member.app.inject({
      method: 'GET',
      url: `/v1/banks/${status.bank_id}`,
      headers: bearer(memberKey),
    });
    expect(bank.json().entry_count).toBe(SIGNALS);
    for (const n of [0, 4_999, 5_000, 11_999]) {
      const match = await member.app.inject({
        method: 'POST',
        url: '/v1/match',
        headers: bearer(memberKey),
        payload: { signals: [{ type: 'pdq', value: hash(n) }] },
      });
      expect(match.json().matches).toHaveLength(1);
    }
  }, 60_000);

  it('is refused once its organisation left the share on the hub: the error says so, nothing changes', async () => {
    const left = await hub.app.inject({
      method: 'DELETE',
      url: `/v1/shares/incoming/${bankId}`,
      headers: bearer(follower.key),
    });
    expect(left.statusCode).toBe(204);
    const synced = await member.app.inject({
      method: 'POST',
      url: `/v1/subscriptions/${subscription}/sync`,
      headers: bearer(memberKey),
    });
    expect(synced.json().runs[0].status).toBe('failed');
    expect(synced.json().subscription.last_error).toMatch(
      /the hub refused this collection \(HTTP 404\).*share you left/,
    );
    expect(synced.json().subscription.records_upserted).toBe(SIGNALS);
  });
});
