/**
 * Hash sharing across instances, as separate processes on loopback: a hub and three members, each its own
 * `kaitiaki serve` with its own SQLite store. Each member follows the hub's shared bank as a `kaitiaki` source
 * (pinned hub key). Checked: propagation of a new contribution to every member, retraction, a member restarted
 * (no record lost or duplicated), a member's contribution signed by its own instance reaching every member (and
 * its signed retraction), a forged record refused (quarantined, never stored), a page whose signature
 * fails refused whole, and isolation (a member
 * key used on a collection not shared with it).
 */
import { createHash } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { recordDigest } from '../../src/sharing/signing.js';
import { POSTGRES_URL, TEST_DIALECTS } from '../helpers/databases.js';
import { api, freshPostgres, instance, start, stop, until, type Instance } from '../helpers/instances.js';

// Unrelated PDQ values (SHA-256 bits): about 128 bits apart, so each matches only itself.
const hash = (n: number) => createHash('sha256').update(`signal ${n}`).digest('hex');

describe.each(TEST_DIALECTS)('a hub (its store on %s) and three member instances', (dialect) => {
  let hub: Instance;
  let hubDatabase: { url: string; drop(): Promise<void> } | null = null;
  const members: (Instance & { key: string; subscription: number })[] = [];
  let ownerKey: string;
  let bank: number;
  let publicKey: string;
  let forger: Server;
  const memberKeysOnHub: string[] = [];

  const matches = async (m: { url: string; key: string }, value: string) =>
    (await api(m.url, m.key, 'POST', '/v1/match', { signals: [{ type: 'pdq', value }] })).json.matches.length;

  beforeAll(async () => {
    // The hub on either store (on PostgreSQL, a database of its own); members on SQLite, as small platforms run.
    if (dialect === 'postgres') hubDatabase = await freshPostgres(POSTGRES_URL);
    hub = await instance('hub', hubDatabase ? { KAITIAKI_DATABASE_URL: hubDatabase.url } : {});
    const owner = await api(hub.url, hub.adminKey, 'POST', '/v1/organisations', {
      name: 'Hub moderators',
      admin_key: { name: 'owner', role: 'admin' },
    });
    ownerKey = owner.json.api_key.key;
    bank = (await api(hub.url, ownerKey, 'POST', '/v1/banks', { name: 'SHARED_TVEC' })).json.id;
    for (let n = 1; n <= 5; n++)
      await api(hub.url, ownerKey, 'POST', `/v1/banks/${bank}/entries`, {
        signal_type: 'pdq',
        value: hash(n),
      });
    publicKey = (await api(hub.url, ownerKey, 'GET', '/v1/sharing/instance')).json.public_key;
    const hubHost = new URL(hub.url).host;
    // A hub impostor on loopback: the real pages, with one value altered (a forged record); under /resigned/ it
    // also puts the altered record's digest in the page's proof (so the hub's signature no longer holds).
    forger = createServer((request, response) => {
      const resign = request.url!.startsWith('/resigned/');
      void fetch(`${hub.url}${request.url!.replace(/^\/resigned/, '')}`, {
        headers: { authorization: request.headers.authorization ?? '' },
      })
        .then((r) => r.json())
        .then((page: { records: { value: string }[]; proof: { digests: string[] } }) => {
          if (page.records?.[0]) page.records[0].value = hash(666);
          if (resign && page.records?.[0]) page.proof.digests[0] = recordDigest(page.records[0]);
          response.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(page));
        });
    });
    await new Promise<void>((r) => forger.listen(0, '127.0.0.1', r));
    const forgerHost = `127.0.0.1:${(forger.address() as AddressInfo).port}`;
    for (let i = 0; i < 3; i++) {
      const org = await api(hub.url, hub.adminKey, 'POST', '/v1/organisations', {
        name: `Member ${i}`,
        admin_key: { name: 'sync', role: 'admin' },
      });
      const keyOnHub = org.json.api_key.key as string;
      memberKeysOnHub.push(keyOnHub);
      // The first member may contribute; the others read.
      await api(hub.url, ownerKey, 'POST', `/v1/banks/${bank}/shares`, {
        organisation_id: org.json.organisation.id,
        rights: i === 0 ? 'contribute' : 'read',
      });
      expect((await api(hub.url, keyOnHub, 'POST', `/v1/shares/incoming/${bank}/accept`, {})).status).toBe(
        200,
      );
      const member = await instance(`member${i}`, {
        KAITIAKI_SOURCE_ALLOWED_HOSTS: `${hubHost},${forgerHost}`,
      });
      const sub = await api(member.url, member.adminKey, 'POST', '/v1/subscriptions', {
        name: 'HUB',
        kind: 'kaitiaki',
        interval_seconds: 1,
        config: { hub_url: hub.url, collection_id: bank, api_key: keyOnHub, hub_public_key: publicKey },
      });
      expect(sub.status, JSON.stringify(sub.json)).toBe(201);
      members.push({ ...member, key: member.adminKey, subscription: sub.json.id });
    }
  }, 120_000);

  afterAll(async () => {
    forger?.close();
    for (const m of members) await stop(m.child);
    if (hub) await stop(hub.child);
    await hubDatabase?.drop();
  });

  it('brings the hub bank to every member, then each new contribution within seconds', async () => {
    for (const m of members) await until(`member sync`, async () => (await matches(m, hash(5))) === 1);
    const started = Date.now();
    await api(hub.url, ownerKey, 'POST', `/v1/banks/${bank}/entries`, {
      signal_type: 'pdq',
      value: hash(42),
    });
    const times = await Promise.all(
      members.map((m) =>
        until('propagation', async () => (await matches(m, hash(42))) === 1 && Date.now() - started),
      ),
    );
    console.log(`hub → members propagation: ${times.join(', ')} ms`);
    for (const t of times) expect(t).toBeLessThan(10_000);
  }, 60_000);

  it('takes a member’s contribution signed by its own instance to every member, and its signed retraction', async () => {
    const [contributor, other, third] = members;
    const contribute = (m: (typeof members)[number], op: 'add' | 'retract', n: number) =>
      api(m.url, m.key, 'POST', `/v1/subscriptions/${m.subscription}/contributions`, {
        contributions: [{ op, signal_type: 'pdq', value: hash(n), labels: ['tvec'] }],
      });
    const added = await contribute(contributor, 'add', 77);
    expect(added.status, JSON.stringify(added.json)).toBe(200);
    expect(added.json).toMatchObject({ added: 1, replayed: false });
    for (const m of members) await until('contribution', async () => (await matches(m, hash(77))) === 1);
    // On the hub: contributed by the member's organisation, from its instance, under its signature.
    const entry = (
      await api(hub.url, ownerKey, 'GET', `/v1/banks/${bank}/entries?limit=200`)
    ).json.items.find((e: { value: string }) => e.value === hash(77));
    const provenance = (
      await api(hub.url, ownerKey, 'GET', `/v1/sharing/banks/${bank}/entries/${entry.id}/provenance`)
    ).json;
    const contributorId = (await api(contributor.url, contributor.key, 'GET', '/v1/sharing/instance')).json
      .id;
    expect(provenance.items[0]).toMatchObject({ op: 'add', outcome: 'added', instance_id: contributorId });
    // Nothing quarantined anywhere: every member checked the contributor's signature and it held.
    for (const m of [other, third]) {
      const sub = (await api(m.url, m.key, 'GET', '/v1/subscriptions')).json.items.find(
        (i: { name: string }) => i.name === 'HUB',
      );
      expect(sub.records_quarantined).toBe(0);
    }
    // A member whose share is read-only is refused by the hub; the refusal comes back with the hub's status.
    const refused = await contribute(other, 'add', 78);
    expect(refused.status).toBe(403);
    expect(refused.json.message).toMatch(/hub refused/);
    const retracted = await contribute(contributor, 'retract', 77);
    expect(retracted.json).toMatchObject({ retracted: 1 });
    for (const m of members) await until('signed retraction', async () => (await matches(m, hash(77))) === 0);
  }, 60_000);

  it('retracts a signal on every member', async () => {
    const entry = (
      await api(hub.url, ownerKey, 'GET', `/v1/banks/${bank}/entries?limit=100`)
    ).json.items.find((e: { value: string }) => e.value === hash(1));
    expect((await api(hub.url, ownerKey, 'DELETE', `/v1/banks/${bank}/entries/${entry.id}`)).status).toBe(
      204,
    );
    for (const m of members) await until('retraction', async () => (await matches(m, hash(1))) === 0);
  }, 60_000);

  it('catches up after a restart with nothing lost or twice', async () => {
    const m = members[0];
    await stop(m.child);
    for (let n = 100; n < 110; n++)
      await api(hub.url, ownerKey, 'POST', `/v1/banks/${bank}/entries`, {
        signal_type: 'pdq',
        value: hash(n),
      });
    const restarted = await start(m.dataDir, { KAITIAKI_SOURCE_ALLOWED_HOSTS: new URL(hub.url).host });
    Object.assign(m, restarted);
    await until('catch-up', async () => (await matches(m, hash(109))) === 1);
    const status = (await api(m.url, m.key, 'GET', '/v1/subscriptions')).json.items[0];
    const mirror = (await api(m.url, m.key, 'GET', `/v1/banks/${status.bank_id}/entries?limit=100`)).json
      .items;
    const values = mirror.map((e: { value: string }) => e.value);
    expect(new Set(values).size).toBe(values.length);
    // Hub: 5 seeded + 1 + 10 - 1 retracted = 15 active signals; the mirror holds exactly those.
    expect(values).toHaveLength(15);
    expect(values).not.toContain(hash(1));
  }, 60_000);

  /** Member 1 follows the shared bank through the impostor (under `path`); resolves when `done` holds of its status. */
  const throughImpostor = async (
    name: string,
    path: string,
    done: (status: Record<string, unknown>) => unknown,
  ): Promise<Record<string, unknown> & { id: number }> => {
    const m = members[1];
    const sub = await api(m.url, m.key, 'POST', '/v1/subscriptions', {
      name,
      kind: 'kaitiaki',
      interval_seconds: 1,
      config: {
        hub_url: `http://127.0.0.1:${(forger.address() as AddressInfo).port}${path}`,
        collection_id: bank,
        api_key: memberKeysOnHub[1],
        hub_public_key: publicKey,
      },
    });
    expect(sub.status).toBe(201);
    return until(name, async () => {
      const items = (await api(m.url, m.key, 'GET', '/v1/subscriptions')).json.items;
      const s = items.find((i: { name: string }) => i.name === name);
      return s && done(s) && s;
    });
  };

  it('refuses a forged record: quarantined and reported, never stored', async () => {
    const m = members[1];
    const status = await throughImpostor('IMPOSTOR', '', (s) => (s.records_quarantined as number) > 0);
    const quarantine = (await api(m.url, m.key, 'GET', `/v1/subscriptions/${status.id}/quarantine`)).json
      .items;
    expect(quarantine[0].reason).toMatch(/signature/);
    expect(await matches(m, hash(666))).toBe(0);
  }, 60_000);

  it('refuses a page whose signature does not hold: nothing of it stored, the error reported', async () => {
    const m = members[1];
    const status = await throughImpostor('RESIGNED', '/resigned/', (s) => s.last_error);
    expect(status.last_error).toMatch(/signature does not verify/);
    expect(status).toMatchObject({ records_upserted: 0, records_quarantined: 0, checkpoint: null });
    expect(await matches(m, hash(666))).toBe(0);
  }, 60_000);

  it('refuses a member key on a collection that is not shared with it', async () => {
    const other = (await api(hub.url, ownerKey, 'POST', '/v1/banks', { name: 'PRIVATE' })).json.id;
    const m = members[2];
    const sub = await api(m.url, m.key, 'POST', '/v1/subscriptions', {
      name: 'NOT_MINE',
      kind: 'kaitiaki',
      interval_seconds: 1,
      config: {
        hub_url: hub.url,
        collection_id: other,
        api_key: memberKeysOnHub[2],
        hub_public_key: publicKey,
      },
    });
    expect(sub.status).toBe(201);
    const status = await until('refusal', async () => {
      const items = (await api(m.url, m.key, 'GET', '/v1/subscriptions')).json.items;
      const s = items.find((i: { name: string }) => i.name === 'NOT_MINE');
      return s?.last_error && s;
    });
    expect(status.last_error).toMatch(/refused this collection/);
  }, 60_000);
});
