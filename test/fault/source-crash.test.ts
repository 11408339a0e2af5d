/**
 * A subscription killed mid-sync (SIGKILL while `kaitiaki sharing sync` follows a TCAP-format list page after
 * page), then run again: every record is stored exactly once, and the counters agree with the bank.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createHash } from 'node:crypto';
import Database from 'better-sqlite3';
import { afterAll, describe, expect, it } from 'vitest';
import { BIN, runCli } from '../helpers/cli.js';
import { startFixtureServer, type FixtureServer } from '../helpers/fixture-server.js';

const RECORDS = 600;
const PAGE = 20;
const md5 = (n: number) => createHash('md5').update(`record ${n}`).digest('hex');

describe('a subscription killed mid-sync', () => {
  let fixture: FixtureServer;
  afterAll(() => fixture?.close());

  it('loses and duplicates nothing after a restart', async () => {
    fixture = await startFixtureServer();
    const records = Array.from({ length: RECORDS }, (_, n) => ({
      hash_digest: md5(n),
      algorithm: 'MD5',
      ideology: 'islamist',
      file_type: 'mp4',
      deleted: false,
      updated_on: 1700000000 + Math.floor(n / 3), // three records share each second
      id: n + 1,
    }));
    fixture.on('/api/hash-list/v2/all', (_req, res, url) => {
      const [ts, id] = (url.searchParams.get('after') ?? '-1,-1').split(',').map(Number);
      const rest = records.filter((r) => r.updated_on > ts || (r.updated_on === ts && r.id > id));
      const results = rest.slice(0, PAGE);
      // Slow pages, so that the kill lands mid-sync.
      setTimeout(
        () =>
          res
            .writeHead(200, { 'content-type': 'application/json' })
            .end(JSON.stringify({ count: rest.length, next: rest.length > PAGE ? 'more' : null, results })),
        15,
      );
    });
    const dataDir = join(mkdtempSync(join(tmpdir(), 'kaitiaki-source-crash-')), 'data');
    const env = { KAITIAKI_SOURCE_ALLOWED_HOSTS: `127.0.0.1:${fixture.port}`, KAITIAKI_TCAP_TOKEN: 'tok' };
    expect((await runCli(['init', '--data-dir', dataDir])).code).toBe(0);
    const made = await runCli(
      ['sharing', 'subscribe-tcap', 'TCAP', '--base-url', fixture.base, '--data-dir', dataDir],
      env,
    );
    expect(made.code, made.stderr).toBe(0);

    const db = () => new Database(join(dataDir, 'kaitiaki.sqlite'), { readonly: true });
    const count = () => {
      const handle = db();
      try {
        return (handle.prepare('select count(*) as n from entries').get() as { n: number }).n;
      } finally {
        handle.close();
      }
    };
    // Kill the sync while it is part-way through (some pages stored, not all).
    const child = spawn(process.execPath, [BIN, 'sharing', 'sync', 'TCAP', '--data-dir', dataDir], {
      env: { ...process.env, ...env },
      stdio: 'ignore',
    });
    for (let i = 0; i < 400 && count() < RECORDS / 4; i++) await new Promise((r) => setTimeout(r, 10));
    child.kill('SIGKILL');
    await new Promise((r) => child.on('exit', r));
    const partial = count();
    expect(partial).toBeGreaterThan(0);
    expect(partial).toBeLessThan(RECORDS);

    const again = await runCli(['sharing', 'sync', 'TCAP', '--data-dir', dataDir], env);
    expect(again.code, again.stdout + again.stderr).toBe(0);
    const handle = db();
    try {
      const rows = handle.prepare('select value from entries').all() as { value: string }[];
      expect(rows).toHaveLength(RECORDS);
      expect(new Set(rows.map((r) => r.value))).toEqual(new Set(records.map((r) => r.hash_digest)));
      const sub = handle
        .prepare('select checkpoint, records_upserted, records_quarantined from source_subscriptions')
        .get() as { checkpoint: string; records_upserted: number; records_quarantined: number };
      expect(sub).toEqual({
        checkpoint: `${records[RECORDS - 1].updated_on},${RECORDS}`,
        records_upserted: RECORDS,
        records_quarantined: 0,
      });
    } finally {
      handle.close();
    }
  });
});
