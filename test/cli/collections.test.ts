/**
 * `kaitiaki sharing share|collections|members` on the embedded store: offering a bank with rights, the collections
 * an organisation owns or accepted (rights, members, taxonomy), and who a bank is shared with; each as the
 * organisation picked with --organisation, refused where that organisation has no say.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { beforeAll, describe, expect, it } from 'vitest';
import { run } from '../../src/cli/run.js';
import type { CliIo } from '../../src/cli/io.js';
import { readConfig } from '../../src/config/config.js';
import { AppContext } from '../../src/context.js';
import { runCli } from '../helpers/cli.js';

function io(): CliIo & { out: () => string; err: () => string } {
  const stdout = new PassThrough();
  const stderr = new PassThrough();
  let out = '';
  let err = '';
  stdout.on('data', (d: Buffer) => (out += d.toString()));
  stderr.on('data', (d: Buffer) => (err += d.toString()));
  return { stdout, stderr, exitCode: 0, out: () => out, err: () => err };
}

const jsonLines = (text: string) =>
  text
    .trim()
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l) as Record<string, unknown>);

describe('kaitiaki sharing share, collections and members', () => {
  const dataDir = join(mkdtempSync(join(tmpdir(), 'kaitiaki-collections-')), 'data');
  const ids = {} as Record<'a' | 'b' | 'c', number>;
  let bank: number;

  const cli = async (args: string[]) => {
    const out = io();
    const code = await run([...args, '--data-dir', dataDir], out);
    return { code, stdout: out.out(), stderr: out.err() };
  };
  const withStore = async (fn: (ctx: AppContext) => Promise<void>) => {
    const ctx = await AppContext.open(readConfig({}, { dataDir }));
    try {
      await fn(ctx);
    } finally {
      await ctx.close();
    }
  };

  beforeAll(async () => {
    expect((await cli(['init', '--json'])).code).toBe(0);
    await withStore(async (ctx) => {
      ids.a = (await ctx.organisations.create('Member A')).id;
      ids.b = (await ctx.organisations.create('Member B')).id;
      ids.c = (await ctx.organisations.create('Reader C')).id;
    });
    const created = await cli(['bank', 'create', 'HUB_TVEC', '--json']);
    bank = (JSON.parse(created.stdout) as { id: number }).id;
  });

  it('offers a bank with rights, by organisation id or name; refuses unknown rights and organisations', async () => {
    const moderate = await cli(['sharing', 'share', 'HUB_TVEC', String(ids.a), '--rights', 'moderate']);
    expect(moderate.code).toBe(0);
    expect(moderate.stdout).toBe(
      `offered HUB_TVEC (id ${bank}) to Member A (id ${ids.a}) with moderate rights; it applies once they accept\n`,
    );
    const contribute = await cli([
      'sharing',
      'share',
      String(bank),
      'Member B',
      '--rights',
      'contribute',
      '--json',
    ]);
    expect(jsonLines(contribute.stdout)).toEqual([
      { organisation_id: ids.a, rights: 'moderate', status: 'offered', policy: null },
      { organisation_id: ids.b, rights: 'contribute', status: 'offered', policy: null },
    ]);
    expect((await cli(['sharing', 'share', 'HUB_TVEC', 'Reader C'])).stdout).toMatch(/with read rights/);

    const bad = await cli(['sharing', 'share', 'HUB_TVEC', 'Reader C', '--rights', 'admin']);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/read, contribute, moderate/);
    await expect(cli(['sharing', 'share', 'HUB_TVEC', 'Nobody'])).rejects.toMatchObject({
      code: 'KAI_ERR_NOT_FOUND',
      message: 'no organisation "Nobody"',
    });
  });

  it('lists collections with rights, members, offers and taxonomy, for the owner and for a member', async () => {
    await withStore(async (ctx) => {
      await ctx.bankWrites.acceptShare('test', ids.a, bank, 'review');
      await ctx.bankWrites.acceptShare('test', ids.b, bank, 'block');
      await ctx.bankWrites.setTaxonomy('test', ids.a, bank, { preset: 'tcap' });
    });
    await cli(['bank', 'create', 'PRIVATE']);

    const table = await cli(['sharing', 'collections']);
    expect(table.code).toBe(0);
    const lines = table.stdout.trim().split('\n');
    expect(lines[0]).toMatch(/^id\s+name\s+owner\s+rights\s+members\s+offers\s+taxonomy$/);
    expect(lines.find((l) => l.includes('HUB_TVEC'))).toMatch(/HUB_TVEC\s+you\s+owner\s+2\s+1\s+tcap$/);
    expect(lines.find((l) => l.includes('PRIVATE'))).toMatch(/PRIVATE\s+you\s+owner\s+0\s+0\s+-$/);

    const asMember = jsonLines((await cli(['sharing', 'collections', '--json', '-o', 'Member A'])).stdout);
    expect(asMember).toEqual([
      {
        id: bank,
        name: 'HUB_TVEC',
        owner: { id: 1, name: expect.any(String) },
        rights: 'moderate',
        members: 2,
        offers: 1,
        taxonomy: { preset: 'tcap' },
      },
    ]);
    // An offer not accepted is not a collection of Reader C's yet.
    expect(jsonLines((await cli(['sharing', 'collections', '--json', '-o', String(ids.c)])).stdout)).toEqual(
      [],
    );
  });

  it("shows a bank's members to its owner, and refuses a member", async () => {
    const members = jsonLines((await cli(['sharing', 'members', 'HUB_TVEC', '--json'])).stdout);
    expect(members).toEqual([
      {
        organisation: { id: ids.a, name: 'Member A' },
        rights: 'moderate',
        status: 'accepted',
        policy: 'review',
        offered_at: expect.any(String),
        accepted_at: expect.any(String),
      },
      expect.objectContaining({
        organisation: { id: ids.b, name: 'Member B' },
        rights: 'contribute',
        policy: 'block',
      }),
      expect.objectContaining({ rights: 'read', status: 'offered', policy: null, accepted_at: null }),
    ]);
    const table = (await cli(['sharing', 'members', String(bank)])).stdout.trim().split('\n');
    expect(table[0]).toMatch(/^organisation\s+name\s+rights\s+status\s+policy\s+accepted$/);
    expect(table[4]).toMatch(new RegExp(`^${ids.c}\\s+Reader C\\s+read\\s+offered\\s+-\\s+-$`));

    // Through the real binary: the refusal's message and exit code, for a moderator (not the owner).
    const refused = await runCli([
      'sharing',
      'members',
      String(bank),
      '-o',
      'Member A',
      '--data-dir',
      dataDir,
    ]);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toMatch(/only its owner/);
    const reshare = await runCli([
      'sharing',
      'share',
      String(bank),
      'Reader C',
      '--rights',
      'moderate',
      '-o',
      'Member A',
      '--data-dir',
      dataDir,
    ]);
    expect(reshare.code).toBe(1);
    expect(jsonLines((await cli(['sharing', 'members', 'HUB_TVEC', '--json'])).stdout)[2]).toMatchObject({
      rights: 'read',
    });
  });
});
