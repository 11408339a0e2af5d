import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../helpers/cli.js';
import { startFixtureServer, type FixtureServer } from '../helpers/fixture-server.js';

const MD5_A = 'd41d8cd98f00b204e9800998ecf8427e';
const MD5_B = '9e107d9d372bb6826bd81d3542a419d6';

describe('kaitiaki sharing subscribe-list and status', () => {
  let dataDir: string;
  let fixture: FixtureServer;
  let env: Record<string, string>;

  beforeAll(async () => {
    dataDir = join(mkdtempSync(join(tmpdir(), 'kaitiaki-cli-sharing-')), 'data');
    fixture = await startFixtureServer();
    fixture.on('/tvec.csv', (_req, res) =>
      res
        .writeHead(200, { 'content-type': 'text/csv' })
        .end(`signal_type,value,labels\nmd5,${MD5_A},tvec\nmd5,${MD5_B},tvec\nmd5,nope,tvec\n`),
    );
    fixture.on('/down.csv', (_req, res) => res.writeHead(503).end('maintenance'));
    env = { KAITIAKI_SOURCE_ALLOWED_HOSTS: `127.0.0.1:${fixture.port}` };
    expect((await runCli(['init', '--data-dir', dataDir])).code).toBe(0);
  });
  afterAll(() => fixture?.close());

  it('subscribes to a list, syncs it into a read-only bank, and shows the status', async () => {
    const subscribed = await runCli(
      ['sharing', 'subscribe-list', 'TVEC', `${fixture.base}/tvec.csv`, '--sync', '--data-dir', dataDir],
      env,
    );
    expect(subscribed.stderr).toBe('');
    expect(subscribed.code).toBe(0);
    expect(subscribed.stdout).toMatch(/into the read-only bank TVEC/);
    expect(subscribed.stdout).toMatch(/TVEC: applied: 2 added or changed, 0 deleted, 1 quarantined/);

    const down = await runCli(
      ['sharing', 'subscribe-list', 'DOWN', `${fixture.base}/down.csv`, '--sync', '--data-dir', dataDir],
      env,
    );
    expect(down.code).toBe(1);
    expect(down.stdout).toMatch(/DOWN: failed: the list answered HTTP 503/);

    const table = await runCli(['sharing', 'status', '--data-dir', dataDir], env);
    expect(table.code).toBe(0);
    expect(table.stdout).toMatch(
      /^id\s+name\s+kind\s+checkpoint\s+lag\s+since caught up\s+stored\s+quarantined\s+last error/,
    );
    expect(table.stdout).toMatch(/TVEC\s+list\s+\{.*\s+0\s+\d+s\s+2\s+1\s+-/);
    expect(table.stdout).toMatch(/DOWN\s+list\s+-\s+\?\s+never synced\s+0\s+0\s+the list answered HTTP 503/);

    const json = (await runCli(['sharing', 'status', '--json', '--data-dir', dataDir], env)).stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    expect(json[0]).toMatchObject({
      name: 'TVEC',
      kind: 'list',
      config: { url: `${fixture.base}/tvec.csv`, format: 'csv' },
      records_upserted: 2,
      records_quarantined: 1,
      lag_records: 0,
      last_error: null,
    });

    const banks = (await runCli(['bank', 'list', '--json', '--data-dir', dataDir], env)).stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    expect(banks.find((b) => b.name === 'TVEC')).toMatchObject({
      entryCount: 2,
      managedBy: 'subscription:1',
    });
    const own = join(dataDir, '..', 'own.csv');
    writeFileSync(own, `signal_type,value\nmd5,${MD5_A}\n`);
    const imported = await runCli(['bank', 'import', 'TVEC', own, '--data-dir', dataDir], env);
    expect(imported.code).not.toBe(0);
    expect(imported.stderr).toMatch(/read-only mirror of subscription 1/);

    expect((await runCli(['sharing', 'unsubscribe', 'TVEC', '--data-dir', dataDir], env)).stdout).toMatch(
      /unsubscribed from TVEC/,
    );
  });
});
