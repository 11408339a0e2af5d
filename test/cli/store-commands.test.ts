import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { beforeAll, describe, expect, it } from 'vitest';
import { PROJECT_DIR, runCli } from '../helpers/cli.js';
import { PDQ_DATA } from '../helpers/shared.js';

const BRIDGE = 'f8f8f0cee0f4a84f06370a22038f63f0b36e2ed596621e1d33e6b39c4e9c9b22';

describe('kaitiaki init, bank and match on the embedded store', () => {
  let dir: string;
  let dataDir: string;

  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'kaitiaki-cli-store-'));
    dataDir = join(dir, 'data');
  });

  it('init prints a one-time admin key as JSON, and only once', async () => {
    const first = await runCli(['init', '--data-dir', dataDir, '--json']);
    expect(first.code).toBe(0);
    const created = JSON.parse(first.stdout);
    expect(created.organisation).toMatchObject({ id: 1 });
    expect(created.admin_key).toMatch(/^kt_[A-Za-z0-9]{8}_[A-Za-z0-9_-]{32}$/);
    // The organisation and its key were written as one unit of work, each with its audit record.
    const sqlite = new Database(join(dataDir, 'kaitiaki.sqlite'), { readonly: true });
    const trail = sqlite
      .prepare('select org_id, actor, action, subject_type from audit_log order by id')
      .all() as { org_id: number; actor: string; action: string; subject_type: string }[];
    sqlite.close();
    expect(trail).toEqual([
      { org_id: 1, actor: 'kaitiaki init', action: 'organisation.create', subject_type: 'organisation' },
      { org_id: 1, actor: 'kaitiaki init', action: 'key.create', subject_type: 'api_key' },
    ]);
    const again = JSON.parse((await runCli(['init', '--data-dir', dataDir, '--json'])).stdout);
    expect(again).toMatchObject({ admin_key: null, created: false });
    // Said plainly, in both forms, with the way to a new key.
    expect(again.note).toMatch(/admin-key create/);
    expect((await runCli(['init', '--data-dir', dataDir])).stdout).toMatch(
      /already initialised[\s\S]*kaitiaki admin-key create --data-dir/,
    );
    const made = await runCli(['admin-key', 'create', '--data-dir', dataDir, '--json']);
    expect(made.code).toBe(0);
    const { admin_key: key } = JSON.parse(made.stdout) as { admin_key: string };
    expect(key).toMatch(/^kt_/);
    expect(key).not.toBe(created.admin_key);
  });

  it('creates a bank, imports CSV with a bad line reported by number, lists and exports it', async () => {
    expect(
      (await runCli(['bank', 'create', 'KNOWN', '--data-dir', dataDir, '--labels', 'glorification'])).code,
    ).toBe(0);
    const csv = join(dir, 'list.csv');
    writeFileSync(
      csv,
      `signal_type,value,labels\npdq,${BRIDGE},\nmd5,not-a-digest,x\nmd5,d41d8cd98f00b204e9800998ecf8427e,a|b\n`,
    );
    const imported = await runCli(['bank', 'import', 'KNOWN', csv, '--data-dir', dataDir]);
    expect(imported.code).toBe(1);
    expect(imported.stdout).toMatch(/imported 3 lines into KNOWN: 2 new, 0 already there, 1 bad/);
    expect(imported.stderr).toContain(`${csv}:3: a md5 value has 32 hex characters`);
    const reimported = await runCli(['bank', 'import', 'KNOWN', csv, '--data-dir', dataDir]);
    expect(reimported.stdout).toMatch(/0 new, 2 already there/);
    const listed = await runCli(['bank', 'list', '--data-dir', dataDir, '--json']);
    expect(JSON.parse(listed.stdout.trim())).toMatchObject({ name: 'KNOWN', entryCount: 2 });
    const out = join(dir, 'known.jsonl');
    expect((await runCli(['bank', 'export', 'KNOWN', out, '--data-dir', dataDir])).code).toBe(0);
    const lines = readFileSync(out, 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    expect(lines).toEqual([
      {
        signal_type: 'pdq',
        value: BRIDGE,
        labels: ['glorification'],
        note: null,
        external_id: null,
        status: 'active',
      },
      {
        signal_type: 'md5',
        value: 'd41d8cd98f00b204e9800998ecf8427e',
        labels: ['a', 'b'],
        note: null,
        external_id: null,
        status: 'active',
      },
    ]);
  });

  it('matches files against the local banks: variants match, unrelated images do not', async () => {
    const files = ['bridge-mods/sharpen-a-lot.jpg', 'misc-images/c.png'].map((f) =>
      join(PDQ_DATA, 'images', f),
    );
    const { code, stdout } = await runCli(['match', ...files, '--data-dir', dataDir]);
    expect(code).toBe(0);
    const [variant, unrelated] = stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    expect(variant.matches).toEqual([
      { signal_type: 'pdq', distance: 12, bank: 'KNOWN', entry_id: 1, labels: ['glorification'] },
    ]);
    expect(unrelated.matches).toEqual([]);
  });

  it('says what is wrong when the store is not initialised or the bank does not exist', async () => {
    const empty = await runCli(['bank', 'list', '--data-dir', join(dir, 'empty')]);
    expect(empty.code).not.toBe(0);
    expect(empty.stderr).toMatch(/run `kaitiaki init` first/);
    const missing = await runCli(['bank', 'export', 'NOPE', '--data-dir', dataDir]);
    expect(missing.stderr).toMatch(/bank "NOPE" not found/);
  });

  it('audit verify passes on an intact trail and names the first tampered record', async () => {
    const intact = await runCli(['audit', 'verify', '--data-dir', dataDir]);
    expect(intact.code).toBe(0);
    expect(intact.stdout).toMatch(/audit trail intact: [1-9]\d* records/);
    const sqlite = new Database(join(dataDir, 'kaitiaki.sqlite'));
    sqlite.prepare("update audit_log set actor = 'someone-else' where id = 2").run();
    sqlite.close();
    const tampered = await runCli(['audit', 'verify', '--data-dir', dataDir, '--json']);
    expect(tampered.code).toBe(1);
    expect(JSON.parse(tampered.stdout)).toMatchObject({ ok: false, firstBadId: 2 });
  });

  it('user create makes an account whose printed password signs in', async () => {
    const created = await runCli([
      'user',
      'create',
      'Reviewer@Example.org',
      '--role',
      'moderator',
      '--data-dir',
      dataDir,
    ]);
    expect(created.code).toBe(0);
    const password = /password \(shown once\): (\S+)/.exec(created.stdout)?.[1];
    expect(password).toMatch(/^[A-Za-z0-9_-]{24}$/);
    const { readConfig } = await import('../../src/config/config.js');
    const { AppContext } = await import('../../src/context.js');
    const ctx = await AppContext.open(readConfig({}, { dataDir }));
    try {
      expect(await ctx.users.verify('reviewer@example.org', password!)).toMatchObject({ role: 'moderator' });
    } finally {
      await ctx.close();
    }
    const bad = await runCli(['user', 'create', 'x@example.org', '--role', 'root', '--data-dir', dataDir]);
    expect(bad.code).toBe(2);
  });

  it("runs the README tour's import and match on the sample files shipped in examples/", async () => {
    const tour = mkdtempSync(join(tmpdir(), 'kaitiaki-tour-'));
    const examples = join(PROJECT_DIR, 'examples');
    await runCli(['init', '--data-dir', tour]);
    expect((await runCli(['bank', 'create', 'TVEC_KNOWN', '--data-dir', tour])).code).toBe(0);
    const imported = await runCli([
      'bank',
      'import',
      'TVEC_KNOWN',
      join(examples, 'list.csv'),
      '--data-dir',
      tour,
    ]);
    expect(imported.stdout).toMatch(/3 new, 0 already there, 0 bad/);
    const matched = await runCli([
      'match',
      join(examples, 'bridge-blurred.jpg'),
      join(examples, 'unrelated.jpg'),
      '--data-dir',
      tour,
    ]);
    const [blurred, unrelated] = matched.stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    expect(blurred.matches).toEqual([expect.objectContaining({ signal_type: 'pdq', distance: 4 })]);
    expect(unrelated.matches).toEqual([]);
  });
});
