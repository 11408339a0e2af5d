/**
 * A crisis drill through the CLI (`kaitiaki drill run SCENARIO`) against a hub and two member instances as
 * processes: an exercise incident is activated, variants of a frame are uploaded at a set rate, the hash is
 * banked a moment in, and the report gives per member what was blocked after the hash landed there.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseScenario, type DrillReport } from '../../src/crisis/drill.js';
import { runCli } from '../helpers/cli.js';
import { api, instance, stop, type Instance } from '../helpers/instances.js';

describe('a crisis drill against real instances', () => {
  let hub: Instance;
  const members: Instance[] = [];
  let scenarioPath: string;
  let coordinator: string;

  beforeAll(async () => {
    const dir = mkdtempSync(join(tmpdir(), 'kaitiaki-drill-test-'));
    const svg = `<svg xmlns="http://www.w3.org/2000/svg" width="400" height="300">
      <rect width="400" height="300" fill="#304060"/><circle cx="120" cy="150" r="80" fill="#e0c090"/>
      <rect x="230" y="40" width="120" height="200" fill="#803020"/></svg>`;
    await sharp(Buffer.from(svg)).png().toFile(join(dir, 'frame.png'));
    hub = await instance('drill-hub');
    const org = await api(hub.url, hub.adminKey, 'POST', '/v1/organisations', {
      name: 'Drill coordinator',
      admin_key: { name: 'coordinator', role: 'admin' },
    });
    coordinator = org.json.api_key.key;
    await api(hub.url, coordinator, 'PUT', `/v1/crisis/participants/${org.json.organisation.id}`, {
      groups: [],
      roles: ['tcap_team'],
      contacts: [],
      accepts_incident_banks: false,
    });
    const publicKey = (await api(hub.url, coordinator, 'GET', '/v1/sharing/instance')).json.public_key;
    const scenarioMembers = [];
    for (let i = 0; i < 2; i++) {
      const onHub = await api(hub.url, hub.adminKey, 'POST', '/v1/organisations', {
        name: `Drill member ${i}`,
        admin_key: { name: 'link', role: 'admin' },
      });
      await api(hub.url, coordinator, 'PUT', `/v1/crisis/participants/${onHub.json.organisation.id}`, {
        groups: ['members'],
        roles: ['platform'],
        contacts: [],
        accepts_incident_banks: true,
      });
      const m = await instance(`drill-member${i}`, { KAITIAKI_SOURCE_ALLOWED_HOSTS: new URL(hub.url).host });
      await api(m.url, m.adminKey, 'POST', '/v1/subscriptions', {
        name: 'CRISIS',
        kind: 'kaitiaki-crisis',
        interval_seconds: 1,
        config: { hub_url: hub.url, api_key: onHub.json.api_key.key, hub_public_key: publicKey },
      });
      await api(m.url, m.adminKey, 'PUT', '/v1/policies', {
        policies: [{ bank_id: null, label: 'crisis-active', action: 'block' }],
      });
      members.push(m);
      scenarioMembers.push({ name: `member ${i}`, url: m.url, key: m.adminKey });
    }
    scenarioPath = join(dir, 'scenario.json');
    writeFileSync(
      scenarioPath,
      JSON.stringify({
        name: 'tabletop',
        hub: { url: hub.url, key: coordinator },
        protocol: 'tcap',
        type: 'TIER_2',
        members: scenarioMembers,
        media: { frames: ['frame.png'], frame_variants: 2, transforms: ['reencode', 'mirror'] },
        uploads: 120,
        rate_per_second: 40,
        concurrency: 4,
        hash_after_seconds: 0.5,
      }),
    );
  }, 120_000);

  afterAll(async () => {
    for (const m of members) await stop(m.child);
    if (hub) await stop(hub.child);
  });

  it('runs the drill and reports per member what was blocked after the hash landed', async () => {
    const out = await runCli(['drill', 'run', scenarioPath, '--json']);
    expect(out.code, out.stderr).toBe(0);
    const report = JSON.parse(out.stdout) as DrillReport;
    expect(report.exercise).toBe(true);
    expect(report.uploads).toBe(120);
    // Re-encodes are in reach of the banked frame hash; mirrored copies are not (no flip hashes banked).
    expect(report.reach['frame:reencode']).toMatchObject({ variants: 2, reachable: 2 });
    expect(report.reach['frame:mirror']).toMatchObject({ variants: 2, reachable: 0, out_of_reach: 2 });
    for (const m of report.members) {
      expect(m.uploads).toBe(60);
      expect(m.errors).toBe(0);
      expect(m.landing_ms).not.toBeNull();
      expect(m.reachable_after_landing).toBeGreaterThan(0);
      expect(m.blocked_after_landing).toBe(m.reachable_after_landing);
      expect(m.first_block_ms).not.toBeNull();
    }
    expect(report.blocked_after_hash_share).toBe(1);

    // The hub holds an exercise incident, concluded, with the results posted as an update.
    const incident = (await api(hub.url, coordinator, 'GET', `/v1/crisis/incidents/${report.incident_id}`))
      .json;
    expect(incident.exercise).toBe(true);
    expect(incident.activations[0].state).toBe('concluded');
    expect(incident.updates.at(-1).text).toContain('Drill results: 120 uploads to 2 members');
    const real = (await api(hub.url, coordinator, 'GET', '/v1/crisis/incidents?exercise=false')).json.items;
    expect(real.map((i: { id: number }) => i.id)).not.toContain(report.incident_id);
  }, 180_000);

  it('refuses a scenario with unknown fields, transforms or no members, saying what was wrong', () => {
    const base = {
      hub: { url: 'http://hub', key: 'k' },
      protocol: 'tcap',
      type: 'TIER_2',
      media: { frames: ['a.png'] },
    };
    expect(() => parseScenario({ ...base, members: [], colour: 'red' }, '/')).toThrow(
      /unknown scenario field\(s\): colour/,
    );
    expect(() => parseScenario({ ...base, members: [] }, '/')).toThrow(/at least one member/);
    expect(() =>
      parseScenario(
        { ...base, members: [{ url: 'http://m', key: 'k' }], media: { frames: ['a'], transforms: ['blur'] } },
        '/',
      ),
    ).toThrow(/unknown transform "blur"/);
    expect(() => parseScenario({ ...base, members: [{ url: 'ftp://m', key: 'k' }] }, '/')).toThrow(
      /members\[0\] needs a url/,
    );
  });
});
