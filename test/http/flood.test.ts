/**
 * Flood control: a shared signal matching an organisation's uploads past the hourly limit stops acting for that
 * organisation (no verdict from it), opens an urgent case for a person, and files a false-positive dispute with the
 * signal's owner; the owner's own signals are never stopped this way, and the stop outlives the process's memory.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FloodGuard } from '../../src/review/flood.js';
import { bearer, startTestApp, type TestApp } from '../helpers/app.js';
import { TEST_DIALECTS } from '../helpers/databases.js';

const LOGO = 'f8f8f0cee0f4a84f06370a22038f63f0b36e2ed596621e1d33e6b39c4e9c9b22';

describe.each(TEST_DIALECTS)('flood control, on %s', (dialect) => {
  let t: TestApp;
  let owner: { id: number; key: string };
  let member: { id: number; key: string };
  let bank: number;
  let entry: number;

  const call = (method: 'GET' | 'POST', url: string, key: string, payload?: object) =>
    t.app.inject({ method, url, headers: bearer(key), ...(payload === undefined ? {} : { payload }) });
  const submit = async (key: string, id: string) =>
    (
      await call('POST', '/v1/submissions', key, { external_id: id, signals: [{ type: 'pdq', value: LOGO }] })
    ).json();

  beforeAll(async () => {
    t = await startTestApp(dialect, { KAITIAKI_FLOOD_LIMIT_PER_HOUR: '3' });
    owner = await t.organisation('List owner', 'admin');
    member = await t.organisation('Small platform', 'admin');
    bank = (await call('POST', '/v1/banks', owner.key, { name: 'SHARED' })).json().id;
    entry = (
      await call('POST', `/v1/banks/${bank}/entries`, owner.key, { signal_type: 'pdq', value: LOGO })
    ).json().id;
    await call('POST', `/v1/banks/${bank}/shares`, owner.key, { organisation_id: member.id });
    await call('POST', `/v1/shares/incoming/${bank}/accept`, member.key, {});
  });
  afterAll(() => t.close());

  it('stops acting on a shared signal past the limit, opens a case and disputes it', async () => {
    for (let n = 1; n <= 3; n++)
      expect((await submit(member.key, `up-${n}`)).verdict, `upload ${n}`).toBe('queued');
    const fourth = await submit(member.key, 'up-4');
    expect(fourth.verdict).toBe('no-match');
    expect(fourth.matches).toHaveLength(1); // the match is still shown, it is just not acted on
    expect((await submit(member.key, 'up-5')).verdict).toBe('no-match');

    const cases = (await call('GET', '/v1/cases?status=open&limit=50', member.key)).json().items;
    const alert = cases.find((c: { external_id: string }) => c.external_id === `signal:${entry}`);
    expect(alert).toMatchObject({ priority: 'urgent' });

    const feedback = (await call('GET', `/v1/banks/${bank}/feedback`, owner.key)).json().items;
    expect(feedback).toEqual([
      expect.objectContaining({ organisation_id: member.id, kind: 'false_positive', source: 'flood' }),
    ]);
  });

  it("never stops an organisation's own signals, and keeps a stop across a restart", async () => {
    for (let n = 1; n <= 5; n++) expect((await submit(owner.key, `own-${n}`)).verdict).toBe('queued');
    // A fresh guard (a restarted process) reads the stop from the store.
    const fresh = new FloodGuard({
      database: t.ctx.database,
      mutate: (actor, fn) => t.ctx.mutate(actor, fn),
      limitPerHour: 3,
      cases: t.ctx.review.parts.cases,
      dispute: async () => undefined,
      logger: t.ctx.logger,
    });
    const matches = await t.ctx.matcher.match(member.id, [{ type: 'pdq', value: LOGO }]);
    expect(matches).toHaveLength(1);
    expect(await fresh.screen(member.id, matches)).toEqual([]);
  });
});
