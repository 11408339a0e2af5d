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

/** A PDQ hash and one a few bits away (the same picture re-encoded). */
function pdqPair(): [string, string] {
  const a = randomBytes(32);
  const b = Buffer.from(a);
  b[0] ^= 0b111;
  return [a.toString('hex'), b.toString('hex')];
}

describe.each(TEST_DIALECTS)('crisis incidents and activations (%s)', (dialect) => {
  let t: TestApp;
  let hub: { id: number; admin: string; second: string };
  let memberA: { id: number; key: string; moderator: string };
  let memberB: { id: number; key: string };
  let observer: { id: number; key: string };
  let outsider: { id: number; key: string };
  let incidentId: number;
  let gifct: number;
  let tcap: number;

  const send = (key: string, method: 'GET' | 'POST' | 'PUT' | 'DELETE', url: string, payload?: object) =>
    t.app.inject({ method, url, headers: bearer(key), ...(payload ? { payload } : {}) });
  const key = async (orgId: number, role: string) =>
    (await t.ctx.apiKeys.create(orgId, { name: `${role}-${Math.random()}`, role })).key;

  beforeAll(async () => {
    t = await startTestApp(dialect);
    const hubOrg = await t.ctx.organisations.create('Crisis hub', 'hub');
    hub = { id: hubOrg.id, admin: await key(hubOrg.id, 'admin'), second: await key(hubOrg.id, 'admin') };
    const a = await t.organisation('Member A', 'integration');
    memberA = { ...a, moderator: await key(a.id, 'moderator') };
    memberB = await t.organisation('Member B', 'integration');
    const obs = await t.ctx.organisations.create('Advisory network', 'civil-society');
    observer = { id: obs.id, key: await key(obs.id, 'observer') };
    outsider = await t.organisation('Not in the network', 'admin');
    const join = (orgId: number, body: object) =>
      send(hub.admin, 'PUT', `/v1/crisis/participants/${orgId}`, body);
    const ok = (r: { statusCode: number; body: string }) => expect(r.statusCode, r.body).toBe(200);
    ok(
      await join(hub.id, {
        groups: [],
        roles: ['operating_board', 'secretariat', 'tcap_team'],
        contacts: [],
        accepts_incident_banks: false,
      }),
    );
    ok(
      await join(memberA.id, {
        groups: ['members'],
        roles: ['operating_board', 'member'],
        contacts: [{ name: 'A on call', email: 'oncall@a.example' }],
        accepts_incident_banks: true,
        incident_policy: 'block',
      }),
    );
    ok(
      await join(memberB.id, {
        groups: ['members'],
        roles: ['member'],
        contacts: [{ name: 'B desk', email: 'desk@b.example' }],
        accepts_incident_banks: false,
      }),
    );
    ok(
      await join(observer.id, {
        groups: ['advisory_network'],
        roles: ['advisory_committee'],
        contacts: [{ name: 'IAC', email: 'iac@example.org' }],
        accepts_incident_banks: false,
      }),
    );
  });
  afterAll(() => t?.close());

  it('ships the protocol presets, and a blank template that cannot be used until filled in', async () => {
    const res = await send(hub.admin, 'GET', '/v1/crisis/protocols');
    expect(res.statusCode).toBe(200);
    const items = res.json().items as {
      key: string;
      usable: boolean;
      unusable_because: string | null;
      definition: { types: { key: string }[] };
    }[];
    expect(items.map((p) => p.key).sort()).toEqual(['blank', 'gifct-2021', 'gifct-2025', 'nz-dia', 'tcap']);
    expect(items.find((p) => p.key === 'gifct-2021')!.definition.types.map((t) => t.key)).toEqual([
      'INCIDENT',
      'CONTENT_INCIDENT',
      'CONTENT_INCIDENT_PROTOCOL',
    ]);
    expect(items.find((p) => p.key === 'tcap')!.definition.types).toHaveLength(4);
    const blank = items.find((p) => p.key === 'blank')!;
    expect(blank.usable).toBe(false);
    const refused = await send(hub.admin, 'POST', '/v1/crisis/incidents', {
      title: 'x',
      protocols: ['blank'],
    });
    expect(refused.statusCode).toBe(400);
    expect(refused.json().code).toBe('KAI_ERR_CRISIS_PROTOCOL_UNUSABLE');
  });

  it('reports an incident assessed under two protocols at once, each activation in awareness', async () => {
    const res = await send(hub.admin, 'POST', '/v1/crisis/incidents', {
      title: 'Attack streamed live',
      summary: 'A livestream of an attack is circulating.',
      zone: 'Pacific/Auckland',
      countries: ['NZ'],
      occurred_at: '2026-12-03T01:40:00Z',
      protocols: ['gifct-2021', 'tcap'],
    });
    expect(res.statusCode, res.body).toBe(201);
    const incident = res.json();
    incidentId = incident.id;
    expect(incident.activations.map((a: { protocol: { key: string } }) => a.protocol.key)).toEqual([
      'gifct-2021',
      'tcap',
    ]);
    expect(incident.activations.every((a: { state: string }) => a.state === 'awareness')).toBe(true);
    // Local time with the zone's offset (NZDT is UTC+13 in December).
    expect(incident.occurred.local).toBe('2026-12-03T14:40:00+13:00');
    [gifct, tcap] = incident.activations.map((a: { id: number }) => a.id);
  });

  it('refuses transitions out of order with 409 naming the states allowed next', async () => {
    const res = await send(hub.admin, 'POST', `/v1/crisis/activations/${gifct}/transitions`, {
      to: 'active',
      reason: 'skip ahead',
      type: 'CONTENT_INCIDENT_PROTOCOL',
    });
    expect(res.statusCode).toBe(409);
    expect(res.json().code).toBe('KAI_ERR_TRANSITION');
    expect(res.json().detail).toContain('assessing, not_activated');
    const bad = await send(hub.admin, 'POST', `/v1/crisis/activations/${gifct}/transitions`, {
      to: 'exploded',
      reason: 'no such',
    });
    expect(bad.statusCode).toBe(400);
  });

  it('lets only the coordinator move activations, and only participants see the incident', async () => {
    const res = await send(memberA.moderator, 'POST', `/v1/crisis/activations/${gifct}/transitions`, {
      to: 'assessing',
      reason: 'I am a member, not the coordinator',
    });
    expect(res.statusCode).toBe(403);
    expect((await send(outsider.key, 'GET', `/v1/crisis/incidents/${incidentId}`)).statusCode).toBe(404);
    expect((await send(outsider.key, 'GET', '/v1/crisis/incidents')).json().items).toEqual([]);
    expect(
      (await send(memberB.key, 'GET', '/v1/crisis/incidents')).json().items.map((i: { id: number }) => i.id),
    ).toEqual([incidentId]);
  });

  it('activates only with every criterion met and decisions by two distinct deciders', async () => {
    const move = (id: number, body: object) =>
      send(hub.admin, 'POST', `/v1/crisis/activations/${id}/transitions`, body);
    expect((await move(gifct, { to: 'assessing', reason: 'Video reported by two members' })).statusCode).toBe(
      200,
    );
    const criteria = ['ongoing_event', 'perpetrator_or_accomplice_video', 'depicts_murder_or_attempt'];
    for (const criterion of criteria) {
      const r = await send(memberA.moderator, 'POST', `/v1/crisis/activations/${gifct}/criteria`, {
        criterion,
        met: true,
        evidence: [`case:${criterion}`],
      });
      expect(r.statusCode, r.body).toBe(200);
    }
    const unknown = await send(memberA.moderator, 'POST', `/v1/crisis/activations/${gifct}/criteria`, {
      criterion: 'vibes',
      met: true,
    });
    expect(unknown.statusCode).toBe(400);

    const activate = { to: 'active', reason: 'Board decision', type: 'CONTENT_INCIDENT_PROTOCOL' };
    let res = await move(gifct, activate);
    expect(res.statusCode).toBe(409);
    expect(res.json().code).toBe('KAI_ERR_CRITERIA_UNMET');
    expect(res.json().detail).toContain('on_member_platform_or_spread_inevitable');
    await send(hub.admin, 'POST', `/v1/crisis/activations/${gifct}/criteria`, {
      criterion: 'on_member_platform_or_spread_inevitable',
      met: true,
      evidence: ['https://video.example/watch/1'],
    });

    res = await move(gifct, activate);
    expect(res.statusCode).toBe(409);
    expect(res.json().code).toBe('KAI_ERR_DECIDERS_MISSING');

    const decide = (k: string, body: object = {}) =>
      send(k, 'POST', `/v1/crisis/activations/${gifct}/decisions`, {
        type: 'CONTENT_INCIDENT_PROTOCOL',
        rationale: 'All four criteria met; the video is spreading.',
        human_rights: HR,
        ...body,
      });
    // Member B holds no deciding role; bystander content needs an explicit decision text.
    expect((await decide(memberB.key)).statusCode).toBe(403);
    const bystander = await decide(hub.admin, { human_rights: { ...HR, bystander_content: true } });
    expect(bystander.statusCode).toBe(400);
    expect(bystander.json().code).toBe('KAI_ERR_CRISIS_HUMAN_RIGHTS');

    expect((await decide(hub.admin)).statusCode).toBe(200);
    res = await move(gifct, activate);
    expect(res.statusCode).toBe(409); // one person cannot activate alone
    expect(res.json().detail).toContain('1 recorded');
    expect((await decide(hub.admin)).statusCode).toBe(200); // the same person twice is still one
    expect((await move(gifct, activate)).statusCode).toBe(409);
    expect((await decide(memberA.moderator)).statusCode).toBe(200);

    res = await move(gifct, { ...activate, zone: 'Europe/Berlin' });
    expect(res.statusCode, res.body).toBe(200);
    const activation = res.json().activations[0];
    expect(activation.state).toBe('active');
    expect(activation.type).toBe('CONTENT_INCIDENT_PROTOCOL');
    expect(activation.human_rights).toHaveLength(3);
    const last = activation.transitions.at(-1);
    expect(last).toMatchObject({
      from: 'assessing',
      to: 'active',
      actor: expect.stringMatching(/^key:/),
      zone: 'Europe/Berlin',
    });
    expect(last.local).toMatch(/\+01:00$/);
    expect(res.json().bank_id).toEqual(expect.any(Number));
  });

  it('opens the incident bank: offered to every member, accepted for those with standing consent', async () => {
    const incident = (await send(hub.admin, 'GET', `/v1/crisis/incidents/${incidentId}`)).json();
    const bankId = incident.bank_id as number;
    type Incoming = { bank_id: number; status: string; policy: string | null; can_contribute: boolean };
    const incomingA = (await send(memberA.key, 'GET', '/v1/shares/incoming')).json().items as Incoming[];
    const incomingB = (await send(memberB.key, 'GET', '/v1/shares/incoming')).json().items as Incoming[];
    expect(incomingA.find((s) => s.bank_id === bankId)).toMatchObject({
      status: 'accepted',
      policy: 'block',
      can_contribute: true,
    });
    expect(incomingB.find((s) => s.bank_id === bankId)).toMatchObject({ status: 'offered', policy: null });

    // A member contributes: the entry carries the incident's dedicated label and crisis-active whatever it gave.
    const [p1, p2] = pdqPair();
    const [q1] = pdqPair();
    for (const value of [p1, p2, q1]) {
      const r = await send(memberA.key, 'POST', `/v1/banks/${bankId}/entries`, {
        signal_type: 'pdq',
        value,
        labels: ['video'],
      });
      expect(r.statusCode, r.body).toBe(201);
      expect(r.json().labels.sort()).toEqual(['crisis-active', `incident:${incidentId}`, 'video']);
    }
    const numbers = (await send(hub.admin, 'GET', `/v1/crisis/incidents/${incidentId}`)).json().numbers;
    expect(numbers).toMatchObject({ total_hashes: 3, distinct_items: 2, added_after_conclusion: 0 });
  });

  it('shows observers the process, decisions and human-rights notes, never evidence or the bank', async () => {
    const res = await send(observer.key, 'GET', `/v1/crisis/incidents/${incidentId}`);
    expect(res.statusCode).toBe(200);
    const view = res.json();
    expect(view.bank_id).toBeNull();
    expect(view.numbers.total_hashes).toBe(3);
    const activation = view.activations[0];
    expect(activation.decisions[0].human_rights.necessity).toBe(HR.necessity);
    expect(
      activation.criteria.every(
        (c: { evidence: unknown; evidence_count: number }) => c.evidence === null && c.evidence_count === 1,
      ),
    ).toBe(true);
    expect(res.body).not.toContain('video.example');
    // Participants with crisis:read see the evidence references.
    const member = (await send(memberA.key, 'GET', `/v1/crisis/incidents/${incidentId}`)).json();
    expect(member.activations[0].criteria.at(-1).evidence).toEqual(['https://video.example/watch/1']);
    // And an observer cannot act.
    expect(
      (
        await send(observer.key, 'POST', `/v1/crisis/activations/${gifct}/criteria`, {
          criterion: 'ongoing_event',
          met: true,
        })
      ).statusCode,
    ).toBe(403);
  });

  it('gives an observer nothing outside the crisis record, on every route of the API', async () => {
    const spec = t.app.swagger() as { paths: Record<string, Record<string, unknown>> };
    const reachable = async (method: string, path: string, headers: Record<string, string>) => {
      const url = path.replace(/\{[^}]+\}/g, (m) =>
        m === '{key}'
          ? 'gifct-2021'
          : m === '{id}' && path.startsWith('/v1/crisis/incidents')
            ? String(incidentId)
            : '1',
      );
      const res = await t.app.inject({
        method: method.toUpperCase() as 'GET',
        url,
        headers,
        ...(method === 'get' ? {} : { payload: {} }),
      });
      return res.statusCode < 300;
    };
    const reached: string[] = [];
    for (const [path, methods] of Object.entries(spec.paths))
      for (const method of Object.keys(methods)) {
        // Public routes (health, status, published schemas) answer anyone; they are not the observer's reach.
        if (await reachable(method, path, {})) continue;
        if (await reachable(method, path, bearer(observer.key)))
          reached.push(`${method.toUpperCase()} ${path}`);
      }
    const own = ['GET /v1/me', 'DELETE /v1/session'];
    expect(reached.filter((r) => !r.startsWith('GET /v1/crisis/') && !own.includes(r))).toEqual([]);
    expect(reached).toContain('GET /v1/crisis/incidents/{id}');
  });

  it('concludes only with a basis, drops crisis-active and marks hashes added afterwards', async () => {
    const bankId = (await send(hub.admin, 'GET', `/v1/crisis/incidents/${incidentId}`)).json()
      .bank_id as number;
    const move = (body: object) =>
      send(hub.admin, 'POST', `/v1/crisis/activations/${gifct}/transitions`, body);
    expect((await move({ to: 'deescalating', reason: 'Upload attempts falling' })).statusCode).toBe(200);
    const noBasis = await move({ to: 'concluded', reason: 'Quiet now' });
    expect(noBasis.statusCode).toBe(400);
    expect(noBasis.json().code).toBe('KAI_ERR_CONCLUSION_BASIS');
    expect((await move({ to: 'concluded', reason: 'Quiet', basis: 'other' })).statusCode).toBe(400);
    // The TCAP activation never went live: only the GIFCT one decides what the bank says.
    const res = await move({
      to: 'concluded',
      reason: 'Members report few re-uploads',
      basis: 'member_feedback_low_reupload_attempts',
    });
    expect(res.statusCode, res.body).toBe(200);
    expect(res.json().activations[0].conclusion).toEqual({
      basis: 'member_feedback_low_reupload_attempts',
      text: null,
    });

    const entries = (await send(hub.admin, 'GET', `/v1/banks/${bankId}/entries`)).json().items as {
      labels: string[];
    }[];
    expect(
      entries.every(
        (e) => !e.labels.includes('crisis-active') && e.labels.includes(`incident:${incidentId}`),
      ),
    ).toBe(true);
    const late = await send(memberA.key, 'POST', `/v1/banks/${bankId}/entries`, {
      signal_type: 'md5',
      value: 'a'.repeat(32),
    });
    expect(late.statusCode, late.body).toBe(201);
    expect(late.json().labels.sort()).toEqual(['after-conclusion', `incident:${incidentId}`]);
    const numbers = (await send(hub.admin, 'GET', `/v1/crisis/incidents/${incidentId}`)).json().numbers;
    expect(numbers).toMatchObject({ total_hashes: 4, distinct_items: 3, added_after_conclusion: 1 });
    expect((await move({ to: 'debriefed', reason: 'Debrief held' })).statusCode).toBe(200);
    expect((await move({ to: 'active', reason: 'again?' })).json().detail).toContain('nowhere (final)');
  });

  it('closes an activation as not activated with its reason', async () => {
    const move = (body: object) =>
      send(hub.admin, 'POST', `/v1/crisis/activations/${tcap}/transitions`, body);
    const res = await move({
      to: 'not_activated',
      reason: 'Low virality, no livestream (hashes shared as usual)',
    });
    expect(res.statusCode).toBe(200);
    expect(res.json().activations[1]).toMatchObject({
      state: 'not_activated',
      not_activated_reason: expect.stringContaining('Low virality'),
    });
  });

  it('makes a new protocol version on edit; an incident keeps the version it was activated under', async () => {
    const current = (await send(hub.admin, 'GET', '/v1/crisis/protocols'))
      .json()
      .items.find((p: { key: string }) => p.key === 'gifct-2021');
    const edited = { ...current.definition, ack_minutes: 15 };
    const res = await send(hub.admin, 'POST', '/v1/crisis/protocols', edited);
    expect(res.statusCode, res.body).toBe(201);
    expect(res.json().version).toBe(current.version + 1);
    const versions = (await send(hub.admin, 'GET', '/v1/crisis/protocols/gifct-2021/versions')).json().items;
    expect(versions.map((v: { version: number }) => v.version)).toEqual([
      current.version,
      current.version + 1,
    ]);
    const incident = (await send(hub.admin, 'GET', `/v1/crisis/incidents/${incidentId}`)).json();
    expect(incident.activations[0].protocol.version).toBe(current.version);
    // Another organisation still sees the preset, not the hub's edit.
    const other = (await send(outsider.key, 'GET', '/v1/crisis/protocols'))
      .json()
      .items.find((p: { key: string }) => p.key === 'gifct-2021');
    expect(other.version).toBe(current.version);
    const invalid = await send(hub.admin, 'POST', '/v1/crisis/protocols', {
      ...edited,
      activation: { decider_roles: ['nobody'], min_deciders: 1 },
    });
    expect(invalid.statusCode).toBe(400);
    expect(invalid.json().detail).toContain('"nobody" is not one of the protocol\'s roles');
  });
});
