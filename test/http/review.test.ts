import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { verifySignature } from '../../src/actions/webhooks.js';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { bearer, startTestApp, type TestApp } from '../helpers/app.js';
import { PDQ_DATA, VPDQ_DATA } from '../helpers/shared.js';
import { hashVideoFile } from '../../src/hashing/vpdq/vpdq.js';
import { formatVpdqSignal } from '../../src/hashing/vpdq/format.js';
import { TEST_DIALECTS } from '../helpers/databases.js';

const KNOWN = 'f8f8f0cee0f4a84f06370a22038f63f0b36e2ed596621e1d33e6b39c4e9c9b22';
const NEAR = KNOWN.slice(0, 60) + '0000'; // within 10 bits
const UNRELATED = '30a10efd71cc3d429013d48d0ffffc52e34e0e17ada952a9d29685211ea9e5af';
const KNOWN_MD5 = '9e107d9d372bb6826bd81d3542a419d6';

interface Received {
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

/** A real HTTP receiver on loopback that can be switched off (503) and on. */
async function receiver(): Promise<{
  url: string;
  received: Received[];
  setUp(up: boolean): void;
  close(): Promise<void>;
}> {
  const received: Received[] = [];
  let up = true;
  const server: Server = createServer((req, res) => {
    let body = '';
    req.on('data', (d: Buffer) => (body += d.toString()));
    req.on('end', () => {
      if (!up) {
        res.writeHead(503).end();
        return;
      }
      received.push({ headers: req.headers, body });
      res.writeHead(204).end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/kaitiaki`,
    received,
    setUp: (value) => (up = value),
    close: () => new Promise((r) => server.close(() => r())),
  };
}

describe.each(TEST_DIALECTS)('submissions, review and actions on %s', (dialect) => {
  let t: TestApp;
  let platform: { id: number; key: string };
  let moderator: { key: string };
  let other: { id: number; key: string };
  let hook: Awaited<ReturnType<typeof receiver>>;
  let secret: string;

  beforeAll(async () => {
    t = await startTestApp(dialect);
    platform = await t.organisation('Small platform', 'integration');
    const { key } = await t.ctx.apiKeys.create(platform.id, { name: 'moderator', role: 'moderator' });
    const { key: adminKey } = await t.ctx.apiKeys.create(platform.id, { name: 'admin', role: 'admin' });
    moderator = { key };
    other = await t.organisation('Other platform', 'admin');
    const bank = await t.app.inject({
      method: 'POST',
      url: '/v1/banks',
      headers: bearer(adminKey),
      payload: { name: 'KNOWN_TVEC', default_labels: ['glorification'] },
    });
    for (const [type, value] of [
      ['pdq', KNOWN],
      ['md5', KNOWN_MD5],
    ]) {
      await t.app.inject({
        method: 'POST',
        url: `/v1/banks/${bank.json().id}/entries`,
        headers: bearer(adminKey),
        payload: { signal_type: type, value },
      });
    }
    hook = await receiver();
    const created = await t.app.inject({
      method: 'POST',
      url: '/v1/webhooks',
      headers: bearer(adminKey),
      payload: { url: hook.url },
    });
    expect(created.statusCode).toBe(201);
    secret = created.json().secret;
  });
  afterAll(async () => {
    await t.close();
    await hook.close();
  });

  const submit = (payload: unknown, key?: string) =>
    t.app.inject({
      method: 'POST',
      url: '/v1/submissions',
      headers: { ...bearer(platform.key), ...(key ? { 'idempotency-key': key } : {}) },
      payload: payload as object,
    });

  it('answers no-match, queued (with a case) and actioned (identical file) at once', async () => {
    const none = await submit({ external_id: 'post-1', signals: [{ type: 'pdq', value: UNRELATED }] });
    expect(none.statusCode).toBe(201);
    expect(none.json()).toMatchObject({ verdict: 'no-match', case_id: null, matches: [] });

    const near = await submit({
      external_id: 'post-2',
      signals: [{ type: 'pdq', value: NEAR }],
      uploader_id: 'u-9',
      context: { country: 'NZ' },
    });
    expect(near.json()).toMatchObject({ verdict: 'queued', policy_action: 'review-urgent' });
    expect(near.json().matches[0]).toMatchObject({
      bank: { name: 'KNOWN_TVEC' },
      entry: { labels: ['glorification'] },
    });
    const queue = await t.app.inject({
      method: 'GET',
      url: '/v1/cases?status=open',
      headers: bearer(moderator.key),
    });
    expect(queue.json().items.map((c: { id: number }) => c.id)).toContain(near.json().case_id);
    expect(queue.json().counts.open).toBeGreaterThanOrEqual(1);

    const identical = await submit({ external_id: 'post-3', signals: [{ type: 'md5', value: KNOWN_MD5 }] });
    expect(identical.json()).toMatchObject({ verdict: 'actioned', policy_action: 'block' });
    const decided = await t.app.inject({
      method: 'GET',
      url: `/v1/cases/${identical.json().case_id}`,
      headers: bearer(moderator.key),
    });
    expect(decided.json()).toMatchObject({
      status: 'decided',
      decisions: [{ decision: 'remove', automated: true }],
    });
  });

  it('makes retries safe with an Idempotency-Key, and refuses the key with another body', async () => {
    const body = { external_id: 'post-4', signals: [{ type: 'pdq', value: NEAR }] };
    const first = await submit(body, 'retry-abc');
    const again = await submit(body, 'retry-abc');
    expect(again.statusCode).toBe(200);
    expect(again.json()).toMatchObject({
      id: first.json().id,
      replayed: true,
      verdict: 'queued',
      case_id: first.json().case_id,
    });
    const different = await submit({ ...body, external_id: 'post-5' }, 'retry-abc');
    expect(different.statusCode).toBe(409);
    expect(different.json().code).toBe('KAI_ERR_IDEMPOTENCY_MISMATCH');
    const count = await t.ctx.database.db
      .selectFrom('submissions')
      .select((eb) => eb.fn.countAll<number>().as('n'))
      .where('external_id', '=', 'post-4')
      .executeTakeFirstOrThrow();
    expect(Number(count.n)).toBe(1);
  });

  it('refuses bad submissions clearly and stores nothing', async () => {
    const before = await t.ctx.database.db
      .selectFrom('submissions')
      .select((eb) => eb.fn.countAll<number>().as('n'))
      .executeTakeFirstOrThrow();
    for (const payload of [
      { external_id: 'x', signals: [{ type: 'pdq', value: 'abc' }] },
      { external_id: 'x', signals: [{ type: 'pdq', value: KNOWN }], surprise: 1 },
      { signals: [{ type: 'pdq', value: KNOWN }] },
    ]) {
      expect((await submit(payload)).statusCode).toBe(400);
    }
    expect(
      (
        await t.app.inject({
          method: 'POST',
          url: '/v1/submissions',
          headers: bearer(moderator.key),
          payload: { external_id: 'x', signals: [{ type: 'pdq', value: KNOWN }] },
        })
      ).statusCode,
    ).toBe(403);
    const after = await t.ctx.database.db
      .selectFrom('submissions')
      .select((eb) => eb.fn.countAll<number>().as('n'))
      .executeTakeFirstOrThrow();
    expect(Number(after.n)).toBe(Number(before.n));
  });

  it("keeps one organisation's cases from another", async () => {
    const cases = await t.app.inject({ method: 'GET', url: '/v1/cases', headers: bearer(moderator.key) });
    const id = cases.json().items[0].id;
    expect(
      (await t.app.inject({ method: 'GET', url: `/v1/cases/${id}`, headers: bearer(other.key) })).statusCode,
    ).toBe(404);
    const decide = await t.app.inject({
      method: 'POST',
      url: `/v1/cases/${id}/decision`,
      headers: bearer(other.key),
      payload: { decision: 'remove', ground_type: 'terms', ground: 'TVEC policy', reason: 'not yours' },
    });
    expect(decide.statusCode).toBe(404);
  });

  it('a decision becomes a signed webhook delivered once, a DSA statement of reasons, and audit records', async () => {
    const near = await submit({
      external_id: 'post-6',
      signals: [{ type: 'pdq', value: NEAR }],
      uploader_id: 'u-1',
      context: { country: 'DE' },
    });
    hook.received.length = 0;
    const decision = await t.app.inject({
      method: 'POST',
      url: `/v1/cases/${near.json().case_id}/decision`,
      headers: bearer(moderator.key),
      payload: {
        decision: 'remove',
        ground_type: 'illegal',
        ground: 'Regulation (EU) 2021/784 (TCO), Art. 2(7)',
        reason: 'Glorifies a terrorist attack.',
      },
    });
    expect(decision.statusCode).toBe(201);
    const { action_id: actionId, statement_id: statementId } = decision.json();
    await t.ctx.deliverer.runOnce();
    expect(hook.received).toHaveLength(1);
    const [delivery] = hook.received;
    expect(delivery.headers['kaitiaki-action-id']).toBe(actionId);
    expect(verifySignature(secret, delivery.body, String(delivery.headers['kaitiaki-signature']))).toBe(true);
    expect(
      verifySignature('wrong-secret', delivery.body, String(delivery.headers['kaitiaki-signature'])),
    ).toBe(false);
    expect(JSON.parse(delivery.body)).toMatchObject({
      action_id: actionId,
      type: 'content.remove',
      content: { external_id: 'post-6', uploader_id: 'u-1' },
      statement_id: statementId,
    });
    await t.ctx.deliverer.runOnce();
    expect(hook.received).toHaveLength(1); // delivered actions are not sent again

    const statement = (
      await t.app.inject({
        method: 'GET',
        url: `/v1/statements/${statementId}`,
        headers: bearer(moderator.key),
      })
    ).json();
    expect(statement).toMatchObject({
      uuid: statementId,
      decision_visibility: ['DECISION_VISIBILITY_CONTENT_REMOVED'],
      decision_ground: 'DECISION_GROUND_ILLEGAL_CONTENT',
      illegal_content_legal_ground: 'Regulation (EU) 2021/784 (TCO), Art. 2(7)',
      automated_detection: 'Yes',
      automated_decision: 'AUTOMATED_DECISION_PARTIALLY',
      territorial_scope: ['DE'],
      content_id: { platform: 'post-6' },
    });
    expect(statement.plain_language).toMatch(/removed because it is illegal/);
    const again = await t.app.inject({
      method: 'POST',
      url: `/v1/cases/${near.json().case_id}/decision`,
      headers: bearer(moderator.key),
      payload: { decision: 'remove', ground_type: 'terms', ground: 'x policy', reason: 'twice' },
    });
    expect(again.statusCode).toBe(409);
    const trail = await t.ctx.audit.list(platform.id, { limit: 1000 });
    expect(trail.items.map((r) => r.action)).toEqual(
      expect.arrayContaining(['submission.create', 'case.open', 'case.decide', 'action.create']),
    );
    expect(await t.ctx.audit.verify()).toMatchObject({ ok: true });
  });

  it('a receiver that is down gets everything once it is back, each action once', async () => {
    hook.setUp(false);
    hook.received.length = 0;
    const ids: string[] = [];
    for (const n of [7, 8, 9]) {
      const s = await submit({ external_id: `post-${n}`, signals: [{ type: 'pdq', value: NEAR }] });
      const d = await t.app.inject({
        method: 'POST',
        url: `/v1/cases/${s.json().case_id}/decision`,
        headers: bearer(moderator.key),
        payload: {
          decision: 'restrict',
          ground_type: 'terms',
          ground: 'TVEC policy',
          reason: 'Restricted pending review.',
        },
      });
      ids.push(d.json().action_id);
    }
    // A run poked by a decision may have started before the later actions existed: run until all were tried.
    await t.ctx.deliverer.runOnce();
    await t.ctx.deliverer.runOnce();
    const pending = await t.ctx.database.db
      .selectFrom('actions')
      .selectAll()
      .where('id', 'in', ids)
      .execute();
    expect(
      pending.every((a) => a.status === 'pending' && a.attempts >= 1 && a.last_error?.includes('503')),
    ).toBe(true);
    hook.setUp(true);
    // Make the retries due now instead of in 5 s.
    await t.ctx.database.db
      .updateTable('actions')
      .set({ next_attempt_at: new Date(0).toISOString() })
      .where('id', 'in', ids)
      .execute();
    await t.ctx.deliverer.runOnce();
    await t.ctx.deliverer.runOnce();
    expect(hook.received.map((r) => r.headers['kaitiaki-action-id']).sort()).toEqual([...ids].sort());
    const log = await t.app.inject({
      method: 'GET',
      url: '/v1/webhooks/deliveries',
      headers: bearer((await t.ctx.apiKeys.create(platform.id, { name: 'a2', role: 'admin' })).key),
    });
    expect(log.json().items.filter((d: { action_id: string }) => ids.includes(d.action_id)).length).toBe(6); // 3 failures + 3 successes
  });

  it('add to bank: one decision protects everyone downstream', async () => {
    const adminKey = (await t.ctx.apiKeys.create(platform.id, { name: 'a3', role: 'admin' })).key;
    const bank = (
      await t.app.inject({
        method: 'POST',
        url: '/v1/banks',
        headers: bearer(adminKey),
        payload: { name: 'FROM_REVIEW' },
      })
    ).json();
    await t.app.inject({
      method: 'PUT',
      url: '/v1/policies',
      headers: bearer(adminKey),
      payload: { policies: [{ bank_id: null, label: null, action: 'review' }] },
    });
    const fresh = 'aaaa' + UNRELATED.slice(4);
    // Unknown content is not queued; a report would open a case. Here a looser match against an existing entry.
    const s = await submit({
      external_id: 'post-10',
      signals: [
        { type: 'pdq', value: NEAR },
        { type: 'sha256', value: 'b'.repeat(64) },
      ],
    });
    expect(s.json().verdict).toBe('queued');
    const d = await t.app.inject({
      method: 'POST',
      url: `/v1/cases/${s.json().case_id}/decision`,
      headers: bearer(moderator.key),
      payload: {
        decision: 'remove',
        ground_type: 'terms',
        ground: 'TVEC policy',
        reason: 'Known propaganda.',
        add_to_bank_id: bank.id,
      },
    });
    expect(d.statusCode).toBe(201);
    const later = await submit({
      external_id: 'post-11',
      signals: [{ type: 'sha256', value: 'b'.repeat(64) }],
    });
    expect(later.json().matches.map((m: { bank: { name: string } }) => m.bank.name)).toContain('FROM_REVIEW');
    expect(fresh).not.toBe(UNRELATED);
  });

  it('user reports join the open case of the same content; alerts open urgent cases', async () => {
    const s = await submit({ external_id: 'post-20', signals: [{ type: 'pdq', value: NEAR }] });
    const report = await t.app.inject({
      method: 'POST',
      url: '/v1/reports',
      headers: bearer(platform.key),
      payload: {
        external_id: 'post-20',
        reporter_id: 'r-1',
        category: 'glorification',
        text: 'celebrates an attack',
      },
    });
    expect(report.statusCode).toBe(201);
    expect(report.json()).toMatchObject({ case_id: s.json().case_id, new_case: false });
    const alone = await t.app.inject({
      method: 'POST',
      url: '/v1/reports',
      headers: bearer(platform.key),
      payload: { external_id: 'post-21' },
    });
    expect(alone.json()).toMatchObject({ new_case: true });
    const alert = await t.app.inject({
      method: 'POST',
      url: '/v1/alerts',
      headers: bearer(platform.key),
      payload: {
        url: 'https://example.org/p/1',
        source: 'tcap',
        group: 'Example group',
        category: 'islamist',
      },
    });
    expect(alert.statusCode).toBe(201);
    const view = await t.app.inject({
      method: 'GET',
      url: `/v1/cases/${alert.json().case_id}`,
      headers: bearer(moderator.key),
    });
    expect(view.json()).toMatchObject({
      priority: 'urgent',
      status: 'open',
      reports: [
        { kind: 'alert', source: 'tcap', url: 'https://example.org/p/1', detail: { group: 'Example group' } },
      ],
    });
    const withReport = await t.app.inject({
      method: 'GET',
      url: `/v1/cases/${s.json().case_id}`,
      headers: bearer(moderator.key),
    });
    expect(withReport.json().reports).toMatchObject([
      { kind: 'report', category: 'glorification', detail: { reporter_id: 'r-1' } },
    ]);
    const bad = await t.app.inject({
      method: 'POST',
      url: '/v1/alerts',
      headers: bearer(platform.key),
      payload: { url: 'ftp://x', source: 'tcap' },
    });
    expect(bad.statusCode).toBe(400);
  });

  it('keeps uploaded media for reviewers only, and deletes it at the end of the retention period', async () => {
    const photo = readFileSync(join(PDQ_DATA, 'images', 'bridge-mods', 'blur-a-lot.jpg'));
    const boundary = '----kaitiaki-submission';
    const payload = Buffer.concat([
      Buffer.from(
        `--${boundary}\r\nContent-Disposition: form-data; name="external_id"\r\n\r\npost-media\r\n`,
      ),
      Buffer.from(`--${boundary}\r\nContent-Disposition: form-data; name="uploader_id"\r\n\r\nu-77\r\n`),
      Buffer.from(
        `--${boundary}\r\nContent-Disposition: form-data; name="file"; filename="photo.jpg"\r\nContent-Type: image/jpeg\r\n\r\n`,
      ),
      photo,
      Buffer.from(`\r\n--${boundary}--\r\n`),
    ]);
    const submitted = await t.app.inject({
      method: 'POST',
      url: '/v1/submissions',
      headers: { ...bearer(platform.key), 'content-type': `multipart/form-data; boundary=${boundary}` },
      payload,
    });
    expect(submitted.statusCode).toBe(201);
    expect(submitted.json()).toMatchObject({ verdict: 'queued' });
    const id = submitted.json().id;
    const view = await t.app.inject({
      method: 'GET',
      url: `/v1/submissions/${id}`,
      headers: bearer(moderator.key),
    });
    expect(view.json()).toMatchObject({ has_media: true, uploader_id: 'u-77' });
    const media = await t.app.inject({
      method: 'GET',
      url: `/v1/submissions/${id}/media`,
      headers: bearer(moderator.key),
    });
    expect(media.statusCode).toBe(200);
    expect(media.headers['content-type']).toBe('image/jpeg');
    expect(media.headers['cache-control']).toBe('private, no-store');
    expect(Buffer.compare(media.rawPayload, photo)).toBe(0);
    // The platform's machine key may not see media; neither may viewers.
    expect(
      (
        await t.app.inject({
          method: 'GET',
          url: `/v1/submissions/${id}/media`,
          headers: bearer(platform.key),
        })
      ).statusCode,
    ).toBe(403);

    const result = await t.ctx.review.purgeExpired(new Date(Date.now() + 400 * 86_400_000));
    expect(result.media).toBeGreaterThanOrEqual(1);
    const gone = await t.app.inject({
      method: 'GET',
      url: `/v1/submissions/${id}/media`,
      headers: bearer(moderator.key),
    });
    expect(gone.statusCode).toBe(404);
    expect(gone.json().detail).toMatch(/retention/);
    expect(
      (
        await t.app.inject({ method: 'GET', url: `/v1/submissions/${id}`, headers: bearer(moderator.key) })
      ).json(),
    ).toMatchObject({ has_media: false, uploader_id: null });
    const trail = await t.ctx.audit.list(null, { limit: 1000 });
    expect(trail.items.some((r) => r.action === 'retention.purge')).toBe(true);
  });

  it('answers a video upload at once (202, pending), hashes it in the background and sends the verdict by webhook', async () => {
    const clip = join(VPDQ_DATA, 'videos', 'doorknob-hd-no-bar.mp4');
    const adminKey = (await t.ctx.apiKeys.create(platform.id, { name: 'a4', role: 'admin' })).key;
    const bank = (
      await t.app.inject({
        method: 'POST',
        url: '/v1/banks',
        headers: bearer(adminKey),
        payload: { name: 'KNOWN_VIDEOS' },
      })
    ).json();
    const signal = formatVpdqSignal((await hashVideoFile(clip)).frames);
    await t.app.inject({
      method: 'POST',
      url: `/v1/banks/${bank.id}/entries`,
      headers: bearer(adminKey),
      payload: { signal_type: 'vpdq', value: signal },
    });
    hook.received.length = 0;
    const boundary = '----kaitiaki-video';
    const payload = Buffer.concat([
      Buffer.from(`--${boundary}\r\nContent-Disposition: form-data; name="external_id"\r\n\r\nvideo-1\r\n`),
      Buffer.from(
        `--${boundary}\r\nContent-Disposition: form-data; name="file"; filename="clip.mp4"\r\nContent-Type: video/mp4\r\n\r\n`,
      ),
      readFileSync(clip),
      Buffer.from(`\r\n--${boundary}--\r\n`),
    ]);
    const started = await t.app.inject({
      method: 'POST',
      url: '/v1/submissions',
      headers: {
        ...bearer(platform.key),
        'content-type': `multipart/form-data; boundary=${boundary}`,
        'idempotency-key': 'video-1',
      },
      payload,
    });
    expect(started.statusCode).toBe(202);
    expect(started.json()).toMatchObject({ verdict: 'pending', case_id: null });
    const id = started.json().id;
    await expect
      .poll(
        async () =>
          (
            await t.app.inject({
              method: 'GET',
              url: `/v1/submissions/${id}`,
              headers: bearer(moderator.key),
            })
          ).json().verdict,
        { timeout: 20_000 },
      )
      .toBe('queued');
    await t.ctx.deliverer.runOnce();
    const verdicts = hook.received
      .map((r) => JSON.parse(r.body))
      .filter((b) => b.type === 'submission.verdict');
    expect(verdicts).toEqual([
      expect.objectContaining({ submission_id: id, external_id: 'video-1', verdict: 'queued', matches: 1 }),
    ]);
    const submission = (
      await t.app.inject({ method: 'GET', url: `/v1/submissions/${id}`, headers: bearer(moderator.key) })
    ).json();
    expect(submission.signals.map((x: { type: string }) => x.type).sort()).toEqual(['md5', 'sha256', 'vpdq']);
  });
});
