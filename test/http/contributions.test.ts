/**
 * Signed contributions from member instances, on the hub, over the API: an instance joins with its key; a batch
 * it signed is applied whole (added, already present, retracted), once even if sent twice; a forged or altered
 * batch, an instance that never joined, a batch signed for another collection, a read-only member and a retraction
 * of someone else's signal are refused with nothing applied; the flood limit answers 429 with Retry-After. The
 * feed hands members each record with the contributor's signed batch, and a member's check catches a batch or a
 * record altered on the way. Provenance says who contributed and who confirmed.
 */
import { generateKeyPairSync, randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { signBatch, type ContributionItem } from '../../src/sharing/contributions.js';
import { signPage } from '../../src/sharing/signing.js';
import { verifiedHubRecords, type HubPage } from '../../src/sources/kaitiaki-hub.js';
import type { InstanceIdentity } from '../../src/store/sharing-feed.js';
import { bearer, startTestApp, type TestApp } from '../helpers/app.js';
import { TEST_DIALECTS } from '../helpers/databases.js';

const BASE = 'f8f8f0cee0f4a84f06370a22038f63f0b36e2ed596621e1d33e6b39c4e9c9b22';
const hash = (n: number) => n.toString(16).padStart(4, '0') + BASE.slice(4);

function newInstance(): InstanceIdentity {
  const { publicKey, privateKey } = generateKeyPairSync('ed25519', {
    publicKeyEncoding: { type: 'spki', format: 'pem' },
    privateKeyEncoding: { type: 'pkcs8', format: 'pem' },
  });
  return { id: randomUUID(), publicKey, privateKey };
}

describe.each(TEST_DIALECTS)('signed contributions from member instances, on %s', (dialect) => {
  let t: TestApp;
  let owner: { id: number; key: string };
  let member: { id: number; key: string };
  let reader: { id: number; key: string };
  let bank: number;
  let hubKey: string;
  const instance = newInstance();

  const call = (method: 'GET' | 'POST' | 'PUT', url: string, key: string, payload?: object) =>
    t.app.inject({ method, url, headers: bearer(key), ...(payload === undefined ? {} : { payload }) });
  const send = (items: ContributionItem[], who = instance, collection = bank, key = member.key) =>
    call('POST', `/v1/sharing/banks/${bank}/contributions`, key, signBatch(who, collection, items));
  const add = (n: number, labels: string[] = ['tvec']): ContributionItem => ({
    op: 'add',
    signal_type: 'pdq',
    value: hash(n),
    labels,
  });
  const entriesOfBank = async () =>
    (await call('GET', `/v1/banks/${bank}/entries?limit=100`, owner.key)).json().items as {
      id: number;
      value: string;
      contributor_organisation_id?: number;
    }[];

  beforeAll(async () => {
    t = await startTestApp(dialect, { KAITIAKI_CONTRIBUTIONS_PER_MINUTE: '20' });
    owner = await t.organisation('Hub owner', 'admin');
    member = await t.organisation('Member', 'admin');
    reader = await t.organisation('Reader', 'admin');
    bank = (await call('POST', '/v1/banks', owner.key, { name: 'SHARED' })).json().id;
    await call('POST', `/v1/banks/${bank}/entries`, owner.key, { signal_type: 'pdq', value: hash(1) });
    await call('POST', `/v1/banks/${bank}/shares`, owner.key, {
      organisation_id: member.id,
      can_contribute: true,
    });
    await call('POST', `/v1/banks/${bank}/shares`, owner.key, { organisation_id: reader.id });
    for (const org of [member, reader])
      expect((await call('POST', `/v1/shares/incoming/${bank}/accept`, org.key, {})).statusCode).toBe(200);
    hubKey = (await call('GET', '/v1/sharing/instance', member.key)).json().public_key;
  });
  afterAll(() => t.close());

  it('refuses a batch from an instance that has not joined, then takes it once the instance joined', async () => {
    const before = await send([add(2)]);
    expect(before.statusCode).toBe(403);
    expect(before.json().code).toBe('KAI_ERR_INSTANCE_NOT_JOINED');
    const bad = await call('POST', '/v1/sharing/join', member.key, {
      instance_id: instance.id,
      public_key: 'x',
    });
    expect(bad.statusCode).toBe(400);
    const joined = await call('POST', '/v1/sharing/join', member.key, {
      instance_id: instance.id,
      public_key: instance.publicKey,
    });
    expect(joined.statusCode).toBe(200);
    expect(joined.json().public_key).toBe(hubKey);
    const batch = signBatch(instance, bank, [add(2), add(3), add(1)]);
    const first = await call('POST', `/v1/sharing/banks/${bank}/contributions`, member.key, batch);
    expect(first.statusCode).toBe(200);
    expect(first.json()).toMatchObject({ added: 2, present: 1, retracted: 0, replayed: false });
    // The same batch again (a retry after a lost answer): nothing applied twice.
    const again = await call('POST', `/v1/sharing/banks/${bank}/contributions`, member.key, batch);
    expect(again.json()).toMatchObject({ added: 2, present: 1, replayed: true });
    const values = (await entriesOfBank()).map((e) => e.value);
    expect(values.filter((v) => v === hash(2))).toHaveLength(1);
    expect(values).toContain(hash(3));
  });

  it('refuses a forged or altered batch, reports it in the audit trail, and stores nothing', async () => {
    const before = (await entriesOfBank()).length;
    const impostor = newInstance();
    const forged = signBatch({ ...impostor, id: instance.id }, bank, [add(40)]);
    const refused = await call('POST', `/v1/sharing/banks/${bank}/contributions`, member.key, forged);
    expect(refused.statusCode).toBe(400);
    expect(refused.json().code).toBe('KAI_ERR_BAD_SIGNATURE');
    const genuine = signBatch(instance, bank, [add(41)]);
    const altered = { ...genuine, payload: genuine.payload.replace(hash(41), hash(42)) };
    expect(
      (await call('POST', `/v1/sharing/banks/${bank}/contributions`, member.key, altered)).json().code,
    ).toBe('KAI_ERR_BAD_SIGNATURE');
    expect((await entriesOfBank()).length).toBe(before);
    const audit = (await call('GET', '/v1/audit?limit=50', member.key)).json().items as {
      action: string;
      detail: { reason?: string };
    }[];
    expect(audit.filter((a) => a.action === 'contribution.refuse')).toHaveLength(2);
  });

  it('refuses a batch signed for another collection, a read-only member, and a bad item, applying nothing', async () => {
    const other = (await call('POST', '/v1/banks', owner.key, { name: 'OTHER' })).json().id;
    const elsewhere = await send([add(50)], instance, other);
    expect(elsewhere.statusCode).toBe(400);
    expect(elsewhere.json().message).toMatch(/signed for collection/);
    const readerInstance = newInstance();
    await call('POST', '/v1/sharing/join', reader.key, {
      instance_id: readerInstance.id,
      public_key: readerInstance.publicKey,
    });
    const readOnly = await send([add(51)], readerInstance, bank, reader.key);
    expect(readOnly.statusCode).toBe(403);
    // One bad hash among good ones: the whole batch is refused, the good ones too.
    const mixed = await send([add(52), { op: 'add', signal_type: 'pdq', value: 'not-a-hash' }]);
    expect(mixed.statusCode).toBe(400);
    // Another member's instance key used by this organisation: not registered for it.
    const foreign = await send([add(53)], readerInstance);
    expect(foreign.json().code).toBe('KAI_ERR_INSTANCE_NOT_JOINED');
    const values = (await entriesOfBank()).map((e) => e.value);
    for (const n of [50, 51, 52, 53]) expect(values).not.toContain(hash(n));
  });

  it('retracts only its own contributions, as a signed tombstone', async () => {
    const ownersSignal = await send([{ op: 'retract', signal_type: 'pdq', value: hash(1) }]);
    expect(ownersSignal.statusCode).toBe(403);
    expect(ownersSignal.json().code).toBe('KAI_ERR_NOT_YOUR_CONTRIBUTION');
    const retracted = await send([{ op: 'retract', signal_type: 'pdq', value: hash(3) }]);
    expect(retracted.json()).toMatchObject({ retracted: 1 });
    expect((await entriesOfBank()).map((e) => e.value)).not.toContain(hash(3));
  });

  it('holds contributions to the collection’s label taxonomy, like the API', async () => {
    expect(
      (
        await call('PUT', `/v1/banks/${bank}/taxonomy`, owner.key, {
          labels: [{ key: 'tvec', description: 'TVEC' }],
        })
      ).statusCode,
    ).toBe(200);
    const outside = await send([add(60, ['tvec']), add(61, ['made-up'])]);
    expect(outside.statusCode).toBe(400);
    expect(outside.json()).toMatchObject({ code: 'KAI_ERR_LABEL_NOT_IN_TAXONOMY' });
    expect(outside.json().message).toContain('made-up');
    expect((await entriesOfBank()).map((e) => e.value)).not.toContain(hash(60));
    const within = await send([{ ...add(62, ['tvec']), incident: '42' }]);
    expect(within.json()).toMatchObject({ added: 1 });
    expect((await call('PUT', `/v1/banks/${bank}/taxonomy`, owner.key, { labels: [] })).statusCode).toBe(200);
  });

  it('hands members every contributed record with its signed batch; an altered batch or record is quarantined', async () => {
    const page = (
      await call('GET', `/v1/sharing/banks/${bank}/changes?after=0`, reader.key)
    ).json() as HubPage;
    const contributed = page.records.filter((r) => (r as { contribution?: unknown }).contribution);
    // hash(2) added by the member, hash(3) added then retracted: its tombstone carries the retraction item.
    expect(contributed.map((r) => [r.op, r.value])).toEqual([
      ['upsert', hash(2)],
      ['retract', hash(3)],
      ['upsert', hash(62)],
    ]);
    expect(contributed[2].labels).toEqual(['tvec', 'incident:42']);
    expect((page.batches as unknown[]).length).toBe(3);
    const ours = (id: unknown) => id === bank;
    const good = verifiedHubRecords(page, 0, hubKey, ours);
    expect(good.filter((r) => r.op === 'unreadable')).toEqual([]);
    // Even the hub itself cannot pass off a changed contribution: a record altered and the page signed again
    // with the hub's own key is quarantined, since the contributing instance never signed that item.
    const hub = await t.ctx.sharingFeed.identity();
    const swapped = structuredClone(page);
    const i = swapped.records.findIndex((r) => r.value === hash(2));
    swapped.records[i].value = hash(99);
    const { signature: _, digests: __, batches: ___, ...statement } = page.proof as Record<string, unknown>;
    swapped.proof = signPage(
      swapped.records as Record<string, unknown>[],
      swapped.batches as Record<string, unknown>[],
      statement as unknown as Parameters<typeof signPage>[2],
      hub.privateKey,
    );
    const resigned = verifiedHubRecords(swapped, 0, hubKey, ours);
    expect(resigned[i]).toMatchObject({ op: 'unreadable' });
    expect((resigned[i] as { reason: string }).reason).toMatch(/contributing instance's signature/);
    expect(resigned.filter((r) => r.op === 'unreadable')).toHaveLength(1);
    // A batch altered on the way: the page's batch digests no longer match.
    const altered = structuredClone(page) as HubPage & { batches: { payload: string }[] };
    altered.batches[0].payload = altered.batches[0].payload.replace(hash(2), hash(98));
    expect(() => verifiedHubRecords(altered, 0, hubKey, ours)).toThrow(/contribution batches/);
  });

  it('says who contributed a signal and who confirmed it', async () => {
    const entry = (await entriesOfBank()).find((e) => e.value === hash(2))!;
    await call('POST', `/v1/signals/${entry.id}/feedback`, reader.key, { kind: 'confirm' });
    const provenance = await call(
      'GET',
      `/v1/sharing/banks/${bank}/entries/${entry.id}/provenance`,
      reader.key,
    );
    expect(provenance.statusCode).toBe(200);
    expect(provenance.json()).toMatchObject({
      entry_id: entry.id,
      contributor_organisation_id: member.id,
      opinions: { confirm: 1 },
    });
    expect(provenance.json().items[0]).toMatchObject({
      op: 'add',
      outcome: 'added',
      organisation_id: member.id,
      instance_id: instance.id,
      public_key: instance.publicKey,
    });
    // Per contributor, for the owner: the member's signals and the opinions others gave of them; not for a reader.
    await call('POST', `/v1/signals/${entry.id}/feedback`, owner.key, {
      kind: 'false_positive',
      reason: 'a logo',
    });
    const perContributor = await call('GET', `/v1/banks/${bank}/feedback/contributors`, owner.key);
    expect(perContributor.statusCode).toBe(200);
    const mine = (perContributor.json().items as { organisation_id: number }[]).find(
      (c) => c.organisation_id === member.id,
    );
    expect(mine).toMatchObject({
      organisation_name: 'Member',
      confirm: 1,
      false_positive: 1,
      seen: 0,
      disputed: 0,
    });
    expect((mine as unknown as { signals: number }).signals).toBe(
      (await entriesOfBank()).filter((e) => e.contributor_organisation_id === member.id).length,
    );
    expect(perContributor.json().items[0].organisation_id).toBe(member.id); // most false positives first
    expect((await call('GET', `/v1/banks/${bank}/feedback/contributors`, reader.key)).statusCode).toBe(403);
    const stranger = await t.organisation('Stranger', 'admin');
    expect(
      (await call('GET', `/v1/sharing/banks/${bank}/entries/${entry.id}/provenance`, stranger.key))
        .statusCode,
    ).toBe(404);
  });

  it('answers an unauthenticated caller 401, a lower role 403 and another organisation 404, changing nothing', async () => {
    const before = (await entriesOfBank()).length;
    const routes: [string, string, object | undefined][] = [
      ['POST', '/v1/sharing/join', { instance_id: instance.id, public_key: instance.publicKey }],
      ['POST', `/v1/sharing/banks/${bank}/contributions`, signBatch(instance, bank, [add(300)])],
      ['GET', `/v1/sharing/banks/${bank}/entries/1/provenance`, undefined],
      ['GET', `/v1/banks/${bank}/feedback/contributors`, undefined],
      ['POST', '/v1/subscriptions/1/contributions', { contributions: [add(301)] }],
    ];
    for (const [method, url, payload] of routes) {
      const anonymous = await t.app.inject({ method: method as 'GET', url, ...(payload ? { payload } : {}) });
      expect(anonymous.statusCode, `${method} ${url}`).toBe(401);
    }
    // A viewer of the contributing organisation may read, not join or contribute.
    const viewer = (await t.ctx.accounts.createKey('test', member.id, { name: 'v', role: 'viewer' })).key;
    for (const [, url, payload] of routes.filter(([m]) => m === 'POST'))
      expect((await call('POST', url, viewer, payload)).statusCode, url).toBe(403);
    // Another organisation's admin: the collection is not shared with it.
    const outsider = await t.organisation('Outsider', 'admin');
    await call('POST', '/v1/sharing/join', outsider.key, {
      instance_id: instance.id,
      public_key: instance.publicKey,
    });
    const foreign = await call(
      'POST',
      `/v1/sharing/banks/${bank}/contributions`,
      outsider.key,
      signBatch(instance, bank, [add(302)]),
    );
    expect(foreign.statusCode).toBe(404);
    expect((await call('GET', `/v1/banks/${bank}/feedback/contributors`, outsider.key)).statusCode).toBe(404);
    expect((await entriesOfBank()).length).toBe(before);
  });

  it('limits a member’s flood of contributions: 429 with Retry-After, nothing of the batch applied', async () => {
    const flood = Array.from({ length: 30 }, (_, i) => add(200 + i));
    const limited = await send(flood);
    expect(limited.statusCode).toBe(429);
    expect(Number(limited.headers['retry-after'])).toBeGreaterThan(0);
    const values = (await entriesOfBank()).map((e) => e.value);
    expect(values).not.toContain(hash(200));
  });
});
