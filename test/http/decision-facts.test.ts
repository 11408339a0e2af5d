import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { catchUpFacts } from '../../src/transparency/facts.js';
import { bearer, startTestApp, type TestApp } from '../helpers/app.js';
import { TEST_DIALECTS } from '../helpers/databases.js';

const KNOWN_MD5 = '9e107d9d372bb6826bd81d3542a419d6';

describe.each(TEST_DIALECTS)('decision facts (%s)', (dialect) => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp(dialect);
  });
  afterAll(async () => t.close());

  it('writes one fact per decision as it is taken, the same as computing it afterwards', async () => {
    const platform = await t.organisation('Facts platform', 'integration');
    const admin = (await t.ctx.apiKeys.create(platform.id, { name: 'a', role: 'admin' })).key;
    const moderator = (await t.ctx.apiKeys.create(platform.id, { name: 'm', role: 'moderator' })).key;
    const send = (key: string, url: string, payload: object) =>
      t.app.inject({ method: 'POST', url, headers: bearer(key), payload });
    const bank = (await send(admin, '/v1/banks', { name: 'OWN', default_labels: ['glorification'] })).json();
    await send(admin, `/v1/banks/${bank.id}/entries`, { signal_type: 'md5', value: KNOWN_MD5 });
    const blocked = (
      await send(platform.key, '/v1/submissions', {
        external_id: 'f-1',
        content_type: 'video',
        context: { country: 'FR' },
        signals: [{ type: 'md5', value: KNOWN_MD5 }],
      })
    ).json();
    const report = (await send(platform.key, '/v1/reports', { external_id: 'f-2' })).json();
    await send(moderator, `/v1/cases/${report.case_id}/decision`, {
      decision: 'remove',
      ground_type: 'terms',
      ground: 'Terms 4.2',
      reason: 'Propaganda',
    });
    const alert = (await send(admin, '/v1/alerts', { url: 'https://x.example/1', source: 'tcap' })).json();
    await send(moderator, `/v1/cases/${alert.case_id}/decision`, {
      decision: 'no-violation',
      ground_type: 'terms',
      ground: 'Terms 4.2',
      reason: 'Not TVEC',
    });

    const db = t.ctx.database.db;
    const written = await db
      .selectFrom('decision_facts')
      .selectAll()
      .where('org_id', '=', platform.id)
      .orderBy('decision_id')
      .execute();
    expect(blocked.verdict).toBe('actioned');
    expect(written.map((f) => [f.source, f.decision])).toEqual([
      ['own_bank', 'remove'],
      ['user_report', 'remove'],
      ['alert', 'no-violation'],
    ]);
    expect(written[0]).toMatchObject({
      territory: 'FR',
      format: 'video',
      automated: 1,
      labels: '["glorification"]',
      banks: JSON.stringify([[bank.id, platform.id]]),
    });
    expect(written[1]).toMatchObject({
      territory: 'unknown',
      format: 'unknown',
      automated: 0,
      labels: '[]',
      banks: '[]',
    });

    // As if the decisions had been written by another tool: no fact rows, nothing in the daily roll-up.
    await db.deleteFrom('decision_facts').where('org_id', '=', platform.id).execute();
    await db.deleteFrom('decision_fact_days').where('org_id', '=', platform.id).execute();
    const period = { from: '2000-01-01T00:00:00.000Z', to: '2100-01-01T00:00:00.000Z' };
    expect(await catchUpFacts(db, platform.id, period)).toBe(written.length);
    const computed = await db
      .selectFrom('decision_facts')
      .selectAll()
      .where('org_id', '=', platform.id)
      .orderBy('decision_id')
      .execute();
    expect(computed).toEqual(written);
    // The roll-up was rebuilt with them, and a second catch-up adds nothing to either.
    const dayCounts = async () =>
      (
        await db
          .selectFrom('decision_fact_days')
          .select(['decision', 'source', 'n'])
          .where('org_id', '=', platform.id)
          .orderBy('source')
          .execute()
      ).map((d) => [d.source, d.decision, Number(d.n)]);
    expect(await dayCounts()).toEqual([
      ['alert', 'no-violation', 1],
      ['own_bank', 'remove', 1],
      ['user_report', 'remove', 1],
    ]);
    expect(await catchUpFacts(db, platform.id, period)).toBe(0);
    expect(await dayCounts()).toHaveLength(3);
  });
});
