import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { readConfig } from '../../src/config/config.js';
import { AppContext } from '../../src/context.js';
import { run } from '../../src/cli/run.js';
import type { CliIo } from '../../src/cli/io.js';

function io(): CliIo & { out: () => string; err: () => string } {
  const stdout = new PassThrough();
  const stderr = new PassThrough();
  let out = '';
  let err = '';
  stdout.on('data', (d: Buffer) => (out += d.toString()));
  stderr.on('data', (d: Buffer) => (err += d.toString()));
  return { stdout, stderr, exitCode: 0, out: () => out, err: () => err };
}

describe('kaitiaki order preserve and retention purge', () => {
  const dataDir = join(mkdtempSync(join(tmpdir(), 'kaitiaki-order-')), 'data');

  it('extends a preservation as the platform, and the purge run ends only the ones that ran out', async () => {
    expect(await run(['init', '--data-dir', dataDir, '--json'], io())).toBe(0);
    const ctx = await AppContext.open(readConfig({}, { dataDir }));
    const ids: number[] = [];
    try {
      const platform = await ctx.organisations.create('VideoSite', 'platform');
      const authority = await ctx.organisations.create('BKA', 'authority');
      await ctx.orgSettings.put(platform.id, { hosts: ['video.example'] });
      for (const n of [1, 2]) {
        const order = await ctx.orders.issue(
          { orgId: authority.id, label: 'test' },
          {
            platform_org_id: platform.id,
            reference: `CLI-${n}`,
            authority_name: 'BKA',
            member_state: 'DE',
            content_types: ['a'],
            reasons: 'Glorification',
            items: [{ url: `https://video.example/${n}` }],
            legal_basis: 'Regulation (EU) 2021/784, Art. 3',
            signed_at: new Date(Date.now() - 60_000).toISOString(),
            signature: 'sig',
            redress: 'Court',
          },
        );
        await ctx.orders.confirm({ orgId: platform.id, label: 'test' }, order.id, { action: 'removed' });
        ids.push(order.id);
      }
      // Both preservations ran out yesterday (as if six months had passed).
      await ctx.database.db
        .updateTable('removal_orders')
        .set({ preserve_until: new Date(Date.now() - 86_400_000).toISOString() })
        .execute();
    } finally {
      await ctx.close();
    }

    // A bad date and an unknown requester are refused; then the platform records a court's request for order 2.
    await expect(
      run(
        [
          'order',
          'preserve',
          String(ids[1]),
          '--until',
          'soon',
          '--reason',
          'x',
          '--data-dir',
          dataDir,
          '-o',
          'VideoSite',
        ],
        io(),
      ),
    ).rejects.toThrow(/until must be an ISO 8601 date-time/);
    const until = new Date(Date.now() + 90 * 86_400_000).toISOString();
    await expect(
      run(
        [
          'order',
          'preserve',
          String(ids[1]),
          '--until',
          until,
          '--reason',
          'x',
          '--requested-by',
          'me',
          '--data-dir',
          dataDir,
          '-o',
          'VideoSite',
        ],
        io(),
      ),
    ).rejects.toThrow(/--requested-by must be one of/);
    const out = io();
    expect(
      await run(
        [
          'order',
          'preserve',
          String(ids[1]),
          '--until',
          until,
          '--reason',
          'Appeal before the court',
          '--data-dir',
          dataDir,
          '-o',
          'VideoSite',
          '--json',
        ],
        out,
      ),
    ).toBe(0);
    const view = JSON.parse(out.out());
    expect(view.preserve_until).toBe(until);
    expect(view.preservation_extensions).toMatchObject([
      { until, requested_by: 'court', reason: 'Appeal before the court' },
    ]);

    const purge = io();
    expect(await run(['retention', 'purge', '--data-dir', dataDir], purge)).toBe(0);
    expect(purge.out()).toContain('preservation: ended for 1 removal orders');
    const after = await AppContext.open(readConfig({}, { dataDir }));
    try {
      const rows = await after.database.db
        .selectFrom('removal_orders')
        .select(['id', 'preservation_purged_at'])
        .orderBy('id')
        .execute();
      expect(rows.map((r) => r.preservation_purged_at !== null)).toEqual([true, false]);
      const audit = await after.database.db
        .selectFrom('audit_log')
        .select(['action', 'actor'])
        .where('action', 'in', ['order.preservation_extend', 'order.preservation_purge'])
        .orderBy('id')
        .execute();
      expect(audit).toEqual([
        { action: 'order.preservation_extend', actor: 'cli' },
        { action: 'order.preservation_purge', actor: 'system:retention' },
      ]);
    } finally {
      await after.close();
    }
  });
});
