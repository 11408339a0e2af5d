import { randomBytes } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { verifySignature } from '../../src/actions/webhooks.js';
import { readConfig } from '../../src/config/config.js';
import { verifyRecord } from '../../src/sharing/signing.js';
import { bearer, startTestApp, type TestApp } from '../helpers/app.js';
import { TEST_DIALECTS } from '../helpers/databases.js';
import { startFixtureServer, type FixtureServer } from '../helpers/fixture-server.js';
import { decodeQuotedPrintable, startSmtpFixture, type SmtpFixture } from '../helpers/smtp-fixture.js';

const HR = {
  necessity: 'The attack video is spreading on member platforms.',
  proportionality: 'Notify and offer resources; no removal is decided here.',
  scope: 'Perpetrator-produced content only.',
  bystander_content: false,
};

/** A protocol that activates with one criterion and one decider, so the test is about notification. */
const PROTOCOL = {
  key: 'notify-drill',
  name: 'Notification drill',
  description: 'One type that tells members and the advisory network.',
  roles: [{ key: 'secretariat', label: 'Secretariat' }],
  types: [
    {
      key: 'ALERT',
      label: 'Alert',
      criteria: [{ key: 'ongoing_event', label: 'An ongoing event' }],
      hash_sharing: false,
      notify: ['members', 'advisory_network'],
    },
  ],
  activation: { decider_roles: ['secretariat'], min_deciders: 1 },
  ack_minutes: 30,
  review_after_hours: 24,
  sections: {
    parameters: 'p',
    roles_and_measures: 'r',
    activation_procedure: 'a',
    duration: 'd',
    safeguards: 's',
    public_reporting: 'pr',
  },
};

const MINUTE = 60_000;

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
  });
}

type Received = { raw: string; headers: IncomingMessage['headers'] };

describe.each(TEST_DIALECTS)('crisis notifications, acknowledgement, resources (%s)', (dialect) => {
  let t: TestApp;
  let receiver: FixtureServer;
  let smtp: SmtpFixture;
  const received = new Map<string, Received[]>();
  let hub: { id: number; admin: string };
  let memberA: { id: number; key: string; admin: string };
  let memberB: { id: number; key: string };
  let observer: { id: number; key: string };
  let otherNetwork: { id: number; key: string };
  let hookSecret: string;
  let incidentId: number;
  let activationId: number;
  let activatedAt: number;

  const send = (key: string, method: 'GET' | 'POST' | 'PUT', url: string, payload?: object) =>
    t.app.inject({ method, url, headers: bearer(key), ...(payload ? { payload } : {}) });
  const key = async (orgId: number, role: string) =>
    (await t.ctx.apiKeys.create(orgId, { name: `${role}-${Math.random()}`, role })).key;
  /** The escalation job, as the runner runs it (under its lease), at the time the test set. */
  const escalate = () => t.ctx.jobs.kick('crisis-escalation');
  const hookUrl = (path: string) => `${receiver.base}${path}`;
  /** The requests a receiver path got, once `count` of them have arrived (the outbox delivers after commit). */
  async function deliveries(path: string, count = 1): Promise<Received[]> {
    for (let i = 0; i < 200 && (received.get(path)?.length ?? 0) < count; i++) {
      await t.ctx.deliverer.runOnce();
      await new Promise((r) => setTimeout(r, 25));
    }
    const got = received.get(path) ?? [];
    expect(got.length, `deliveries to ${path}`).toBeGreaterThanOrEqual(count);
    return got;
  }
  type Row = {
    id: number;
    organisation_id: number;
    contact_index: number;
    contact: { name: string; webhook_url?: string; email?: string };
    sent: { at: string };
    due: { at: string };
    acked: { at: string } | null;
    via: string | null;
    late: boolean;
    escalated: { at: string } | null;
    delivery: { status: string; attempts: number; error: string | null };
  };
  const list = async (k: string) => {
    const res = await send(k, 'GET', `/v1/crisis/incidents/${incidentId}/notifications`);
    expect(res.statusCode, res.body).toBe(200);
    return res.json().items as Row[];
  };

  beforeAll(async () => {
    receiver = await startFixtureServer();
    for (const path of ['/a0', '/a1', '/b0', '/obs0', '/hook-a'])
      receiver.on(path, (req, res) => {
        void readBody(req).then((raw) => {
          received.set(path, [...(received.get(path) ?? []), { raw, headers: req.headers }]);
          res.writeHead(204).end();
        });
      });
    smtp = await startSmtpFixture();
    t = await startTestApp(dialect, {
      KAITIAKI_SMTP_URL: smtp.url,
      KAITIAKI_MAIL_FROM: 'hub@hub.example',
      KAITIAKI_PUBLIC_URL: 'https://hub.example/',
    });
    const hubOrg = await t.ctx.organisations.create('Crisis hub', 'hub');
    hub = { id: hubOrg.id, admin: await key(hubOrg.id, 'admin') };
    const a = await t.organisation('Member A', 'integration');
    memberA = { ...a, admin: await key(a.id, 'admin') };
    memberB = await t.organisation('Member B', 'integration');
    const obs = await t.ctx.organisations.create('Advisory network', 'civil-society');
    observer = { id: obs.id, key: await key(obs.id, 'observer') };
    // A participant of another coordinator's network.
    const otherHub = await t.ctx.organisations.create('Other hub', 'hub');
    const otherHubKey = await key(otherHub.id, 'admin');
    otherNetwork = await t.organisation('Member of the other network', 'integration');

    const join = async (k: string, orgId: number, body: object) => {
      const r = await send(k, 'PUT', `/v1/crisis/participants/${orgId}`, body);
      expect(r.statusCode, r.body).toBe(200);
    };
    await join(hub.admin, hub.id, {
      groups: [],
      roles: ['secretariat'],
      contacts: [],
      accepts_incident_banks: false,
    });
    await join(hub.admin, memberA.id, {
      groups: ['members'],
      roles: [],
      contacts: [
        { name: 'A on call', webhook_url: hookUrl('/a0') },
        { name: 'A deputy', webhook_url: hookUrl('/a1'), email: 'deputy@a.example' },
      ],
      accepts_incident_banks: false,
    });
    await join(hub.admin, memberB.id, {
      groups: ['members'],
      roles: [],
      contacts: [{ name: 'B desk', email: 'desk@b.example' }],
      accepts_incident_banks: false,
    });
    await join(hub.admin, observer.id, {
      groups: ['advisory_network'],
      roles: [],
      contacts: [{ name: 'IAC', webhook_url: hookUrl('/obs0'), email: 'iac@example.org' }],
      accepts_incident_banks: false,
    });
    await join(otherHubKey, otherNetwork.id, {
      groups: ['members'],
      roles: [],
      contacts: [{ name: 'C', email: 'c@example.org' }],
      accepts_incident_banks: false,
    });

    const hook = await send(memberA.admin, 'POST', '/v1/webhooks', { url: hookUrl('/hook-a') });
    expect(hook.statusCode, hook.body).toBe(201);
    hookSecret = hook.json().secret;

    expect((await send(hub.admin, 'POST', '/v1/crisis/protocols', PROTOCOL)).statusCode).toBe(201);
    const incident = await send(hub.admin, 'POST', '/v1/crisis/incidents', {
      title: 'Attack streamed live',
      zone: 'Pacific/Auckland',
      protocols: ['notify-drill'],
    });
    expect(incident.statusCode, incident.body).toBe(201);
    incidentId = incident.json().id;
    activationId = incident.json().activations[0].id;
    const ok = (r: { statusCode: number; body: string }) => expect(r.statusCode, r.body).toBe(200);
    ok(
      await send(hub.admin, 'POST', `/v1/crisis/activations/${activationId}/transitions`, {
        to: 'assessing',
        reason: 'Reported by a member',
      }),
    );
    ok(
      await send(hub.admin, 'POST', `/v1/crisis/activations/${activationId}/criteria`, {
        criterion: 'ongoing_event',
        met: true,
      }),
    );
    ok(
      await send(hub.admin, 'POST', `/v1/crisis/activations/${activationId}/decisions`, {
        type: 'ALERT',
        rationale: 'The event is ongoing.',
        human_rights: HR,
      }),
    );
  });

  afterAll(async () => {
    await t?.close();
    await receiver?.close();
    await smtp?.close();
  });

  it('validates resources and lets only the coordinator add them', async () => {
    const add = (k: string, body: object) =>
      send(k, 'POST', `/v1/crisis/activations/${activationId}/resources`, body);
    const refused = async (body: object, field: string) => {
      const res = await add(hub.admin, body);
      expect(res.statusCode, res.body).toBe(400);
      expect(res.json().code).toBe('KAI_ERR_CRISIS_RESOURCE');
      expect(res.json().detail).toContain(`body/${field}`);
    };
    await refused({ kind: 'redirect', locale: 'en', title: 'Help' }, 'url');
    await refused({ kind: 'redirect', locale: 'en', title: 'Help', url: 'http://help.example' }, 'url');
    await refused({ kind: 'crisis_support', locale: 'en', title: 'Help' }, 'message');
    await refused({ kind: 'counter_speech', locale: 'English!', title: 'Voices', message: 'x' }, 'locale');
    const unknownKind = await add(hub.admin, { kind: 'takedown', locale: 'en', title: 'x', message: 'x' });
    expect(unknownKind.statusCode).toBe(400);
    const notCoordinator = await add(memberA.key, {
      kind: 'crisis_support',
      locale: 'en',
      title: 'Help',
      message: 'Call 1737',
    });
    expect(notCoordinator.statusCode).toBe(403);

    for (const body of [
      { kind: 'redirect', locale: 'en', title: 'Support services', url: 'https://help.example/en' },
      { kind: 'crisis_support', locale: 'en', title: 'Need to talk?', message: 'Free call or text 1737.' },
      {
        kind: 'crisis_support',
        locale: 'mi-NZ',
        title: 'Me kōrero?',
        message: 'Waea, pātuhi rānei ki 1737.',
      },
    ]) {
      const res = await add(hub.admin, body);
      expect(res.statusCode, res.body).toBe(201);
      expect(res.json()).toMatchObject({ ...body, activation_id: activationId });
    }
    const incident = (await send(memberB.key, 'GET', `/v1/crisis/incidents/${incidentId}`)).json();
    expect(incident.resources.map((r: { locale: string }) => r.locale)).toEqual(['en', 'en', 'mi-NZ']);
  });

  it('notifies the first contact of each notified participant in the activation, due after ack_minutes', async () => {
    const res = await send(hub.admin, 'POST', `/v1/crisis/activations/${activationId}/transitions`, {
      to: 'active',
      reason: 'Decided',
      type: 'ALERT',
    });
    expect(res.statusCode, res.body).toBe(200);
    activatedAt = Date.parse(res.json().activations[0].activated.at);
    const rows = await list(hub.admin);
    // The hub itself is in no notified group; the other network's member is not in this network.
    expect(rows.map((r) => [r.organisation_id, r.contact_index]).sort()).toEqual(
      [
        [memberA.id, 0],
        [memberB.id, 0],
        [observer.id, 0],
      ].sort(),
    );
    for (const row of rows) {
      expect(Date.parse(row.due.at) - Date.parse(row.sent.at)).toBe(30 * MINUTE);
      expect(row).toMatchObject({ acked: null, via: null, late: false, escalated: null });
    }
  });

  it('delivers a notification signed with the hub key, with the incident, resources and ack link', async () => {
    const [delivery] = await deliveries('/a0');
    const body = JSON.parse(delivery.raw) as Record<string, unknown> & { signature: string };
    const instance = (await send(memberA.key, 'GET', '/v1/sharing/instance')).json();
    const { signature, ...signed } = body;
    expect(verifyRecord(signed, signature, instance.public_key)).toBe(true);
    // Any change to what was signed breaks the signature.
    expect(
      verifyRecord({ ...signed, due_at: '2099-01-01T00:00:00.000Z' }, signature, instance.public_key),
    ).toBe(false);
    expect(body).toMatchObject({
      type: 'crisis.notification',
      instance_id: instance.id,
      incident: { id: incidentId, title: 'Attack streamed live', zone: 'Pacific/Auckland' },
      activation: { id: activationId, protocol: 'notify-drill', type: 'ALERT', state: 'active' },
      recipient: { organisation_id: memberA.id, contact_index: 0, contact_name: 'A on call' },
    });
    expect((body.resources as { locale: string }[]).map((r) => r.locale)).toEqual(['en', 'en', 'mi-NZ']);
    const ack = body.ack as { token: string; path: string; url: string };
    expect(ack.path).toBe(`/v1/crisis/ack/${ack.token}`);
    expect(ack.url).toBe(`https://hub.example${ack.path}`);
    // Sent in the activation's transaction (a clock read or two after its activated_at).
    expect(Date.parse(body.due_at as string) - activatedAt - 30 * MINUTE).toBeLessThan(1000);
    expect(Date.parse(body.due_at as string) - activatedAt - 30 * MINUTE).toBeGreaterThanOrEqual(0);
    await t.ctx.deliverer.runOnce(); // the run that delivered it has recorded the outcome
    const rowA = (await list(hub.admin)).find((r) => r.organisation_id === memberA.id)!;
    expect(rowA.delivery).toEqual({ status: 'delivered', attempts: 1, error: null });
    // Only the hash of the token is stored.
    const stored = await t.test.db.db.selectFrom('crisis_notifications').select('token_hash').execute();
    expect(stored.some((r) => r.token_hash.includes(ack.token))).toBe(false);
  });

  it('e-mails a contact without a webhook, with the same facts and its own link', async () => {
    for (let i = 0; i < 200 && smtp.mails.length === 0; i++) {
      await t.ctx.deliverer.runOnce();
      await new Promise((r) => setTimeout(r, 25));
    }
    // Only member B's desk has no webhook; the others were reached by webhook alone.
    expect(smtp.mails.map((m) => m.to)).toEqual([['desk@b.example']]);
    const [mail] = smtp.mails;
    expect(mail.from).toBe('hub@hub.example');
    // Long header lines are folded, long body lines quoted-printable encoded: unfold and decode first.
    const text = decodeQuotedPrintable(mail.data.replace(/\r\n[ \t]+/g, ' '));
    expect(text).toMatch(/^Subject: Notification drill Alert: Attack streamed live - please acknowledge/m);
    expect(text).toContain('Waea, pātuhi rānei ki 1737.');
    const link = /https:\/\/hub\.example(\/v1\/crisis\/ack\/[A-Za-z0-9_-]{43})/.exec(text);
    expect(link, text).not.toBeNull();
    const page = await t.app.inject({ method: 'GET', url: link![1] });
    expect(page.statusCode).toBe(200);
    expect(page.body).toContain('B desk');
    await t.ctx.deliverer.runOnce();
    const rowB = (await list(hub.admin)).find((r) => r.organisation_id === memberB.id)!;
    expect(rowB).toMatchObject({ acked: null, delivery: { status: 'delivered', attempts: 1 } });
  });

  it('refuses a forged or altered ack link with 403 and changes nothing', async () => {
    const ack = JSON.parse((await deliveries('/a0'))[0].raw).ack as { token: string };
    const last = ack.token.at(-1) === 'A' ? 'B' : 'A';
    for (const token of [randomBytes(32).toString('base64url'), ack.token.slice(0, -1) + last, 'short']) {
      for (const method of ['GET', 'POST'] as const) {
        const res = await t.app.inject({ method, url: `/v1/crisis/ack/${token}` });
        expect(res.statusCode, res.body).toBe(403);
        expect(res.json().code).toBe('KAI_ERR_ACK_LINK');
      }
    }
    expect((await list(hub.admin)).every((r) => r.acked === null)).toBe(true);
  });

  it('acknowledges through the API only for the organisation addressed', async () => {
    const rowB = (await list(hub.admin)).find((r) => r.organisation_id === memberB.id)!;
    const ack = (k: string) => send(k, 'POST', `/v1/crisis/notifications/${rowB.id}/ack`);
    expect((await ack(otherNetwork.key)).statusCode).toBe(404);
    expect((await ack(memberA.key)).statusCode).toBe(404);
    expect((await ack(observer.key)).statusCode).toBe(403);
    expect((await list(hub.admin)).find((r) => r.id === rowB.id)!.acked).toBeNull();
    const res = await ack(memberB.key);
    expect(res.statusCode, res.body).toBe(200);
    expect(res.json()).toMatchObject({ id: rowB.id, via: 'api', late: false, acked: expect.any(Object) });
    // A second acknowledgement changes nothing.
    const again = await ack(memberB.key);
    expect(again.json().acked.at).toBe(res.json().acked.at);
  });

  it('escalates an unacknowledged notification past due to the next contact, once', async () => {
    await deliveries('/obs0');
    const start = Date.now();
    t.ctx.crisis.now = () => new Date(start + 29 * MINUTE);
    await escalate();
    expect((await list(hub.admin)).every((r) => r.escalated === null)).toBe(true);
    t.ctx.crisis.now = () => new Date(start + 31 * MINUTE);
    // Member A's and the observer's are overdue; B acknowledged. The observer has no second contact.
    await escalate();
    await escalate(); // escalated once only
    const rows = await list(hub.admin);
    expect(rows).toHaveLength(4);
    const a = rows.filter((r) => r.organisation_id === memberA.id);
    expect(a.map((r) => r.contact_index)).toEqual([0, 1]);
    expect(a[0].escalated).not.toBeNull();
    expect(a[1]).toMatchObject({ escalated: null, acked: null, contact: { name: 'A deputy' } });
    expect(Date.parse(a[1].due.at) - Date.parse(a[1].sent.at)).toBe(30 * MINUTE);
    expect(rows.find((r) => r.organisation_id === observer.id)!.escalated).not.toBeNull();
    expect(rows.find((r) => r.organisation_id === memberB.id)!.escalated).toBeNull();
    const [second] = await deliveries('/a1');
    expect(JSON.parse(second.raw).recipient).toMatchObject({ contact_index: 1, contact_name: 'A deputy' });
  });

  it('acknowledges by link: the page acknowledges nothing, the POST does', async () => {
    const ack = JSON.parse((await deliveries('/a1'))[0].raw).ack as { token: string; path: string };
    const page = await t.app.inject({ method: 'GET', url: ack.path });
    expect(page.statusCode).toBe(200);
    expect(page.headers['content-type']).toContain('text/html');
    expect(page.body).toContain('Attack streamed live');
    expect(page.body).toContain('<form method="post"');
    const before = (await list(hub.admin)).find((r) => r.contact_index === 1)!;
    expect(before.acked).toBeNull();
    // What the page's form sends: an empty text/plain body.
    const res = await t.app.inject({
      method: 'POST',
      url: ack.path,
      headers: { 'content-type': 'text/plain' },
      payload: '',
    });
    expect(res.statusCode, res.body).toBe(200);
    expect(res.body).toContain('Acknowledged at');
    const after = (await list(hub.admin)).find((r) => r.id === before.id)!;
    expect(after).toMatchObject({ via: 'link', late: false });
    // Acknowledged through its deputy, member A's chain stops even after the deputy's due time.
    t.ctx.crisis.now = () => new Date(Date.now() + 120 * MINUTE);
    await escalate();
    const rows = await list(hub.admin);
    expect(rows).toHaveLength(4);
    expect(rows.find((r) => r.id === before.id)!.escalated).toBeNull();
  });

  it('marks an acknowledgement after the due time as late', async () => {
    const first = (await list(memberA.key)).find(
      (r) => r.organisation_id === memberA.id && r.contact_index === 0,
    )!;
    const res = await send(memberA.key, 'POST', `/v1/crisis/notifications/${first.id}/ack`);
    expect(res.statusCode, res.body).toBe(200);
    expect(res.json()).toMatchObject({ via: 'api', late: true });
    // And by link: the observer's first contact answers late.
    const ack = JSON.parse((await deliveries('/obs0'))[0].raw).ack as { path: string };
    const link = await t.app.inject({ method: 'POST', url: ack.path });
    expect(link.statusCode, link.body).toBe(200);
    expect(link.json()).toMatchObject({ late: true, acked: expect.any(Object) });
    const rows = await list(hub.admin);
    expect(rows.find((r) => r.organisation_id === observer.id)).toMatchObject({ via: 'link', late: true });
  });

  it('shows contact addresses to the coordinator and their own participant, never to an observer', async () => {
    const coordinator = await list(hub.admin);
    expect(coordinator.find((r) => r.organisation_id === memberA.id)!.contact.webhook_url).toBe(
      hookUrl('/a0'),
    );
    const observed = await send(observer.key, 'GET', `/v1/crisis/incidents/${incidentId}/notifications`);
    expect(observed.statusCode).toBe(200);
    expect(observed.body).not.toContain('127.0.0.1');
    expect(observed.body).not.toContain('@');
    expect((observed.json().items as Row[]).map((r) => r.contact.name)).toContain('A on call');
    const asB = await list(memberB.key);
    expect(asB.find((r) => r.organisation_id === memberB.id)!.contact.email).toBe('desk@b.example');
    expect(asB.find((r) => r.organisation_id === memberA.id)!.contact.webhook_url).toBeUndefined();
    const outsider = await send(otherNetwork.key, 'GET', `/v1/crisis/incidents/${incidentId}/notifications`);
    expect(outsider.statusCode).toBe(404);
  });

  it('documents every new route in the OpenAPI with a summary', async () => {
    const spec = (await t.app.inject({ method: 'GET', url: '/openapi.json' })).json() as {
      paths: Record<string, Record<string, { summary?: string }>>;
    };
    for (const [path, method] of [
      ['/v1/crisis/incidents/{id}/notifications', 'get'],
      ['/v1/crisis/notifications/{id}/ack', 'post'],
      ['/v1/crisis/ack/{token}', 'get'],
      ['/v1/crisis/ack/{token}', 'post'],
      ['/v1/crisis/activations/{id}/resources', 'post'],
      ['/v1/crisis/incidents/{id}/interventions', 'post'],
    ])
      expect(spec.paths[path]?.[method]?.summary, `${method} ${path}`).toMatch(/\w{3}/);
  });

  it("delivers an intervention with the locale's resource to the member's own webhooks", async () => {
    const intervene = (k: string, body: object) =>
      send(k, 'POST', `/v1/crisis/incidents/${incidentId}/interventions`, body);
    const res = await intervene(memberA.key, {
      external_id: 'video-42',
      mode: 'interstitial',
      locale: 'mi-NZ',
    });
    expect(res.statusCode, res.body).toBe(202);
    expect(res.json().resource).toMatchObject({ kind: 'crisis_support', locale: 'mi-NZ' });
    // A locale without resources falls back to English.
    const fallback = await intervene(memberA.key, {
      external_id: 'video-43',
      mode: 'redirect',
      locale: 'fr-FR',
    });
    expect(fallback.statusCode, fallback.body).toBe(202);
    expect(fallback.json().resource).toMatchObject({ kind: 'redirect', locale: 'en' });
    expect(
      (await intervene(otherNetwork.key, { external_id: 'x', mode: 'redirect', locale: 'en' })).statusCode,
    ).toBe(404);
    expect(
      (await intervene(observer.key, { external_id: 'x', mode: 'redirect', locale: 'en' })).statusCode,
    ).toBe(403);
    // Member B registered no webhook of its own.
    const noHook = await intervene(memberB.key, { external_id: 'x', mode: 'redirect', locale: 'en' });
    expect(noHook.statusCode).toBe(409);
    expect(noHook.json().code).toBe('KAI_ERR_NO_WEBHOOK');

    const got = await deliveries('/hook-a', 2);
    for (const delivery of got)
      expect(
        verifySignature(hookSecret, delivery.raw, delivery.headers['kaitiaki-signature'] as string),
      ).toBe(true);
    const bodies = got.map((d) => JSON.parse(d.raw));
    expect(bodies.find((b) => b.content.external_id === 'video-42')).toMatchObject({
      type: 'intervention',
      mode: 'interstitial',
      incident: { id: incidentId },
      resource: { kind: 'crisis_support', locale: 'mi-NZ', message: 'Waea, pātuhi rānei ki 1737.' },
    });
    expect(bodies.find((b) => b.content.external_id === 'video-43')).toMatchObject({
      mode: 'redirect',
      resource: { kind: 'redirect', url: 'https://help.example/en' },
    });
    // Crisis notifications went to the contacts' addresses only, never to the member's own webhook.
    expect(bodies.every((b) => b.type === 'intervention')).toBe(true);
  });

  it('notifies again when a de-escalating activation becomes active again', async () => {
    const move = (body: object) =>
      send(hub.admin, 'POST', `/v1/crisis/activations/${activationId}/transitions`, body);
    expect((await move({ to: 'deescalating', reason: 'Upload attempts falling' })).statusCode).toBe(200);
    const before = await list(hub.admin);
    const res = await move({ to: 'active', reason: 'A new wave of uploads' });
    expect(res.statusCode, res.body).toBe(200);
    expect(res.json().activations[0].type).toBe('ALERT');
    const fresh = (await list(hub.admin)).filter((r) => !before.some((b) => b.id === r.id));
    expect(fresh.map((r) => [r.organisation_id, r.contact_index, r.acked]).sort()).toEqual(
      [
        [memberA.id, 0, null],
        [memberB.id, 0, null],
        [observer.id, 0, null],
      ].sort(),
    );

    // This round escalates on its own: B acknowledged the first round, which does not count for this one.
    const sent = Date.parse(fresh[0].sent.at);
    t.ctx.crisis.now = () => new Date(sent + 31 * MINUTE);
    await escalate();
    let round = (await list(hub.admin)).filter((r) => !before.some((b) => b.id === r.id));
    expect(round.find((r) => r.organisation_id === memberB.id)!.escalated).not.toBeNull();
    const [firstA, deputyA] = round.filter((r) => r.organisation_id === memberA.id);
    expect([firstA.escalated !== null, deputyA.contact_index, deputyA.escalated]).toEqual([true, 1, null]);
    // A answers late through its first contact: its deputy's notification, sent before that, is not escalated.
    const late = await send(memberA.key, 'POST', `/v1/crisis/notifications/${firstA.id}/ack`);
    expect(late.json()).toMatchObject({ via: 'api', late: true });
    t.ctx.crisis.now = () => new Date(sent + 62 * MINUTE);
    await escalate();
    round = (await list(hub.admin)).filter((r) => !before.some((b) => b.id === r.id));
    expect(round.find((r) => r.id === deputyA.id)).toMatchObject({ acked: null, escalated: null });
  });
});

describe('crisis notification configuration', () => {
  it('reads the public address and the SMTP server, refusing what is not one', () => {
    const crisis = (env: Record<string, string>) => readConfig(env, { dataDir: '/tmp' }).crisis;
    expect(crisis({})).toMatchObject({ publicUrl: null, smtpUrl: null });
    expect(
      crisis({
        KAITIAKI_PUBLIC_URL: 'https://hub.example//',
        KAITIAKI_SMTP_URL: 'smtps://u:p@mail.example:465',
      }),
    ).toMatchObject({ publicUrl: 'https://hub.example', smtpUrl: 'smtps://u:p@mail.example:465' });
    expect(() => crisis({ KAITIAKI_PUBLIC_URL: 'hub.example' })).toThrow(/KAITIAKI_PUBLIC_URL/);
    expect(() => crisis({ KAITIAKI_SMTP_URL: 'http://mail.example' })).toThrow(/KAITIAKI_SMTP_URL/);
    // The error never repeats the URL, which may carry the SMTP password.
    const leaky = () => crisis({ KAITIAKI_SMTP_URL: 'mail://user:hunter2@x' });
    expect(leaky).toThrow(/KAITIAKI_SMTP_URL/);
    expect(leaky).not.toThrow(/hunter2/);
  });
});
