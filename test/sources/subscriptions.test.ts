/**
 * External lists as sources, end to end over HTTP: subscriptions against local fixture servers (TCAP hash-list
 * API and CSV / JSON-lines lists), the read-only mirror bank, quarantine, checkpoints, failures, isolation.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { SourceRunner } from '../../src/sources/runner.js';
import { Transactions } from '../../src/store/unit-of-work.js';
import { bearer, startTestApp, type TestApp } from '../helpers/app.js';
import { TEST_DIALECTS } from '../helpers/databases.js';
import { startFixtureServer, type FixtureServer } from '../helpers/fixture-server.js';

const PDQ_A = 'f8f8f0cee0f4a84f06370a22038f63f0b36e2ed596621e1d33e6b39c4e9c9b22';
const PDQ_B = '30a10efd71cc3d429013d48d0ffffc52e34e0e17ada952a9d29685211ea9e5af';
const PDQ_C = 'e64cc9d91c623882f8d1f1d9a398e78c9f199b3bd83924f2b7e11e0bf861b064';
const MD5_A = 'd41d8cd98f00b204e9800998ecf8427e';
const MD5_B = '9e107d9d372bb6826bd81d3542a419d6';
const TOKEN = 'tcap-test-token';

interface TcapItem {
  hash_digest: string;
  algorithm: string;
  ideology?: string;
  file_type?: string;
  deleted?: boolean;
  created_on?: number;
  updated_on: number;
  id: number;
}

describe.each(TEST_DIALECTS)('external lists as sources, on %s', (dialect) => {
  let t: TestApp;
  let fixture: FixtureServer;
  let org: { id: number; key: string };
  let other: { id: number; key: string };
  let fileRoot: string;
  /** What the fixture TCAP list holds; pages of `pageSize`, filtered by `after`. */
  let tcap: TcapItem[];
  let pageSize: number;
  /** When set, the next TCAP answer is this instead (a fault). */
  let tcapFault: null | 'http500' | 'hang' | 'truncated-json' | 'cut' | { backwards: TcapItem[] };

  const call = (method: string, url: string, key: string, payload?: unknown) =>
    t.app.inject({
      method: method as 'GET',
      url,
      headers: bearer(key),
      ...(payload !== undefined ? { payload: payload as object } : {}),
    });
  /** Matches of one signal, in one bank when given (other tests' mirrors hold some of the same signals). */
  const match = async (type: string, value: string, key = org.key, bankId?: number) =>
    (
      (await call('POST', '/v1/match', key, { signals: [{ type, value }] })).json().matches as {
        bank: { id: number };
      }[]
    ).filter((m) => bankId === undefined || m.bank.id === bankId);
  const subscribe = async (body: Record<string, unknown>, key = org.key) => {
    const response = await call('POST', '/v1/subscriptions', key, body);
    expect(response.statusCode, response.body).toBe(201);
    return response.json() as { id: number; bank_id: number; name: string };
  };
  const sync = async (id: number, key = org.key) => {
    const response = await call('POST', `/v1/subscriptions/${id}/sync`, key);
    expect(response.statusCode, response.body).toBe(200);
    return response.json() as {
      runs: { status: string; upserted: number; deleted: number; quarantined: number; error?: string }[];
      subscription: Record<string, unknown>;
    };
  };
  const entries = async (bankId: number) =>
    (await call('GET', `/v1/banks/${bankId}/entries?limit=1000`, org.key)).json().items as {
      signal_type: string;
      value: string;
      labels: string[];
      external_id: string | null;
    }[];

  beforeAll(async () => {
    fixture = await startFixtureServer();
    fileRoot = mkdtempSync(join(tmpdir(), 'kaitiaki-lists-'));
    t = await startTestApp(dialect, {
      KAITIAKI_SOURCE_ALLOWED_HOSTS: `127.0.0.1:${fixture.port}`,
      KAITIAKI_SOURCE_FILE_ROOT: fileRoot,
      KAITIAKI_SOURCE_TIMEOUT_MS: '700',
      KAITIAKI_SOURCE_MAX_BYTES: '65536',
      // Runs happen when a test asks (POST .../sync); the scheduler has its own test below.
      KAITIAKI_SOURCE_SCHEDULE: 'false',
    });
    org = await t.organisation('Small Platform', 'moderator');
    other = await t.organisation('Other Platform', 'moderator');
    fixture.on('/tcap/api/hash-list/v2/all', (req, res, url) => {
      if (req.headers.authorization !== `Bearer ${TOKEN}`) {
        res.writeHead(401, { 'content-type': 'application/json' }).end('{"error":"bad token"}');
        return;
      }
      const fault = tcapFault;
      tcapFault = null;
      if (fault === 'http500') return void res.writeHead(500).end('upstream exploded');
      if (fault === 'hang') return; // never answers
      if (fault === 'truncated-json')
        return void res
          .writeHead(200, { 'content-type': 'application/json' })
          .end('{"count": 3, "results": [{"hash_dig');
      if (fault === 'cut') {
        res.writeHead(200, { 'content-type': 'application/json', 'content-length': '5000' });
        res.write('{"count": 3, "results": [');
        setTimeout(() => res.socket?.destroy(), 20);
        return;
      }
      if (fault && typeof fault === 'object') {
        const body = { count: fault.backwards.length, next: null, previous: null, results: fault.backwards };
        return void res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(body));
      }
      const after = url.searchParams.get('after');
      const [ts, id] = after ? after.split(',').map(Number) : [-1, -1];
      const remaining = [...tcap]
        .sort((a, b) => a.updated_on - b.updated_on || a.id - b.id)
        .filter((r) => r.updated_on > ts || (r.updated_on === ts && r.id > id));
      const results = remaining.slice(0, pageSize);
      const last = results[results.length - 1];
      const body = {
        count: remaining.length,
        next: remaining.length > pageSize ? `${url.pathname}?after=${last.updated_on},${last.id}` : null,
        previous: null,
        checkpoint: last ? `${last.updated_on},${last.id}` : after,
        results,
      };
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(body));
    });
  });
  afterAll(async () => {
    await t?.close();
    await fixture?.close();
    rmSync(fileRoot, { recursive: true, force: true });
  });
  beforeEach(() => {
    tcapFault = null;
    pageSize = 2;
  });

  describe('TCAP hash list', () => {
    let sub: { id: number; bank_id: number; name: string };

    beforeAll(async () => {
      tcap = [
        {
          hash_digest: PDQ_A,
          algorithm: 'PDQ',
          ideology: 'Islamist',
          file_type: 'png',
          updated_on: 1704901040.1,
          created_on: 1704900000,
          id: 10,
        },
        {
          hash_digest: MD5_A,
          algorithm: 'MD5',
          ideology: 'Far-Right',
          file_type: 'mp4',
          updated_on: 1704901040.2,
          id: 11,
        },
        {
          hash_digest: 'not-a-pdq-hash',
          algorithm: 'PDQ',
          ideology: 'Islamist',
          file_type: 'jpg',
          updated_on: 1704901041,
          id: 12,
        },
        {
          hash_digest: PDQ_B.toUpperCase(),
          algorithm: 'PDQ',
          ideology: 'Islamist',
          file_type: 'jpg',
          updated_on: 1704901042,
          id: 13,
        },
        {
          hash_digest: 'abc',
          algorithm: 'TMK',
          ideology: 'Islamist',
          file_type: 'mp4',
          updated_on: 1704901043,
          id: 14,
        },
      ];
      sub = await subscribe({
        name: 'TCAP_HASHES',
        kind: 'tcap',
        config: { base_url: `${fixture.base}/tcap/`, token: TOKEN },
        interval_seconds: 3600,
      });
    });

    it('syncs page after page into a read-only mirror bank that matches at once; bad records are quarantined', async () => {
      const result = await sync(sub.id);
      expect(result.runs.map((r) => r.status)).toEqual(['applied', 'applied', 'applied']);
      expect(result.runs.reduce((n, r) => n + r.upserted, 0)).toBe(3);
      expect(result.runs.reduce((n, r) => n + r.quarantined, 0)).toBe(2);
      expect(result.subscription).toMatchObject({
        kind: 'tcap',
        checkpoint: '1704901043,14',
        lag_records: 0,
        last_error: null,
        records_upserted: 3,
        records_quarantined: 2,
        config: { token: '(set)', base_url: `${fixture.base}/tcap/` },
      });
      expect(result.subscription.lag_seconds).toBeGreaterThanOrEqual(0);
      expect(JSON.stringify(result.subscription)).not.toContain(TOKEN);
      // Every request carried the bearer token and, after the first, the checkpoint.
      const asked = fixture.requests.filter((r) => r.path.startsWith('/tcap/'));
      expect(asked.map((r) => new URL(r.path, 'http://x').searchParams.get('after'))).toEqual([
        null,
        '1704901040.2,11',
        '1704901042,13',
      ]);
      const stored = await entries(sub.bank_id);
      expect(stored.map((e) => [e.signal_type, e.value, e.external_id])).toEqual([
        ['pdq', PDQ_A, 'tcap:10'],
        ['md5', MD5_A, 'tcap:11'],
        ['pdq', PDQ_B, 'tcap:13'],
      ]);
      expect(stored[0].labels).toEqual(['tcap', 'ideology:islamist', 'file_type:png']);
      expect(stored[1].labels).toEqual(['tcap', 'ideology:far-right', 'file_type:mp4']);
      expect(await match('pdq', PDQ_A)).toHaveLength(1);
      expect(await match('md5', MD5_A)).toHaveLength(1);
      // Another organisation's matches never see this organisation's mirror.
      expect(await match('pdq', PDQ_A, other.key)).toEqual([]);

      const quarantine = await call('GET', `/v1/subscriptions/${sub.id}/quarantine`, org.key);
      const reasons = (quarantine.json().items as { reason: string; raw: string }[]).map((q) => q.reason);
      expect(reasons[0]).toMatch(/pdq/i);
      expect(JSON.parse((quarantine.json().items as { raw: string }[])[0].raw)).toMatchObject({ id: 12 });
      expect(reasons[1]).toMatch(/algorithm "TMK"/);

      // Nothing new: a run changes nothing and says so.
      expect((await sync(sub.id)).runs).toEqual([
        { status: 'unchanged', upserted: 0, deleted: 0, quarantined: 0, has_more: false },
      ]);
    });

    it('applies deletions and label changes, and never lets a cursor going backwards revive a deleted hash', async () => {
      tcap.push({
        hash_digest: PDQ_A,
        algorithm: 'PDQ',
        ideology: 'Islamist',
        deleted: true,
        updated_on: 1704901050,
        id: 10,
      });
      tcap.push({
        hash_digest: MD5_A,
        algorithm: 'MD5',
        ideology: 'Islamist',
        file_type: 'mp4',
        updated_on: 1704901051,
        id: 11,
      });
      const result = await sync(sub.id);
      expect(result.runs[0]).toMatchObject({ status: 'applied', upserted: 1, deleted: 1 });
      expect(await match('pdq', PDQ_A)).toEqual([]);
      expect((await entries(sub.bank_id)).find((e) => e.value === MD5_A)?.labels).toContain(
        'ideology:islamist',
      );

      // The server answers records at or before the checkpoint (its cursor went backwards).
      tcapFault = {
        backwards: [
          { hash_digest: PDQ_A, algorithm: 'PDQ', ideology: 'Islamist', updated_on: 1704901040.1, id: 10 },
          { hash_digest: PDQ_C, algorithm: 'PDQ', ideology: 'Islamist', updated_on: 1704901060, id: 20 },
        ],
      };
      const back = await sync(sub.id);
      expect(back.runs[0]).toMatchObject({ status: 'applied', upserted: 1, quarantined: 1 });
      expect(back.subscription.checkpoint).toBe('1704901060,20');
      expect(await match('pdq', PDQ_A)).toEqual([]);
      expect(await match('pdq', PDQ_C)).toHaveLength(1);
      const items = (await call('GET', `/v1/subscriptions/${sub.id}/quarantine`, org.key)).json().items as {
        reason: string;
      }[];
      expect(items[items.length - 1].reason).toMatch(/cursor went backwards/);
    });

    it('records a 500, a hang, truncated JSON and a cut connection as the last error, keeps the checkpoint, and recovers', async () => {
      const before = (await call('GET', `/v1/subscriptions/${sub.id}`, org.key)).json();
      const count = (await entries(sub.bank_id)).length;
      for (const [fault, pattern] of [
        ['http500', /HTTP 500/],
        ['hang', /did not answer within 700 ms/],
        ['truncated-json', /not JSON \(truncated\?\)/],
        ['cut', /closed the connection mid-answer|failed/],
      ] as const) {
        tcapFault = fault;
        const result = await sync(sub.id);
        expect(result.runs, fault).toHaveLength(1);
        expect(result.runs[0].status, fault).toBe('failed');
        expect(result.runs[0].error, fault).toMatch(pattern);
        expect(result.subscription.last_error, fault).toMatch(pattern);
        expect(result.subscription.checkpoint, fault).toBe(before.checkpoint);
        expect(await entries(sub.bank_id), fault).toHaveLength(count);
      }
      tcap.push({ hash_digest: MD5_B, algorithm: 'MD5', updated_on: 1704901070, id: 30 });
      const recovered = await sync(sub.id);
      expect(recovered.runs[0]).toMatchObject({ status: 'applied', upserted: 1 });
      expect(recovered.subscription.last_error).toBeNull();
    });

    it('says when the token is refused', async () => {
      const bad = await subscribe({
        name: 'TCAP_BAD_TOKEN',
        kind: 'tat',
        config: { base_url: `${fixture.base}/tcap/`, token: 'wrong' },
      });
      const result = await sync(bad.id);
      expect(result.runs[0].error).toMatch(/refused the token \(HTTP 401\)/);
      expect(result.subscription.kind).toBe('tcap');
    });

    it('logs in with a username and password for a token when given those instead', async () => {
      let logins = 0;
      fixture.on('/tcap/token-auth/tcap/', (req, res) => {
        let body = '';
        req.on('data', (d: Buffer) => (body += d.toString()));
        req.on('end', () => {
          logins++;
          const { username, password } = JSON.parse(body) as { username: string; password: string };
          if (req.method !== 'POST' || username !== 'analyst' || password !== 'pw')
            return void res.writeHead(400, { 'content-type': 'application/json' }).end('{"error":"bad"}');
          res
            .writeHead(200, { 'content-type': 'application/json' })
            .end(JSON.stringify({ token: TOKEN, user: {} }));
        });
      });
      const login = await subscribe({
        name: 'TCAP_LOGIN',
        kind: 'tcap',
        config: { base_url: `${fixture.base}/tcap/`, username: 'analyst', password: 'pw' },
      });
      const result = await sync(login.id);
      expect(result.runs.at(-1)?.status).not.toBe('failed');
      expect(result.subscription.records_upserted).toBeGreaterThan(0);
      expect(result.subscription.config).toMatchObject({ username: 'analyst', password: '(set)' });
      expect(JSON.stringify(result.subscription)).not.toMatch(/"pw"|tcap-test-token/);
      expect(logins).toBe(1); // the token is kept between pages and runs
      const wrong = await subscribe({
        name: 'TCAP_WRONG_LOGIN',
        kind: 'tcap',
        config: { base_url: `${fixture.base}/tcap/`, username: 'analyst', password: 'nope' },
      });
      expect((await sync(wrong.id)).runs[0].error).toMatch(/refused the username or password \(HTTP 400\)/);
      const both = await call('POST', '/v1/subscriptions', org.key, {
        name: 'TCAP_BOTH',
        kind: 'tcap',
        config: { token: 't', username: 'a', password: 'b' },
      });
      expect(both.statusCode).toBe(400);
    });

    it('refuses every write to the mirror bank through the bank and entry routes', async () => {
      const writes = [
        ['POST', `/v1/banks/${sub.bank_id}/entries`, { signal_type: 'pdq', value: PDQ_C }],
        ['PATCH', `/v1/banks/${sub.bank_id}`, { description: 'mine now' }],
        ['DELETE', `/v1/banks/${sub.bank_id}`, undefined],
        ['POST', `/v1/banks/${sub.bank_id}/shares`, { organisation_id: other.id }],
      ] as const;
      for (const [method, url, body] of writes) {
        const response = await call(method, url, org.key, body);
        expect(response.statusCode, `${method} ${url}`).toBe(403);
        expect(response.json().code).toBe('KAI_ERR_BANK_READ_ONLY');
        expect(response.json().message).toMatch(/read-only mirror of subscription/);
      }
      const bank = (await call('GET', `/v1/banks/${sub.bank_id}`, org.key)).json();
      expect(bank).toMatchObject({
        name: 'TCAP_HASHES',
        read_only: true,
        managed_by: `subscription:${sub.id}`,
      });
    });

    it('keeps subscriptions to their organisation', async () => {
      const list = (await call('GET', '/v1/subscriptions', other.key)).json();
      expect(list.items).toEqual([]);
      for (const [method, url] of [
        ['GET', `/v1/subscriptions/${sub.id}`],
        ['GET', `/v1/subscriptions/${sub.id}/quarantine`],
        ['POST', `/v1/subscriptions/${sub.id}/sync`],
        ['PATCH', `/v1/subscriptions/${sub.id}`],
        ['DELETE', `/v1/subscriptions/${sub.id}`],
      ] as const) {
        const response = await call(
          method,
          url,
          other.key,
          method === 'PATCH' ? { enabled: false } : undefined,
        );
        expect(response.statusCode, `${method} ${url}`).toBe(404);
      }
      const mine = (await call('GET', '/v1/subscriptions', org.key)).json().items as { name: string }[];
      expect(mine.map((s) => s.name)).toContain('TCAP_HASHES');
      // A viewer may look but not subscribe.
      const viewer = await t.ctx.apiKeys.create(org.id, { name: 'viewer', role: 'viewer' });
      expect((await call('GET', '/v1/subscriptions', viewer.key)).statusCode).toBe(200);
      const denied = await call('POST', '/v1/subscriptions', viewer.key, {
        name: 'X',
        kind: 'tcap',
        config: { token: 'x' },
      });
      expect(denied.statusCode).toBe(403);
    });

    it('applies a page once when two runners race for it (two processes)', async () => {
      const race = await subscribe({
        name: 'TCAP_RACE',
        kind: 'tcap',
        config: { base_url: `${fixture.base}/tcap/`, token: TOKEN },
        enabled: true,
      });
      pageSize = 100;
      // Two processes: each its own runner and its own units of work on the one database.
      const deps = () => ({
        db: t.ctx.database.db,
        transactions: new Transactions(t.ctx.database.db),
        sources: t.ctx.config.sources,
        afterBankWrite: () => t.ctx.afterBankWrite(),
      });
      const results = await Promise.all([
        new SourceRunner(deps()).tick(race.id),
        new SourceRunner(deps()).tick(race.id),
      ]);
      const statuses = results.map((r) => r.status).sort();
      expect(statuses).toContain('applied');
      const status = (await call('GET', `/v1/subscriptions/${race.id}`, org.key)).json();
      const stored = await entries(race.bank_id);
      expect(new Set(stored.map((e) => e.value)).size).toBe(stored.length);
      expect(status.records_upserted).toBe(stored.length);
      expect(stored.length).toBeGreaterThan(0);
    });

    it('unsubscribing deletes the mirror bank; its signals stop matching at once', async () => {
      expect(await match('pdq', PDQ_C)).toHaveLength(1);
      expect((await call('DELETE', `/v1/subscriptions/${sub.id}`, org.key)).statusCode).toBe(204);
      expect(await match('pdq', PDQ_C)).toEqual([]);
      expect((await call('GET', `/v1/banks/${sub.bank_id}`, org.key)).statusCode).toBe(404);
      expect((await call('GET', `/v1/subscriptions/${sub.id}`, org.key)).statusCode).toBe(404);
    });
  });

  describe('CSV and JSON-lines lists', () => {
    let csv: string;
    let etag: string;

    beforeAll(() => {
      fixture.on('/lists/tvec.csv', (req, res) => {
        if (req.headers['if-none-match'] === etag) return void res.writeHead(304).end();
        res.writeHead(200, { 'content-type': 'text/csv', etag }).end(csv);
      });
      fixture.on('/lists/big.csv', (_req, res) => {
        res
          .writeHead(200, { 'content-type': 'text/csv' })
          .end('signal_type,value\n' + `md5,${MD5_A}\n`.repeat(3000));
      });
    });

    it('mirrors a CSV list: conditional fetches, deletions by absence and by the deleted column, bad rows kept aside', async () => {
      csv = [
        'signal_type,value,labels,external_id,deleted',
        `pdq,${PDQ_A},tvec|christchurch,row-1,`,
        `md5,${MD5_A},tvec,row-2,`,
        `pdq,${PDQ_B},tvec,row-3,`,
        'pdq,zzzz,tvec,row-4,',
      ].join('\n');
      etag = '"v1"';
      const sub = await subscribe({
        name: 'TVEC_LIST',
        kind: 'list',
        config: { url: `${fixture.base}/lists/tvec.csv` },
      });
      const first = await sync(sub.id);
      expect(first.runs[0]).toMatchObject({ status: 'applied', upserted: 3, deleted: 0, quarantined: 1 });
      expect(await match('pdq', PDQ_A, org.key, sub.bank_id)).toHaveLength(1);
      const q = (await call('GET', `/v1/subscriptions/${sub.id}/quarantine`, org.key)).json().items;
      expect(q[0].reason).toMatch(/^line 5: /);
      expect(q[0].raw).toBe('pdq,zzzz,tvec,row-4,');

      // Unchanged: the server answers 304 to the ETag, nothing is parsed or written.
      const again = await sync(sub.id);
      expect(again.runs[0].status).toBe('unchanged');
      expect(
        fixture.requests.filter((r) => r.path === '/lists/tvec.csv').at(-1)?.headers['if-none-match'],
      ).toBe('"v1"');

      // PDQ_B is gone from the list, MD5_A is marked deleted, PDQ_A has a bad label (kept as it was), PDQ_C is new.
      csv = [
        'signal_type,value,labels,external_id,deleted',
        `pdq,${PDQ_A},bad label!,row-1,`,
        `md5,${MD5_A},tvec,row-2,true`,
        `pdq,${PDQ_C},tvec,row-5,`,
      ].join('\n');
      etag = '"v2"';
      const second = await sync(sub.id);
      expect(second.runs[0]).toMatchObject({ status: 'applied', upserted: 1, deleted: 2, quarantined: 1 });
      const values = (await entries(sub.bank_id)).map((e) => e.value).sort();
      expect(values).toEqual([PDQ_C, PDQ_A].sort());
      expect(await match('md5', MD5_A, org.key, sub.bank_id)).toEqual([]);
      expect(await match('pdq', PDQ_B, org.key, sub.bank_id)).toEqual([]);
    });

    it('reads a JSON-lines file under KAITIAKI_SOURCE_FILE_ROOT and refuses paths outside it', async () => {
      mkdirSync(join(fileRoot, 'lists'), { recursive: true });
      writeFileSync(
        join(fileRoot, 'lists', 'md5.jsonl'),
        [
          JSON.stringify({ signal_type: 'md5', value: MD5_B, labels: ['tvec'] }),
          '{"signal_type": "md5", "value": ',
          JSON.stringify({ type: 'md5', signal: MD5_A, colour: 'red' }),
        ].join('\n'),
      );
      const sub = await subscribe({ name: 'LOCAL_MD5', kind: 'list', config: { path: 'lists/md5.jsonl' } });
      const result = await sync(sub.id);
      expect(result.runs[0]).toMatchObject({ upserted: 1, quarantined: 2 });
      expect(await match('md5', MD5_B, org.key, sub.bank_id)).toHaveLength(1);
      const outside = await call('POST', '/v1/subscriptions', org.key, {
        name: 'ESCAPE',
        kind: 'list',
        config: { path: '../../etc/passwd.csv' },
      });
      // The path is checked when the source runs; the run fails with the reason and reads nothing.
      expect(outside.statusCode).toBe(201);
      const ran = await sync(outside.json().id);
      expect(ran.runs[0].error).toMatch(/outside KAITIAKI_SOURCE_FILE_ROOT/);
    });

    it('refuses hosts outside KAITIAKI_SOURCE_ALLOWED_HOSTS, lists over the size limit, and bad configurations', async () => {
      const sub = await subscribe({
        name: 'NOT_ALLOWED',
        kind: 'list',
        config: { url: `http://localhost:${fixture.port}/lists/tvec.csv` },
      });
      expect((await sync(sub.id)).runs[0].error).toMatch(
        /plain http to localhost.*KAITIAKI_SOURCE_ALLOWED_HOSTS/,
      );
      const big = await subscribe({
        name: 'TOO_BIG',
        kind: 'list',
        config: { url: `${fixture.base}/lists/big.csv` },
      });
      expect((await sync(big.id)).runs[0].error).toMatch(/over the limit of 65536 bytes/);
      for (const [body, pattern] of [
        [{ name: 'A', kind: 'ftp', config: {} }, /unknown source kind "ftp"/],
        [{ name: 'A', kind: 'list', config: {} }, /either a url or a path/],
        [{ name: 'A', kind: 'list', config: { url: 'ftp://example.org/x.csv' } }, /http or https/],
        [{ name: 'A', kind: 'list', config: { url: 'https://example.org/list' } }, /cannot tell the format/],
        [{ name: 'A', kind: 'tcap', config: {} }, /token/],
        [{ name: 'A', kind: 'tcap', config: { token: 't', path: '../admin' } }, /relative path/],
        [{ name: 'A', kind: 'tcap', config: { token: 't' }, interval_seconds: 5 }, /interval_seconds/],
        [{ name: 'TVEC_LIST', kind: 'list', config: { url: `${fixture.base}/x.csv` } }, /already/],
      ] as const) {
        const response = await call('POST', '/v1/subscriptions', org.key, body);
        expect(response.statusCode, JSON.stringify(body)).toBeGreaterThanOrEqual(400);
        expect(response.json().message, JSON.stringify(body)).toMatch(pattern);
      }
    });
  });
});

describe('the background schedule', () => {
  it('runs a new subscription at once, keeps one timer per subscription, and stops running it when it is deleted', async () => {
    const fixture = await startFixtureServer();
    let version = 1;
    fixture.on('/list.jsonl', (_req, res) => {
      const lines = [JSON.stringify({ signal_type: 'md5', value: MD5_A })];
      if (version > 1) lines.push(JSON.stringify({ signal_type: 'md5', value: MD5_B }));
      res.writeHead(200, { 'content-type': 'application/x-ndjson' }).end(lines.join('\n'));
    });
    const t = await startTestApp(TEST_DIALECTS[0], {
      KAITIAKI_SOURCE_ALLOWED_HOSTS: `127.0.0.1:${fixture.port}`,
    });
    try {
      const org = await t.organisation('Scheduled Platform', 'moderator');
      const created = await t.app.inject({
        method: 'POST',
        url: '/v1/subscriptions',
        headers: bearer(org.key),
        payload: {
          name: 'SCHEDULED',
          kind: 'list',
          config: { url: `${fixture.base}/list.jsonl` },
          interval_seconds: 30,
        },
      });
      expect(created.statusCode).toBe(201);
      const id = created.json().id as number;
      const status = async () =>
        (
          await t.app.inject({ method: 'GET', url: `/v1/subscriptions/${id}`, headers: bearer(org.key) })
        ).json();
      const until = async (check: (s: Record<string, unknown>) => boolean) => {
        for (let i = 0; i < 100 && !check(await status()); i++) await new Promise((r) => setTimeout(r, 50));
        return status();
      };
      expect(await until((s) => s.records_upserted === 1)).toMatchObject({
        records_upserted: 1,
        last_error: null,
      });
      expect(fixture.requests).toHaveLength(1);
      // A refresh of the schedule keeps the timer (no second run before the interval).
      await t.ctx.sourceScheduler.refresh();
      expect(fixture.requests).toHaveLength(1);
      await t.app.inject({ method: 'DELETE', url: `/v1/subscriptions/${id}`, headers: bearer(org.key) });
      version = 2;
      await new Promise((r) => setTimeout(r, 200));
      expect(fixture.requests).toHaveLength(1);
    } finally {
      await t.close();
      await fixture.close();
    }
  });
});
