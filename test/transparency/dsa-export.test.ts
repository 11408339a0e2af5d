/**
 * The DSA transparency-database export: statements built by the real review flow, mapped, validated against a
 * JSON Schema written from the database's own validation rules (StatementStoreRequest, reference notes B2), and
 * sent to a fake database on 127.0.0.1 in batches of at most 100, with retries.
 */
import { Ajv2020 } from 'ajv/dist/2020.js';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bearer, startTestApp, type TestApp } from '../helpers/app.js';
import { TEST_DIALECTS } from '../helpers/databases.js';

const KNOWN_MD5 = '9e107d9d372bb6826bd81d3542a419d6';
const EEA = 'AT BE BG CY CZ DE DK EE ES FI FR GR HR HU IE IS IT LI LT LU LV MT NL NO PL PT RO SE SI SK'.split(
  ' ',
);
const enumOf = (...values: string[]) => ({ enum: values });
const ymd = { type: 'string', pattern: '^\\d{4}-\\d{2}-\\d{2}$' };

/** Written from the reference's table of rules, independently of the exporter. */
const SOR_SCHEMA = {
  type: 'object',
  additionalProperties: false,
  required: [
    'decision_ground',
    'content_type',
    'category',
    'content_date',
    'application_date',
    'decision_facts',
    'source_type',
    'automated_detection',
    'automated_decision',
    'puid',
  ],
  anyOf: [
    { required: ['decision_visibility'] },
    { required: ['decision_monetary'] },
    { required: ['decision_provision'] },
    { required: ['decision_account'] },
  ],
  properties: {
    decision_visibility: {
      type: 'array',
      minItems: 1,
      items: enumOf(
        'DECISION_VISIBILITY_CONTENT_REMOVED',
        'DECISION_VISIBILITY_CONTENT_DISABLED',
        'DECISION_VISIBILITY_CONTENT_DEMOTED',
        'DECISION_VISIBILITY_CONTENT_AGE_RESTRICTED',
        'DECISION_VISIBILITY_CONTENT_INTERACTION_RESTRICTED',
        'DECISION_VISIBILITY_CONTENT_LABELLED',
        'DECISION_VISIBILITY_OTHER',
      ),
    },
    decision_ground: enumOf('DECISION_GROUND_ILLEGAL_CONTENT', 'DECISION_GROUND_INCOMPATIBLE_CONTENT'),
    illegal_content_legal_ground: { type: 'string', maxLength: 500 },
    illegal_content_explanation: { type: 'string', maxLength: 2000 },
    incompatible_content_ground: { type: 'string', maxLength: 500 },
    incompatible_content_explanation: { type: 'string', maxLength: 2000 },
    content_type: {
      type: 'array',
      minItems: 1,
      items: enumOf(
        'CONTENT_TYPE_APP',
        'CONTENT_TYPE_AUDIO',
        'CONTENT_TYPE_IMAGE',
        'CONTENT_TYPE_PRODUCT',
        'CONTENT_TYPE_SYNTHETIC_MEDIA',
        'CONTENT_TYPE_TEXT',
        'CONTENT_TYPE_VIDEO',
        'CONTENT_TYPE_OTHER',
      ),
    },
    category: enumOf(
      'STATEMENT_CATEGORY_RISK_FOR_PUBLIC_SECURITY',
      'STATEMENT_CATEGORY_VIOLENCE',
      'STATEMENT_CATEGORY_ILLEGAL_OR_HARMFUL_SPEECH',
    ),
    category_specification: {
      type: 'array',
      items: enumOf(
        'KEYWORD_TERRORIST_CONTENT',
        'KEYWORD_ILLEGAL_ORGANIZATIONS',
        'KEYWORD_INCITEMENT_VIOLENCE_HATRED',
        'KEYWORD_HATE_SPEECH',
      ),
    },
    territorial_scope: { type: 'array', items: { enum: EEA } },
    content_date: ymd,
    application_date: ymd,
    decision_facts: { type: 'string', minLength: 1, maxLength: 5000 },
    source_type: enumOf(
      'SOURCE_ARTICLE_16',
      'SOURCE_TRUSTED_FLAGGER',
      'SOURCE_TYPE_OTHER_NOTIFICATION',
      'SOURCE_VOLUNTARY',
    ),
    automated_detection: enumOf('Yes', 'No'),
    automated_decision: enumOf(
      'AUTOMATED_DECISION_FULLY',
      'AUTOMATED_DECISION_PARTIALLY',
      'AUTOMATED_DECISION_NOT_AUTOMATED',
    ),
    puid: { type: 'string', maxLength: 500, pattern: '^[a-zA-Z0-9-_]+$' },
  },
  allOf: [
    {
      if: { properties: { decision_ground: { const: 'DECISION_GROUND_ILLEGAL_CONTENT' } } },
      then: {
        required: ['illegal_content_legal_ground', 'illegal_content_explanation'],
        not: { required: ['incompatible_content_ground'] },
      },
    },
    {
      if: { properties: { decision_ground: { const: 'DECISION_GROUND_INCOMPATIBLE_CONTENT' } } },
      then: {
        required: ['incompatible_content_ground', 'incompatible_content_explanation'],
        not: { required: ['illegal_content_legal_ground'] },
      },
    },
  ],
};

interface Received {
  authorization: string | undefined;
  statements: Record<string, unknown>[];
}

function fakeDatabase(answers: number[]): Promise<{ server: Server; url: string; received: Received[] }> {
  const received: Received[] = [];
  const server = createServer((req: IncomingMessage, res) => {
    let body = '';
    req.on('data', (d: Buffer) => (body += d.toString()));
    req.on('end', () => {
      const parsed = JSON.parse(body) as { statements: Record<string, unknown>[] };
      received.push({ authorization: req.headers.authorization, statements: parsed.statements });
      const status = answers.shift() ?? 201;
      res
        .writeHead(status, { 'content-type': 'application/json' })
        .end(
          status === 422 ? '{"message":"The given data was invalid.","errors":{"statement_0":["x"]}}' : '{}',
        );
    });
  });
  return new Promise((resolve) =>
    server.listen(0, '127.0.0.1', () =>
      resolve({ server, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, received }),
    ),
  );
}

describe.each(TEST_DIALECTS)('DSA transparency-database export (%s)', (dialect) => {
  let t: TestApp;
  let platform: { id: number; key: string };
  const period = { from: '2020-01-01T00:00:00.000Z', to: '2100-01-01T00:00:00.000Z' };
  const validate = new Ajv2020({ strict: false, allErrors: true }).compile(SOR_SCHEMA);

  beforeAll(async () => {
    t = await startTestApp(dialect);
    platform = await t.organisation('DSA platform', 'integration');
    const admin = (await t.ctx.apiKeys.create(platform.id, { name: 'admin', role: 'admin' })).key;
    const moderator = (await t.ctx.apiKeys.create(platform.id, { name: 'mod', role: 'moderator' })).key;
    const bank = (
      await t.app.inject({ method: 'POST', url: '/v1/banks', headers: bearer(admin), payload: { name: 'B' } })
    ).json();
    await t.app.inject({
      method: 'POST',
      url: `/v1/banks/${bank.id}/entries`,
      headers: bearer(admin),
      payload: { signal_type: 'md5', value: KNOWN_MD5 },
    });
    // 248 uploads blocked by a hash match (statements with automated detection and decision).
    for (let i = 0; i < 248; i++)
      await t.app.inject({
        method: 'POST',
        url: '/v1/submissions',
        headers: bearer(platform.key),
        payload: {
          external_id: `up-${i}`,
          uploader_id: `user-${i}`,
          content_type: i % 2 ? 'video' : 'photo',
          context: { country: i % 3 ? 'DE' : 'US' },
          signals: [{ type: 'md5', value: KNOWN_MD5 }],
        },
      });
    // A user report decided by a person (illegal content, Art. 16 notice).
    const report = (
      await t.app.inject({
        method: 'POST',
        url: '/v1/reports',
        headers: bearer(platform.key),
        payload: { external_id: 'reported-1', category: 'terrorism' },
      })
    ).json();
    await t.app.inject({
      method: 'POST',
      url: `/v1/cases/${report.case_id}/decision`,
      headers: bearer(moderator),
      payload: {
        decision: 'remove',
        ground_type: 'illegal',
        ground: 'Regulation (EU) 2021/784, Art. 2(7)',
        reason: 'Instructions for an attack',
      },
    });
    // A removal order's case decided in the queue: no statement goes to the database (Art. 17(5)).
    const authority = await t.ctx.organisations.create('DSA authority', 'authority');
    const authorityKey = (await t.ctx.apiKeys.create(authority.id, { name: 'k', role: 'authority' })).key;
    const order = (
      await t.app.inject({
        method: 'POST',
        url: '/v1/orders',
        headers: bearer(authorityKey),
        payload: {
          platform_org_id: platform.id,
          reference: 'O-1',
          authority_name: 'A',
          member_state: 'DE',
          content_types: ['a'],
          reasons: 'r',
          items: [{ external_id: 'up-1' }],
          legal_basis: 'TCO Art. 3',
          signed_at: new Date().toISOString(),
          signature: 's',
          redress: 'court',
        },
      })
    ).json();
    await t.app.inject({
      method: 'POST',
      url: `/v1/cases/${order.case_id}/decision`,
      headers: bearer(moderator),
      payload: {
        decision: 'remove',
        ground_type: 'illegal',
        ground: 'TCO Art. 3',
        reason: 'Removal order O-1',
      },
    });
  }, 120_000);
  afterAll(async () => t.close());

  it('maps every statement to the exact schema and leaves removal orders out', async () => {
    const preview = await t.ctx.dsa.preview(platform.id, period);
    expect(preview).toHaveLength(250);
    const excluded = preview.filter((p) => 'excluded' in p);
    expect(excluded).toHaveLength(1);
    const statements = preview.flatMap((p) => ('statement' in p ? [p.statement] : []));
    for (const s of statements) expect(validate(s), JSON.stringify(validate.errors)).toBe(true);
    const reported = statements.filter((s) => s.source_type === 'SOURCE_ARTICLE_16');
    expect(reported).toHaveLength(1);
    expect(reported[0]).toMatchObject({
      decision_ground: 'DECISION_GROUND_ILLEGAL_CONTENT',
      automated_detection: 'No',
      automated_decision: 'AUTOMATED_DECISION_NOT_AUTOMATED',
    });
    const blocked = statements.filter((s) => s.source_type === 'SOURCE_VOLUNTARY');
    expect(blocked).toHaveLength(248);
    expect(
      blocked.every(
        (s) => s.automated_detection === 'Yes' && s.automated_decision === 'AUTOMATED_DECISION_FULLY',
      ),
    ).toBe(true);
    expect(
      blocked.filter((s) => s.territorial_scope.length === 1 && s.territorial_scope[0] === 'DE').length,
    ).toBe(165);
    expect(blocked.filter((s) => s.territorial_scope.length === 27).length).toBe(83); // US content: the EU-wide restriction
    // No personal data: the uploader ids never appear.
    expect(JSON.stringify(statements)).not.toMatch(/user-\d/);
  });

  it('sends batches of at most 100 with retries, records what was accepted, and sends nothing twice', async () => {
    const fake = await fakeDatabase([503, 429]);
    try {
      const exporter = t.ctx.dsa;
      const result = await exporter.submit('test', platform.id, period, {
        baseUrl: fake.url,
        token: 'sanctum-token',
        backoffMs: 1,
      });
      expect(result).toMatchObject({ accepted: 249, excluded: 1, invalid: [], refused: [], requests: 5 });
      expect(fake.received.map((r) => r.statements.length)).toEqual([100, 100, 100, 100, 49]);
      expect(fake.received.every((r) => r.authorization === 'Bearer sanctum-token')).toBe(true);
      for (const r of fake.received) for (const s of r.statements) expect(validate(s)).toBe(true);
      // Each accepted batch and the excluded statements are in the platform's audit trail.
      const dsaTrail = async () =>
        (await t.ctx.audit.list(platform.id, { limit: 100, order: 'desc' })).items
          .filter((r) => r.action.startsWith('dsa.'))
          .reverse();
      const trail = await dsaTrail();
      expect(trail.map((r) => [r.action, r.actor, r.detail?.statements])).toEqual([
        ['dsa.exclude', 'test', 1],
        ...[100, 100, 49].map((n) => ['dsa.submit', 'test', n]), // the first batch was sent three times (503, 429)
      ]);
      expect(trail[1].detail).toMatchObject({ endpoint: fake.url.replace(/\/$/, '') });
      const again = await exporter.submit('test', platform.id, period, {
        baseUrl: fake.url,
        token: 'sanctum-token',
        backoffMs: 1,
      });
      expect(again).toMatchObject({ accepted: 0, requests: 0 });
      expect(await dsaTrail()).toHaveLength(4);
    } finally {
      fake.server.close();
    }
  });

  it('does not retry a batch the database refused (422 stores none of it), and gives up on a dead endpoint', async () => {
    const other = await t.organisation('DSA platform 2', 'integration');
    const admin = (await t.ctx.apiKeys.create(other.id, { name: 'admin', role: 'admin' })).key;
    const bank = (
      await t.app.inject({
        method: 'POST',
        url: '/v1/banks',
        headers: bearer(admin),
        payload: { name: 'B2' },
      })
    ).json();
    await t.app.inject({
      method: 'POST',
      url: `/v1/banks/${bank.id}/entries`,
      headers: bearer(admin),
      payload: { signal_type: 'md5', value: KNOWN_MD5 },
    });
    for (let i = 0; i < 3; i++)
      await t.app.inject({
        method: 'POST',
        url: '/v1/submissions',
        headers: bearer(other.key),
        payload: { external_id: `o-${i}`, signals: [{ type: 'md5', value: KNOWN_MD5 }] },
      });
    const fake = await fakeDatabase([422]);
    try {
      const refused = await t.ctx.dsa.submit('test', other.id, period, {
        baseUrl: fake.url,
        token: 't',
        backoffMs: 1,
      });
      expect(refused).toMatchObject({ accepted: 0, requests: 1 });
      expect(refused.refused[0]).toMatchObject({ status: 422 });
      expect(refused.refused[0].puids).toHaveLength(3);
    } finally {
      fake.server.close();
    }
    const dead = await t.ctx.dsa.submit('test', other.id, period, {
      baseUrl: 'http://127.0.0.1:9',
      token: 't',
      attempts: 3,
      backoffMs: 1,
    });
    expect(dead).toMatchObject({ accepted: 0, requests: 3 });
    expect(dead.refused[0].body).toMatch(/gave up after 3 attempts/);
  });
});
