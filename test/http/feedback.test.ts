/**
 * Feedback on shared signals: who may give it (only organisations that see the signal), one opinion per
 * organisation (each reads back its own), a dispute past the threshold sets the signal aside for everyone (no
 * match), only the owner sees the opinions (with the organisations' names) and decides, and an appeal reversal files its false positive in the reversal's transaction.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bearer, startTestApp, type TestApp } from '../helpers/app.js';
import { TEST_DIALECTS } from '../helpers/databases.js';

const HASH = 'f8f8f0cee0f4a84f06370a22038f63f0b36e2ed596621e1d33e6b39c4e9c9b22';

describe.each(TEST_DIALECTS)('feedback and disputes on shared signals, on %s', (dialect) => {
  let t: TestApp;
  const orgs: Record<'owner' | 'b' | 'c' | 'stranger', { id: number; key: string }> = {} as never;
  let bank: number;
  let entry: number;

  const call = (method: 'GET' | 'POST', url: string, key: string, payload?: object) =>
    t.app.inject({ method, url, headers: bearer(key), ...(payload === undefined ? {} : { payload }) });
  const matches = async (key: string) =>
    (await call('POST', '/v1/match', key, { signals: [{ type: 'pdq', value: HASH }] })).json().matches.length;

  beforeAll(async () => {
    t = await startTestApp(dialect);
    for (const name of ['owner', 'b', 'c', 'stranger'] as const)
      orgs[name] = await t.organisation(`org-${name}`, 'moderator');
    bank = (await call('POST', '/v1/banks', orgs.owner.key, { name: 'SHARED_LIST' })).json().id;
    entry = (
      await call('POST', `/v1/banks/${bank}/entries`, orgs.owner.key, { signal_type: 'pdq', value: HASH })
    ).json().id;
    for (const who of ['b', 'c'] as const) {
      await call('POST', `/v1/banks/${bank}/shares`, orgs.owner.key, { organisation_id: orgs[who].id });
      expect((await call('POST', `/v1/shares/incoming/${bank}/accept`, orgs[who].key, {})).statusCode).toBe(
        200,
      );
    }
  });
  afterAll(() => t.close());

  it('refuses feedback from an organisation the signal is not shared with, and a bad kind', async () => {
    const stranger = await call('POST', `/v1/signals/${entry}/feedback`, orgs.stranger.key, {
      kind: 'confirm',
    });
    expect(stranger.statusCode).toBe(404);
    const bad = await call('POST', `/v1/signals/${entry}/feedback`, orgs.b.key, { kind: 'wrong' });
    expect(bad.statusCode).toBe(400);
    // An offer not yet accepted gives no say either.
    await call('POST', `/v1/banks/${bank}/shares`, orgs.owner.key, { organisation_id: orgs.stranger.id });
    expect(
      (await call('POST', `/v1/signals/${entry}/feedback`, orgs.stranger.key, { kind: 'false_positive' }))
        .statusCode,
    ).toBe(404);
  });

  it('keeps one opinion per organisation and sets the signal aside for everyone at the threshold', async () => {
    expect(await matches(orgs.owner.key)).toBe(1);
    const first = await call('POST', `/v1/signals/${entry}/feedback`, orgs.b.key, {
      kind: 'false_positive',
      reason: 'a news still',
    });
    expect(first.json()).toEqual({
      entry_id: entry,
      status: 'active',
      opinions: { confirm: 0, false_positive: 1, seen: 0 },
    });
    // Saying it twice is still one organisation's opinion.
    const again = await call('POST', `/v1/signals/${entry}/feedback`, orgs.b.key, { kind: 'false_positive' });
    expect(again.json().opinions.false_positive).toBe(1);
    expect(await matches(orgs.c.key)).toBe(1);

    const second = await call('POST', `/v1/signals/${entry}/feedback`, orgs.c.key, {
      kind: 'false_positive',
    });
    expect(second.json()).toMatchObject({ status: 'disputed', opinions: { false_positive: 2 } });
    for (const who of ['owner', 'b', 'c'] as const) expect(await matches(orgs[who].key), who).toBe(0);
  });

  it('tells each organisation its own opinion and the counts, and hides the signal from others', async () => {
    const own = async (key: string) => {
      const res = await call('GET', `/v1/signals/${entry}/feedback`, key);
      expect(res.statusCode, res.body).toBe(200);
      return res.json();
    };
    const c = await own(orgs.c.key);
    expect(c).toMatchObject({
      entry_id: entry,
      status: 'disputed',
      opinions: { confirm: 0, false_positive: 2, seen: 0 },
      mine: { kind: 'false_positive', reason: null, source: 'api' },
    });
    expect(Date.parse(c.mine.updated_at)).not.toBeNaN();
    // The owner has said nothing of its own signal; b's later word replaced its first (and its reason).
    expect((await own(orgs.owner.key)).mine).toBeNull();
    expect((await own(orgs.b.key)).mine).toMatchObject({ kind: 'false_positive', reason: null });
    await call('POST', `/v1/signals/${entry}/feedback`, orgs.b.key, {
      kind: 'false_positive',
      reason: 'a flag',
    });
    expect((await own(orgs.b.key)).mine.reason).toBe('a flag');
    // Offered but not accepted, and never heard of, are the same: not found.
    expect((await call('GET', `/v1/signals/${entry}/feedback`, orgs.stranger.key)).statusCode).toBe(404);
    expect((await call('GET', '/v1/signals/999999/feedback', orgs.b.key)).statusCode).toBe(404);
  });

  it('shows the opinions to the owner only, and lets only the owner reinstate', async () => {
    // b sees the bank (it accepted the share) but does not own it: forbidden, not hidden.
    expect((await call('GET', `/v1/banks/${bank}/feedback`, orgs.b.key)).statusCode).toBe(403);
    expect((await call('GET', `/v1/banks/${bank}/feedback`, orgs.stranger.key)).statusCode).toBe(404);
    const items = (await call('GET', `/v1/banks/${bank}/feedback`, orgs.owner.key)).json().items;
    expect(items.map((i: { organisation_id: number }) => i.organisation_id).sort()).toEqual(
      [orgs.b.id, orgs.c.id].sort(),
    );
    expect(items.find((i: { organisation_id: number }) => i.organisation_id === orgs.b.id)).toMatchObject({
      organisation_name: 'org-b',
      kind: 'false_positive',
      reason: 'a flag',
      source: 'api',
    });

    const byReceiver = await call('POST', `/v1/banks/${bank}/entries/${entry}/dispute`, orgs.b.key, {
      decision: 'reinstate',
      reason: 'not mine to decide',
    });
    expect(byReceiver.statusCode).toBe(403);
    const reinstated = await call('POST', `/v1/banks/${bank}/entries/${entry}/dispute`, orgs.owner.key, {
      decision: 'reinstate',
      reason: 'checked: it is the attack video',
    });
    expect(reinstated.statusCode).toBe(200);
    expect(reinstated.json().status).toBe('active');
    expect(await matches(orgs.b.key)).toBe(1);
    const notDisputed = await call('POST', `/v1/banks/${bank}/entries/${entry}/dispute`, orgs.owner.key, {
      decision: 'retire',
      reason: 'twice',
    });
    expect(notDisputed.json().code).toBe('KAI_ERR_NOT_DISPUTED');
  });

  it("files an appeal reversal's false positive in the reversal's transaction, or not at all", async () => {
    const hook = t.ctx.appeals.sharedSignalFeedback;
    const fp = (appealId: number) => ({
      appealId,
      orgId: orgs.c.id,
      decisionId: 1,
      caseId: 1,
      bankId: bank,
      entryId: entry,
      bankOrgId: orgs.owner.id,
      reason: 'the appeal showed it was a flag',
      at: new Date().toISOString(),
    });
    // A reversal that fails after the dispute was written leaves no dispute behind.
    await expect(
      t.ctx.transactions.run('test', async (unit) => {
        await hook.falsePositive(fp(7), unit);
        throw new Error('the reversal failed');
      }),
    ).rejects.toThrow('the reversal failed');
    let items = (await call('GET', `/v1/banks/${bank}/feedback`, orgs.owner.key)).json().items;
    expect(items.find((i: { organisation_id: number }) => i.organisation_id === orgs.c.id).source).toBe(
      'api',
    );

    await t.ctx.transactions.run('test', (unit) => hook.falsePositive(fp(8), unit));
    items = (await call('GET', `/v1/banks/${bank}/feedback`, orgs.owner.key)).json().items;
    expect(items.find((i: { organisation_id: number }) => i.organisation_id === orgs.c.id)).toMatchObject({
      kind: 'false_positive',
      source: 'appeal',
      reason: 'the appeal showed it was a flag',
    });
    // b and c both say false positive again: set aside again.
    expect(await matches(orgs.owner.key)).toBe(0);
  });
});

describe.each(TEST_DIALECTS)('who may use the feedback routes, on %s', (dialect) => {
  let t: TestApp;
  afterAll(() => t.close());

  it('refuses an unauthenticated caller and a role without the permission, and changes nothing', async () => {
    t = await startTestApp(dialect);
    const owner = await t.organisation('Owner', 'moderator');
    const viewer = (await t.ctx.accounts.createKey('test', owner.id, { name: 'read only', role: 'viewer' }))
      .key;
    const call = (method: 'GET' | 'POST', url: string, headers: Record<string, string>, payload?: object) =>
      t.app.inject({ method, url, headers, ...(payload === undefined ? {} : { payload }) });
    const bank = (await call('POST', '/v1/banks', bearer(owner.key), { name: 'B' })).json().id;
    const entry = (
      await call('POST', `/v1/banks/${bank}/entries`, bearer(owner.key), { signal_type: 'pdq', value: HASH })
    ).json().id;
    const routes = [
      ['POST', `/v1/signals/${entry}/feedback`, { kind: 'false_positive' }],
      ['GET', `/v1/banks/${bank}/feedback`, undefined],
      ['GET', `/v1/signals/${entry}/feedback`, undefined],
      ['POST', `/v1/banks/${bank}/entries/${entry}/dispute`, { decision: 'retire', reason: 'x' }],
    ] as const;
    for (const [method, url, body] of routes)
      expect((await call(method, url, {}, body)).statusCode, `${method} ${url}`).toBe(401);
    // A viewer reads (banks:read) but may not give feedback (entries:write) or decide (banks:write).
    expect((await call('POST', routes[0][1], bearer(viewer), routes[0][2])).statusCode).toBe(403);
    expect((await call('GET', routes[1][1], bearer(viewer))).statusCode).toBe(200);
    expect((await call('POST', routes[3][1], bearer(viewer), routes[3][2])).statusCode).toBe(403);
    // A viewer reads its organisation's opinion of a signal (entries:read).
    expect((await call('GET', routes[2][1], bearer(viewer))).json().mine).toBeNull();
    expect((await call('GET', routes[1][1], bearer(owner.key))).json().items).toEqual([]);
  });
});
