/**
 * Suppression banks: content matching one never gets a verdict (no case, no action), whatever detection banks
 * say; the same holds for a suppression bank shared with and accepted by another organisation; matching still
 * reports the match.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bearer, startTestApp, type TestApp } from '../helpers/app.js';
import { TEST_DIALECTS } from '../helpers/databases.js';

const FLAG = 'f8f8f0cee0f4a84f06370a22038f63f0b36e2ed596621e1d33e6b39c4e9c9b22';
const OTHER = '30a10efd71cc3d429013d48d0ffffc52e34e0e17ada952a9d29685211ea9e5af';

describe.each(TEST_DIALECTS)('suppression banks, on %s', (dialect) => {
  let t: TestApp;
  let owner: { id: number; key: string };
  let receiver: { id: number; key: string };
  let suppression: number;

  const call = (method: 'GET' | 'POST', url: string, key: string, payload?: object) =>
    t.app.inject({ method, url, headers: bearer(key), ...(payload === undefined ? {} : { payload }) });
  const submit = async (key: string, externalId: string, value: string) =>
    (
      await call('POST', '/v1/submissions', key, {
        external_id: externalId,
        signals: [{ type: 'pdq', value }],
      })
    ).json();

  beforeAll(async () => {
    t = await startTestApp(dialect);
    owner = await t.organisation('Owner', 'admin');
    receiver = await t.organisation('Receiver', 'admin');
    for (const org of [owner, receiver]) {
      const detect = (await call('POST', '/v1/banks', org.key, { name: 'DETECT' })).json().id;
      for (const value of [FLAG, OTHER])
        await call('POST', `/v1/banks/${detect}/entries`, org.key, { signal_type: 'pdq', value });
    }
    const created = await call('POST', '/v1/banks', owner.key, { name: 'FLAGS', purpose: 'suppress' });
    expect(created.json()).toMatchObject({ name: 'FLAGS', purpose: 'suppress' });
    suppression = created.json().id;
    await call('POST', `/v1/banks/${suppression}/entries`, owner.key, { signal_type: 'pdq', value: FLAG });
  });
  afterAll(() => t.close());

  it('gives no verdict to content a suppression bank matches, and a verdict to the rest', async () => {
    const flag = await submit(owner.key, 'post-flag', FLAG);
    expect(flag).toMatchObject({ verdict: 'no-match', policy_action: null, case_id: null });
    // Both matches are still reported; the suppression bank's outweighs the detection bank's.
    expect(flag.matches.map((m: { bank: { name: string } }) => m.bank.name).sort()).toEqual([
      'DETECT',
      'FLAGS',
    ]);
    expect((await submit(owner.key, 'post-other', OTHER)).verdict).toBe('queued');
  });

  it('suppresses for another organisation only once it accepted the shared suppression bank', async () => {
    expect((await submit(receiver.key, 'r-1', FLAG)).verdict).toBe('queued');
    await call('POST', `/v1/banks/${suppression}/shares`, owner.key, { organisation_id: receiver.id });
    expect((await submit(receiver.key, 'r-2', FLAG)).verdict).toBe('queued');
    expect(
      (await call('POST', `/v1/shares/incoming/${suppression}/accept`, receiver.key, {})).statusCode,
    ).toBe(200);
    expect((await submit(receiver.key, 'r-3', FLAG)).verdict).toBe('no-match');
  });

  it('refuses an unknown purpose', async () => {
    const bad = await call('POST', '/v1/banks', owner.key, { name: 'X', purpose: 'allow' });
    expect(bad.statusCode).toBe(400);
  });
});
