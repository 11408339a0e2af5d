import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ApiKeyService } from '../../src/store/api-keys.js';
import { BankService } from '../../src/store/banks.js';
import type { Database } from '../../src/store/database.js';
import { EntryService, prepareEntry } from '../../src/store/entries.js';
import { OrganisationService } from '../../src/store/organisations.js';
import { UserService } from '../../src/store/users.js';
import { freshDatabase, TEST_DIALECTS, type TestDatabase } from '../helpers/databases.js';

const PDQ_A = 'f8f8f0cee0f4a84f06370a22038f63f0b36e2ed596621e1d33e6b39c4e9c9b22';
const PDQ_B = '30a10efd71cc3d429013d48d0ffffc52e34e0e17ada952a9d29685211ea9e5af';

describe.each(TEST_DIALECTS)('store on %s', (dialect) => {
  let test: TestDatabase;
  let db: Database;
  let orgs: OrganisationService;
  let banks: BankService;
  let entries: EntryService;
  let keys: ApiKeyService;

  beforeAll(async () => {
    test = await freshDatabase(dialect);
    db = test.db;
    orgs = new OrganisationService(db.db);
    banks = new BankService(db.db);
    entries = new EntryService(db.db);
    keys = new ApiKeyService(db.db);
  });
  afterAll(async () => {
    await db.close();
    await test.cleanup();
  });

  const row = (
    bankId: number,
    orgId: number,
    value: string,
    extra: Partial<Parameters<typeof prepareEntry>[0]> = {},
  ) =>
    prepareEntry(
      { signalType: 'pdq', value, ...extra },
      { bankId, orgId, contributorOrgId: orgId, source: 'manual', defaultLabels: ['default-label'] },
    );

  it('keeps organisations apart: a private bank is invisible to others until shared', async () => {
    const a = await orgs.create('Org A');
    const b = await orgs.create('Org B');
    const bank = await banks.create(a.id, { name: 'A_PRIVATE' });
    await expect(banks.getVisible(b.id, bank.id)).rejects.toMatchObject({ httpStatus: 404 });
    expect((await banks.list(b.id)).items.map((x) => x.id)).not.toContain(bank.id);
    await banks.share(a.id, bank.id, b.id);
    // An offer until B accepts it.
    await expect(banks.getVisible(b.id, bank.id)).rejects.toMatchObject({ httpStatus: 404 });
    await banks.acceptShare(b.id, bank.id, 'review');
    expect((await banks.getVisible(b.id, bank.id)).name).toBe('A_PRIVATE');
    await expect(banks.update(b.id, bank.id, { description: 'x' })).rejects.toMatchObject({
      httpStatus: 403,
    });
    await expect(banks.assertCanContribute(b.id, bank.id)).rejects.toMatchObject({ httpStatus: 403 });
    await banks.share(a.id, bank.id, b.id, 'contribute');
    await expect(banks.assertCanContribute(b.id, bank.id)).resolves.toMatchObject({ id: bank.id });
    await banks.unshare(a.id, bank.id, b.id);
    await expect(banks.getVisible(b.id, bank.id)).rejects.toMatchObject({ httpStatus: 404 });
  });

  it('refuses duplicate organisation and bank names and bad thresholds', async () => {
    const org = await orgs.create('Dupes');
    await expect(orgs.create('Dupes')).rejects.toMatchObject({ httpStatus: 409 });
    await banks.create(org.id, { name: 'ONE' });
    await expect(banks.create(org.id, { name: 'ONE' })).rejects.toMatchObject({
      code: 'KAI_ERR_BANK_EXISTS',
    });
    await expect(banks.create(org.id, { name: 'bad name!' })).rejects.toMatchObject({ httpStatus: 400 });
    await expect(banks.create(org.id, { name: 'T', thresholds: { pdq: 300 } })).rejects.toMatchObject({
      code: 'KAI_ERR_BAD_THRESHOLD',
    });
    await expect(banks.create(org.id, { name: 'T', thresholds: { photodna: 3 } })).rejects.toMatchObject({
      code: 'KAI_ERR_SIGNAL_TYPE_UNKNOWN',
    });
  });

  it('issues API keys shown once, stored only as a digest, revocable', async () => {
    const org = await orgs.create('Keys Org');
    const { key, info } = await keys.create(org.id, { name: 'platform', role: 'integration' });
    expect(key).toMatch(/^kt_[A-Za-z0-9]{8}_[A-Za-z0-9_-]{32}$/);
    const principal = await keys.authenticate(key);
    expect(principal).toMatchObject({ orgId: org.id, role: 'integration', keyId: info.id });
    expect(principal?.permissions.has('match')).toBe(true);
    expect(principal?.permissions.has('keys:manage')).toBe(false);
    expect(await keys.authenticate(key.slice(0, -1) + (key.endsWith('A') ? 'B' : 'A'))).toBeNull();
    expect(await keys.authenticate('not a key')).toBeNull();
    const stored = JSON.stringify(await db.db.selectFrom('api_keys').selectAll().execute());
    expect(stored).not.toContain(key.slice('kt_12345678_'.length));
    await keys.revoke(org.id, info.id);
    expect(await keys.authenticate(key)).toBeNull();
    await expect(keys.create(org.id, { name: 'x', role: 'superuser' })).rejects.toMatchObject({
      code: 'KAI_ERR_ROLE_UNKNOWN',
    });
  });

  it('hashes passwords and verifies them', async () => {
    const org = await orgs.create('People');
    const users = new UserService(db.db);
    await users.create(org.id, {
      email: 'Mod@Example.org',
      role: 'moderator',
      password: 'correct horse battery',
    });
    expect(await users.verify('mod@example.org', 'correct horse battery')).toMatchObject({
      role: 'moderator',
    });
    expect(await users.verify('mod@example.org', 'wrong password!!')).toBeNull();
    await expect(
      users.create(org.id, { email: 'x@y.z', role: 'viewer', password: 'short' }),
    ).rejects.toMatchObject({
      code: 'KAI_ERR_WEAK_PASSWORD',
    });
    const hash = (await db.db.selectFrom('users').select('password_hash').executeTakeFirstOrThrow())
      .password_hash;
    expect(hash).toMatch(/^scrypt\$32768\$8\$1\$/);
  });

  it('adds entries idempotently on (bank, type, value) and validates them', async () => {
    const org = await orgs.create('Entries Org');
    const bank = await banks.create(org.id, { name: 'E', defaultLabels: ['glorification'] });
    const first = await entries.add(row(bank.id, org.id, PDQ_A));
    expect(first.created).toBe(true);
    expect(first.entry.labels).toEqual(['default-label']);
    const again = await entries.add(row(bank.id, org.id, PDQ_A.toUpperCase()));
    expect(again).toMatchObject({ created: false, entry: { id: first.entry.id } });
    expect(() => row(bank.id, org.id, 'abc')).toThrow(/64 hex characters/);
    expect(() =>
      prepareEntry(
        { signalType: 'nope', value: 'x' },
        { bankId: 1, orgId: 1, contributorOrgId: 1, source: 'manual', defaultLabels: [] },
      ),
    ).toThrow(/unknown signal type/);
    expect(() => row(bank.id, org.id, PDQ_B, { labels: ['ok', ''] })).toThrow(/is not a label/);
    expect(await entries.count(bank.id)).toBe(1);
  });

  it('feeds every change to the index in order, deletions included', async () => {
    const org = await orgs.create('Changes Org');
    const bank = await banks.create(org.id, { name: 'C' });
    const start = await entries.currentSeq();
    const a = (await entries.add(row(bank.id, org.id, PDQ_A))).entry;
    const b = (await entries.add(row(bank.id, org.id, PDQ_B))).entry;
    await entries.update(bank.id, a.id, { status: 'disabled' });
    await entries.delete(bank.id, b.id);
    const changes = await entries.changesSince(start);
    expect(changes.map((c) => [c.kind, c.id])).toEqual([
      ['upsert', a.id],
      ['delete', b.id],
    ]);
    expect(changes[0]).toMatchObject({ status: 'disabled' });
    expect(changes[1]).toMatchObject({ value: PDQ_B, signalType: 'pdq' });
    const seqs = changes.map((c) => c.seq);
    expect([...seqs].sort((x, y) => x - y)).toEqual(seqs);
    expect(await entries.changesSince(await entries.currentSeq())).toEqual([]);
    // Deleting a bank leaves tombstones for its entries.
    const c = (await entries.add(row(bank.id, org.id, PDQ_B))).entry;
    const before = await entries.currentSeq();
    await banks.delete(org.id, bank.id);
    expect((await entries.changesSince(before)).map((x) => [x.kind, x.id])).toEqual([
      ['delete', a.id],
      ['delete', c.id],
    ]);
  });

  it('pages with keyset cursors without gaps or repeats while rows are added', async () => {
    const org = await orgs.create('Paging Org');
    const bank = await banks.create(org.id, { name: 'P' });
    const hex = (i: number) => i.toString(16).padStart(64, '0');
    await entries.insertMany(Array.from({ length: 25 }, (_, i) => row(bank.id, org.id, hex(i + 1))));
    const seen: number[] = [];
    let cursor: string | undefined;
    let page = 0;
    do {
      const result = await entries.list(bank.id, { cursor, limit: 7 });
      seen.push(...result.items.map((e) => e.id));
      cursor = result.nextCursor ?? undefined;
      if (page++ === 1) await entries.add(row(bank.id, org.id, hex(1000)));
    } while (cursor);
    expect(new Set(seen).size).toBe(seen.length);
    expect(seen.length).toBe(26);
    await expect(entries.list(bank.id, { cursor: 'garbage' })).rejects.toMatchObject({
      code: 'KAI_ERR_BAD_CURSOR',
    });
  });

  it('keeps data across a restart', async () => {
    const org = await orgs.create('Restart Org');
    const bank = await banks.create(org.id, { name: 'R' });
    await entries.add(row(bank.id, org.id, PDQ_A));
    const reopened = await test.reopen();
    try {
      const again = new BankService(reopened.db);
      expect((await again.getVisible(org.id, bank.id)).name).toBe('R');
      expect(await new EntryService(reopened.db).count(bank.id)).toBe(1);
    } finally {
      await reopened.close();
    }
  });
});
