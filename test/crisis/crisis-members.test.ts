/**
 * Crisis response across instances, as separate processes on loopback: a hub (the coordinator) and three member
 * platforms, each its own `kaitiaki serve` with its own SQLite store. Members follow the hub's crisis feed with
 * one `kaitiaki-crisis` subscription and a policy "block what carries crisis-active". An incident is reported,
 * assessed and activated under two protocols; the coordinator adds the hash of a frame of the attack video; the
 * members block a re-encoded variant at upload and report their numbers back; one member was offline during
 * the activation and catches up when it returns; the hub restarts mid-incident and nothing is lost; the
 * incident concludes and members stop blocking (the hashes stay, marked).
 */
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { imageVariant } from '../../src/media/variants.js';
import { api, instance, start, stop, until, type Instance } from '../helpers/instances.js';

const HR = {
  necessity: 'The attack video is spreading on member platforms.',
  proportionality: 'Hashes of perpetrator content only; members act under their own terms.',
  scope: 'Perpetrator-produced video and its frames.',
  bystander_content: false,
};

/** A photo-like frame (smooth gradients and shapes), as PNG. */
async function frame(): Promise<Buffer> {
  const svg = `<svg xmlns="http://www.w3.org/2000/svg" width="480" height="360">
    <defs><linearGradient id="g" x1="0" y1="0" x2="1" y2="1"><stop offset="0" stop-color="#203050"/><stop offset="1" stop-color="#d0a070"/></linearGradient></defs>
    <rect width="480" height="360" fill="url(#g)"/><circle cx="160" cy="170" r="90" fill="#f4e4c0"/>
    <rect x="280" y="60" width="140" height="230" fill="#402010"/><ellipse cx="350" cy="300" rx="110" ry="30" fill="#90b0d0"/></svg>`;
  return sharp(Buffer.from(svg)).png().toBuffer();
}

async function pdqOf(m: { url: string; key: string }, image: Buffer): Promise<string> {
  const form = new FormData();
  form.append('file', new Blob([new Uint8Array(image)]), 'frame.png');
  const response = await fetch(`${m.url}/v1/hash`, {
    method: 'POST',
    headers: { authorization: `Bearer ${m.key}` },
    body: form,
  });
  const body = (await response.json()) as { signals: { pdq: { value: string } } };
  return body.signals.pdq.value;
}

describe('a crisis across a hub and three member instances', () => {
  let hub: Instance & { port: number };
  let coordinator: string;
  let hubEnv: Record<string, string>;
  const members: (Instance & { key: string; keyOnHub: string; orgOnHub: number })[] = [];
  let incident: number;
  let gifct: number;
  let nz: number;
  let original: Buffer;
  let variant: Buffer;

  const hubApi = (method: string, path: string, body?: unknown) =>
    api(hub.url, coordinator, method, path, body);
  const upload = async (m: (typeof members)[number], id: string, image: Buffer) =>
    (
      await api(m.url, m.key, 'POST', '/v1/submissions', {
        external_id: id,
        signals: [{ type: 'pdq', value: await pdqOf(m, image) }],
      })
    ).json as { verdict: string; policy_action: string | null };

  beforeAll(async () => {
    original = await frame();
    variant = await imageVariant(original, 'reencode', 7);
    hub = { ...(await instance('crisis-hub')), port: 0 };
    hub.port = Number(new URL(hub.url).port);
    const org = await api(hub.url, hub.adminKey, 'POST', '/v1/organisations', {
      name: 'Crisis secretariat',
      admin_key: { name: 'coordinator', role: 'admin' },
    });
    coordinator = org.json.api_key.key;
    const hubOrg = org.json.organisation.id as number;
    const publicKey = (await hubApi('GET', '/v1/sharing/instance')).json.public_key as string;
    hubEnv = {};
    await hubApi('PUT', `/v1/crisis/participants/${hubOrg}`, {
      groups: [],
      roles: ['operating_board', 'secretariat', 'dia_lead'],
      contacts: [],
      accepts_incident_banks: false,
    });
    for (let i = 0; i < 3; i++) {
      const member = await api(hub.url, hub.adminKey, 'POST', '/v1/organisations', {
        name: `Platform ${i}`,
        admin_key: { name: 'crisis link', role: 'admin' },
      });
      const orgOnHub = member.json.organisation.id as number;
      const joined = await hubApi('PUT', `/v1/crisis/participants/${orgOnHub}`, {
        groups: ['members'],
        roles: i === 0 ? ['operating_board', 'member'] : ['member'],
        contacts: [{ name: `Platform ${i} on call`, email: `oncall@p${i}.example` }],
        accepts_incident_banks: true,
        incident_policy: 'block',
      });
      expect(joined.status, JSON.stringify(joined.json)).toBe(200);
      const instanceOf = await instance(`crisis-member${i}`, {
        KAITIAKI_SOURCE_ALLOWED_HOSTS: new URL(hub.url).host,
        KAITIAKI_CRISIS_TELEMETRY_MS: '500',
      });
      const m = {
        ...instanceOf,
        key: instanceOf.adminKey,
        keyOnHub: member.json.api_key.key as string,
        orgOnHub,
      };
      const sub = await api(m.url, m.key, 'POST', '/v1/subscriptions', {
        name: 'CRISIS',
        kind: 'kaitiaki-crisis',
        interval_seconds: 1,
        config: { hub_url: hub.url, api_key: m.keyOnHub, hub_public_key: publicKey },
      });
      expect(sub.status, JSON.stringify(sub.json)).toBe(201);
      const policy = await api(m.url, m.key, 'PUT', '/v1/policies', {
        policies: [{ bank_id: null, label: 'crisis-active', action: 'block' }],
      });
      expect(policy.status, JSON.stringify(policy.json)).toBe(200);
      members.push(m);
    }
  }, 180_000);

  afterAll(async () => {
    for (const m of members) await stop(m.child);
    if (hub) await stop(hub.child);
  });

  it('reports and assesses an incident under two protocols', async () => {
    const res = await hubApi('POST', '/v1/crisis/incidents', {
      title: 'Livestreamed attack',
      zone: 'Pacific/Auckland',
      protocols: ['gifct-2021', 'nz-dia'],
    });
    expect(res.status, JSON.stringify(res.json)).toBe(201);
    incident = res.json.id;
    [gifct, nz] = res.json.activations.map((a: { id: number }) => a.id);
    for (const id of [gifct, nz])
      expect(
        (
          await hubApi('POST', `/v1/crisis/activations/${id}/transitions`, {
            to: 'assessing',
            reason: 'Video reported',
          })
        ).status,
      ).toBe(200);
    for (const criterion of [
      'ongoing_event',
      'perpetrator_or_accomplice_video',
      'depicts_murder_or_attempt',
      'on_member_platform_or_spread_inevitable',
    ])
      await hubApi('POST', `/v1/crisis/activations/${gifct}/criteria`, {
        criterion,
        met: true,
        evidence: ['report:1'],
      });
    for (const criterion of ['harm_high', 'virality_high'])
      await hubApi('POST', `/v1/crisis/activations/${nz}/criteria`, { criterion, met: true });
  }, 30_000);

  it('activates under both once the deciders decided; a member offline meanwhile catches up later', async () => {
    await stop(members[2].child); // platform 2 is offline during the activation
    const decision = { type: 'CONTENT_INCIDENT_PROTOCOL', rationale: 'All criteria met.', human_rights: HR };
    expect((await hubApi('POST', `/v1/crisis/activations/${gifct}/decisions`, decision)).status).toBe(200);
    expect(
      (await api(hub.url, members[0].keyOnHub, 'POST', `/v1/crisis/activations/${gifct}/decisions`, decision))
        .status,
    ).toBe(200);
    const active = await hubApi('POST', `/v1/crisis/activations/${gifct}/transitions`, {
      to: 'active',
      reason: 'Board decision',
      type: 'CONTENT_INCIDENT_PROTOCOL',
    });
    expect(active.status, JSON.stringify(active.json)).toBe(200);
    await hubApi('POST', `/v1/crisis/activations/${nz}/decisions`, { ...decision, type: 'ACTIVATE' });
    expect(
      (
        await hubApi('POST', `/v1/crisis/activations/${nz}/transitions`, {
          to: 'active',
          reason: 'DIA lead',
          type: 'ACTIVATE',
        })
      ).status,
    ).toBe(200);
    const bank = active.json.bank_id as number;
    const hash = await pdqOf({ url: hub.url, key: coordinator }, original);
    expect(
      (await hubApi('POST', `/v1/banks/${bank}/entries`, { signal_type: 'pdq', value: hash })).status,
    ).toBe(201);

    // Online members block the re-encoded variant at upload.
    for (const m of members.slice(0, 2))
      await until(
        'a member blocks the variant',
        async () => (await upload(m, `v-${Math.random()}`, variant)).policy_action === 'block',
        20_000,
      );

    const back = await start(members[2].dataDir, {
      KAITIAKI_SOURCE_ALLOWED_HOSTS: new URL(hub.url).host,
      KAITIAKI_CRISIS_TELEMETRY_MS: '500',
    });
    Object.assign(members[2], back);
    await until(
      'the returning member blocks',
      async () => (await upload(members[2], `v-${Math.random()}`, variant)).policy_action === 'block',
      20_000,
    );
  }, 90_000);

  it('notifies every member of each activation; members acknowledge through the API', async () => {
    type Notification = {
      id: number;
      organisation_id: number;
      activation_id: number;
      acked: unknown;
      late: boolean;
    };
    const list = async (key: string) =>
      (await api(hub.url, key, 'GET', `/v1/crisis/incidents/${incident}/notifications`)).json
        .items as Notification[];
    const all = await list(coordinator);
    // Both protocols notify members: one notification per member and activation.
    for (const m of members)
      expect(
        all
          .filter((n) => n.organisation_id === m.orgOnHub)
          .map((n) => n.activation_id)
          .sort(),
      ).toEqual([gifct, nz].sort());
    for (const m of members.slice(0, 2))
      for (const n of (await list(m.keyOnHub)).filter((x) => x.organisation_id === m.orgOnHub))
        expect(
          (await api(hub.url, m.keyOnHub, 'POST', `/v1/crisis/notifications/${n.id}/ack`, {})).status,
        ).toBe(200);
    // A member cannot acknowledge another member's notification.
    const others = all.find((n) => n.organisation_id === members[2].orgOnHub)!;
    expect(
      (await api(hub.url, members[0].keyOnHub, 'POST', `/v1/crisis/notifications/${others.id}/ack`, {}))
        .status,
    ).toBe(404);
    const after = await list(coordinator);
    expect(after.filter((n) => n.acked).length).toBe(4);
    expect(after.filter((n) => !n.acked).every((n) => n.organisation_id === members[2].orgOnHub)).toBe(true);
  }, 30_000);

  it('receives each member’s numbers live, and keeps them across a hub restart', async () => {
    const numbers = async () =>
      (await hubApi('GET', `/v1/crisis/incidents/${incident}`)).json.members as {
        organisation_id: number;
        blocks: number;
        first_block_at: string | null;
      }[];
    await until(
      'every member reported',
      async () => (await numbers()).filter((m) => m.blocks > 0).length === 3,
      20_000,
    );
    await stop(hub.child);
    Object.assign(hub, await start(hub.dataDir, hubEnv, hub.port));
    const after = await numbers();
    expect(after.map((m) => m.organisation_id).sort()).toEqual(members.map((m) => m.orgOnHub).sort());
    expect(after.every((m) => m.blocks >= 1 && m.first_block_at)).toBe(true);
    const update = await hubApi('POST', `/v1/crisis/incidents/${incident}/updates`, {
      text: 'Situational update after restart',
    });
    expect(update.status).toBe(201);
    expect(update.json.numbers).toMatchObject({ total_hashes: 1, distinct_items: 1 });
    // Members still follow the hub after its restart: a second frame arrives and is blocked.
    const second = await sharp(original).rotate(90).png().toBuffer();
    const bank = update.json.bank_id as number;
    await hubApi('POST', `/v1/banks/${bank}/entries`, {
      signal_type: 'pdq',
      value: await pdqOf({ url: hub.url, key: coordinator }, second),
    });
    for (const m of members)
      await until(
        'blocked after the hub restart',
        async () => (await upload(m, `s-${Math.random()}`, second)).policy_action === 'block',
        20_000,
      );
  }, 90_000);

  it('concludes: members stop blocking at upload, the hashes stay with the incident label', async () => {
    for (const id of [gifct, nz])
      expect(
        (
          await hubApi('POST', `/v1/crisis/activations/${id}/transitions`, {
            to: 'concluded',
            reason: 'Re-upload attempts have fallen off',
            basis: 'member_feedback_low_reupload_attempts',
          })
        ).status,
      ).toBe(200);
    for (const m of members)
      await until(
        'no longer blocked',
        async () => (await upload(m, `c-${Math.random()}`, variant)).policy_action !== 'block',
        20_000,
      );
    const status = (await api(members[0].url, members[0].key, 'GET', '/v1/subscriptions')).json.items[0];
    const mirror = (await api(members[0].url, members[0].key, 'GET', `/v1/banks/${status.bank_id}/entries`))
      .json.items as { labels: string[] }[];
    expect(mirror).toHaveLength(2);
    expect(
      mirror.every((e) => e.labels.includes(`incident:${incident}`) && !e.labels.includes('crisis-active')),
    ).toBe(true);
  }, 60_000);
});
