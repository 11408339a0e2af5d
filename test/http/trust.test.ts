/**
 * The trust holes found by probing a running server (issue 8), each as an attacker would try it.
 */
import { readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { join } from 'node:path';
import type { AddressInfo } from 'node:net';
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { csvCell, csvUnescape } from '../../src/core/csv.js';
import { isInternalAddress } from '../../src/core/outbound.js';
import { PixelBudget } from '../../src/hashing/pixel-budget.js';
import { bearer, multipart, startTestApp, type TestApp } from '../helpers/app.js';
import { TEST_DIALECTS } from '../helpers/databases.js';
import { PDQ_DATA } from '../helpers/shared.js';

const BRIDGE = 'f8f8f0cee0f4a84f06370a22038f63f0b36e2ed596621e1d33e6b39c4e9c9b22';

describe.each(TEST_DIALECTS)('trust on %s', (dialect) => {
  let t: TestApp;
  let platformB: { id: number; key: string };
  let platformC: { id: number; key: string };
  let adminC: string;

  beforeAll(async () => {
    // No webhook allow-list here: internal receivers must be refused.
    t = await startTestApp(dialect, { KAITIAKI_WEBHOOK_ALLOWED_HOSTS: '', KAITIAKI_SECURE_COOKIES: 'false' });
    platformB = await t.organisation('Platform B', 'admin');
    platformC = await t.organisation('Platform C', 'integration');
    adminC = (await t.ctx.apiKeys.create(platformC.id, { name: 'C admin', role: 'admin' })).key;
  });
  afterAll(() => t.close());

  const call = (method: string, url: string, key: string, payload?: unknown) =>
    t.app.inject({
      method: method as 'GET',
      url,
      headers: bearer(key),
      ...(payload === undefined ? {} : { payload: payload as object }),
    });

  describe('instance administration is not an organisation role', () => {
    it("refuses an organisation admin's attempts to list or create organisations", async () => {
      expect((await call('GET', '/v1/organisations', platformB.key)).statusCode).toBe(403);
      const create = await call('POST', '/v1/organisations', platformB.key, {
        name: 'Mine',
        kind: 'instance',
      });
      expect(create.statusCode).toBe(403);
      expect(create.json().detail).toMatch(/instance:organisations/);
    });

    it('never creates an instance organisation through the API, even for the instance administrator', async () => {
      const response = await call('POST', '/v1/organisations', t.adminKey, {
        name: 'Second',
        kind: 'instance',
      });
      expect(response.statusCode).toBe(400);
      const platform = await call('POST', '/v1/organisations', t.adminKey, {
        name: 'Fresh',
        admin_key: { name: 'k', role: 'admin' },
      });
      expect(platform.statusCode).toBe(201);
      // The key issued for the new organisation is an organisation admin, not an instance administrator.
      const key = platform.json().api_key.key as string;
      expect((await call('GET', '/v1/organisations', key)).statusCode).toBe(403);
    });

    it('keeps an organisation admin to its own audit records; the instance administrator sees every one', async () => {
      await call('POST', '/v1/banks', platformB.key, { name: 'B_ONLY' });
      await call('POST', '/v1/keys', adminC, { name: 'c2', role: 'viewer' });
      const ofB = (await call('GET', '/v1/audit?limit=500', platformB.key)).json().items as {
        organisation_id: number;
      }[];
      expect(ofB.length).toBeGreaterThan(0);
      expect(ofB.every((r) => r.organisation_id === platformB.id)).toBe(true);
      const all = (await call('GET', '/v1/audit?limit=500', t.adminKey)).json().items as {
        organisation_id: number;
      }[];
      expect(all.some((r) => r.organisation_id === platformC.id)).toBe(true);
      expect((await call('GET', '/v1/me', t.adminKey)).json().instance_admin).toBe(true);
      expect((await call('GET', '/v1/me', platformB.key)).json().instance_admin).toBe(false);
    });
  });

  describe('a share is an offer until the receiver accepts it', () => {
    let bank: number;
    beforeAll(async () => {
      bank = (await call('POST', '/v1/banks', platformB.key, { name: 'B_PUSHED' })).json().id;
      await call('POST', `/v1/banks/${bank}/entries`, platformB.key, { signal_type: 'pdq', value: BRIDGE });
      await call('PUT', '/v1/policies', platformB.key, {
        policies: [{ bank_id: null, label: null, action: 'block' }],
      });
    });

    it('changes nothing for the receiver before it accepts: no match, no verdict, no removal', async () => {
      const offered = await call('POST', `/v1/banks/${bank}/shares`, platformB.key, {
        organisation_id: platformC.id,
      });
      expect(offered.json().items).toEqual([
        {
          organisation_id: platformC.id,
          rights: 'read',
          can_contribute: false,
          status: 'offered',
          policy: null,
        },
      ]);
      const submission = await call('POST', '/v1/submissions', platformC.key, {
        external_id: 'upload-1',
        signals: [{ type: 'pdq', value: BRIDGE }],
      });
      expect(submission.json()).toMatchObject({ verdict: 'no-match' });
      expect((await call('GET', `/v1/banks/${bank}`, adminC)).statusCode).toBe(404);
      const incoming = (await call('GET', '/v1/shares/incoming', adminC)).json().items;
      expect(incoming).toEqual([
        expect.objectContaining({ bank_id: bank, bank_name: 'B_PUSHED', status: 'offered', policy: null }),
      ]);
    });

    it('applies review by default once accepted, even though the owner blocks on its own matches', async () => {
      const accepted = await call('POST', `/v1/shares/incoming/${bank}/accept`, adminC, {});
      expect(accepted.json()).toMatchObject({ status: 'accepted', policy: 'review' });
      const submission = await call('POST', '/v1/submissions', platformC.key, {
        external_id: 'upload-2',
        signals: [{ type: 'pdq', value: BRIDGE }],
      });
      expect(submission.json()).toMatchObject({ verdict: 'queued' });
      const actions = await t.test.db.db
        .selectFrom('actions')
        .select('type')
        .where('org_id', '=', platformC.id)
        .execute();
      expect(actions.map((a) => a.type)).not.toContain('content.remove');
    });

    it('lets the receiver leave; the owner cannot accept on its behalf', async () => {
      expect((await call('POST', `/v1/shares/incoming/${bank}/accept`, platformB.key, {})).statusCode).toBe(
        404,
      );
      expect((await call('DELETE', `/v1/shares/incoming/${bank}`, adminC)).statusCode).toBe(204);
      const after = await call('POST', '/v1/match', platformC.key, {
        signals: [{ type: 'pdq', value: BRIDGE }],
      });
      expect(after.json().matches).toEqual([]);
      // Without a key nothing is answered at all.
      for (const [method, url] of [
        ['GET', '/v1/shares/incoming'],
        ['POST', `/v1/shares/incoming/${bank}/accept`],
        ['DELETE', `/v1/shares/incoming/${bank}`],
        ['POST', '/v1/users/1/unlock'],
      ] as const)
        expect((await t.app.inject({ method, url, payload: {} })).statusCode, url).toBe(401);
      // An integration key cannot accept offers for its organisation.
      await call('POST', `/v1/banks/${bank}/shares`, platformB.key, { organisation_id: platformC.id });
      expect((await call('POST', `/v1/shares/incoming/${bank}/accept`, platformC.key, {})).statusCode).toBe(
        403,
      );
    });
  });

  describe('webhooks never reach internal addresses unless an operator allowed them', () => {
    it.each([
      'http://127.0.0.1:9/x',
      'https://127.0.0.1/x',
      'https://169.254.169.254/latest/meta-data',
      'https://10.1.2.3/',
      'https://192.168.1.1/',
      'https://[::1]/',
      'https://[::ffff:127.0.0.1]/',
      'https://[fd00::1]/',
      'https://localhost/',
      'http://example.org/hook',
    ])('refuses %s at creation', async (url) => {
      const response = await call('POST', '/v1/webhooks', platformB.key, { url });
      expect(response.statusCode).toBe(400);
      expect(response.json().code).toMatch(/KAI_ERR_URL_(INTERNAL|NOT_HTTPS|UNRESOLVED)/);
    });

    it('classifies addresses', () => {
      for (const a of [
        '127.0.0.1',
        '10.0.0.1',
        '172.20.1.1',
        '192.168.0.1',
        '169.254.169.254',
        '100.64.0.1',
        '::1',
        'fe80::1',
        'fc00::1',
        '::ffff:10.0.0.1',
        '0.0.0.0',
      ])
        expect(isInternalAddress(a), a).toBe(true);
      for (const a of ['93.184.216.34', '1.1.1.1', '2606:4700:4700::1111'])
        expect(isInternalAddress(a), a).toBe(false);
    });

    it('refuses at delivery time a webhook stored before (or rebound to an internal address)', async () => {
      let hits = 0;
      const receiver: Server = createServer((_req, res) => {
        hits++;
        res.end('ok');
      });
      await new Promise<void>((r) => receiver.listen(0, '127.0.0.1', r));
      const port = (receiver.address() as AddressInfo).port;
      try {
        // As if written before the check existed (or by a name that resolved elsewhere then).
        await t.test.db.db
          .insertInto('webhooks')
          .values({
            org_id: platformB.id,
            url: `https://127.0.0.1:${port}/`,
            secret: 'whsec_x',
            enabled: 1,
            created_at: new Date().toISOString(),
          })
          .execute();
        await call('POST', '/v1/submissions', platformB.key, {
          external_id: 'w1',
          signals: [{ type: 'pdq', value: BRIDGE }],
        });
        await t.ctx.deliverer.runOnce();
        expect(hits).toBe(0);
        const deliveries = (await call('GET', '/v1/webhooks/deliveries', platformB.key)).json().items as {
          error: string;
        }[];
        expect(deliveries[0].error).toMatch(/internal address 127\.0\.0\.1/);
      } finally {
        receiver.close();
      }
    });
  });

  describe('sign-in', () => {
    beforeAll(async () => {
      await call('POST', '/v1/users', platformB.key, {
        email: 'mod@b.example',
        role: 'moderator',
        password: 'a long passphrase here',
      });
    });
    const signIn = (email: string, password: string, headers: Record<string, string> = {}) =>
      t.app.inject({ method: 'POST', url: '/v1/session', payload: { email, password }, headers });

    it('limits attempts per address whatever Authorization header each attempt sends', async () => {
      const codes: number[] = [];
      for (let i = 0; i < 14; i++)
        codes.push(
          (
            await signIn(`nobody${i}@x.example`, 'wrong password!', {
              authorization: `Bearer random-${i}-${Math.random()}`,
            })
          ).statusCode,
        );
      expect(codes).toContain(429);
    });

    it('locks the account after repeated failures: the right password is refused until an admin unlocks it', async () => {
      const fromOtherAddress = { 'x-forwarded-for': '1.2.3.4' };
      await t.test.db.db.deleteFrom('sign_in_failures').execute();
      for (let i = 0; i < 6; i++) {
        // Through the store, as attempts from many addresses would arrive.
        await t.ctx.signInFailures.recordFailure('mod@b.example');
      }
      const right = await t.app.inject({
        method: 'POST',
        url: '/v1/session',
        payload: { email: 'MOD@b.example', password: 'a long passphrase here' },
        remoteAddress: '10.9.9.9',
        headers: fromOtherAddress,
      });
      expect(right.statusCode).toBe(429);
      expect(right.json().code).toBe('KAI_ERR_SIGN_IN_LOCKED');
      const { id } = await t.test.db.db
        .selectFrom('users')
        .select('id')
        .where('email', '=', 'mod@b.example')
        .executeTakeFirstOrThrow();
      expect((await call('POST', `/v1/users/${id}/unlock`, adminC)).statusCode).toBe(404);
      const unlock = await call('POST', `/v1/users/${id}/unlock`, platformB.key);
      expect(unlock.json()).toEqual({ id, unlocked: true });
      const audit = (await call('GET', '/v1/audit?limit=500', platformB.key)).json().items as {
        action: string;
      }[];
      expect(audit.some((r) => r.action === 'user.unlock')).toBe(true);
      const again = await t.app.inject({
        method: 'POST',
        url: '/v1/session',
        payload: { email: 'mod@b.example', password: 'a long passphrase here' },
        remoteAddress: '10.9.9.8',
      });
      expect(again.statusCode).toBe(200);
    });

    it('spends as long on an unknown address as on a known one', async () => {
      const time = async (email: string, remoteAddress: string) => {
        const started = process.hrtime.bigint();
        await t.app.inject({
          method: 'POST',
          url: '/v1/session',
          payload: { email, password: 'wrong password!!' },
          remoteAddress,
        });
        return Number(process.hrtime.bigint() - started) / 1e6;
      };
      const known = await time('mod@b.example', '10.8.0.1');
      const unknown = await time('nobody-here@b.example', '10.8.0.2');
      // scrypt dominates both; without the decoy the unknown address answered ~100x faster.
      expect(unknown).toBeGreaterThan(known / 4);
    });

    it('refuses the commonest passwords and does not say an address is used in another organisation', async () => {
      const common = await call('POST', '/v1/users', platformB.key, {
        email: 'x@b.example',
        role: 'viewer',
        password: 'password1234',
      });
      expect(common.statusCode).toBe(400);
      expect(common.json().code).toBe('KAI_ERR_WEAK_PASSWORD');
      const clash = await call('POST', '/v1/users', adminC, {
        email: 'mod@b.example',
        role: 'viewer',
        password: 'another long passphrase',
      });
      expect(clash.statusCode).toBe(409);
      expect(JSON.stringify(clash.json())).not.toMatch(/organisation|exists/i);
    });
  });

  describe('audit head', () => {
    it('names the removal of the newest records', async () => {
      expect(await t.ctx.audit.verify()).toMatchObject({ ok: true });
      const head = await t.ctx.audit.head();
      await sql`delete from audit_log where id = ${head.seq}`.execute(t.test.db.db);
      const result = await t.ctx.audit.verify();
      expect(result).toMatchObject({ ok: false, firstBadId: head.seq });
      if (!result.ok) expect(result.reason).toMatch(/removed/);
    });
  });
});

describe('input limits and headers', () => {
  let t: TestApp;
  let platform: { id: number; key: string };
  beforeAll(async () => {
    t = await startTestApp('sqlite');
    platform = await t.organisation('Limits', 'admin');
  });
  afterAll(() => t.close());

  const PNG = readFileSync(join(PDQ_DATA, 'images', 'misc-images', 'c.png'));
  const form = (parts: { name: string; value?: string; file?: Buffer }[]) => {
    const boundary = '----limits';
    const chunks: Buffer[] = [];
    for (const p of parts) {
      const disposition = p.file
        ? `form-data; name="${p.name}"; filename="x.png"\r\nContent-Type: image/png`
        : `form-data; name="${p.name}"`;
      chunks.push(Buffer.from(`--${boundary}\r\nContent-Disposition: ${disposition}\r\n\r\n`));
      chunks.push(p.file ?? Buffer.from(p.value ?? ''));
      chunks.push(Buffer.from('\r\n'));
    }
    chunks.push(Buffer.from(`--${boundary}--\r\n`));
    return {
      payload: Buffer.concat(chunks),
      headers: { 'content-type': `multipart/form-data; boundary=${boundary}` },
    };
  };
  const submit = (
    body: { payload: Buffer; headers: Record<string, string> },
    extra: Record<string, string> = {},
  ) =>
    t.app.inject({
      method: 'POST',
      url: '/v1/submissions',
      headers: { ...bearer(platform.key), ...body.headers, ...extra },
      payload: body.payload,
    });

  it('applies the JSON limits to multipart submissions', async () => {
    const longId = await submit(
      form([
        { name: 'external_id', value: 'x'.repeat(300_000) },
        { name: 'file', file: PNG },
      ]),
    );
    expect(longId.statusCode).toBe(400);
    expect(longId.json().code).toBe('KAI_ERR_FIELD_TOO_LONG');
    const longKey = await submit(
      form([
        { name: 'external_id', value: 'a' },
        { name: 'file', file: PNG },
      ]),
      {
        'idempotency-key': 'k'.repeat(5000),
      },
    );
    expect(longKey.json().code).toBe('KAI_ERR_BAD_IDEMPOTENCY_KEY');
    const twoFiles = await submit(
      form([
        { name: 'external_id', value: 'b' },
        { name: 'file', file: PNG },
        { name: 'file2', file: PNG },
      ]),
    );
    expect(twoFiles.statusCode).toBe(413);
    expect(twoFiles.json().code).toBe('KAI_ERR_TOO_MANY_FILES');
    const ok = await submit(
      form([
        { name: 'external_id', value: 'c' },
        { name: 'file', file: PNG },
      ]),
    );
    expect(ok.statusCode).toBe(201);
  });

  it('answers 400, not 500, to multipart without a boundary', async () => {
    const response = await t.app.inject({
      method: 'POST',
      url: '/v1/submissions',
      headers: { ...bearer(platform.key), 'content-type': 'multipart/form-data' },
      payload: 'whatever',
    });
    expect(response.statusCode).toBe(400);
  });

  it('never puts a server path in an error', async () => {
    const fakeVideo = Buffer.concat([
      Buffer.from([0, 0, 0, 0x18]),
      Buffer.from('ftypmp42'),
      Buffer.alloc(200, 7),
    ]);
    const response = await t.app.inject({
      method: 'POST',
      url: '/v1/hash',
      headers: { ...bearer(platform.key), ...multipart('file', 'v.mp4', fakeVideo).headers },
      payload: multipart('file', 'v.mp4', fakeVideo).payload,
    });
    expect(response.statusCode).toBe(422);
    expect(response.body).not.toMatch(/\/tmp|kaitiaki-upload/);
  });

  it('sends security headers on API answers and the docs', async () => {
    for (const url of ['/v1/me', '/docs/', '/openapi.json']) {
      const response = await t.app.inject({ method: 'GET', url, headers: bearer(platform.key) });
      expect(response.headers['x-frame-options'], url).toBe('DENY');
      expect(response.headers['x-content-type-options'], url).toBe('nosniff');
      expect(String(response.headers['content-security-policy']), url).toMatch(/frame-ancestors 'none'/);
    }
  });

  it('replays a submission with exactly the first answer', async () => {
    const bank = (
      await t.app.inject({
        method: 'POST',
        url: '/v1/banks',
        headers: bearer(platform.key),
        payload: { name: 'R' },
      })
    ).json().id;
    await t.app.inject({
      method: 'POST',
      url: `/v1/banks/${bank}/entries`,
      headers: bearer(platform.key),
      payload: { signal_type: 'pdq', value: BRIDGE },
    });
    const send = () =>
      t.app.inject({
        method: 'POST',
        url: '/v1/submissions',
        headers: { ...bearer(platform.key), 'idempotency-key': 'replay-1' },
        payload: { external_id: 'r1', signals: [{ type: 'pdq', value: BRIDGE }] },
      });
    const first = (await send()).json();
    const again = (await send()).json();
    expect(first.policy_action).toBe('review-urgent');
    expect(again).toEqual({ ...first, replayed: true });
  });

  it('escapes spreadsheet formulas in CSV and takes the escape off on import', () => {
    for (const value of ['=HYPERLINK("x")', '+1', '-2', '@SUM(A1)', "'=already", 'plain', "'quoted"]) {
      const cell = csvCell(value);
      expect(cell).not.toMatch(/^"?[=+\-@]/);
      const unquoted = cell.startsWith('"') ? cell.slice(1, -1).replace(/""/g, '"') : cell;
      expect(csvUnescape(unquoted)).toBe(value);
    }
  });

  it('keeps photo hashing within a pixel budget: a large image waits for the one before', async () => {
    const budget = new PixelBudget(100);
    const order: string[] = [];
    let release!: () => void;
    const first = budget.run(
      80,
      () => new Promise<void>((r) => (release = () => (order.push('first done'), r()))),
    );
    const second = budget.run(50, async () => void order.push('second started'));
    const small = budget.run(10, async () => void order.push('small started'));
    await new Promise((r) => setTimeout(r, 20));
    expect(order).toEqual([]);
    expect(budget.pixelsInUse).toBe(80);
    release();
    await Promise.all([first, second, small]);
    expect(order).toEqual(['first done', 'second started', 'small started']);
    // One image over the whole budget still runs, alone.
    await expect(budget.run(1000, async () => 'ran')).resolves.toBe('ran');
  });

  it('retries per endpoint: a failing webhook does not make a healthy one receive the action again', async () => {
    const hits = { healthy: 0, failing: 0 };
    const receiver = createServer((req, res) => {
      const which = req.url === '/healthy' ? 'healthy' : 'failing';
      hits[which]++;
      res.statusCode = which === 'healthy' ? 200 : 500;
      req.resume();
      req.on('end', () => res.end());
    });
    await new Promise<void>((r) => receiver.listen(0, '127.0.0.1', r));
    const base = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}`;
    try {
      const org = await t.organisation('Hooks', 'admin');
      for (const path of ['/healthy', '/failing'])
        expect(
          (
            await t.app.inject({
              method: 'POST',
              url: '/v1/webhooks',
              headers: bearer(org.key),
              payload: { url: base + path },
            })
          ).statusCode,
        ).toBe(201);
      const bank = (
        await t.app.inject({
          method: 'POST',
          url: '/v1/banks',
          headers: bearer(org.key),
          payload: { name: 'H' },
        })
      ).json().id;
      await t.app.inject({
        method: 'POST',
        url: `/v1/banks/${bank}/entries`,
        headers: bearer(org.key),
        payload: { signal_type: 'pdq', value: BRIDGE },
      });
      await t.app.inject({
        method: 'PUT',
        url: '/v1/policies',
        headers: bearer(org.key),
        payload: { policies: [{ bank_id: bank, label: null, action: 'block' }] },
      });
      await t.app.inject({
        method: 'POST',
        url: '/v1/submissions',
        headers: bearer(org.key),
        payload: { external_id: 'h1', signals: [{ type: 'pdq', value: BRIDGE }] },
      });
      for (let attempt = 0; attempt < 4; attempt++) {
        await t.test.db.db
          .updateTable('actions')
          .set({ next_attempt_at: new Date(0).toISOString() })
          .where('org_id', '=', org.id)
          .where('status', '=', 'pending')
          .execute();
        await t.ctx.deliverer.runOnce();
      }
      expect(hits.failing).toBeGreaterThanOrEqual(4);
      expect(hits.healthy).toBe(1);
    } finally {
      receiver.close();
    }
  });
});
