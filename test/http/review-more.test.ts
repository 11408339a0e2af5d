import { readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bearer, startTestApp, type TestApp } from '../helpers/app.js';
import { PDQ_DATA } from '../helpers/shared.js';

const KNOWN = 'f8f8f0cee0f4a84f06370a22038f63f0b36e2ed596621e1d33e6b39c4e9c9b22';

describe('URL submissions, assignment and the statements export', () => {
  let t: TestApp;
  let media: Server;
  let host = '';
  let platform: { id: number; key: string };
  let admin: string;

  beforeAll(async () => {
    // The platform's own media host, on loopback.
    const photo = readFileSync(join(PDQ_DATA, 'images', 'bridge-mods', 'shrink-a-little.jpg'));
    media = createServer((req, res) => {
      if (req.url === '/photo.jpg') res.writeHead(200, { 'content-type': 'image/jpeg' }).end(photo);
      else if (req.url === '/moved') res.writeHead(302, { location: 'http://elsewhere.example/x' }).end();
      else res.writeHead(404).end();
    });
    await new Promise<void>((r) => media.listen(0, '127.0.0.1', r));
    host = `127.0.0.1:${(media.address() as AddressInfo).port}`;
    t = await startTestApp('sqlite', { KAITIAKI_FETCH_ALLOWED_HOSTS: host });
    platform = await t.organisation('URL platform', 'integration');
    admin = (await t.ctx.apiKeys.create(platform.id, { name: 'admin', role: 'admin' })).key;
    const bank = (
      await t.app.inject({
        method: 'POST',
        url: '/v1/banks',
        headers: bearer(admin),
        payload: { name: 'KNOWN' },
      })
    ).json();
    await t.app.inject({
      method: 'POST',
      url: `/v1/banks/${bank.id}/entries`,
      headers: bearer(admin),
      payload: { signal_type: 'pdq', value: KNOWN },
    });
  });
  afterAll(async () => {
    await t.close();
    media.close();
  });

  const submit = (payload: unknown) =>
    t.app.inject({
      method: 'POST',
      url: '/v1/submissions',
      headers: bearer(platform.key),
      payload: payload as object,
    });
  const verdictOf = async (id: number) =>
    (await t.app.inject({ method: 'GET', url: `/v1/submissions/${id}`, headers: bearer(admin) })).json();

  it('fetches media from an allowed host in the background and decides the verdict', async () => {
    const started = await submit({ external_id: 'remote-1', url: `http://${host}/photo.jpg` });
    expect(started.statusCode).toBe(202);
    expect(started.json().verdict).toBe('pending');
    await expect
      .poll(async () => (await verdictOf(started.json().id)).verdict, { timeout: 10_000 })
      .toBe('queued');
    expect(await verdictOf(started.json().id)).toMatchObject({
      has_media: true,
      signals: expect.arrayContaining([expect.objectContaining({ type: 'pdq' })]),
    });
  });

  it('refuses hosts not on the allow-list at once, and records a failed verdict for a redirect', async () => {
    const refused = await submit({ external_id: 'remote-2', url: 'http://169.254.169.254/latest/meta-data' });
    expect(refused.statusCode).toBe(400);
    expect(refused.json().code).toBe('KAI_ERR_URL_HOST_NOT_ALLOWED');
    const both = await submit({
      external_id: 'remote-3',
      url: `http://${host}/photo.jpg`,
      signals: [{ type: 'pdq', value: KNOWN }],
    });
    expect(both.json().code).toBe('KAI_ERR_SIGNALS_OR_URL');
    const moved = await submit({ external_id: 'remote-4', url: `http://${host}/moved` });
    await expect
      .poll(async () => (await verdictOf(moved.json().id)).verdict, { timeout: 10_000 })
      .toBe('failed');
  });

  it('assigns cases and exports every statement of reasons as JSON lines', async () => {
    const s = await submit({ external_id: 'post-a', signals: [{ type: 'pdq', value: KNOWN }] });
    const caseId = s.json().case_id;
    const assigned = await t.app.inject({
      method: 'POST',
      url: `/v1/cases/${caseId}/assign`,
      headers: bearer(admin),
      payload: { assignee: 'user:7' },
    });
    expect(assigned.json()).toMatchObject({ id: caseId, assignee: 'user:7' });
    const decided = await t.app.inject({
      method: 'POST',
      url: `/v1/cases/${caseId}/decision`,
      headers: bearer(admin),
      payload: {
        decision: 'label',
        ground_type: 'terms',
        ground: 'TVEC policy',
        reason: 'Labelled as known propaganda.',
      },
    });
    const exported = await t.app.inject({ method: 'GET', url: '/v1/statements', headers: bearer(admin) });
    expect(exported.headers['content-type']).toMatch(/ndjson/);
    const lines = exported.body
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    expect(lines.map((l) => l.uuid)).toContain(decided.json().statement_id);
    expect(lines.find((l) => l.uuid === decided.json().statement_id)).toMatchObject({
      decision_visibility: ['DECISION_VISIBILITY_CONTENT_LABELLED'],
    });
  });
});
