import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ContributionLimiter } from '../../src/banks/contribution-limit.js';
import { bearer, startTestApp, type TestApp } from '../helpers/app.js';

const pdq = () => randomBytes(32).toString('hex');

describe('a contribution flood from one member', () => {
  let t: TestApp;
  let owner: { id: number; key: string };
  let member: { id: number; key: string };
  let other: { id: number; key: string };
  let bank: number;
  const add = (key: string) =>
    t.app.inject({
      method: 'POST',
      url: `/v1/banks/${bank}/entries`,
      headers: bearer(key),
      payload: { signal_type: 'pdq', value: pdq() },
    });

  beforeAll(async () => {
    t = await startTestApp('sqlite', { KAITIAKI_CONTRIBUTIONS_PER_MINUTE: '3' });
    owner = await t.organisation('Collection owner', 'admin');
    member = await t.organisation('Busy member', 'admin');
    other = await t.organisation('Quiet member', 'admin');
    bank = (
      await t.app.inject({
        method: 'POST',
        url: '/v1/banks',
        headers: bearer(owner.key),
        payload: { name: 'SHARED' },
      })
    ).json().id;
    for (const m of [member, other]) {
      const shared = await t.app.inject({
        method: 'POST',
        url: `/v1/banks/${bank}/shares`,
        headers: bearer(owner.key),
        payload: { organisation_id: m.id, can_contribute: true },
      });
      expect(shared.statusCode, shared.body).toBeLessThan(300);
      const accepted = await t.app.inject({
        method: 'POST',
        url: `/v1/shares/incoming/${bank}/accept`,
        headers: bearer(m.key),
        payload: {},
      });
      expect(accepted.statusCode, accepted.body).toBe(200);
    }
  });
  afterAll(() => t?.close());

  it('answers 429 with Retry-After past the per-member limit, stores nothing of the refused write, and limits no one else', async () => {
    for (let i = 0; i < 3; i++) expect((await add(member.key)).statusCode).toBe(201);
    const refused = await add(member.key);
    expect(refused.statusCode).toBe(429);
    expect(refused.json().code).toBe('KAI_ERR_CONTRIBUTION_RATE');
    const retryAfter = Number(refused.headers['retry-after']);
    expect(retryAfter).toBeGreaterThanOrEqual(1);
    expect(retryAfter).toBeLessThanOrEqual(60);
    expect(await t.ctx.entries.count(bank)).toBe(3);
    // The owner adds to its own bank without limit; another member has its own allowance.
    for (let i = 0; i < 5; i++) expect((await add(owner.key)).statusCode).toBe(201);
    expect((await add(other.key)).statusCode).toBe(201);
    expect(await t.ctx.entries.count(bank)).toBe(9);
  });

  it('opens a new allowance once the minute has passed', () => {
    let now = 1_000_000;
    const limiter = new ContributionLimiter(2, () => now);
    limiter.take(7, 1, 2);
    expect(() => limiter.take(7, 1, 1)).toThrow(/at most 2 signals a minute/);
    now += 59_000;
    expect(() => limiter.take(7, 1, 1)).toThrow();
    now += 1_000;
    expect(() => limiter.take(7, 1, 2)).not.toThrow();
    // A batch larger than what is left is refused whole.
    expect(() => limiter.take(7, 1, 1)).toThrow();
  });
});
