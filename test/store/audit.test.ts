import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AuditService, canonicalJson, GENESIS_HASH } from '../../src/store/audit.js';
import type { Database } from '../../src/store/database.js';
import { freshDatabase, TEST_DIALECTS, type TestDatabase } from '../helpers/databases.js';

describe.each(TEST_DIALECTS)('audit trail on %s', (dialect) => {
  let test: TestDatabase;
  let db: Database;
  let audit: AuditService;

  beforeAll(async () => {
    test = await freshDatabase(dialect);
    db = test.db;
    audit = new AuditService(db.db);
    for (let i = 1; i <= 12; i++) {
      await db.db.transaction().execute((tx) =>
        audit.append(tx, {
          orgId: 1 + (i % 2),
          actor: `key:${i}`,
          action: 'bank.update',
          subjectType: 'bank',
          subjectId: i,
          detail: { step: i, nested: { b: 2, a: 1 } },
        }),
      );
    }
  });
  afterAll(async () => {
    await db.close();
    await test.cleanup();
  });

  it('chains every record to the one before, from the genesis hash', async () => {
    const all = await audit.list(null, { limit: 100 });
    expect(all.items.map((r) => r.id)).toEqual(Array.from({ length: 12 }, (_, i) => i + 1));
    expect(all.items[0].prevHash).toBe(GENESIS_HASH);
    for (let i = 1; i < all.items.length; i++) expect(all.items[i].prevHash).toBe(all.items[i - 1].hash);
    expect(await audit.verify()).toMatchObject({ ok: true, records: 12, lastHash: all.items[11].hash });
    expect((await audit.list(2, { limit: 100 })).items.every((r) => r.orgId === 2)).toBe(true);
  });

  it('appends concurrently without breaking the chain', async () => {
    await Promise.all(
      Array.from({ length: 20 }, (_, i) =>
        db.db.transaction().execute((tx) =>
          audit.append(tx, {
            orgId: 1,
            actor: 'system',
            action: 'test.concurrent',
            subjectType: 'x',
            subjectId: i,
          }),
        ),
      ),
    );
    expect(await audit.verify()).toMatchObject({ ok: true, records: 32 });
  });

  it('pinpoints the first changed record', async () => {
    await sql`update audit_log set detail = ${canonicalJson({ step: 99 })} where id = 5`.execute(db.db);
    expect(await audit.verify()).toMatchObject({
      ok: false,
      firstBadId: 5,
      reason: expect.stringMatching(/changed/),
    });
  });

  it('pinpoints a removed record', async () => {
    await sql`update audit_log set detail = ${canonicalJson({ step: 5, nested: { a: 1, b: 2 } })} where id = 5`.execute(
      db.db,
    );
    expect(await audit.verify()).toMatchObject({ ok: true });
    await sql`delete from audit_log where id = 7`.execute(db.db);
    expect(await audit.verify()).toMatchObject({
      ok: false,
      firstBadId: 7,
      reason: expect.stringMatching(/missing/),
    });
  });
});
