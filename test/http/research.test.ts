import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateEvents } from '../../src/research/data/generator.js';
import { eventCsvHeader, eventCsvLine } from '../../src/research/data/load.js';
import { bearer, startTestApp, type TestApp } from '../helpers/app.js';
import { TEST_DIALECTS } from '../helpers/databases.js';

const AMPLIFICATION = {
  aggregate: {
    kind: 'amplification',
    categories: ['tvec'],
    treatment: 'algorithmic',
    control: 'chronological',
  },
  privacy: { mechanism: 'gaussian', rho: 0.05 },
};

describe.each(TEST_DIALECTS)('research access over HTTP on %s', (dialect) => {
  let t: TestApp;
  let owner: { id: number; key: string };
  let otherOwner: { id: number; key: string };
  let researcher: { id: number; key: string };
  let datasetId: number;
  let researcherId: number;

  beforeAll(async () => {
    t = await startTestApp(dialect);
    owner = await t.organisation('Video platform', 'admin');
    otherOwner = await t.organisation('Other platform', 'admin');
    researcher = await t.organisation('University', 'researcher');
  }, 60_000);
  afterAll(() => t.close());

  const call = (key: string, method: 'GET' | 'POST' | 'PUT' | 'DELETE', url: string, payload?: unknown) =>
    t.app.inject({
      method,
      url,
      headers: bearer(key),
      ...(payload !== undefined ? { payload: payload as object } : {}),
    });

  it('a data owner registers a dataset, streams CSV events in and generates the mock twin', async () => {
    const created = await call(owner.key, 'POST', '/v1/research/datasets', {
      name: 'home-feed',
      description: 'Home feed impressions, Nov 2026',
    });
    expect(created.statusCode).toBe(201);
    datasetId = created.json().id;
    expect(created.json().public_keys.category).toContain('tvec');
    let csv = eventCsvHeader();
    generateEvents({ seed: 8, users: 400 }, (row) => (csv += eventCsvLine(row)));
    const loaded = await t.app.inject({
      method: 'POST',
      url: `/v1/research/datasets/${datasetId}/events?twin=private`,
      headers: { ...bearer(owner.key), 'content-type': 'text/csv' },
      payload: csv,
    });
    expect(loaded.statusCode).toBe(200);
    expect(loaded.json().rows).toBe(csv.trim().split('\n').length - 1);
    const bad = await t.app.inject({
      method: 'POST',
      url: `/v1/research/datasets/${datasetId}/events?twin=private`,
      headers: { ...bearer(owner.key), 'content-type': 'text/csv' },
      payload:
        csv.split('\n').slice(0, 5).join('\n') +
        '\n' +
        csv
          .split('\n')[5]
          .replace(',tvec,', ',gore,')
          .replace(',news,', ',gore,')
          .replace(',sport,', ',gore,')
          .replace(',politics,', ',gore,')
          .replace(',entertainment,', ',gore,')
          .replace(',borderline,', ',gore,') +
        '\n',
    });
    expect(bad.statusCode).toBe(400);
    expect(bad.json().detail).toMatch(/^line 6: category "gore" is not in the public key set/);
    expect((await call(owner.key, 'GET', `/v1/research/datasets/${datasetId}`)).json().private_rows).toBe(
      loaded.json().rows,
    );
    const mock = await call(owner.key, 'POST', `/v1/research/datasets/${datasetId}/mock`, {
      users: 100,
      seed: 2,
    });
    expect(mock.statusCode).toBe(200);
    expect(mock.json().rows).toBeGreaterThan(100);
    expect((await call(otherOwner.key, 'GET', `/v1/research/datasets/${datasetId}`)).statusCode).toBe(404);
  });

  it('the owner accredits a researcher and sets a budget; the researcher sees it in ρ and (ε, δ)', async () => {
    const me = (await call(researcher.key, 'GET', '/v1/me')).json();
    const accredited = await call(owner.key, 'POST', '/v1/research/researchers', {
      name: 'Dr Aroha Ngata',
      email: 'aroha@uni.example',
      principal: `key:${me.key_id}`,
      accredited_until: new Date(Date.now() + 90 * 86_400_000).toISOString(),
    });
    expect(accredited.statusCode).toBe(201);
    researcherId = accredited.json().id;
    const budget = await call(
      owner.key,
      'PUT',
      `/v1/research/datasets/${datasetId}/budgets/${researcherId}`,
      { rho: 0.1 },
    );
    expect(budget.statusCode).toBe(200);
    expect(budget.json()).toMatchObject({ rho: 0.1, rho_spent: 0, epsilon: { delta: 1e-6 } });
    expect(budget.json().epsilon.budget).toBeGreaterThan(1);
    for (const rho of [0, -1]) {
      expect(
        (
          await call(owner.key, 'PUT', `/v1/research/datasets/${datasetId}/budgets/${researcherId}`, { rho })
        ).json().code,
      ).toBe('KAI_ERR_RESEARCH_BUDGET_INVALID');
    }
    const overview = (await call(researcher.key, 'GET', '/v1/research/me')).json();
    expect(overview.datasets.map((d: { id: number }) => d.id)).toEqual([datasetId]);
    expect(overview.budgets[0].rho_remaining).toBe(0.1);
    // Researchers cannot use owner routes, owners' keys cannot see a researcher's grant as theirs.
    expect((await call(researcher.key, 'GET', '/v1/research/datasets')).statusCode).toBe(403);
  });

  it('the researcher loop: explore the mock, submit, get the release with its noise summary', async () => {
    const sample = await call(
      researcher.key,
      'GET',
      `/v1/research/datasets/${datasetId}/mock/sample?limit=3`,
    );
    expect(sample.json().items).toHaveLength(3);
    const mock = await call(researcher.key, 'POST', `/v1/research/datasets/${datasetId}/mock/query`, {
      plan: AMPLIFICATION,
    });
    expect(mock.statusCode).toBe(200);
    expect(mock.json()).toMatchObject({ kind: 'amplification', noisy: false, cost: { rho: 0.05, delta: 0 } });
    expect(mock.json().noise[0]).toMatchObject({ mechanism: 'discrete_gaussian', sensitivity: Math.SQRT2 });
    const project = await call(researcher.key, 'POST', '/v1/research/projects', {
      dataset_id: datasetId,
      title: 'Amplification of TVEC',
      purpose: 'Replicate Huszár et al. for TVEC content',
    });
    expect(project.statusCode).toBe(201);
    const submitted = await call(researcher.key, 'POST', `/v1/research/datasets/${datasetId}/requests`, {
      plan: AMPLIFICATION,
      project_id: project.json().id,
    });
    expect(submitted.statusCode).toBe(201);
    const released = submitted.json();
    expect(released.status).toBe('released');
    expect(released.result).toMatchObject({ kind: 'amplification', noisy: true });
    expect(typeof released.result.metric.amplification).toBe('number');
    expect(released.result.noise[0].interval95).toBeGreaterThan(0);
    const fetched = await call(researcher.key, 'GET', `/v1/research/requests/${released.id}`);
    expect(fetched.json().result).toEqual(released.result);
    const ledger = (await call(researcher.key, 'GET', `/v1/research/datasets/${datasetId}/ledger`)).json();
    expect(ledger.budget.rho_spent).toBeCloseTo(0.05, 12);
    expect(ledger.entries).toHaveLength(1);
  });

  it('bad plans and over-budget requests are refused and charge nothing', async () => {
    const badPlan = await call(researcher.key, 'POST', `/v1/research/datasets/${datasetId}/requests`, {
      plan: { ...AMPLIFICATION, privacy: { mechanism: 'gaussian', rho: Number.NaN } },
    });
    expect(badPlan.statusCode).toBe(400);
    const rows = await call(researcher.key, 'POST', `/v1/research/datasets/${datasetId}/requests`, {
      plan: { aggregate: { kind: 'rows' }, privacy: { mechanism: 'gaussian', rho: 0.01 } },
    });
    expect(rows.statusCode).toBe(400);
    expect(rows.json().code).toBe('KAI_ERR_RESEARCH_PLAN');
    const tooMuch = await call(researcher.key, 'POST', `/v1/research/datasets/${datasetId}/requests`, {
      plan: { ...AMPLIFICATION, privacy: { mechanism: 'gaussian', rho: 0.06 } },
    });
    expect(tooMuch.statusCode).toBe(409);
    expect(tooMuch.json().code).toBe('KAI_ERR_RESEARCH_BUDGET');
    expect(
      (await call(researcher.key, 'GET', `/v1/research/datasets/${datasetId}/ledger`)).json().entries,
    ).toHaveLength(1);
    const otherDataset = (
      await call(otherOwner.key, 'POST', '/v1/research/datasets', { name: 'other' })
    ).json();
    const notGranted = await call(
      researcher.key,
      'POST',
      `/v1/research/datasets/${otherDataset.id}/mock/query`,
      { plan: AMPLIFICATION },
    );
    expect(notGranted.statusCode).toBe(403);
    expect(notGranted.json().code).toBe('KAI_ERR_RESEARCH_NOT_GRANTED');
  });

  it('requests outside the policy wait; the owner runs them on the mock, approves or denies; all audited', async () => {
    await call(owner.key, 'PUT', `/v1/research/datasets/${datasetId}/policy`, {
      kinds: ['count'],
      max_rho: 0.01,
    });
    const pending = await call(researcher.key, 'POST', `/v1/research/datasets/${datasetId}/requests`, {
      plan: { ...AMPLIFICATION, privacy: { mechanism: 'gaussian', rho: 0.02 } },
    });
    expect(pending.statusCode).toBe(202);
    expect(pending.json()).toMatchObject({ status: 'pending', result: null });
    const queue = (await call(owner.key, 'GET', '/v1/research/review/requests?status=pending')).json().items;
    expect(queue.map((r: { id: number }) => r.id)).toEqual([pending.json().id]);
    expect(
      (await call(otherOwner.key, 'GET', '/v1/research/review/requests?status=pending')).json().items,
    ).toEqual([]);
    const onMock = await call(owner.key, 'POST', `/v1/research/review/requests/${pending.json().id}/mock`);
    expect(onMock.json().noisy).toBe(false);
    const approved = await call(
      owner.key,
      'POST',
      `/v1/research/review/requests/${pending.json().id}/approve`,
    );
    expect(approved.json().status).toBe('released');
    const second = await call(researcher.key, 'POST', `/v1/research/datasets/${datasetId}/requests`, {
      plan: { ...AMPLIFICATION, privacy: { mechanism: 'gaussian', rho: 0.02 } },
    });
    const denied = await call(owner.key, 'POST', `/v1/research/review/requests/${second.json().id}/deny`, {
      reason: 'use the group level first',
    });
    expect(denied.json()).toMatchObject({
      status: 'denied',
      reason: 'use the group level first',
      result: null,
    });
    const audit = (await call(owner.key, 'GET', '/v1/audit?limit=1000'))
      .json()
      .items.map((r: { action: string }) => r.action);
    for (const action of [
      'research.dataset.create',
      'research.dataset.load',
      'research.researcher.accredit',
      'research.budget.set',
      'research.request.submit',
      'research.release',
      'research.request.approve',
      'research.request.deny',
    ]) {
      expect(audit).toContain(action);
    }
  });
});
