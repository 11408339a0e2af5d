/**
 * The hub side of hash sharing over real HTTP: change pages after a cursor (bounded, resumable), each signed over
 * its cursor range and every record's digest, retractions as tombstones, a cursor from the future refused, only organisations with an accepted share may follow, and the
 * push stream delivering a new contribution as it commits.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { checkPage } from '../../src/sharing/signing.js';
import { bearer, startTestApp, type TestApp } from '../helpers/app.js';
import { TEST_DIALECTS } from '../helpers/databases.js';

const BASE = 'f8f8f0cee0f4a84f06370a22038f63f0b36e2ed596621e1d33e6b39c4e9c9b22';
const hash = (n: number) => n.toString(16).padStart(4, '0') + BASE.slice(4);

describe.each(TEST_DIALECTS)('sharing feed, on %s', (dialect) => {
  let t: TestApp;
  let base: string;
  let owner: { id: number; key: string };
  let member: { id: number; key: string };
  let stranger: { id: number; key: string };
  let offered: { id: number; key: string };
  let bank: number;
  let publicKey: string;
  const entries: number[] = [];

  const call = (method: 'GET' | 'POST' | 'DELETE', url: string, key: string, payload?: object) =>
    t.app.inject({ method, url, headers: bearer(key), ...(payload === undefined ? {} : { payload }) });

  beforeAll(async () => {
    t = await startTestApp(dialect);
    base = await t.app.listen({ port: 0, host: '127.0.0.1' });
    owner = await t.organisation('Hub owner', 'moderator');
    member = await t.organisation('Member', 'integration');
    stranger = await t.organisation('Stranger', 'integration');
    offered = await t.organisation('Offered', 'integration');
    bank = (await call('POST', '/v1/banks', owner.key, { name: 'INCIDENT_2026' })).json().id;
    for (let n = 1; n <= 3; n++)
      entries.push(
        (
          await call('POST', `/v1/banks/${bank}/entries`, owner.key, {
            signal_type: 'pdq',
            value: hash(n),
            labels: ['tvec'],
          })
        ).json().id,
      );
    await call('POST', `/v1/banks/${bank}/shares`, owner.key, { organisation_id: member.id });
    await call('POST', `/v1/banks/${bank}/shares`, owner.key, { organisation_id: offered.id });
    const adminOfMember = (
      await t.ctx.accounts.createKey('test', member.id, { name: 'admin', role: 'admin' })
    ).key;
    expect((await call('POST', `/v1/shares/incoming/${bank}/accept`, adminOfMember, {})).statusCode).toBe(
      200,
    );
    publicKey = (await call('GET', '/v1/sharing/instance', member.key)).json().public_key;
  });
  afterAll(() => t.close());

  /** A page's records that its proof vouches for, checked with the hub key (or why the page is refused). */
  const vouched = (
    page: { records: Record<string, unknown>[]; next_after: number; more: boolean },
    after: number,
  ) => {
    const verdict = checkPage(page, after, publicKey);
    if (typeof verdict === 'string') throw new Error(verdict);
    return verdict;
  };

  it('pages records after a cursor, and the page signature holds only for the records and range as sent', async () => {
    const first = (await call('GET', `/v1/sharing/banks/${bank}/changes?after=0&limit=2`, member.key)).json();
    expect(first.collection).toMatchObject({
      id: bank,
      name: 'INCIDENT_2026',
      owner_organisation_id: owner.id,
    });
    expect(first.records.map((r: { entry_id: number }) => r.entry_id)).toEqual(entries.slice(0, 2));
    expect(first.more).toBe(true);
    const second = (
      await call('GET', `/v1/sharing/banks/${bank}/changes?after=${first.next_after}`, member.key)
    ).json();
    expect(second.records.map((r: { entry_id: number }) => r.entry_id)).toEqual([entries[2]]);
    expect(second.more).toBe(false);
    for (const record of [...first.records, ...second.records]) {
      expect(record).toMatchObject({ op: 'upsert', signal_type: 'pdq', labels: ['tvec'], status: 'active' });
      expect(record.contributor).toEqual({ id: owner.id, name: 'Hub owner' });
    }
    expect(vouched(first, 0)).toEqual({ genuine: [true, true], collections: new Set([bank]) });
    expect(vouched(second, first.next_after).genuine).toEqual([true]);
    // One record altered: that record alone is not vouched for; the rest of the page still is.
    const altered = structuredClone(first);
    altered.records[1].value = hash(99);
    expect(vouched(altered, 0).genuine).toEqual([true, false]);
    altered.records[1] = { ...first.records[1], labels: [] };
    expect(vouched(altered, 0).genuine).toEqual([true, false]);
    // The page itself tampered with: refused whole.
    expect(checkPage({ ...first, more: false }, 0, publicKey)).toMatch(/cursor range/);
    expect(checkPage(first, 1, publicKey)).toMatch(/cursor range/);
    expect(checkPage({ ...first, records: first.records.slice(1) }, 0, publicKey)).toMatch(/cut short/);
    expect(
      checkPage({ ...first, proof: { ...first.proof, collections: [bank, bank + 1] } }, 0, publicKey),
    ).toMatch(/does not verify/);
    expect(checkPage({ ...first, proof: undefined }, 0, publicKey)).toMatch(/no signed proof/);
    const otherKey = (await import('node:crypto'))
      .generateKeyPairSync('ed25519')
      .publicKey.export({ type: 'spki', format: 'pem' })
      .toString();
    expect(checkPage(first, 0, otherKey)).toMatch(/does not verify/);
  });

  it('sends a retraction as a signed tombstone, and nothing twice', async () => {
    const head = (await call('GET', `/v1/sharing/banks/${bank}/changes?after=0`, member.key)).json()
      .next_after;
    expect((await call('DELETE', `/v1/banks/${bank}/entries/${entries[0]}`, owner.key)).statusCode).toBe(204);
    const page = (await call('GET', `/v1/sharing/banks/${bank}/changes?after=${head}`, member.key)).json();
    expect(page.records).toHaveLength(1);
    expect(page.records[0]).toMatchObject({ op: 'retract', entry_id: entries[0], value: hash(1) });
    expect(vouched(page, head).genuine).toEqual([true]);
    const after = (
      await call('GET', `/v1/sharing/banks/${bank}/changes?after=${page.next_after}`, member.key)
    ).json();
    expect(after.records).toEqual([]);
  });

  it('refuses a cursor from the future, and anyone without an accepted share', async () => {
    const ahead = await call('GET', `/v1/sharing/banks/${bank}/changes?after=999999`, member.key);
    expect(ahead.statusCode).toBe(409);
    expect(ahead.json().code).toBe('KAI_ERR_CURSOR_AHEAD');
    for (const who of [stranger, offered])
      expect((await call('GET', `/v1/sharing/banks/${bank}/changes?after=0`, who.key)).statusCode).toBe(404);
    expect(
      (await call('GET', `/v1/sharing/banks/${bank}/changes?after=0&limit=5001`, member.key)).statusCode,
    ).toBe(400);
  });

  it('pushes a new contribution to a follower as it commits', async () => {
    const head = (await call('GET', `/v1/sharing/banks/${bank}/changes?after=0`, member.key)).json()
      .next_after;
    const stop = new AbortController();
    const response = await fetch(`${base}/v1/sharing/banks/${bank}/stream?after=${head}`, {
      headers: bearer(member.key),
      signal: stop.signal,
    });
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toContain('text/event-stream');
    const reader = response.body!.getReader();
    const started = Date.now();
    const added = (
      await call('POST', `/v1/banks/${bank}/entries`, owner.key, { signal_type: 'pdq', value: hash(7) })
    ).json();
    let text = '';
    while (!/event: page\n[^]*?\n\n/.test(text))
      text += new TextDecoder().decode((await reader.read()).value);
    const elapsed = Date.now() - started;
    const data = JSON.parse(/event: page\ndata: (.*)\n/.exec(text)![1]);
    expect(data.records.map((r: { entry_id: number }) => r.entry_id)).toEqual([added.id]);
    expect(vouched(data, head).genuine).toEqual([true]);
    expect(elapsed).toBeLessThan(5000);
    stop.abort();
  });
});

describe.each(TEST_DIALECTS)('who may follow a shared bank, on %s', (dialect) => {
  let t: TestApp;
  afterAll(() => t.close());

  it('refuses an unauthenticated caller, and another organisation’s admin without an accepted share', async () => {
    t = await startTestApp(dialect);
    const owner = await t.organisation('Owner', 'moderator');
    const other = await t.organisation('Other', 'admin');
    const bank = (
      await t.app.inject({
        method: 'POST',
        url: '/v1/banks',
        headers: bearer(owner.key),
        payload: { name: 'B' },
      })
    ).json().id;
    for (const url of [
      '/v1/sharing/instance',
      `/v1/sharing/banks/${bank}/changes`,
      `/v1/sharing/banks/${bank}/stream`,
    ])
      expect((await t.app.inject({ method: 'GET', url })).statusCode, url).toBe(401);
    for (const url of [`/v1/sharing/banks/${bank}/changes`, `/v1/sharing/banks/${bank}/stream`])
      expect((await t.app.inject({ method: 'GET', url, headers: bearer(other.key) })).statusCode, url).toBe(
        404,
      );
    // A researcher key (no banks:read) of the owner's own organisation is refused too.
    const researcher = (await t.ctx.accounts.createKey('test', owner.id, { name: 'r', role: 'researcher' }))
      .key;
    const refused = await t.app.inject({
      method: 'GET',
      url: `/v1/sharing/banks/${bank}/changes`,
      headers: bearer(researcher),
    });
    expect(refused.statusCode).toBe(403);
  });
});
