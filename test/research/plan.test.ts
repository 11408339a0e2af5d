/** Bad plans are refused with a reason naming the field; good ones get a sensitivity-derived cost. */
import { describe, expect, it } from 'vitest';
import { DEMO_META } from '../../src/research/data/generator.js';
import { planCost } from '../../src/research/engine.js';
import { validatePlan } from '../../src/research/plan.js';

const ok = {
  truncate: { maxRowsPerUser: 5 },
  groupBy: { keys: ['category'] },
  aggregate: { kind: 'count' },
  privacy: { mechanism: 'gaussian', rho: 0.1 },
};
const refuse = (plan: unknown, message: RegExp) => {
  let error: unknown;
  try {
    validatePlan(DEMO_META, plan);
  } catch (err) {
    error = err;
  }
  expect(error).toMatchObject({ code: 'KAI_ERR_RESEARCH_PLAN', httpStatus: 400 });
  expect((error as Error).message).toMatch(message);
};

describe('query plans', () => {
  it('a good plan is accepted and costs what it asks for', () => {
    expect(planCost(validatePlan(DEMO_META, ok))).toEqual({ rho: 0.1, delta: 0 });
    expect(
      planCost(validatePlan(DEMO_META, { ...ok, privacy: { mechanism: 'laplace', epsilon: 1 } })),
    ).toEqual({ rho: 0.5, delta: 0 });
  });
  it('refuses a private column in a group-by without partition selection', () => {
    refuse({ ...ok, groupBy: { keys: ['item_id'] } }, /item_id is a private column.*partition selection/);
    refuse(
      {
        ...ok,
        groupBy: { privateKey: 'item_id' },
        truncate: { maxGroupsPerUser: 3, maxRowsPerGroupPerUser: 1 },
      },
      /privacy\.delta/,
    );
    refuse({ ...ok, groupBy: { privateKey: 'user_id' } }, /per-user rows/);
    expect(() =>
      validatePlan(DEMO_META, {
        ...ok,
        groupBy: { privateKey: 'item_id' },
        truncate: { maxGroupsPerUser: 3, maxRowsPerGroupPerUser: 1 },
        privacy: { mechanism: 'laplace', epsilon: 1, delta: 1e-6 },
      }),
    ).not.toThrow();
  });
  it('individual-level amplification needs a creator bound and a δ', () => {
    const amp = {
      kind: 'amplification',
      level: 'individual',
      categories: ['tvec'],
      treatment: 'algorithmic',
      control: 'chronological',
    };
    refuse(
      { aggregate: amp, privacy: { mechanism: 'laplace', epsilon: 1, delta: 1e-6 } },
      /maxCreatorsPerUser: is required/,
    );
    refuse(
      { aggregate: { ...amp, maxCreatorsPerUser: 5 }, privacy: { mechanism: 'laplace', epsilon: 1 } },
      /needs a δ/,
    );
    expect(
      planCost(
        validatePlan(DEMO_META, {
          aggregate: { ...amp, maxCreatorsPerUser: 5 },
          privacy: { mechanism: 'laplace', epsilon: 1, delta: 1e-6 },
        }),
      ),
    ).toEqual({ rho: 0.5, delta: 1e-6 });
  });
  it('refuses a missing bound', () => {
    refuse({ ...ok, truncate: undefined }, /needs a bound on each user's contribution/);
    refuse({ ...ok, aggregate: { kind: 'sum', column: 'dwell_ms' } }, /public bounds "low" and "high"/);
    refuse(
      { ...ok, aggregate: { kind: 'mean', column: 'dwell_ms', low: 0, high: 1e9 } },
      /within the dataset's public bounds/,
    );
    refuse(
      { aggregate: { kind: 'transition_matrix', target: 'tvec' }, privacy: ok.privacy },
      /maxTransitionsPerUser: is required/,
    );
  });
  it('refuses a budget of 0, negative, NaN, missing or of the wrong kind', () => {
    for (const rho of [0, -0.5])
      refuse({ ...ok, privacy: { mechanism: 'gaussian', rho } }, /privacy\.rho: must be greater than 0/);
    refuse(
      { ...ok, privacy: { mechanism: 'gaussian', rho: Number.NaN } },
      /privacy\.rho: is required and must be a number/,
    );
    refuse({ ...ok, privacy: { mechanism: 'gaussian' } }, /privacy\.rho: is required/);
    refuse({ ...ok, privacy: { mechanism: 'laplace', rho: 1 } }, /with "epsilon"/);
    refuse({ ...ok, privacy: { mechanism: 'gaussian', rho: 0.1, delta: 1e-6 } }, /only partition selection/);
  });
  it('refuses plans that would reveal raw rows', () => {
    refuse({ ...ok, aggregate: { kind: 'rows' } }, /would reveal rows/);
    refuse({ ...ok, aggregate: { kind: 'select', columns: ['user_id'] } }, /would reveal rows/);
    refuse({ ...ok, filter: [{ column: 'user_id', in: ['u1'] }] }, /private identifier/);
  });
  it('refuses oversized results and unknown fields', () => {
    const wide = {
      ...DEMO_META,
      publicKeys: {
        ...DEMO_META.publicKeys,
        country: Array.from({ length: 200 }, (_, i) => `C${i}`),
        category: Array.from({ length: 100 }, (_, i) => `K${i}`),
      },
    };
    expect(() => validatePlan(wide, { ...ok, groupBy: { keys: ['category', 'country'] } })).toThrow(
      /20000 cells; at most 10000/,
    );
    refuse({ ...ok, extra: 1 }, /unknown field "extra"/);
    refuse({ ...ok, filter: [{ column: 'category', in: ['not-a-category'] }] }, /must be one of/);
  });
});
