/**
 * Drills started over HTTP (the incidents page's "Run a drill"): the operator's source policy decides which hosts the
 * server may call and which media it may read; the run is the starting organisation's alone; and a drill against
 * this very app as hub and one member process runs in the background to a stored report.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bearer, startTestApp, type TestApp } from '../helpers/app.js';
import { api, instance, stop, until, type Instance } from '../helpers/instances.js';

describe('drills started over HTTP', () => {
  let t: TestApp;
  let member: Instance;
  let hubUrl: string;
  let coordinator: { id: number; key: string };
  let outsider: { id: number; key: string };
  let scenario: Record<string, unknown>;
  const root = mkdtempSync(join(tmpdir(), 'kaitiaki-drill-root-'));
  const outside = mkdtempSync(join(tmpdir(), 'kaitiaki-drill-outside-'));

  const send = (key: string, method: 'GET' | 'POST' | 'PUT', url: string, payload?: object) =>
    t.app.inject({ method, url, headers: bearer(key), ...(payload ? { payload } : {}) });
  const runs = async () =>
    (await t.ctx.database.db.selectFrom('crisis_drill_runs').select('id').execute()).length;

  beforeAll(async () => {
    const svg = `<svg xmlns="http://www.w3.org/2000/svg" width="400" height="300">
      <rect width="400" height="300" fill="#305040"/><circle cx="140" cy="150" r="70" fill="#e0d090"/>
      <rect x="240" y="50" width="110" height="190" fill="#702030"/></svg>`;
    await sharp(Buffer.from(svg)).png().toFile(join(root, 'frame.png'));
    writeFileSync(join(outside, 'secret.png'), 'not under the root');
    t = await startTestApp('sqlite', {
      KAITIAKI_SOURCE_ALLOWED_HOSTS: '127.0.0.1',
      KAITIAKI_SOURCE_FILE_ROOT: root,
    });
    hubUrl = await t.app.listen({ port: 0, host: '127.0.0.1' });
    coordinator = await t.organisation('Drill coordinator', 'admin');
    outsider = await t.organisation('Another coordinator', 'admin');
    for (const org of [coordinator, outsider])
      expect(
        (
          await send(coordinator.key, 'PUT', `/v1/crisis/participants/${org.id}`, {
            groups: [],
            roles: ['tcap_team'],
            contacts: [],
            accepts_incident_banks: false,
          })
        ).statusCode,
      ).toBe(200);

    // One member instance follows the hub's crisis feed and blocks what matches an active incident bank.
    const onHub = await t.organisation('Drill member', 'admin');
    await send(coordinator.key, 'PUT', `/v1/crisis/participants/${onHub.id}`, {
      groups: ['members'],
      roles: ['platform'],
      contacts: [],
      accepts_incident_banks: true,
    });
    const publicKey = (await send(coordinator.key, 'GET', '/v1/sharing/instance')).json().public_key;
    member = await instance('drill-ui-member', { KAITIAKI_SOURCE_ALLOWED_HOSTS: new URL(hubUrl).host });
    await api(member.url, member.adminKey, 'POST', '/v1/subscriptions', {
      name: 'CRISIS',
      kind: 'kaitiaki-crisis',
      interval_seconds: 1,
      config: { hub_url: hubUrl, api_key: onHub.key, hub_public_key: publicKey },
    });
    await api(member.url, member.adminKey, 'PUT', '/v1/policies', {
      policies: [{ bank_id: null, label: 'crisis-active', action: 'block' }],
    });
    scenario = {
      name: 'from the UI',
      hub: { url: hubUrl, key: coordinator.key },
      protocol: 'tcap',
      type: 'TIER_2',
      members: [{ name: 'member 1', url: member.url, key: member.adminKey }],
      media: { frames: ['frame.png'], frame_variants: 2, transforms: ['reencode'] },
      uploads: 40,
      rate_per_second: 40,
      concurrency: 4,
      hash_after_seconds: 0.3,
    };
  }, 60_000);

  afterAll(async () => {
    if (member) await stop(member.child);
    await t?.ctx.drillRuns.idle();
    await t?.close();
  });

  it('refuses a member host the operator did not allow, naming it, and stores nothing', async () => {
    const res = await send(coordinator.key, 'POST', '/v1/crisis/drills', {
      ...scenario,
      members: [{ name: 'elsewhere', url: 'http://drill-target.example:8080', key: 'k' }],
    });
    expect(res.statusCode).toBe(400);
    expect(res.json()).toMatchObject({ code: 'KAI_ERR_DRILL_HOST' });
    expect(res.json().message).toContain('"drill-target.example:8080"');
    expect(await runs()).toBe(0);
  });

  it('refuses media outside KAITIAKI_SOURCE_FILE_ROOT, by relative path or absolute', async () => {
    for (const frame of [
      '../' + join(outside.split('/').at(-1)!, 'secret.png'),
      join(outside, 'secret.png'),
    ]) {
      const res = await send(coordinator.key, 'POST', '/v1/crisis/drills', {
        ...scenario,
        media: { frames: [frame] },
      });
      expect(res.statusCode).toBe(400);
      expect(res.json()).toMatchObject({ code: 'KAI_ERR_DRILL_MEDIA' });
      expect(res.json().message).toContain('not a file under KAITIAKI_SOURCE_FILE_ROOT');
    }
    expect(await runs()).toBe(0);
  });

  it('runs a drill in the background to a stored report, readable by the starting organisation only', async () => {
    const started = await send(coordinator.key, 'POST', '/v1/crisis/drills', scenario);
    expect(started.statusCode).toBe(202);
    const { id } = started.json() as { id: number };
    expect((await send(coordinator.key, 'GET', `/v1/crisis/drills/${id}`)).json().status).toBe('running');
    expect((await send(outsider.key, 'GET', `/v1/crisis/drills/${id}`)).statusCode).toBe(404);

    const run = await until(
      'the drill to finish',
      async () => {
        const body = (await send(coordinator.key, 'GET', `/v1/crisis/drills/${id}`)).json();
        return body.status !== 'running' && body;
      },
      30_000,
    );
    expect(run.error).toBeNull();
    expect(run.status).toBe('done');
    expect(run.report.uploads).toBe(40);
    expect(run.report.members[0]).toMatchObject({ name: 'member 1', uploads: 40, errors: 0 });
    expect(run.report.members[0].landing_ms).not.toBeNull();
    expect(run.incident_id).toBe(run.report.incident_id);
    const incident = (await send(coordinator.key, 'GET', `/v1/crisis/incidents/${run.incident_id}`)).json();
    expect(incident.exercise).toBe(true);
    expect((await send(outsider.key, 'GET', `/v1/crisis/drills/${id}`)).statusCode).toBe(404);

    // No key reaches the record.
    const row = await t.ctx.database.db
      .selectFrom('crisis_drill_runs')
      .selectAll()
      .where('id', '=', id)
      .executeTakeFirstOrThrow();
    expect(row.incident_id).toBe(run.incident_id);
    expect(row.scenario).not.toContain(coordinator.key);
    expect(row.scenario).not.toContain(member.adminKey);
  }, 40_000);
});
