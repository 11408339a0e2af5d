/**
 * Collections: a shared bank's member rights (read, contribute, moderate) and its label taxonomy. Each right is
 * tried where it is allowed and where it is refused; a taxonomy refuses entry writes (single, change, import)
 * with a label outside it, naming the label and applying nothing, while the labels the system sets always pass;
 * banks without one behave as before. The rights migration keeps what can_contribute gave existing shares.
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import BetterSqlite3 from 'better-sqlite3';
import { Kysely, Migrator, PostgresDialect, SqliteDialect, type MigrationProvider } from 'kysely';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Database } from '../../src/store/database.js';
import type { DialectName } from '../../src/store/dialect.js';
import { MIGRATIONS } from '../../src/store/migrations/index.js';
import { bearer, startTestApp, type TestApp } from '../helpers/app.js';
import { POSTGRES_URL, TEST_DIALECTS } from '../helpers/databases.js';

const PDQ = [
  'f8f8f0cee0f4a84f06370a22038f63f0b36e2ed596621e1d33e6b39c4e9c9b22',
  '0000000000000000000000000000000000000000000000000000000000000000',
  'ffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff',
];
const md5 = (n: number) => n.toString(16).padStart(32, '0');

type Org = { id: number; key: string };
type Who = 'owner' | 'reader' | 'contributor' | 'moderator' | 'stranger' | 'offered';

describe.each(TEST_DIALECTS)('collections: rights and label taxonomy, on %s', (dialect) => {
  let t: TestApp;
  const orgs = {} as Record<Who, Org>;
  let bank: number;

  const call = (
    method: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE',
    url: string,
    who: Who,
    payload?: object,
  ) =>
    t.app.inject({
      method,
      url,
      headers: bearer(orgs[who].key),
      ...(payload === undefined ? {} : { payload }),
    });
  const add = (who: Who, value: string, labels?: string[], to = bank) =>
    call('POST', `/v1/banks/${to}/entries`, who, {
      signal_type: value.length === 32 ? 'md5' : 'pdq',
      value,
      ...(labels ? { labels } : {}),
    });
  const count = async (to = bank) => (await call('GET', `/v1/banks/${to}`, 'owner')).json().entry_count;

  beforeAll(async () => {
    t = await startTestApp(dialect);
    for (const who of ['owner', 'reader', 'contributor', 'moderator', 'stranger', 'offered'] as const)
      orgs[who] = await t.organisation(`org-${who}`, 'moderator');
    bank = (await call('POST', '/v1/banks', 'owner', { name: 'COLLECTION' })).json().id;
  });
  afterAll(() => t.close());

  describe('share rights', () => {
    it('offers with rights (or the older can_contribute), shows them in both listings, refuses a contradiction', async () => {
      const share = (who: Who, body: object) =>
        call('POST', `/v1/banks/${bank}/shares`, 'owner', { organisation_id: orgs[who].id, ...body });
      expect((await share('reader', {})).statusCode).toBe(200);
      expect((await share('contributor', { can_contribute: true })).statusCode).toBe(200);
      expect((await share('moderator', { rights: 'moderate', can_contribute: true })).statusCode).toBe(200);
      const offered = await share('offered', { rights: 'moderate' });
      const items = offered.json().items as {
        organisation_id: number;
        rights: string;
        can_contribute: boolean;
      }[];
      const of = (who: Who) => items.find((i) => i.organisation_id === orgs[who].id);
      expect(of('reader')).toMatchObject({ rights: 'read', can_contribute: false, status: 'offered' });
      expect(of('contributor')).toMatchObject({ rights: 'contribute', can_contribute: true });
      expect(of('moderator')).toMatchObject({ rights: 'moderate', can_contribute: true });

      const contradiction = await share('reader', { rights: 'read', can_contribute: true });
      expect(contradiction.statusCode).toBe(400);
      expect(contradiction.json().code).toBe('KAI_ERR_SHARE_RIGHTS_INVALID');
      expect((await share('reader', { rights: 'admin' })).statusCode).toBe(400);
      // Nothing changed by the refusals.
      const after = (await call('GET', `/v1/banks/${bank}/shares`, 'owner')).json().items as typeof items;
      expect(after.find((i) => i.organisation_id === orgs.reader.id)?.rights).toBe('read');

      for (const who of ['reader', 'contributor', 'moderator'] as const)
        expect((await call('POST', `/v1/shares/incoming/${bank}/accept`, who, {})).statusCode).toBe(200);
      const incoming = (await call('GET', '/v1/shares/incoming', 'moderator')).json().items;
      expect(incoming).toEqual([
        expect.objectContaining({
          bank_id: bank,
          rights: 'moderate',
          can_contribute: true,
          status: 'accepted',
        }),
      ]);
    });

    it('lets contributors and moderators add entries, never readers', async () => {
      expect((await add('owner', PDQ[0])).statusCode).toBe(201);
      expect((await add('contributor', md5(1))).statusCode).toBe(201);
      expect((await add('moderator', md5(2))).statusCode).toBe(201);
      const reader = await add('reader', md5(3));
      expect(reader.statusCode).toBe(403);
      expect(reader.json().code).toBe('KAI_ERR_SHARE_RIGHTS');
      const offered = await add('offered', md5(3)); // moderate rights, but never accepted: the bank is not theirs to see
      expect(offered.statusCode).toBe(404);
      expect(await count()).toBe(3);
    });

    it('lets contributors retract only their own entries, moderators any, readers none', async () => {
      const entries = (await call('GET', `/v1/banks/${bank}/entries`, 'owner')).json().items as {
        id: number;
        value: string;
      }[];
      const id = (value: string) => entries.find((e) => e.value === value)!.id;
      const retract = (who: Who, value: string) =>
        call('DELETE', `/v1/banks/${bank}/entries/${id(value)}`, who);

      const byReader = await retract('reader', md5(1));
      expect(byReader.statusCode).toBe(403);
      expect(byReader.json().code).toBe('KAI_ERR_SHARE_RIGHTS');
      const othersEntry = await retract('contributor', md5(2));
      expect(othersEntry.statusCode).toBe(403);
      expect(othersEntry.json().code).toBe('KAI_ERR_NOT_YOUR_CONTRIBUTION');
      expect((await retract('stranger', md5(1))).statusCode).toBe(404);
      expect(await count()).toBe(3);

      expect((await retract('contributor', md5(1))).statusCode).toBe(204);
      // The moderator retracts an entry the owner contributed; it is recorded in the owner's trail, naming it.
      expect((await retract('moderator', PDQ[0])).statusCode).toBe(204);
      expect(await count()).toBe(1);
      const record = await t.test.db.db
        .selectFrom('audit_log')
        .select(['org_id', 'detail'])
        .where('action', '=', 'entry.delete')
        .where('subject_id', '=', String(id(PDQ[0])))
        .executeTakeFirstOrThrow();
      expect(record.org_id).toBe(orgs.owner.id);
      expect(JSON.parse(record.detail as string)).toMatchObject({ by_organisation_id: orgs.moderator.id });
    });

    it('lets moderators (and the owner) see opinions and decide disputes; contributors and readers not', async () => {
      const entry = (await add('owner', PDQ[1])).json().id as number;
      for (const who of ['reader', 'contributor'] as const)
        await call('POST', `/v1/signals/${entry}/feedback`, who, { kind: 'false_positive' });
      const decide = (who: Who) =>
        call('POST', `/v1/banks/${bank}/entries/${entry}/dispute`, who, {
          decision: 'retire',
          reason: 'a news still, checked',
        });
      for (const who of ['reader', 'contributor'] as const) {
        const refused = await decide(who);
        expect(refused.statusCode, who).toBe(403);
        expect(refused.json().code).toBe('KAI_ERR_SHARE_RIGHTS');
        expect((await call('GET', `/v1/banks/${bank}/feedback`, who)).statusCode, who).toBe(403);
      }
      const opinions = await call('GET', `/v1/banks/${bank}/feedback`, 'moderator');
      expect(opinions.statusCode).toBe(200);
      expect(opinions.json().items).toHaveLength(2);
      const decided = await decide('moderator');
      expect(decided.statusCode).toBe(200);
      expect(decided.json().status).toBe('retired');
    });
  });

  describe('label taxonomy', () => {
    let plain: number;

    beforeAll(async () => {
      plain = (await call('POST', '/v1/banks', 'owner', { name: 'NO_TAXONOMY' })).json().id;
    });

    it('has none at first, then a preset copied in by the owner; members who accepted see it, others not', async () => {
      expect((await call('GET', `/v1/banks/${bank}/taxonomy`, 'reader')).json()).toEqual({
        bank_id: bank,
        preset: null,
        labels: [],
        updated_by: null,
        updated_at: null,
      });
      const set = await call('PUT', `/v1/banks/${bank}/taxonomy`, 'owner', { preset: 'gifct' });
      expect(set.statusCode).toBe(200);
      expect(set.json()).toMatchObject({ bank_id: bank, preset: 'gifct' });
      const keys = (set.json().labels as { key: string; group: string }[]).map((l) => l.key);
      expect(keys).toEqual(
        expect.arrayContaining(['glorification', 'graphic-violence', 'attacker-manifesto']),
      );
      expect(set.json().labels[0]).toMatchObject({ key: 'imminent-credible-threat', group: 'behaviour' });

      const seen = await call('GET', `/v1/banks/${bank}/taxonomy`, 'reader');
      expect(seen.json().labels.map((l: { key: string }) => l.key)).toEqual(keys);
      expect((await call('GET', `/v1/banks/${bank}/taxonomy`, 'stranger')).statusCode).toBe(404);
      expect((await call('GET', `/v1/banks/${bank}/taxonomy`, 'offered')).statusCode).toBe(404);
    });

    it('is changed by moderators only (not contributors or readers), and refuses bad input', async () => {
      for (const who of ['reader', 'contributor'] as const) {
        const refused = await call('PUT', `/v1/banks/${bank}/taxonomy`, who, { preset: 'tcap' });
        expect(refused.statusCode, who).toBe(403);
        expect(refused.json().code).toBe('KAI_ERR_SHARE_RIGHTS');
      }
      expect(
        (await call('PUT', `/v1/banks/${bank}/taxonomy`, 'stranger', { preset: 'tcap' })).statusCode,
      ).toBe(404);
      expect((await call('PUT', `/v1/banks/${bank}/taxonomy`, 'owner', { preset: 'nope' })).statusCode).toBe(
        400,
      );
      const twice = await call('PUT', `/v1/banks/${bank}/taxonomy`, 'owner', {
        labels: [{ key: 'a' }, { key: 'a' }],
      });
      expect(twice.statusCode).toBe(400);
      expect(twice.json().code).toBe('KAI_ERR_TAXONOMY');
      expect((await call('GET', `/v1/banks/${bank}/taxonomy`, 'owner')).json().preset).toBe('gifct');

      const byModerator = await call('PUT', `/v1/banks/${bank}/taxonomy`, 'moderator', { preset: 'tcap' });
      expect(byModerator.statusCode).toBe(200);
      expect(byModerator.json().labels.map((l: { key: string }) => l.key)).toContain('tier-2-crisis');
      const edited = await call('PUT', `/v1/banks/${bank}/taxonomy`, 'moderator', {
        labels: [
          ...byModerator.json().labels,
          { key: 'glorification', description: 'Glorification of terrorist acts', group: 'behaviour' },
        ],
      });
      expect(edited.statusCode).toBe(200);
      expect(edited.json()).toMatchObject({ preset: null, updated_by: expect.stringMatching(/^key:/) });
    });

    it('refuses an entry with a label outside it, naming the label, and applies nothing', async () => {
      const before = await count();
      const refused = await add('contributor', md5(10), ['tier-2-crisis', 'memes']);
      expect(refused.statusCode).toBe(400);
      expect(refused.json().code).toBe('KAI_ERR_LABEL_NOT_IN_TAXONOMY');
      expect(refused.json().message).toMatch(/label "memes" is not in the taxonomy of bank COLLECTION/);
      expect(await count()).toBe(before);
      const byOwner = await add('owner', md5(10), ['Glorification']);
      expect(byOwner.statusCode).toBe(400);
      expect(byOwner.json().message).toContain('"Glorification"');

      const ok = await add('contributor', md5(10), ['tier-2-crisis', 'glorification']);
      expect(ok.statusCode).toBe(201);
      // The labels the system sets (an incident's) always pass.
      expect(
        (await add('moderator', md5(11), ['incident:7', 'crisis-active', 'glorification'])).statusCode,
      ).toBe(201);
      expect(await count()).toBe(before + 2);

      const relabel = await call('PATCH', `/v1/banks/${bank}/entries/${ok.json().id}`, 'owner', {
        labels: ['ideology:islamist', 'unlisted'],
      });
      expect(relabel.statusCode).toBe(400);
      expect(relabel.json().code).toBe('KAI_ERR_LABEL_NOT_IN_TAXONOMY');
      expect((await call('GET', `/v1/banks/${bank}/entries/${ok.json().id}`, 'owner')).json().labels).toEqual(
        ['tier-2-crisis', 'glorification'],
      );
    });

    it('reports an imported line with a label outside it as a bad line, naming the label', async () => {
      const body = [
        JSON.stringify({ signal_type: 'md5', value: md5(20), labels: ['tier-1-threat-to-life'] }),
        JSON.stringify({ signal_type: 'md5', value: md5(21), labels: ['off-list'] }),
        JSON.stringify({ signal_type: 'md5', value: md5(22) }),
      ].join('\n');
      const imported = await t.app.inject({
        method: 'POST',
        url: `/v1/banks/${bank}/import`,
        headers: { ...bearer(orgs.contributor.key), 'content-type': 'application/x-ndjson' },
        payload: body,
      });
      expect(imported.json()).toMatchObject({ lines: 3, inserted: 2, errors: 1 });
      expect(imported.json().error_samples[0]).toMatchObject({
        line: 2,
        message: expect.stringContaining('label "off-list" is not in the taxonomy'),
      });
      const stopped = await t.app.inject({
        method: 'POST',
        url: `/v1/banks/${bank}/import?stop_on_error=true`,
        headers: { ...bearer(orgs.owner.key), 'content-type': 'text/csv' },
        payload: `signal_type,value,labels\nmd5,${md5(23)},nope|tier-4-promotional\n`,
      });
      expect(stopped.statusCode).toBe(400);
      expect(stopped.json().message).toContain('"nope"');
      const values = (await call('GET', `/v1/banks/${bank}/entries?limit=100`, 'owner'))
        .json()
        .items.map((e: { value: string }) => e.value);
      expect(values).not.toContain(md5(21));
      expect(values).not.toContain(md5(23));
    });

    it("keeps the bank's default labels inside it", async () => {
      const outside = await call('PATCH', `/v1/banks/${bank}`, 'owner', { default_labels: ['tvec'] });
      expect(outside.statusCode).toBe(400);
      expect(outside.json().code).toBe('KAI_ERR_LABEL_NOT_IN_TAXONOMY');
      expect((await call('GET', `/v1/banks/${bank}`, 'owner')).json().default_labels).toEqual([]);
      expect(
        (await call('PATCH', `/v1/banks/${bank}`, 'owner', { default_labels: ['tier-3-designation'] }))
          .statusCode,
      ).toBe(200);
      // A new taxonomy that would leave the default label out is refused.
      const orphaning = await call('PUT', `/v1/banks/${bank}/taxonomy`, 'owner', { preset: 'gifct' });
      expect(orphaning.statusCode).toBe(400);
      expect(orphaning.json().message).toMatch(/default label "tier-3-designation"/);
      expect((await add('contributor', md5(30))).json().labels).toEqual(['tier-3-designation']);
    });

    it('leaves banks without one as they were, and removing it accepts any label again', async () => {
      expect((await add('owner', md5(40), ['anything-goes'], plain)).statusCode).toBe(201);
      expect((await call('PUT', `/v1/banks/${bank}/taxonomy`, 'owner', { labels: [] })).json()).toMatchObject(
        {
          preset: null,
          labels: [],
        },
      );
      expect((await add('contributor', md5(41), ['anything-goes'])).statusCode).toBe(201);
    });
  });
});

/** Tables as they were before the migration under test (the application's Schema describes them after it). */
type Loose = Record<string, Record<string, unknown>>;

/** A database migrated up to (not including) the collections migration, then the rest by opening it. */
async function migratedBefore(
  dialect: DialectName,
  setup: (db: Kysely<Loose>) => Promise<void>,
): Promise<{ open: () => Promise<Database>; cleanup: () => Promise<void> }> {
  const last = MIGRATIONS.findIndex(([name]) => name.endsWith('-collections'));
  const provider: MigrationProvider = {
    getMigrations: async () =>
      Object.fromEntries(
        MIGRATIONS.slice(0, last).map(([name, m]) => [
          name,
          { up: (db: Kysely<unknown>) => m.up(db, dialect) },
        ]),
      ),
  };
  if (dialect === 'sqlite') {
    const dir = mkdtempSync(join(tmpdir(), 'kaitiaki-migrate-'));
    const path = join(dir, 'kaitiaki.sqlite');
    const db = new Kysely<Loose>({ dialect: new SqliteDialect({ database: new BetterSqlite3(path) }) });
    await new Migrator({ db, provider }).migrateToLatest();
    await setup(db);
    await db.destroy();
    return {
      open: () => Database.sqlite(path),
      cleanup: async () => rmSync(dir, { recursive: true, force: true }),
    };
  }
  const schema = `test_${randomBytes(6).toString('hex')}`;
  const admin = new pg.Client({ connectionString: POSTGRES_URL });
  await admin.connect();
  await admin.query(`create schema ${schema}`);
  const pool = new pg.Pool({ connectionString: POSTGRES_URL, max: 2, options: `-c search_path=${schema}` });
  const db = new Kysely<Loose>({ dialect: new PostgresDialect({ pool }) });
  await new Migrator({ db, provider, migrationTableSchema: schema }).migrateToLatest();
  await setup(db);
  await db.destroy();
  return {
    open: () => Database.postgres(POSTGRES_URL, { schema, maxConnections: 2 }),
    cleanup: async () => {
      await admin.query(`drop schema if exists ${schema} cascade`);
      await admin.end();
    },
  };
}

describe.each(TEST_DIALECTS)('the rights migration, on %s', (dialect) => {
  it('gives existing shares the rights can_contribute gave them', async () => {
    const now = new Date().toISOString();
    const before = await migratedBefore(dialect, async (db) => {
      const d = db;
      for (const [id, name] of [
        [1, 'hub'],
        [2, 'reads'],
        [3, 'writes'],
      ] as const)
        await d.insertInto('organisations').values({ id, name, created_at: now }).execute();
      await d
        .insertInto('banks')
        .values({ id: 1, org_id: 1, name: 'B', created_at: now, updated_at: now })
        .execute();
      await d
        .insertInto('bank_shares')
        .values([
          { bank_id: 1, org_id: 2, can_contribute: 0, created_at: now, accepted_at: now },
          { bank_id: 1, org_id: 3, can_contribute: 1, created_at: now, accepted_at: now },
        ])
        .execute();
    });
    const database = await before.open();
    try {
      const rows = await database.db
        .selectFrom('bank_shares')
        .select(['org_id', 'rights', 'can_contribute'])
        .orderBy('org_id')
        .execute();
      expect(rows).toEqual([
        { org_id: 2, rights: 'read', can_contribute: 0 },
        { org_id: 3, rights: 'contribute', can_contribute: 1 },
      ]);
    } finally {
      await database.close();
      await before.cleanup();
    }
  });
});
