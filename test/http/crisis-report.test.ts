import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bearer, startTestApp, type TestApp } from '../helpers/app.js';
import { TEST_DIALECTS } from '../helpers/databases.js';

const HR = {
  necessity: 'Perpetrator video is spreading on member platforms within the hour.',
  proportionality: 'Hashes only of the attack video and its frames; each member acts under its own terms.',
  scope: 'Perpetrator-produced content; bystander footage excluded.',
  bystander_content: false,
};
const TITLE = 'Attack <script>alert(1)</script> & "stream"';
const EVIDENCE = 'https://video.example/watch/1';
const RATIONALE = 'All four criteria met; the video is spreading fast.';

/** The record the test writes, minute by minute (UTC); every expected number below follows from it. */
const T = {
  occurred: '2026-11-20T02:30:00.000Z',
  reported: '2026-11-20T03:00:00.000Z',
  assessing: '2026-11-20T03:05:00.000Z',
  criteria: '2026-11-20T03:10:00.000Z',
  tcapDecision: '2026-11-20T03:11:00.000Z',
  tcapActivated: '2026-11-20T03:12:00.000Z', // the first activation: 720 s after the report
  tcapSent: '2026-11-20T03:12:30.000Z',
  tcapDue: '2026-11-20T03:42:30.000Z',
  decisions: '2026-11-20T03:15:00.000Z',
  activated: '2026-11-20T03:20:00.000Z', // the first activation that shares hashes
  sent: '2026-11-20T03:20:30.000Z',
  due: '2026-11-20T03:50:30.000Z',
  ackA: '2026-11-20T03:28:30.000Z', // 480 s after sent, in time
  escalatedB: '2026-11-20T03:51:00.000Z',
  ackB: '2026-11-20T04:05:30.000Z', // 2700 s after sent, late
  firstHash: '2026-11-20T03:32:00.000Z', // 720 s after activation
  laterHash: '2026-11-20T03:40:00.000Z',
  firstBlockA: '2026-11-20T03:34:10.000Z', // 130 s after the first hash
  firstBlockB: '2026-11-20T03:55:00.000Z', // 1380 s after the first hash
  update: '2026-11-20T03:45:00.000Z',
  deescalating: '2026-11-20T06:00:00.000Z',
  concluded: '2026-11-20T07:00:00.000Z', // 13200 s after activation
  findings: '2026-11-20T09:00:00.000Z',
};

function pdqPair(): [string, string] {
  const a = randomBytes(32);
  const b = Buffer.from(a);
  b[0] ^= 0b111;
  return [a.toString('hex'), b.toString('hex')];
}

/** Every key anywhere in a JSON value, as a dotted path (array items share their array's path). */
function keysOf(value: unknown, path = ''): string[] {
  if (Array.isArray(value)) return value.flatMap((v) => keysOf(v, path));
  if (value === null || typeof value !== 'object') return [];
  return Object.entries(value).flatMap(([k, v]) => [path + k, ...keysOf(v, `${path}${k}.`)]);
}

describe.each(TEST_DIALECTS)('crisis after-action report (%s)', (dialect) => {
  let t: TestApp;
  let hub: { id: number; admin: string };
  let memberA: { id: number; key: string; moderator: string };
  let memberB: { id: number; key: string };
  let memberC: { id: number; key: string };
  let observer: { id: number; key: string };
  let outsider: { id: number; key: string };
  let incidentId: number;
  let activationId: number;
  let tcapId: number;
  let findingIds: number[] = [];

  const send = (key: string, method: 'GET' | 'POST' | 'PUT' | 'PATCH', url: string, payload?: object) =>
    t.app.inject({ method, url, headers: bearer(key), ...(payload ? { payload } : {}) });
  const ok = async <R extends { statusCode: number; body: string }>(
    p: Promise<R>,
    status = 200,
  ): Promise<R> => {
    const res = await p;
    expect(res.statusCode, res.body).toBe(status);
    return res;
  };
  const key = async (orgId: number, role: string) =>
    (await t.ctx.apiKeys.create(orgId, { name: `${role}-${Math.random()}`, role })).key;
  const clock = (iso: string) => {
    t.ctx.crisis.now = () => new Date(iso);
  };

  beforeAll(async () => {
    t = await startTestApp(dialect);
    const hubOrg = await t.ctx.organisations.create('Crisis hub', 'hub');
    hub = { id: hubOrg.id, admin: await key(hubOrg.id, 'admin') };
    const a = await t.organisation('Member A', 'integration');
    memberA = { ...a, moderator: await key(a.id, 'moderator') };
    memberB = await t.organisation('Member B', 'integration');
    memberC = await t.organisation('Member C', 'integration');
    const obs = await t.ctx.organisations.create('Advisory network', 'civil-society');
    observer = { id: obs.id, key: await key(obs.id, 'observer') };
    outsider = await t.organisation('Not in the network', 'admin');
    const join = (orgId: number, body: object) =>
      ok(send(hub.admin, 'PUT', `/v1/crisis/participants/${orgId}`, body));
    await join(hub.id, {
      groups: [],
      roles: ['operating_board', 'secretariat', 'tcap_team'],
      contacts: [],
      accepts_incident_banks: false,
    });
    await join(memberA.id, {
      groups: ['members'],
      roles: ['operating_board', 'member'],
      contacts: [
        { name: 'A on call', email: 'oncall@a.example' },
        { name: 'A desk', webhook_url: 'https://hooks.a.example/crisis' },
      ],
      accepts_incident_banks: true,
    });
    for (const [m, email] of [
      [memberB, 'desk@b.example'],
      [memberC, 'desk@c.example'],
    ] as const)
      await join(m.id, {
        groups: ['members'],
        roles: ['member'],
        contacts: [{ name: 'desk', email }],
        accepts_incident_banks: false,
      });
    await join(observer.id, {
      groups: ['advisory_network'],
      roles: ['advisory_committee'],
      contacts: [{ name: 'IAC', email: 'iac@example.org' }],
      accepts_incident_banks: false,
    });
    await buildRecord();
  });
  afterAll(() => t?.close());

  /** The incident as the API records it, then what other parts fill in (notifications, telemetry). */
  async function buildRecord() {
    clock(T.reported);
    const incident = (
      await ok(
        send(hub.admin, 'POST', '/v1/crisis/incidents', {
          title: TITLE,
          summary: 'A livestream of an attack is circulating.',
          zone: 'Pacific/Auckland',
          countries: ['NZ'],
          occurred_at: T.occurred,
          protocols: ['gifct-2021', 'tcap'],
        }),
        201,
      )
    ).json();
    incidentId = incident.id;
    [activationId, tcapId] = incident.activations.map((a: { id: number }) => a.id);
    const move = (body: object) =>
      ok(send(hub.admin, 'POST', `/v1/crisis/activations/${activationId}/transitions`, body));

    clock(T.assessing);
    await move({ to: 'assessing', reason: 'Video reported by two members' });
    await ok(
      send(hub.admin, 'POST', `/v1/crisis/activations/${tcapId}/transitions`, {
        to: 'assessing',
        reason: 'Manifesto circulating',
      }),
    );
    clock(T.criteria);
    for (const criterion of [
      'ongoing_event',
      'perpetrator_or_accomplice_video',
      'depicts_murder_or_attempt',
      'on_member_platform_or_spread_inevitable',
    ])
      await ok(
        send(memberA.moderator, 'POST', `/v1/crisis/activations/${activationId}/criteria`, {
          criterion,
          met: true,
          evidence: criterion === 'ongoing_event' ? [EVIDENCE] : [],
          note: `checked ${criterion}`,
        }),
      );
    // TCAP activates first, at a tier that shares no hashes (the incident bank opens with GIFCT's activation).
    clock(T.tcapDecision);
    await ok(
      send(hub.admin, 'POST', `/v1/crisis/activations/${tcapId}/criteria`, {
        criterion: 'promotional',
        met: true,
      }),
    );
    await ok(
      send(hub.admin, 'POST', `/v1/crisis/activations/${tcapId}/decisions`, {
        type: 'TIER_4',
        rationale: 'Promotional material; alert platforms without hash sharing.',
        human_rights: HR,
      }),
    );
    clock(T.tcapActivated);
    await ok(
      send(hub.admin, 'POST', `/v1/crisis/activations/${tcapId}/transitions`, {
        to: 'active',
        reason: 'TCAP team triage',
        type: 'TIER_4',
      }),
    );

    clock(T.decisions);
    for (const k of [hub.admin, memberA.moderator])
      await ok(
        send(k, 'POST', `/v1/crisis/activations/${activationId}/decisions`, {
          type: 'CONTENT_INCIDENT_PROTOCOL',
          rationale: RATIONALE,
          human_rights: HR,
        }),
      );
    clock(T.activated);
    const active = (
      await move({ to: 'active', reason: 'Board decision', type: 'CONTENT_INCIDENT_PROTOCOL' })
    ).json();
    const bankId = active.bank_id as number;

    // Hashes into the incident bank; the bank stamps entries with the wall clock, so the test sets their times.
    const [p1, p2] = pdqPair();
    const entryIds: number[] = [];
    for (const value of [p1, p2, pdqPair()[0]]) {
      const r = await ok(
        send(memberA.key, 'POST', `/v1/banks/${bankId}/entries`, { signal_type: 'pdq', value }),
        201,
      );
      entryIds.push(r.json().id);
    }
    const db = t.ctx.database.db;
    for (const [i, id] of entryIds.entries())
      await db
        .updateTable('entries')
        .set({ created_at: i === 0 ? T.firstHash : T.laterHash })
        .where('id', '=', id)
        .execute();

    clock(T.update);
    await ok(
      send(hub.admin, 'POST', `/v1/crisis/incidents/${incidentId}/updates`, {
        text: 'Upload attempts peaking; <b>all</b> members blocking.',
      }),
      201,
    );

    // Notifications (one row per contact) and members' telemetry: the test places them at known times, in place
    // of those the activations sent (crisis-notify.test.ts covers sending them).
    await db.deleteFrom('crisis_notifications').execute();
    const notification = (memberOrgId: number | null, group: string, contact: string, index: number) => ({
      activation_id: activationId,
      member_org_id: memberOrgId,
      recipient_group: group,
      contact_index: index,
      contact,
      token_hash: randomBytes(16).toString('hex'),
      sent_at: T.sent,
      due_at: T.due,
      acked_at: null as string | null,
      ack_via: null as string | null,
      ack_actor: null as string | null,
      late: 0,
      escalated_at: null as string | null,
    });
    await db
      .insertInto('crisis_notifications')
      .values([
        { ...notification(memberA.id, 'members', 'oncall@a.example', 0), acked_at: T.ackA, ack_via: 'link' },
        // Member A's second contact never acknowledged, and was flagged late: A was still in time.
        { ...notification(memberA.id, 'members', 'https://hooks.a.example/crisis', 1), late: 1 },
        {
          ...notification(memberB.id, 'members', 'desk@b.example', 0),
          acked_at: T.ackB,
          ack_via: 'api',
          ack_actor: 'key:99',
          late: 1,
          escalated_at: T.escalatedB,
        },
        notification(observer.id, 'advisory_network', 'iac@example.org', 0),
        // Under TCAP, member B was alerted first and never acknowledged.
        {
          ...notification(memberB.id, 'members', 'desk@b.example', 0),
          activation_id: tcapId,
          sent_at: T.tcapSent,
          due_at: T.tcapDue,
          late: 1,
        },
      ])
      .execute();
    const minute = (iso: string) => iso.slice(0, 16);
    await db
      .insertInto('crisis_telemetry')
      .values([
        {
          incident_id: incidentId,
          member_org_id: memberA.id,
          minute: minute(T.firstBlockA),
          matches: 5,
          blocks: 4,
          first_block_at: T.firstBlockA,
        },
        {
          incident_id: incidentId,
          member_org_id: memberA.id,
          minute: '2026-11-20T03:35',
          matches: 3,
          blocks: 3,
          first_block_at: '2026-11-20T03:35:05.000Z',
        },
        {
          incident_id: incidentId,
          member_org_id: memberB.id,
          minute: '2026-11-20T03:50',
          matches: 2,
          blocks: 0,
          first_block_at: null,
        },
        {
          incident_id: incidentId,
          member_org_id: memberB.id,
          minute: minute(T.firstBlockB),
          matches: 4,
          blocks: 2,
          first_block_at: T.firstBlockB,
        },
      ])
      .execute();

    clock(T.deescalating);
    await move({ to: 'deescalating', reason: 'Upload attempts falling' });
    clock(T.concluded);
    await move({ to: 'concluded', reason: 'Volume down', basis: 'volume_and_impact_decreased' });
  }

  const report = async (k: string, query = '') =>
    (await ok(send(k, 'GET', `/v1/crisis/incidents/${incidentId}/report${query}`))).json();

  it('records findings: only the coordinator adds and changes them', async () => {
    clock(T.findings);
    const url = `/v1/crisis/incidents/${incidentId}/findings`;
    const first = await ok(
      send(hub.admin, 'POST', url, {
        text: 'A second contact of a member never acknowledged',
        owner: 'Secretariat <ops>',
        due_at: '2026-12-15T00:00:00Z',
      }),
      201,
    );
    expect(first.json()).toMatchObject({
      status: 'open',
      owner: 'Secretariat <ops>',
      due: { at: '2026-12-15T00:00:00.000Z', local: '2026-12-15T13:00:00+13:00' },
      created: { at: T.findings },
    });
    const second = await ok(
      send(hub.admin, 'POST', url, { text: 'Escalation path took too long', owner: 'Operating board' }),
      201,
    );
    findingIds = [first.json().id, second.json().id];

    expect((await send(memberA.key, 'POST', url, { text: 'x', owner: 'y' })).statusCode).toBe(403);
    expect((await send(outsider.key, 'POST', url, { text: 'x', owner: 'y' })).statusCode).toBe(404);
    const badDue = await send(hub.admin, 'POST', url, { text: 'x', owner: 'y', due_at: 'next tuesday' });
    expect(badDue.statusCode).toBe(400);

    const patch = (id: number, body: object, k = hub.admin) =>
      send(k, 'PATCH', `/v1/crisis/findings/${id}`, body);
    const done = await ok(patch(findingIds[1], { status: 'done', due_at: null }));
    expect(done.json()).toMatchObject({ status: 'done', due: null, owner: 'Operating board' });
    expect((await patch(findingIds[1], { status: 'closed' })).statusCode).toBe(400);
    expect((await patch(findingIds[1], {})).statusCode).toBe(400);
    expect((await patch(findingIds[1], { status: 'open' }, outsider.key)).statusCode).toBe(404);
    expect((await patch(999_999, { status: 'open' })).statusCode).toBe(404);

    const listed = (await ok(send(memberB.key, 'GET', url))).json().items;
    expect(listed.map((f: { id: number; status: string }) => [f.id, f.status])).toEqual([
      [findingIds[0], 'open'],
      [findingIds[1], 'done'],
    ]);
  });

  it('computes every figure of the full report from the record', async () => {
    const r = await report(hub.admin);
    expect(r.report).toBe('crisis-after-action');
    expect(r.variant).toBe('full');
    expect(r.exercise).toBe(false);
    expect(r.notice).toBeNull();
    expect(r.incident).toMatchObject({
      id: incidentId,
      title: TITLE,
      zone: 'Pacific/Auckland',
      coordinator: { organisation_id: hub.id, name: 'Crisis hub' },
      reported: { at: T.reported, local: '2026-11-20T16:00:00+13:00' },
      occurred: { at: T.occurred },
    });

    // Times: the first activation (TCAP) 12 min after the report and 42 after the event; the first hash 12 min
    // after the first activation that shares hashes (GIFCT's, at 03:20), not after TCAP's.
    expect(r.times).toEqual({
      first_activation: { at: T.tcapActivated, zone: 'Pacific/Auckland', local: '2026-11-20T16:12:00+13:00' },
      activation_after_report_seconds: 720,
      activation_after_occurrence_seconds: 2520,
      hash_sharing_activation: {
        at: T.activated,
        zone: 'Pacific/Auckland',
        local: '2026-11-20T16:20:00+13:00',
      },
      first_hash: expect.objectContaining({ at: T.firstHash, local: '2026-11-20T16:32:00+13:00' }),
      first_hash_after_activation_seconds: 720,
    });

    // The bank numbers are those of the incident record (CrisisService.bankNumbers).
    const record = (await ok(send(hub.admin, 'GET', `/v1/crisis/incidents/${incidentId}`))).json();
    expect(r.bank).toEqual(record.numbers);
    expect(r.bank).toMatchObject({ distinct_items: 2, total_hashes: 3, first_hash_at: T.firstHash });

    const [activation, tcap] = r.activations;
    // TCAP is still live: no duration yet.
    expect(tcap).toMatchObject({
      id: tcapId,
      protocol: { key: 'tcap' },
      type: 'TIER_4',
      hash_sharing: false,
      state: 'active',
      activated: { at: T.tcapActivated },
      concluded: null,
      duration_seconds: null,
      conclusion: null,
    });
    expect(activation).toMatchObject({
      id: activationId,
      protocol: { key: 'gifct-2021' },
      type: 'CONTENT_INCIDENT_PROTOCOL',
      hash_sharing: true,
      state: 'concluded',
      activated: { at: T.activated },
      concluded: { at: T.concluded },
      duration_seconds: 13200,
      conclusion: { basis: 'volume_and_impact_decreased', text: null },
    });
    expect(activation.criteria).toHaveLength(4);
    expect(activation.criteria[0]).toMatchObject({ met: true, evidence: [EVIDENCE], evidence_count: 1 });
    expect(activation.decisions.map((d: { organisation: { name: string } }) => d.organisation.name)).toEqual([
      'Crisis hub',
      'Member A',
    ]);
    expect(activation.decisions[0]).toMatchObject({
      rationale: RATIONALE,
      human_rights: HR,
      decided: { at: T.decisions },
    });

    // Per member: notification, acknowledgement, delay, lateness, first block and its delay after the first hash.
    const byName = Object.fromEntries(r.members.map((m: { name: string }) => [m.name, m]));
    expect(Object.keys(byName)).toEqual(['Member A', 'Member B', 'Member C']);
    expect(byName['Member A']).toMatchObject({
      organisation_id: memberA.id,
      matches: 8,
      blocks: 7,
      first_block: { at: T.firstBlockA },
      first_block_after_first_hash_seconds: 130,
    });
    expect(byName['Member A'].notifications).toEqual([
      expect.objectContaining({
        group: 'members',
        contacts: 2,
        sent: expect.objectContaining({ at: T.sent }),
        due: expect.objectContaining({ at: T.due }),
        acked: expect.objectContaining({ at: T.ackA }),
        ack_delay_seconds: 480,
        late: false,
        escalated: null,
        ack_via: 'link',
      }),
    ]);
    expect(byName['Member B']).toMatchObject({
      matches: 6,
      blocks: 2,
      first_block: { at: T.firstBlockB },
      first_block_after_first_hash_seconds: 1380,
    });
    // Member B: first alerted under TCAP (never acknowledged, late), then under GIFCT (acknowledged late).
    expect(byName['Member B'].notifications).toEqual([
      expect.objectContaining({
        activation_id: tcapId,
        protocol: 'tcap',
        sent: expect.objectContaining({ at: T.tcapSent }),
        acked: null,
        ack_delay_seconds: null,
        late: true,
        escalated: null,
      }),
      expect.objectContaining({
        activation_id: activationId,
        protocol: 'gifct-2021',
        contacts: 1,
        ack_delay_seconds: 2700,
        late: true,
        escalated: expect.objectContaining({ at: T.escalatedB }),
        acked_by: 'key:99',
        ack_via: 'api',
      }),
    ]);
    expect(byName['Member C']).toMatchObject({
      notifications: [],
      matches: 0,
      blocks: 0,
      first_block: null,
      first_block_after_first_hash_seconds: null,
    });

    // Matches prevented = the sum of every block members reported.
    expect(r.impact).toEqual({
      matches: 14,
      matches_prevented: 9,
      members_reporting: 2,
      members_blocking: 2,
    });
    expect(r.members_summary).toMatchObject({
      members: 3,
      notified: 2,
      acknowledged: 1,
      not_acknowledged: 1,
      late: 1,
      escalated: 1,
      // Each member's first notification: A's after 480 s, B's (TCAP) never.
      ack_delay_seconds: { count: 1, min: 480, median: 480, max: 480 },
      first_block_after_first_hash_seconds: { count: 2, min: 130, median: 755, max: 1380 },
    });
    expect(r.members_summary.ack_delay_distribution).toEqual({
      '0-15 min': 1,
      '15-30 min': 0,
      '30-60 min': 0,
      '1-2 h': 0,
      '2-6 h': 0,
      'over 6 h': 0,
      'not acknowledged': 1,
    });
    expect(r.members_summary.first_block_distribution).toMatchObject({
      '0-15 min': 1,
      '15-30 min': 1,
      'no block reported': 1,
      'before the first hash': 0,
    });
    expect(r.notifications_by_group).toEqual({
      members: { recipients: 2, notifications: 3, acknowledged: 2, late: 2, escalated: 1 },
      advisory_network: { recipients: 1, notifications: 1, acknowledged: 0, late: 0, escalated: 0 },
    });

    // Findings: the open one first, with its owner.
    expect(r.findings.open).toBe(1);
    expect(r.findings.done).toBe(1);
    expect(r.findings.items.map((f: { id: number; owner: string }) => [f.id, f.owner])).toEqual([
      [findingIds[0], 'Secretariat <ops>'],
      [findingIds[1], 'Operating board'],
    ]);
  });

  it('orders the timeline by time, in the incident zone, from occurrence to conclusion', async () => {
    const { timeline } = await report(hub.admin);
    const times = timeline.map((e: { at: string }) => e.at);
    expect(times).toEqual([...times].sort());
    expect(timeline[0]).toMatchObject({
      kind: 'occurred',
      at: T.occurred,
      local: '2026-11-20T15:30:00+13:00',
    });
    expect(timeline.at(-1)).toMatchObject({
      kind: 'transition',
      to: 'concluded',
      what: expect.stringContaining('volume_and_impact_decreased'),
      text: 'Volume down',
    });
    const kinds = (kind: string) => timeline.filter((e: { kind: string }) => e.kind === kind);
    const moves = (id: number) =>
      kinds('transition')
        .filter((e: { activation_id: number }) => e.activation_id === id)
        .map((e: { to: string; at: string }) => [e.to, e.at]);
    expect(moves(activationId)).toEqual([
      ['awareness', T.reported],
      ['assessing', T.assessing],
      ['active', T.activated],
      ['deescalating', T.deescalating],
      ['concluded', T.concluded],
    ]);
    expect(moves(tcapId)).toEqual([
      ['awareness', T.reported],
      ['assessing', T.assessing],
      ['active', T.tcapActivated],
    ]);
    expect(kinds('criterion')).toHaveLength(5);
    expect(
      kinds('decision')
        .filter((e: { activation_id: number }) => e.activation_id === activationId)
        .map((e: { text: string }) => e.text),
    ).toEqual([RATIONALE, RATIONALE]);
    expect(kinds('update')).toHaveLength(1);
    expect(
      kinds('notification_sent').map((e: { at: string; protocol: string }) => [e.at, e.protocol]),
    ).toEqual([
      [T.tcapSent, 'tcap'],
      [T.sent, 'gifct-2021'],
      [T.sent, 'gifct-2021'],
      [T.sent, 'gifct-2021'],
    ]);
    expect(kinds('notification_acked').map((e: { at: string; what: string }) => [e.at, e.what])).toEqual([
      [T.ackA, 'Acknowledged (members)'],
      [T.ackB, 'Acknowledged (members), late'],
    ]);
    expect(kinds('notification_escalated')).toEqual([
      expect.objectContaining({ at: T.escalatedB, organisation: { id: memberB.id, name: 'Member B' } }),
    ]);
    expect(kinds('first_hash').map((e: { at: string }) => e.at)).toEqual([T.firstHash]);
    expect(kinds('first_block').map((e: { at: string }) => e.at)).toEqual([T.firstBlockA, T.firstBlockB]);
  });

  it('gives a public summary without member names, ids, contacts, actors or evidence', async () => {
    // Observers get the public variant by default and cannot ask for the full one.
    const res = await ok(send(observer.key, 'GET', `/v1/crisis/incidents/${incidentId}/report`));
    const denied = await send(observer.key, 'GET', `/v1/crisis/incidents/${incidentId}/report?variant=full`);
    expect(denied.statusCode).toBe(403);
    expect(denied.json().code).toBe('KAI_ERR_REPORT_VARIANT');
    // A participant may ask for it too; it is the same document.
    const asMember = await ok(
      send(memberB.key, 'GET', `/v1/crisis/incidents/${incidentId}/report?variant=public`),
    );
    const pub = res.json();
    expect(pub.variant).toBe('public');
    expect(asMember.json()).toEqual(pub);

    for (const secret of [
      'Member A',
      'Member B',
      'Member C',
      'Advisory network',
      'oncall@a.example',
      'hooks.a.example',
      'desk@b.example',
      'iac@example.org',
      EVIDENCE,
      'key:99',
      'Secretariat <ops>',
    ])
      expect(res.body).not.toContain(secret);
    expect(pub.members).toBeUndefined();
    const forbidden = [
      'organisation',
      'organisation_id',
      'actor',
      'evidence',
      'owner',
      'acked_by',
      'ack_via',
    ];
    const leaks = keysOf(pub).filter(
      (k) => forbidden.includes(k.split('.').at(-1)!) && k !== 'incident.coordinator.organisation_id',
    );
    expect(leaks).toEqual([]);
    expect(keysOf(pub)).toContain('incident.coordinator.organisation_id');

    // The same numbers, as counts and distributions.
    const full = await report(hub.admin);
    for (const field of ['times', 'bank', 'impact', 'members_summary', 'notifications_by_group'] as const)
      expect(pub[field]).toEqual(full[field]);
    expect(pub.activations).toHaveLength(2);
    expect(pub.activations[0]).toMatchObject({
      duration_seconds: 13200,
      conclusion: full.activations[0].conclusion,
    });
    expect(pub.activations[0].decisions[0]).toEqual({
      type: 'CONTENT_INCIDENT_PROTOCOL',
      role: expect.any(String),
      rationale: RATIONALE,
      human_rights: HR,
      decided: full.activations[0].decisions[0].decided,
    });
    expect(pub.activations[0].criteria[0]).toMatchObject({ evidence_count: 1 });
    expect(pub.findings).toEqual({
      open: 1,
      done: 1,
      items: full.findings.items.map(({ text, status, due, created }: Record<string, unknown>) => ({
        text,
        status,
        due,
        created,
      })),
    });
    expect(pub.timeline.map((e: { at: string }) => e.at)).toEqual(
      full.timeline.map((e: { at: string }) => e.at),
    );

    // Outside the network there is no report at all.
    expect((await send(outsider.key, 'GET', `/v1/crisis/incidents/${incidentId}/report`)).statusCode).toBe(
      404,
    );
  });

  it('renders a printable page with SVG charts, escaping every recorded text', async () => {
    const res = await ok(send(hub.admin, 'GET', `/v1/crisis/incidents/${incidentId}/report.html`));
    expect(res.headers['content-type']).toMatch(/^text\/html/);
    expect(res.headers['content-security-policy']).toContain("default-src 'none'");
    const html = res.body;
    expect(html.startsWith('<!doctype html>')).toBe(true);
    expect(html).toContain(
      '<title>After-action report: Attack &lt;script&gt;alert(1)&lt;/script&gt; &amp; &quot;stream&quot;</title>',
    );
    expect(html).not.toContain('<script');
    expect(html).toContain('&lt;b&gt;all&lt;/b&gt;');
    expect(html).toContain('Secretariat &lt;ops&gt;');
    expect(html).toContain('@media print');
    expect(html.match(/<svg /g)).toHaveLength(2);
    expect(html).toContain('aria-label="Timeline of the incident"');
    expect(html).toContain('Member A');
    expect(html).toContain('16:20:00+13:00');
    expect(html).toContain('<th>Time to activation (from report)</th><td>12 min</td>');
    expect(html).toContain('<th>Time to activation (from occurrence)</th><td>42 min</td>');
    expect(html).toContain('<th>Time to first hash (from hash-sharing activation)</th><td>12 min</td>');
    expect(html).toContain('3 h 40 min'); // activation → conclusion
    expect(html.match(/<figure>/g)!.length).toBe(html.match(/<\/figure>/g)!.length);
    expect(html.trimEnd().endsWith('</html>')).toBe(true);

    const pub = await ok(send(observer.key, 'GET', `/v1/crisis/incidents/${incidentId}/report.html`));
    expect(pub.body).toContain('public summary');
    expect(pub.body.match(/<svg /g)).toHaveLength(2);
    for (const secret of ['Member A', 'Member B', 'oncall@a.example', EVIDENCE])
      expect(pub.body).not.toContain(secret);
  });

  it('marks an exercise on the report and on every printed page', async () => {
    clock('2026-11-21T00:00:00.000Z');
    const drill = (
      await ok(
        send(hub.admin, 'POST', '/v1/crisis/incidents', {
          title: 'Tabletop drill',
          exercise: true,
          protocols: ['gifct-2021'],
        }),
        201,
      )
    ).json();
    expect((await report(hub.admin)).exercise).toBe(false); // the real incident stays a real incident
    const json = (await ok(send(hub.admin, 'GET', `/v1/crisis/incidents/${drill.id}/report`))).json();
    expect(json).toMatchObject({ exercise: true, notice: expect.stringContaining('EXERCISE') });
    expect(json.times.first_activation).toBeNull();
    expect(json.findings).toEqual({ open: 0, done: 0, items: [] });
    const html = (await ok(send(observer.key, 'GET', `/v1/crisis/incidents/${drill.id}/report.html`))).body;
    expect(html).toContain('<title>After-action report: Tabletop drill (EXERCISE)</title>');
    expect(html).toMatch(/@page\{@top-center\{content:"EXERCISE/);
    expect(html).toMatch(/@media print\{\.exercise\{position:fixed/);
    expect(html).toContain('class="exercise"');
  });
});
