/**
 * `kaitiaki sharing join` and `sharing contribute` against a hub over real HTTP: the member follows a collection
 * with the hub key pinned on first use (its fingerprint printed), registers its own instance key, syncs, and sends
 * a signed contribution that the hub stores with the member instance as its provenance; a retraction follows.
 */
import { createHash } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bearer, startTestApp, type TestApp } from '../helpers/app.js';
import { runCli } from '../helpers/cli.js';

const BASE = 'f8f8f0cee0f4a84f06370a22038f63f0b36e2ed596621e1d33e6b39c4e9c9b22';
const hash = (n: number) => n.toString(16).padStart(4, '0') + BASE.slice(4);

describe('kaitiaki sharing join and contribute', () => {
  let hub: TestApp;
  let hubUrl: string;
  let dataDir: string;
  let env: Record<string, string>;
  let bank: number;
  let owner: { id: number; key: string };
  let memberOrg: number;

  const call = (method: 'GET' | 'POST', url: string, key: string, payload?: object) =>
    hub.app.inject({ method, url, headers: bearer(key), ...(payload === undefined ? {} : { payload }) });

  beforeAll(async () => {
    hub = await startTestApp('sqlite');
    hubUrl = await hub.app.listen({ port: 0, host: '127.0.0.1' });
    owner = await hub.organisation('Hub owner', 'admin');
    const member = await hub.organisation('Member', 'admin');
    memberOrg = member.id;
    bank = (await call('POST', '/v1/banks', owner.key, { name: 'SHARED' })).json().id;
    await call('POST', `/v1/banks/${bank}/entries`, owner.key, { signal_type: 'pdq', value: hash(1) });
    await call('POST', `/v1/banks/${bank}/shares`, owner.key, {
      organisation_id: member.id,
      rights: 'contribute',
    });
    await call('POST', `/v1/shares/incoming/${bank}/accept`, member.key, {});
    dataDir = join(mkdtempSync(join(tmpdir(), 'kaitiaki-cli-join-')), 'data');
    env = { KAITIAKI_SOURCE_ALLOWED_HOSTS: new URL(hubUrl).host, KAITIAKI_HUB_KEY: member.key };
    const init = await runCli(['init', '--data-dir', dataDir, '--json']);
    expect(JSON.parse(init.stdout).instance.public_key).toMatch(/BEGIN PUBLIC KEY/);
  });
  afterAll(() => hub?.close());

  it('joins with the hub key pinned on first use, syncs, and registers the instance key', async () => {
    const noKey = await runCli(
      ['sharing', 'join', 'HUB', '--hub', hubUrl, '--collection', String(bank), '--data-dir', dataDir],
      {
        KAITIAKI_SOURCE_ALLOWED_HOSTS: env.KAITIAKI_SOURCE_ALLOWED_HOSTS,
      },
    );
    expect(noKey.code).not.toBe(0);
    expect(noKey.stderr).toMatch(/KAITIAKI_HUB_KEY/);
    const joined = await runCli(
      [
        'sharing',
        'join',
        'HUB',
        '--hub',
        hubUrl,
        '--collection',
        String(bank),
        '--sync',
        '--data-dir',
        dataDir,
      ],
      env,
    );
    expect(joined.stderr).toBe('');
    expect(joined.code).toBe(0);
    const hubKey = (await hub.ctx.sharingFeed.identity()).publicKey;
    const fingerprint = createHash('sha256').update(hubKey).digest('hex').slice(0, 16);
    expect(joined.stdout).toContain(`hub key pinned (first use), SHA-256 fingerprint ${fingerprint}`);
    expect(joined.stdout).toMatch(/HUB: applied: 1 added or changed/);
    const memberInstance = JSON.parse(
      (await runCli(['init', '--data-dir', dataDir, '--json'])).stdout,
    ).instance;
    expect(await hub.ctx.contributions.instances(memberOrg)).toMatchObject([
      { instanceId: memberInstance.id, publicKey: memberInstance.public_key },
    ]);
  });

  it('contributes signed signals, and retracts them', async () => {
    const sent = await runCli(
      [
        'sharing',
        'contribute',
        'HUB',
        `pdq:${hash(2)}`,
        `pdq:${hash(3)}`,
        '--label',
        'tvec',
        '--data-dir',
        dataDir,
      ],
      env,
    );
    expect(sent.stderr).toBe('');
    expect(sent.stdout).toMatch(/batch [\w-]+: 2 added, 0 already there, 0 retracted/);
    const entries = (await call('GET', `/v1/banks/${bank}/entries?limit=10`, owner.key)).json().items as {
      id: number;
      value: string;
    }[];
    const two = entries.find((e) => e.value === hash(2))!;
    const provenance = (
      await call('GET', `/v1/sharing/banks/${bank}/entries/${two.id}/provenance`, owner.key)
    ).json();
    const status = await runCli(['sharing', 'status', '--json', '--data-dir', dataDir], env);
    expect(status.code).toBe(0);
    expect(provenance.items[0]).toMatchObject({ op: 'add', outcome: 'added' });
    expect(provenance.items[0].public_key).toMatch(/BEGIN PUBLIC KEY/);
    const bad = await runCli(['sharing', 'contribute', 'HUB', 'pdq-no-colon', '--data-dir', dataDir], env);
    expect(bad.code).not.toBe(0);
    const retracted = await runCli(
      ['sharing', 'contribute', 'HUB', `pdq:${hash(2)}`, '--retract', '--data-dir', dataDir],
      env,
    );
    expect(retracted.stdout).toMatch(/0 added, 0 already there, 1 retracted/);
    const after = (await call('GET', `/v1/banks/${bank}/entries?limit=10`, owner.key)).json().items as {
      value: string;
    }[];
    expect(after.map((e) => e.value)).not.toContain(hash(2));
  });
});
