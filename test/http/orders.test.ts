import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bearer, startTestApp, type TestApp } from '../helpers/app.js';
import { TEST_DIALECTS } from '../helpers/databases.js';

const HOUR = 3_600_000;

describe.each(TEST_DIALECTS)('removal orders and referrals (%s)', (dialect) => {
  let t: TestApp;
  let authority: { id: number; key: string };
  let otherAuthority: { id: number; key: string };
  let platform: { id: number; admin: string; moderator: string };
  let otherPlatform: { id: number; admin: string };
  // Ahead of the real clock: the outbox deliverer runs on real time, and reminders due in its past would be sent
  // (and rescheduled) while the test still reads them.
  const base = new Date(Math.floor(Date.now() / (24 * HOUR)) * 24 * HOUR + 2 * 24 * HOUR + 10 * HOUR);

  const order = (overrides: Record<string, unknown> = {}) => ({
    platform_org_id: platform.id,
    reference: `REF-${Math.random().toString(36).slice(2)}`,
    authority_name: 'Bundeskriminalamt',
    member_state: 'DE',
    content_types: ['a', 'c'],
    reasons: 'Glorifies the attack of 15 March and calls for copycats.',
    items: [{ url: 'https://video.example/watch/1' }],
    legal_basis: 'Regulation (EU) 2021/784, Art. 3',
    signed_at: new Date(base.getTime() - 5 * 60_000).toISOString(),
    signature: 'MEUCIQ...signature',
    redress: 'Appeal to the Verwaltungsgericht Wiesbaden within one month.',
    ...overrides,
  });
  const send = (key: string, method: 'GET' | 'POST' | 'PUT', url: string, payload?: object) =>
    t.app.inject({ method, url, headers: bearer(key), ...(payload ? { payload } : {}) });
  const at = (ms: number) => (t.ctx.orders.now = () => new Date(base.getTime() + ms));

  beforeAll(async () => {
    t = await startTestApp(dialect);
    const makeAuthority = async (name: string) => {
      const org = await t.ctx.organisations.create(name, 'authority');
      return { id: org.id, key: (await t.ctx.apiKeys.create(org.id, { name: 'k', role: 'authority' })).key };
    };
    authority = await makeAuthority('BKA');
    otherAuthority = await makeAuthority('Other authority');
    const makePlatform = async (name: string) => {
      const org = await t.ctx.organisations.create(name, 'platform');
      return {
        id: org.id,
        admin: (await t.ctx.apiKeys.create(org.id, { name: 'a', role: 'admin' })).key,
        moderator: (await t.ctx.apiKeys.create(org.id, { name: 'm', role: 'moderator' })).key,
      };
    };
    platform = await makePlatform('VideoSite');
    otherPlatform = await makePlatform('OtherSite');
    await send(platform.admin, 'PUT', '/v1/settings/recourse', { hosts: ['video.example'] });
    await send(otherPlatform.admin, 'PUT', '/v1/settings/recourse', { hosts: ['other.example'] });
    at(0);
  });
  afterAll(async () => t.close());

  it('refuses an order without Annex I fields and names every missing one', async () => {
    const res = await send(authority.key, 'POST', '/v1/orders', {
      platform_org_id: platform.id,
      reference: 'R-1',
      items: [{ url: 'https://video.example/watch/1' }],
    });
    expect(res.statusCode).toBe(400);
    expect(res.json().code).toBe('KAI_ERR_ORDER_INCOMPLETE');
    for (const field of [
      'authority_name',
      'member_state',
      'content_types',
      'reasons',
      'legal_basis',
      'signed_at',
      'signature',
      'redress',
    ])
      expect(res.json().message).toContain(field);
    expect(res.json().message).not.toContain('platform_org_id');
    // The same, field by field (a form shows each next to its field).
    expect(res.json().errors).toEqual(
      [
        'authority_name',
        'member_state',
        'content_types',
        'reasons',
        'legal_basis',
        'signed_at',
        'signature',
        'redress',
      ].map((field) => ({ path: `body/${field}`, message: 'required by Annex I' })),
    );
    const badType = await send(authority.key, 'POST', '/v1/orders', order({ content_types: ['z'] }));
    expect(badType.statusCode).toBe(400);
    expect(badType.json().errors).toEqual([
      { path: 'body/content_types', message: 'Art. 2(7) letters a-e only' },
    ]);
  });

  it('refuses a forged authority key and a platform posing as an authority', async () => {
    const forged = await send('kai_forged0000000000000000000000000000', 'POST', '/v1/orders', order());
    expect(forged.statusCode).toBe(401);
    // The real key with its secret altered (same id part): refused, and nothing was received.
    const last = authority.key.slice(-1) === 'a' ? 'b' : 'a';
    const tampered = await send(authority.key.slice(0, -1) + last, 'POST', '/v1/orders', order());
    expect(tampered.statusCode).toBe(401);
    const stored = await t.ctx.database.db
      .selectFrom('removal_orders')
      .select((eb) => eb.fn.countAll<number>().as('n'))
      .executeTakeFirstOrThrow();
    expect(Number(stored.n)).toBe(0);
    const platformIssuing = await send(platform.admin, 'POST', '/v1/orders', order());
    expect(platformIssuing.statusCode).toBe(403);
    expect(platformIssuing.json().code).toBe('KAI_ERR_NOT_AN_AUTHORITY');
  });

  it("refuses an order for another platform's content", async () => {
    const wrongHost = await send(
      authority.key,
      'POST',
      '/v1/orders',
      order({ items: [{ url: 'https://other.example/p/9' }] }),
    );
    expect(wrongHost.statusCode).toBe(400);
    expect(wrongHost.json().code).toBe('KAI_ERR_ORDER_WRONG_PLATFORM');
    const unknownId = await send(
      authority.key,
      'POST',
      '/v1/orders',
      order({ items: [{ external_id: 'not-ours' }] }),
    );
    expect(unknownId.json().code).toBe('KAI_ERR_ORDER_WRONG_PLATFORM');
    const notPlatform = await send(
      authority.key,
      'POST',
      '/v1/orders',
      order({ platform_org_id: otherAuthority.id }),
    );
    expect(notPlatform.json().code).toBe('KAI_ERR_ORDER_WRONG_PLATFORM');
  });

  it('timestamps receipt, runs a one-hour clock with reminders, and accepts a late Annex II marked late', async () => {
    at(0);
    const res = await send(authority.key, 'POST', '/v1/orders', order());
    expect(res.statusCode).toBe(201);
    const o = res.json();
    expect(o.received_at).toBe(base.toISOString());
    expect(o.deadline_at).toBe(new Date(base.getTime() + HOUR).toISOString());
    expect(o.seconds_left).toBe(3600);
    expect(o.escalation).toBe('none');

    // The platform's queue has an urgent case due at the deadline.
    const kase = (await send(platform.moderator, 'GET', `/v1/cases/${o.case_id}`)).json();
    expect(kase).toMatchObject({ priority: 'urgent', due_at: o.deadline_at, status: 'open' });
    // Reminders wait in the outbox for minutes 30 and 50.
    const reminders = await t.ctx.database.db
      .selectFrom('actions')
      .select(['next_attempt_at', 'status'])
      .where('case_id', '=', o.case_id)
      .where('type', '=', 'order.escalation')
      .orderBy('next_attempt_at')
      .execute();
    expect(reminders.map((r) => r.next_attempt_at)).toEqual([
      new Date(base.getTime() + 30 * 60_000).toISOString(),
      new Date(base.getTime() + 50 * 60_000).toISOString(),
    ]);

    at(35 * 60_000);
    expect((await send(platform.moderator, 'GET', `/v1/orders/${o.id}`)).json()).toMatchObject({
      escalation: '30m',
      seconds_left: 25 * 60,
    });
    at(55 * 60_000);
    expect((await send(authority.key, 'GET', `/v1/orders/${o.id}`)).json().escalation).toBe('50m');

    at(70 * 60_000);
    const answer = await send(platform.moderator, 'POST', `/v1/orders/${o.id}/answer`, {
      annex: 'II',
      action: 'removed',
      actioned_at: new Date(base.getTime() + 65 * 60_000).toISOString(),
    });
    expect(answer.statusCode).toBe(200);
    expect(answer.json().annex_ii).toMatchObject({ action: 'removed', late: true });
    expect(answer.json().status).toBe('actioned');
    expect(answer.json().preserve_until).toBe(
      new Date(base.getTime() + 65 * 60_000 + 183 * 24 * HOUR).toISOString(),
    );
    const left = await t.ctx.database.db
      .selectFrom('actions')
      .select('status')
      .where('case_id', '=', o.case_id)
      .where('type', '=', 'order.escalation')
      .execute();
    expect(left.map((r) => r.status)).toEqual(['cancelled', 'cancelled']);
    // The late answer counts as late in both reports (against the orders' own views).
    const day = `from=${base.toISOString().slice(0, 10)}&to=${new Date(base.getTime() + 24 * HOUR).toISOString().slice(0, 10)}`;
    const views = (await send(platform.moderator, 'GET', '/v1/orders')).json().items as {
      annex_ii: { late: boolean } | null;
    }[];
    const lateViews = views.filter((v) => v.annex_ii?.late).length;
    expect(lateViews).toBe(1);
    const company = (await send(platform.admin, 'GET', `/v1/transparency/company?${day}`)).json();
    expect(company.removal_orders).toMatchObject({
      late: lateViews,
      within_one_hour: views.filter((v) => v.annex_ii && !v.annex_ii.late).length,
    });
    const government = (await send(authority.key, 'GET', `/v1/transparency/government?${day}`)).json();
    expect(government.removal_orders.within_one_hour).toBe(0);
    expect(government.removal_orders.actioned).toBe(1);

    // Only the authority that issued it and the platform addressed see it.
    expect((await send(otherAuthority.key, 'GET', `/v1/orders/${o.id}`)).statusCode).toBe(404);
    expect((await send(otherPlatform.admin, 'GET', `/v1/orders/${o.id}`)).statusCode).toBe(404);
    const mine = (await send(authority.key, 'GET', '/v1/orders')).json().items as { id: number }[];
    expect(mine.map((x) => x.id)).toContain(o.id);
    expect((await send(otherAuthority.key, 'GET', '/v1/orders')).json().items).toEqual([]);
    // An authority cannot answer its own order.
    expect(
      (await send(authority.key, 'POST', `/v1/orders/${o.id}/answer`, { annex: 'II', action: 'removed' }))
        .statusCode,
    ).toBe(403);
  });

  it('stops the clock on Annex III and restarts it as Art. 3(7) and 3(8) say', async () => {
    at(0);
    const o = (await send(authority.key, 'POST', '/v1/orders', order())).json();
    at(10 * 60_000);
    const iii = await send(platform.moderator, 'POST', `/v1/orders/${o.id}/answer`, {
      annex: 'III',
      ground: 'insufficient_information',
      detail: 'URL does not resolve',
    });
    expect(iii.json()).toMatchObject({
      status: 'suspended',
      seconds_left: null,
      annex_iii: { ground: 'insufficient_information' },
    });
    at(3 * HOUR);
    // Insufficient information: the authority clarifies; the platform cannot restart it itself.
    expect((await send(platform.moderator, 'POST', `/v1/orders/${o.id}/clock`, {})).statusCode).toBe(403);
    const clarified = new Date(base.getTime() + 2 * HOUR).toISOString();
    const restarted = await send(authority.key, 'POST', `/v1/orders/${o.id}/clock`, { at: clarified });
    expect(restarted.json()).toMatchObject({
      status: 'open',
      clock_start: clarified,
      deadline_at: new Date(base.getTime() + 3 * HOUR).toISOString(),
    });

    const fm = (await send(authority.key, 'POST', '/v1/orders', order())).json();
    await send(platform.moderator, 'POST', `/v1/orders/${fm.id}/answer`, {
      annex: 'III',
      ground: 'force_majeure',
    });
    expect((await send(authority.key, 'POST', `/v1/orders/${fm.id}/clock`, {})).statusCode).toBe(403);
    const ceased = await send(platform.moderator, 'POST', `/v1/orders/${fm.id}/clock`, {});
    expect(ceased.json()).toMatchObject({
      status: 'open',
      clock_start: new Date(base.getTime() + 3 * HOUR).toISOString(),
    });
  });

  it('records cross-border scrutiny within its window and reinstates when the order falls', async () => {
    at(0);
    const o = (await send(authority.key, 'POST', '/v1/orders', order({ cross_border: true }))).json();
    const domestic = (await send(authority.key, 'POST', '/v1/orders', order())).json();
    await send(platform.moderator, 'POST', `/v1/orders/${o.id}/answer`, { annex: 'II', action: 'disabled' });
    expect(
      (
        await send(platform.moderator, 'POST', `/v1/orders/${domestic.id}/scrutiny`, {
          requested_by: 'platform',
        })
      ).statusCode,
    ).toBe(409);
    at(49 * HOUR);
    const late = await send(platform.moderator, 'POST', `/v1/orders/${o.id}/scrutiny`, {
      requested_by: 'platform',
    });
    expect(late.json().code).toBe('KAI_ERR_SCRUTINY_WINDOW_CLOSED');
    at(47 * HOUR);
    const requested = await send(platform.moderator, 'POST', `/v1/orders/${o.id}/scrutiny`, {
      requested_by: 'content_provider',
    });
    expect(requested.json().scrutiny).toMatchObject({
      requested_by: 'content_provider',
      deadline_at: new Date(base.getTime() + (47 + 72) * HOUR).toISOString(),
    });
    expect(
      (await send(platform.moderator, 'POST', `/v1/orders/${o.id}/reinstate`, { reason: 'x'.repeat(5) }))
        .statusCode,
    ).toBe(409);
    const fell = await send(authority.key, 'POST', `/v1/orders/${o.id}/scrutiny/outcome`, {
      outcome: 'infringement',
    });
    expect(fell.json().status).toBe('withdrawn');
    const back = await send(platform.moderator, 'POST', `/v1/orders/${o.id}/reinstate`, {
      reason: 'Scrutiny found an infringement',
    });
    expect(back.json().reinstated_at).toBe(new Date(base.getTime() + 47 * HOUR).toISOString());
    const restore = await t.ctx.database.db
      .selectFrom('actions')
      .select(['type', 'payload'])
      .where('case_id', '=', o.case_id)
      .where('type', '=', 'content.restore')
      .execute();
    expect(restore).toHaveLength(1);
  });

  it('holds the content provider notice back while a non-disclosure applies', async () => {
    at(0);
    const tooLong = await send(
      authority.key,
      'POST',
      '/v1/orders',
      order({ non_disclosure_until: new Date(base.getTime() + 43 * 24 * HOUR).toISOString() }),
    );
    expect(tooLong.json().code).toBe('KAI_ERR_ORDER_NON_DISCLOSURE');
    const until = new Date(base.getTime() + 14 * 24 * HOUR).toISOString();
    const o = (
      await send(authority.key, 'POST', '/v1/orders', order({ non_disclosure_until: until }))
    ).json();
    await send(platform.moderator, 'POST', `/v1/orders/${o.id}/answer`, { annex: 'II', action: 'removed' });
    const notice = await t.ctx.database.db
      .selectFrom('actions')
      .select(['next_attempt_at', 'status'])
      .where('case_id', '=', o.case_id)
      .where('type', '=', 'content.notice')
      .executeTakeFirstOrThrow();
    expect(notice).toEqual({ next_attempt_at: until, status: 'pending' });
    expect(await t.ctx.orders.nonDisclosureApplies(o.case_id)).toBe(true);
    const later = new Date(base.getTime() + 50 * 24 * HOUR).toISOString();
    expect(
      (await send(authority.key, 'POST', `/v1/orders/${o.id}/non-disclosure`, { until: later })).statusCode,
    ).toBe(200);
    expect(
      (await send(authority.key, 'POST', `/v1/orders/${o.id}/non-disclosure`, { until: later })).statusCode,
    ).toBe(409);
    const moved = await t.ctx.database.db
      .selectFrom('actions')
      .select('next_attempt_at')
      .where('case_id', '=', o.case_id)
      .where('type', '=', 'content.notice')
      .executeTakeFirstOrThrow();
    expect(moved.next_attempt_at).toBe(later);
    at(51 * 24 * HOUR);
    expect(await t.ctx.orders.nonDisclosureApplies(o.case_id)).toBe(false);
    at(0);
  });

  it('preserves removed content six months, extends on request, then purges it with an audit record', async () => {
    const DAY = 24 * HOUR;
    const db = t.ctx.database.db;
    // Two uploads of the platform, with media and uploader ids, then one removal order for each.
    const upload = async (externalId: string) => {
      const sha = await t.ctx.media.put(platform.id, Buffer.from(`bytes of ${externalId}`));
      await db
        .insertInto('submissions')
        .values({
          org_id: platform.id,
          external_id: externalId,
          idempotency_key: null,
          request_hash: 'x',
          signals: '[]',
          uploader_id: `uploader-${externalId}`,
          context: '{}',
          verdict: 'queued',
          case_id: null,
          media_sha256: sha,
          created_at: new Date(base.getTime() - DAY).toISOString(),
        })
        .execute();
      return sha;
    };
    const shaA = await upload('pres-a');
    const shaB = await upload('pres-b');
    at(0);
    const issue = async (externalId: string) =>
      (
        await send(authority.key, 'POST', '/v1/orders', order({ items: [{ external_id: externalId }] }))
      ).json();
    const a = await issue('pres-a');
    const b = await issue('pres-b');
    at(10 * 60_000);
    for (const o of [a, b])
      expect(
        (
          await send(platform.moderator, 'POST', `/v1/orders/${o.id}/answer`, {
            annex: 'II',
            action: 'removed',
          })
        ).statusCode,
      ).toBe(200);
    const sixMonths = new Date(base.getTime() + 10 * 60_000 + 183 * DAY).toISOString();

    // The issuing authority extends B's preservation for review proceedings; bad requests are refused.
    const later = new Date(Date.parse(sixMonths) + 90 * DAY).toISOString();
    const refused = [
      [authority.key, { until: sixMonths, reason: 'Appeal pending' }, 400],
      [authority.key, { until: later }, 400],
      [otherAuthority.key, { until: later, reason: 'Appeal pending' }, 404],
    ] as const;
    for (const [key, body, code] of refused)
      expect((await send(key, 'POST', `/v1/orders/${b.id}/preservation`, body)).statusCode).toBe(code);
    const extended = await send(authority.key, 'POST', `/v1/orders/${b.id}/preservation`, {
      until: later,
      reason: 'Appeal pending before the Verwaltungsgericht',
    });
    expect(extended.statusCode).toBe(200);
    expect(extended.json()).toMatchObject({
      preserve_until: later,
      preservation_purged_at: null,
      preservation_extensions: [
        {
          until: later,
          requested_by: 'competent_authority',
          reason: 'Appeal pending before the Verwaltungsgericht',
        },
      ],
    });

    // Six months and a day on, the preservation run purges A's content and data, but not B's (extended)...
    at(184 * DAY);
    const now = t.ctx.orders.now();
    const kept = async (externalId: string) =>
      db
        .selectFrom('submissions')
        .select(['media_purged_at', 'uploader_id'])
        .where('external_id', '=', externalId)
        .executeTakeFirstOrThrow();
    // (orders of the earlier tests, with URLs only, end too: they hold no media here)
    expect(await t.ctx.orders.purgePreservations(now)).toMatchObject({ media: 1, uploaderIds: 1 });
    // ... and the media retention purge (the uploads are 185 days old, past its 183 days) leaves B preserved.
    expect((await t.ctx.review.purgeExpired(now)).cutoff > new Date(base.getTime() - DAY).toISOString()).toBe(
      true,
    );
    expect(await kept('pres-a')).toEqual({ media_purged_at: now.toISOString(), uploader_id: null });
    expect(await kept('pres-b')).toEqual({ media_purged_at: null, uploader_id: 'uploader-pres-b' });
    await expect(t.ctx.media.get(platform.id, shaA)).rejects.toThrow(/no longer kept/);
    expect((await t.ctx.media.get(platform.id, shaB)).bytes.toString()).toBe('bytes of pres-b');
    const viewA = (await send(authority.key, 'GET', `/v1/orders/${a.id}`)).json();
    expect(viewA.preservation_purged_at).toBe(now.toISOString());
    const purgeAudit = await db
      .selectFrom('audit_log')
      .select(['action', 'subject_id'])
      .where('action', '=', 'order.preservation_purge')
      .execute();
    expect(purgeAudit.map((r) => String(r.subject_id))).toContain(String(a.id));
    expect(purgeAudit.map((r) => String(r.subject_id))).not.toContain(String(b.id));
    const purgeAction = await db
      .selectFrom('actions')
      .select(['type', 'payload'])
      .where('case_id', '=', a.case_id)
      .where('type', '=', 'content.purge')
      .executeTakeFirstOrThrow();
    expect(JSON.parse(purgeAction.payload)).toMatchObject({ order_id: a.id, preserved_until: sixMonths });
    // Once purged, nothing is left to extend; a second run purges nothing more.
    const late = await send(authority.key, 'POST', `/v1/orders/${a.id}/preservation`, {
      until: later,
      reason: 'Too late',
    });
    expect(late.json().code).toBe('KAI_ERR_PRESERVATION_PURGED');
    expect((await t.ctx.orders.purgePreservations(now)).orders).toBe(0);

    // When the extension ends, B goes too.
    at(184 * DAY + 91 * DAY);
    expect(await t.ctx.orders.purgePreservations(t.ctx.orders.now())).toEqual({
      orders: 1,
      media: 1,
      uploaderIds: 1,
    });
    expect((await kept('pres-b')).uploader_id).toBeNull();
    at(0);
  });

  it('records referrals with their outcome and basis, visible to the sender only', async () => {
    const res = await send(authority.key, 'POST', '/v1/referrals', {
      platform_org_id: platform.id,
      reference: 'IRU-1',
      items: [{ url: 'https://video.example/watch/7' }],
      basis_cited: 'Terms of service 4.2 (violent extremism)',
      reasons: 'Propaganda video of a proscribed group',
    });
    expect(res.statusCode).toBe(201);
    const r = res.json();
    expect(r.outcome).toBe('pending');
    expect((await send(otherAuthority.key, 'GET', `/v1/referrals/${r.id}`)).statusCode).toBe(404);
    expect(
      (
        await send(authority.key, 'POST', `/v1/referrals/${r.id}/outcome`, {
          outcome: 'actioned',
          basis_used: 'terms',
        })
      ).statusCode,
    ).toBe(403);
    const done = await send(platform.moderator, 'POST', `/v1/referrals/${r.id}/outcome`, {
      outcome: 'partial',
      basis_used: 'Terms of service 4.2',
    });
    expect(done.json()).toMatchObject({ outcome: 'partial', basis_used: 'Terms of service 4.2' });
    expect((await send(authority.key, 'GET', `/v1/referrals/${r.id}`)).json().outcome).toBe('partial');
    expect(
      (
        await send(platform.moderator, 'POST', `/v1/referrals/${r.id}/outcome`, {
          outcome: 'declined',
          basis_used: 'terms',
        })
      ).statusCode,
    ).toBe(409);
  });
});
