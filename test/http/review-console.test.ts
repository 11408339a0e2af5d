/**
 * What the review console relies on: decisions bound to the case version they were made on, claims that keep
 * two reviewers off one case, "next case", and a queue paged by keyset in priority and due order with filters.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bearer, startTestApp, type TestApp } from '../helpers/app.js';
import { TEST_DIALECTS } from '../helpers/databases.js';

const KNOWN = 'f8f8f0cee0f4a84f06370a22038f63f0b36e2ed596621e1d33e6b39c4e9c9b22';
const NEAR = KNOWN.slice(0, 60) + '0000';

const DECISION = {
  decision: 'remove',
  ground_type: 'terms',
  ground: 'Terms of service: terrorist and violent extremist content',
  reason: 'A copy of known propaganda.',
};

describe.each(TEST_DIALECTS)('review console API on %s', (dialect) => {
  let t: TestApp;
  let platform: { id: number; key: string };
  let aroha = '';
  let ben = '';
  let other: { id: number; key: string };
  let bankId = 0;

  beforeAll(async () => {
    t = await startTestApp(dialect);
    platform = await t.organisation('Platform', 'admin');
    aroha = (await t.ctx.apiKeys.create(platform.id, { name: 'Aroha', role: 'moderator' })).key;
    ben = (await t.ctx.apiKeys.create(platform.id, { name: 'Ben', role: 'moderator' })).key;
    other = await t.organisation('Other platform', 'admin');
    const bank = await t.app.inject({
      method: 'POST',
      url: '/v1/banks',
      headers: bearer(platform.key),
      payload: { name: 'KNOWN_TVEC', default_labels: ['glorification'] },
    });
    bankId = bank.json().id;
    await t.app.inject({
      method: 'POST',
      url: `/v1/banks/${bankId}/entries`,
      headers: bearer(platform.key),
      payload: { signal_type: 'pdq', value: KNOWN, note: 'Video still, 2019' },
    });
    await t.ctx.bankRules.reload();
  });
  afterAll(() => t.close());

  const call = (key: string, method: 'GET' | 'POST' | 'DELETE', url: string, payload?: object) =>
    t.app.inject({ method, url, headers: bearer(key), ...(payload ? { payload } : {}) });

  const matchedCase = async (externalId: string, uploader = 'u-1') => {
    const s = await call(platform.key, 'POST', '/v1/submissions', {
      external_id: externalId,
      uploader_id: uploader,
      signals: [{ type: 'pdq', value: NEAR }],
    });
    expect(s.json().verdict).toBe('queued');
    return s.json().case_id as number;
  };

  it('refuses a decision made on an older version of the case, with a clear message', async () => {
    const id = await matchedCase('post-v1');
    const seen = (await call(aroha, 'GET', `/v1/cases/${id}`)).json();
    expect(seen.version).toBe(1);
    expect(seen.has_media).toBe(false); // signals only: the console shows no media strip
    expect(seen.evidence[0]).toMatchObject({
      bank: { name: 'KNOWN_TVEC' },
      entry: { note: 'Video still, 2019', labels: ['glorification'] },
      distance: 7,
      threshold: 31,
    });
    expect(seen.submission).toMatchObject({ uploader_id: 'u-1' });

    // A user report arrives while the moderator is reading: the case changes under them.
    await call(platform.key, 'POST', '/v1/reports', {
      external_id: 'post-v1',
      reporter_id: 'r-7',
      text: 'this is a beheading video',
    });
    const stale = await call(aroha, 'POST', `/v1/cases/${id}/decision`, { ...DECISION, version: 1 });
    expect(stale.statusCode).toBe(409);
    expect(stale.json()).toMatchObject({ code: 'KAI_ERR_CASE_STALE' });
    expect(stale.json().detail).toMatch(/changed since you opened it/);

    const fresh = (await call(aroha, 'GET', `/v1/cases/${id}`)).json();
    expect(fresh.version).toBe(2);
    expect(fresh.reports[0]).toMatchObject({
      detail: { reporter_id: 'r-7', text: 'this is a beheading video' },
    });
    const ok = await call(aroha, 'POST', `/v1/cases/${id}/decision`, { ...DECISION, version: 2 });
    expect(ok.statusCode).toBe(201);
    const after = (await call(aroha, 'GET', `/v1/cases/${id}`)).json();
    expect(after).toMatchObject({ status: 'decided', version: 4, claimed_by: null });
    expect(after.decisions[0].decided_by_name).toBe('API key "Aroha"');
  });

  it('lets only one of two simultaneous decisions on the same version through', async () => {
    const id = await matchedCase('post-race');
    const [a, b] = await Promise.all([
      call(aroha, 'POST', `/v1/cases/${id}/decision`, { ...DECISION, version: 1 }),
      call(ben, 'POST', `/v1/cases/${id}/decision`, { ...DECISION, decision: 'no-violation', version: 1 }),
    ]);
    expect([a.statusCode, b.statusCode].sort()).toEqual([201, 409]);
    expect((await call(aroha, 'GET', `/v1/cases/${id}`)).json().decisions).toHaveLength(1);
  });

  it('claims keep a second reviewer off a case until released; next takes the most urgent unclaimed', async () => {
    const id = await matchedCase('post-claim', 'u-1');
    const claimed = await call(aroha, 'POST', `/v1/cases/${id}/claim`);
    expect(claimed.statusCode).toBe(200);
    expect(claimed.json()).toMatchObject({ claimed_by_name: 'API key "Aroha"' });
    expect(Date.parse(claimed.json().claim_expires_at)).toBeGreaterThan(Date.now() + 9 * 60_000);

    // Ben sees who has it, and can neither claim nor decide it.
    expect((await call(ben, 'GET', `/v1/cases/${id}`)).json().claimed_by_name).toBe('API key "Aroha"');
    const taken = await call(ben, 'POST', `/v1/cases/${id}/claim`);
    expect(taken.statusCode).toBe(409);
    expect(taken.json()).toMatchObject({ code: 'KAI_ERR_CASE_CLAIMED' });
    expect(taken.json().detail).toMatch(/being reviewed by API key "Aroha" until/);
    const decided = await call(ben, 'POST', `/v1/cases/${id}/decision`, { ...DECISION, version: 1 });
    expect(decided.statusCode).toBe(409);
    expect(decided.json().code).toBe('KAI_ERR_CASE_CLAIMED');
    const mine = await call(aroha, 'GET', '/v1/cases?claimed_by=me&status=open');
    expect(mine.json().items.map((c: { id: number }) => c.id)).toEqual([id]);

    // Next for Ben passes over Aroha's case (urgent too, and older) to the next urgent one.
    const second = await matchedCase('post-claim-2', 'u-2');
    const next = await call(ben, 'POST', '/v1/cases/next');
    expect(next.statusCode).toBe(200);
    expect(next.json().id).toBe(second);
    expect(next.json().claimed_by_name).toBe('API key "Ben"');

    // An expired claim is no claim.
    await t.ctx.database.db
      .updateTable('cases')
      .set({ claim_expires_at: new Date(Date.now() - 1000).toISOString() })
      .where('id', '=', id)
      .execute();
    expect((await call(ben, 'GET', `/v1/cases/${id}`)).json().claimed_by).toBeNull();
    expect((await call(ben, 'POST', `/v1/cases/${id}/claim`)).statusCode).toBe(200);
    expect((await call(aroha, 'POST', '/v1/cases/next')).statusCode).toBe(204); // both taken: nothing left
    // Releasing someone else's claim does nothing; one's own does.
    await call(aroha, 'DELETE', `/v1/cases/${id}/claim`);
    expect((await call(aroha, 'GET', `/v1/cases/${id}`)).json().claimed_by_name).toBe('API key "Ben"');
    await call(ben, 'DELETE', `/v1/cases/${id}/claim`);
    expect((await call(aroha, 'GET', `/v1/cases/${id}`)).json().claimed_by).toBeNull();

    // Another organisation can neither see nor claim it.
    expect((await call(other.key, 'POST', `/v1/cases/${id}/claim`)).statusCode).toBe(404);
  });

  it('decides a selection in bulk, each case with its own statement, refusing the changed one only', async () => {
    const ids = [await matchedCase('bulk-1'), await matchedCase('bulk-2'), await matchedCase('bulk-3')];
    await call(platform.key, 'POST', '/v1/reports', { external_id: 'bulk-2', text: 'new evidence' });
    const bulk = await call(aroha, 'POST', '/v1/cases/decisions', {
      ...DECISION,
      cases: ids.map((id) => ({ id, version: 1 })),
    });
    expect(bulk.statusCode).toBe(200);
    expect(bulk.json()).toMatchObject({ decided: 2, refused: 1 });
    const [one, two, three] = bulk.json().results;
    expect(one).toMatchObject({ id: ids[0], decided: true });
    expect(two).toMatchObject({ id: ids[1], decided: false, code: 'KAI_ERR_CASE_STALE' });
    expect(three).toMatchObject({ id: ids[2], decided: true });
    expect(one.statement_id).not.toBe(three.statement_id);
    const statement = await call(aroha, 'GET', `/v1/statements/${three.statement_id}`);
    expect(statement.json()).toMatchObject({ decision_visibility: ['DECISION_VISIBILITY_CONTENT_REMOVED'] });
    expect((await call(aroha, 'GET', `/v1/cases/${ids[1]}`)).json().status).toBe('open');

    const twice = await call(aroha, 'POST', '/v1/cases/decisions', {
      ...DECISION,
      cases: [
        { id: ids[1], version: 2 },
        { id: ids[1], version: 2 },
      ],
    });
    expect(twice.statusCode).toBe(400);
    const foreign = await call(other.key, 'POST', '/v1/cases/decisions', {
      ...DECISION,
      cases: [{ id: ids[1], version: 2 }],
    });
    expect(foreign.json()).toMatchObject({ decided: 0, results: [{ code: 'KAI_ERR_CASE_NOT_FOUND' }] });
  });

  it("pages the audit trail newest first, with people's names", async () => {
    const first = (await call(platform.key, 'GET', '/v1/audit?order=desc&limit=5')).json();
    const second = (
      await call(platform.key, 'GET', `/v1/audit?order=desc&limit=5&cursor=${first.next_cursor}`)
    ).json();
    const ids = [...first.items, ...second.items].map((r: { id: number }) => r.id);
    expect(ids).toEqual([...ids].sort((a, b) => b - a));
    expect(new Set(ids).size).toBe(10);
    const oldest = (await call(platform.key, 'GET', '/v1/audit?limit=1')).json().items[0].id;
    expect(first.items[0].id).toBeGreaterThan(oldest);
    const all = (await call(platform.key, 'GET', '/v1/audit?order=desc&limit=1000')).json().items;
    expect(Math.max(...all.map((r: { id: number }) => r.id))).toBe(first.items[0].id);
    const decided = all.find(
      (r: { action: string; actor: string }) => r.action === 'case.decide' && r.actor !== 'system:policy',
    );
    expect(decided.actor).toMatch(/^key:\d+$/);
    expect(decided.actor_name).toMatch(/^API key "(Aroha|Ben)"$/);
    expect((await call(platform.key, 'GET', '/v1/audit?order=sideways')).statusCode).toBe(400);
  });

  it('pages the queue by keyset in priority then due order, with filters and counts', async () => {
    for (let i = 0; i < 40; i++) {
      if (i % 4 === 0)
        await call(platform.key, 'POST', '/v1/alerts', {
          url: `https://video.example/watch?v=${i}`,
          source: 'tcap',
          group: 'Example group',
        });
      else await call(platform.key, 'POST', '/v1/reports', { external_id: `report-${i}`, text: 'bad' });
    }
    const seen: { id: number; priority: string; due_at: string }[] = [];
    let cursor: string | null = null;
    let pages = 0;
    do {
      const url: string = `/v1/cases?status=open&limit=7${cursor ? `&cursor=${cursor}` : ''}`;
      const page = (await call(aroha, 'GET', url)).json();
      seen.push(...page.items);
      cursor = page.next_cursor;
      pages++;
    } while (cursor);
    const open = (await call(aroha, 'GET', '/v1/cases?status=open&limit=1000')).json();
    expect(seen.map((c) => c.id)).toEqual(open.items.map((c: { id: number }) => c.id));
    expect(new Set(seen.map((c) => c.id)).size).toBe(seen.length);
    expect(pages).toBe(Math.ceil(seen.length / 7));
    expect(open.counts.open).toBe(seen.length);
    const rank = (c: { priority: string; due_at: string; id: number }) =>
      `${c.priority === 'urgent' ? 0 : 1} ${c.due_at} ${String(c.id).padStart(8, '0')}`;
    expect(seen.map(rank)).toEqual([...seen.map(rank)].sort());
    expect(seen[0].priority).toBe('urgent');

    const alerts = (await call(aroha, 'GET', '/v1/cases?status=open&source=alert&limit=1000')).json();
    expect(alerts.items).toHaveLength(10);
    expect(alerts.items.every((c: { sources: string[] }) => c.sources.join() === 'alert')).toBe(true);
    const reported = (await call(aroha, 'GET', '/v1/cases?external_id=post-v1')).json().items[0];
    expect(reported.sources).toEqual(['match', 'report']);
    expect(alerts.counts).toMatchObject({ open: 10, urgent: 10 });
    const reports = (await call(aroha, 'GET', '/v1/cases?source=report&priority=normal&limit=1000')).json();
    expect(reports.items.length).toBeGreaterThanOrEqual(30);
    const matched = (await call(aroha, 'GET', `/v1/cases?source=match&bank_id=${bankId}&limit=1000`)).json();
    expect(matched.items.length).toBe(7);
    const labelled = (await call(aroha, 'GET', '/v1/cases?label=glorification&limit=1000')).json();
    expect(labelled.items.length).toBe(7);
    expect((await call(aroha, 'GET', '/v1/cases?label=other&limit=1000')).json().items).toHaveLength(0);
    const one = (await call(aroha, 'GET', '/v1/cases?external_id=report-9')).json();
    expect(one.items.map((c: { external_id: string }) => c.external_id)).toEqual(['report-9']);

    expect((await call(aroha, 'GET', '/v1/cases?cursor=bm9wZQ')).statusCode).toBe(400);
    expect((await call(aroha, 'GET', '/v1/cases?claimed_by=anyone')).statusCode).toBe(400);
    expect((await call(other.key, 'GET', '/v1/cases?limit=1000')).json().items).toHaveLength(0);
  });
});
