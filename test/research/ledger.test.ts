/**
 * The budget ledger on both databases: 50 concurrent requests never overspend, a crash around the release never
 * charges twice nor releases for free, and access is refused to researchers without a grant or accreditation.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { permissionsOf, type Principal } from '../../src/auth/roles.js';
import { DEMO_META, generateEvents } from '../../src/research/data/generator.js';
import type { EventRow } from '../../src/research/data/events.js';
import { ResearchService } from '../../src/research/service.js';
import { Transactions } from '../../src/store/unit-of-work.js';
import { freshDatabase, TEST_DIALECTS, type TestDatabase } from '../helpers/databases.js';

const principal = (orgId: number, role: string, id: number): Principal => ({
  orgId,
  role,
  permissions: permissionsOf(role),
  keyId: id,
  label: `key:${id}`,
});

const COUNT_PLAN = {
  truncate: { maxRowsPerUser: 10 },
  groupBy: { keys: ['category'] },
  aggregate: { kind: 'count' },
  privacy: { mechanism: 'gaussian', rho: 0.01 },
};

describe.each(TEST_DIALECTS)('research ledger on %s', (dialect) => {
  let t: TestDatabase;
  let service: ResearchService;
  let owner: Principal;
  let datasetId: number;
  const future = new Date(Date.now() + 30 * 86_400_000).toISOString();

  beforeAll(async () => {
    t = await freshDatabase(dialect);
    const db = t.db.db;
    const org = await db
      .insertInto('organisations')
      .values({ name: 'Platform', kind: 'platform', created_at: new Date().toISOString() })
      .returning('id')
      .executeTakeFirstOrThrow();
    await db
      .insertInto('organisations')
      .values({ name: 'University', kind: 'research', created_at: new Date().toISOString() })
      .execute();
    owner = principal(Number(org.id), 'admin', 1);
    service = new ResearchService(db, new Transactions(db), dialect);
    const dataset = await service.createDataset(owner, { name: 'feed', publicKeys: DEMO_META.publicKeys });
    datasetId = dataset.id;
    const rows: EventRow[] = [];
    generateEvents({ seed: 2, users: 300 }, (r) => rows.push(r));
    expect((await service.loadEvents(owner, datasetId, 'private', rows)).rows).toBe(rows.length);
    await service.generateMock(owner, datasetId, { users: 100, seed: 3 });
  }, 60_000);
  afterAll(() => t.cleanup());

  async function researcher(id: number, rho: number): Promise<{ who: Principal; researcherId: number }> {
    const who = principal(owner.orgId + 1, 'researcher', id);
    const r = await service.registerResearcher(owner, {
      name: `R${id}`,
      email: `r${id}@uni.example`,
      principal: who.label,
      accreditedUntil: future,
    });
    await service.setBudget(owner, r.id, datasetId, { rho });
    return { who, researcherId: r.id };
  }

  it('50 parallel requests against a budget for 10: exactly 10 released, spent = budget, never more', async () => {
    const { who } = await researcher(100, 0.1);
    const outcomes = await Promise.allSettled(
      Array.from({ length: 50 }, () => service.submit(who, datasetId, { plan: COUNT_PLAN })),
    );
    const released = outcomes.filter((o) => o.status === 'fulfilled');
    const refused = outcomes.filter((o) => o.status === 'rejected');
    expect(released).toHaveLength(10);
    for (const o of refused) expect((o as PromiseRejectedResult).reason.code).toBe('KAI_ERR_RESEARCH_BUDGET');
    const { budget, entries } = await service.ledger(who, datasetId);
    expect(entries).toHaveLength(10);
    expect(budget.rhoSpent).toBeLessThanOrEqual(0.1 * (1 + 1e-12));
    expect(budget.rhoSpent).toBeCloseTo(0.1, 12);
    const requests = await service.researcherRequests(who);
    expect(requests.filter((r) => r.status === 'released')).toHaveLength(10);
  }, 60_000);

  it('a crash after the charge commits: the result is fetched again, charged once, never rerun', async () => {
    const { who } = await researcher(101, 1);
    service.faults = {
      afterCommit: () => {
        throw new Error('process died');
      },
    };
    await expect(service.submit(who, datasetId, { plan: COUNT_PLAN })).rejects.toThrow('process died');
    service.faults = {};
    const [request] = await service.researcherRequests(who);
    expect(request.status).toBe('released');
    const first = await service.getRequest(who, request.id);
    const again = await service.getRequest(who, request.id);
    expect(again.result).toEqual(first.result);
    const { budget, entries } = await service.ledger(who, datasetId);
    expect(entries).toHaveLength(1);
    expect(budget.rhoSpent).toBeCloseTo(0.01, 12);
  });

  it('a crash before the commit: nothing charged or released; fetching runs it once and charges once', async () => {
    const { who } = await researcher(102, 1);
    service.faults = {
      beforeCommit: () => {
        throw new Error('process died');
      },
    };
    await expect(service.submit(who, datasetId, { plan: COUNT_PLAN })).rejects.toThrow('process died');
    service.faults = {};
    const [request] = await service.researcherRequests(who);
    expect(request.status).toBe('approved');
    expect((await service.ledger(who, datasetId)).entries).toHaveLength(0);
    const fetched = await service.getRequest(who, request.id);
    expect(fetched.status).toBe('released');
    expect(fetched.result).not.toBeNull();
    expect((await service.getRequest(who, request.id)).result).toEqual(fetched.result);
    const { budget, entries } = await service.ledger(who, datasetId);
    expect(entries).toHaveLength(1);
    expect(budget.rhoSpent).toBeCloseTo(0.01, 12);
  });

  it('refuses a dataset not granted, an expired or revoked accreditation, and a budget of 0, negative or NaN', async () => {
    const stranger = principal(owner.orgId + 1, 'researcher', 200);
    await expect(service.runOnMock(stranger, datasetId, COUNT_PLAN)).rejects.toMatchObject({
      code: 'KAI_ERR_RESEARCH_NOT_GRANTED',
    });
    const { who, researcherId } = await researcher(201, 1);
    expect((await service.runOnMock(who, datasetId, COUNT_PLAN)).rows).toHaveLength(6);
    await t.db.db
      .updateTable('research_researchers')
      .set({ accredited_until: '2020-01-01T00:00:00.000Z' })
      .where('id', '=', researcherId)
      .execute();
    await expect(service.submit(who, datasetId, { plan: COUNT_PLAN })).rejects.toMatchObject({
      code: 'KAI_ERR_RESEARCH_ACCREDITATION',
    });
    await service.registerResearcher(owner, {
      name: 'R201',
      email: 'r201@uni.example',
      principal: who.label,
      accreditedUntil: future,
    });
    await service.submit(who, datasetId, { plan: COUNT_PLAN });
    await service.revokeResearcher(owner, researcherId);
    await expect(service.runOnMock(who, datasetId, COUNT_PLAN)).rejects.toMatchObject({
      code: 'KAI_ERR_RESEARCH_ACCREDITATION',
    });
    await expect(
      service.registerResearcher(owner, {
        name: 'x',
        email: 'x@y',
        principal: 'key:9',
        accreditedUntil: '2001-01-01',
      }),
    ).rejects.toMatchObject({ code: 'KAI_ERR_RESEARCH_RESEARCHER' });
    for (const rho of [0, -1, Number.NaN]) {
      await expect(service.setBudget(owner, researcherId, datasetId, { rho })).rejects.toMatchObject({
        code: 'KAI_ERR_RESEARCH_BUDGET_INVALID',
      });
    }
  });

  it('plans outside the auto-approval policy wait for the owner, who runs them on the mock, approves or denies', async () => {
    const { who } = await researcher(300, 2);
    const big = { ...COUNT_PLAN, privacy: { mechanism: 'gaussian', rho: 1.5 } };
    const pending = await service.submit(who, datasetId, { plan: big });
    expect(pending.request.status).toBe('pending');
    expect(pending.result).toBeNull();
    expect((await service.ledger(who, datasetId)).entries).toHaveLength(0);
    const mock = await service.ownerRunOnMock(owner, pending.request.id);
    expect(mock.noisy).toBe(false);
    const approved = await service.approve(owner, pending.request.id);
    expect(approved.request.status).toBe('released');
    expect((await service.ledger(who, datasetId)).budget.rhoSpent).toBeCloseTo(1.5, 12);
    await expect(service.approve(owner, pending.request.id)).rejects.toMatchObject({
      code: 'KAI_ERR_RESEARCH_REQUEST_STATE',
    });
    const other = await service.submit(who, datasetId, {
      plan: { ...COUNT_PLAN, privacy: { mechanism: 'gaussian', rho: 0.4 } },
    });
    expect(other.request.status).toBe('released');
    const third = await service.submit(who, datasetId, {
      plan: {
        ...COUNT_PLAN,
        aggregate: { kind: 'distinct_users' },
        truncate: undefined,
        privacy: { mechanism: 'gaussian', rho: 0.05 },
      },
    });
    expect(third.request.status).toBe('released');
    await service.updatePolicy(owner, datasetId, { kinds: ['count'], maxRho: 1 });
    const reviewed = await service.submit(who, datasetId, {
      plan: {
        aggregate: {
          kind: 'amplification',
          categories: ['tvec'],
          treatment: 'algorithmic',
          control: 'chronological',
        },
        privacy: { mechanism: 'gaussian', rho: 0.01 },
      },
    });
    expect(reviewed.request.status).toBe('pending');
    await expect(service.deny(owner, reviewed.request.id, '  ')).rejects.toMatchObject({
      code: 'KAI_ERR_RESEARCH_REASON',
    });
    const denied = await service.deny(owner, reviewed.request.id, 'individual-level analysis first, please');
    expect(denied).toMatchObject({ status: 'denied', reason: 'individual-level analysis first, please' });
  });
});
