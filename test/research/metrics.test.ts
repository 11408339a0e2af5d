/**
 * The non-private metrics checked exactly against hand-made fixtures and against the generator's own ground truth
 * (counted while generating, independently of the metric code), the planted effects recovered, and the private
 * versions inside their stated 95 % intervals.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { EventTableBuilder, type EventRow, type EventTable } from '../../src/research/data/events.js';
import {
  DEMO_CATEGORIES,
  DEMO_META,
  generateEvents,
  type GeneratorTruth,
} from '../../src/research/data/generator.js';
import { SeededRandom } from '../../src/research/dp/random.js';
import { runPlan } from '../../src/research/engine.js';
import {
  amplification,
  amplificationWithRatio,
  gini,
  logBucket,
  topShare,
} from '../../src/research/metrics.js';
import { validatePlan } from '../../src/research/plan.js';

function generate(params: Parameters<typeof generateEvents>[0]): {
  table: EventTable;
  truth: GeneratorTruth;
} {
  const builder = new EventTableBuilder(DEMO_META);
  const truth = generateEvents(params, (row) => builder.add(row));
  return { table: builder.build(), truth };
}

const exact = (table: EventTable, plan: unknown) =>
  runPlan(table, validatePlan(DEMO_META, plan), { noisy: false });
const GAUSS = { mechanism: 'gaussian', rho: 0.5 };

describe('formulas on hand-made fixtures (reference §7)', () => {
  it('amplification: 99 of 400 treatment users and 24 of 100 control users give 3.09 %', () => {
    expect(amplificationWithRatio(99, 24, 4)).toBeCloseTo(100 / 97 - 1, 15);
    expect(amplification(99, 400, 24, 100)).toBeCloseTo(0.0309278, 6);
  });
  it('Gini and top share', () => {
    expect(gini([1, 1, 1, 1])).toBe(0);
    expect(gini([0, 0, 0, 1])).toBe(0.75);
    expect(topShare([1, 1, 1, 7], 0.25)).toBe(0.7);
  });
  it('the engine reproduces the fixture from rows', () => {
    const builder = new EventTableBuilder(DEMO_META);
    const row = (user: string, arm: string, category: string): EventRow => ({
      user_id: user,
      session_id: `s-${user}`,
      item_id: 'i1',
      creator_id: 'c1',
      category,
      arm,
      surface: 'home',
      country: 'NZ',
      ts: 0,
      position: 1,
      dwell_ms: 1000,
      engaged: 0,
      linger: 1,
    });
    for (let u = 0; u < 400; u++) builder.add(row(`a${u}`, 'algorithmic', u < 99 ? 'tvec' : 'news'));
    for (let u = 0; u < 100; u++) builder.add(row(`b${u}`, 'chronological', u < 24 ? 'tvec' : 'news'));
    const result = exact(builder.build(), {
      aggregate: {
        kind: 'amplification',
        categories: ['tvec'],
        treatment: 'algorithmic',
        control: 'chronological',
      },
      privacy: GAUSS,
    });
    expect(result.metric!.amplification).toBeCloseTo(100 / 97 - 1, 12);
    expect(result.metric!.reach).toEqual({ algorithmic: 99, chronological: 24 });
  });
});

describe('non-private metrics equal the generator ground truth', () => {
  let table: EventTable;
  let truth: GeneratorTruth;
  beforeAll(() => ({ table, truth } = generate({ seed: 11, users: 3000, amplification: 2 })));
  const tvec = DEMO_CATEGORIES.indexOf('tvec');

  it('amplification: reach and users per arm, linger and plain impressions', () => {
    for (const exposure of ['linger', 'impression'] as const) {
      const r = exact(table, {
        aggregate: {
          kind: 'amplification',
          categories: ['tvec'],
          treatment: 'algorithmic',
          control: 'chronological',
          exposure,
        },
        privacy: GAUSS,
      });
      const reach = exposure === 'linger' ? truth.lingerReach : truth.impressionReach;
      expect(r.metric!.users).toEqual({
        algorithmic: truth.usersByArm[0],
        chronological: truth.usersByArm[1],
      });
      expect(r.metric!.reach).toEqual({ algorithmic: reach[0][tvec], chronological: reach[1][tvec] });
    }
  });

  it('count by arm and category', () => {
    const r = exact(table, {
      truncate: { maxRowsPerUser: 1000 },
      groupBy: { keys: ['arm'] },
      aggregate: { kind: 'count' },
      privacy: GAUSS,
    });
    const total = r.rows!.reduce((a, x) => a + x.value, 0);
    expect(total).toBe(truth.rows);
  });

  it('sum, mean and quantile of dwell time (fixed point; quantile to one grid step)', () => {
    const dwell = Array.from(table.dwell).map((x) => Math.min(60_000, x));
    const base = { truncate: { maxRowsPerUser: 1000 }, privacy: GAUSS };
    const sum = exact(table, {
      ...base,
      aggregate: { kind: 'sum', column: 'dwell_ms', low: 0, high: 60_000 },
    });
    const total = dwell.reduce((a, b) => a + b, 0);
    expect(Math.abs(sum.rows![0].value - total)).toBeLessThan(dwell.length * 2 ** -5);
    const mean = exact(table, {
      ...base,
      aggregate: { kind: 'mean', column: 'dwell_ms', low: 0, high: 60_000 },
    });
    expect(mean.rows![0].value).toBeCloseTo(total / dwell.length, 3);
    const sorted = [...dwell].sort((a, b) => a - b);
    for (const q of [0.1, 0.5, 0.9]) {
      const r = exact(table, {
        ...base,
        aggregate: { kind: 'quantile', column: 'dwell_ms', q, low: 0, high: 60_000 },
      });
      const rank = sorted.filter((x) => x < r.value!).length;
      // The chosen grid point has about q·n values below it (grid step 60 ms, so up to one step's worth of rows).
      const step = sorted.filter((x) => x >= r.value! - 60 && x < r.value! + 60).length;
      expect(Math.abs(rank - q * sorted.length)).toBeLessThanOrEqual(step + 1);
    }
  });

  it('transition matrix of the algorithmic arm', () => {
    const r = exact(table, {
      filter: [{ column: 'arm', in: ['algorithmic'] }],
      aggregate: { kind: 'transition_matrix', maxTransitionsPerUser: 10_000, target: 'tvec', steps: 5 },
      privacy: GAUSS,
    });
    expect(r.metric!.counts).toEqual(truth.transitions[0]);
  });

  it('share@30 by arm (fixed point of 2^-16 per user)', () => {
    const r = exact(table, {
      aggregate: {
        kind: 'share_at_n',
        n: 30,
        categories: ['borderline', 'tvec'],
        cohort: 'arm',
        maxSessionsPerUser: 100,
      },
      privacy: GAUSS,
    });
    const cohorts = r.metric!.cohorts as Array<{ cohort: string; users: number; meanShare: number }>;
    for (const a of [0, 1]) {
      expect(cohorts[a].users).toBe(truth.usersByArm[a]);
      expect(Math.abs(cohorts[a].meanShare - truth.shareSumByArm[a] / truth.usersByArm[a])).toBeLessThan(
        2 ** -16,
      );
    }
  });

  it('concentration: item-level figures and the log2 histogram', () => {
    const r = exact(table, {
      aggregate: { kind: 'concentration', maxImpressionsPerUser: 10_000, q: 0.1 },
      privacy: GAUSS,
    });
    const counts = [...truth.itemExposures.values()];
    const histogram = new Array<number>(32).fill(0);
    for (const c of counts) histogram[Math.floor(Math.log2(c))]++;
    const m = r.metric as {
      exact: { topShare: number; gini: number; items: number };
      buckets: Array<{ items: number }>;
      impressions: number;
    };
    expect(m.exact.items).toBe(truth.itemExposures.size);
    expect(m.impressions).toBe(truth.rows);
    expect(m.buckets.map((b) => b.items)).toEqual(histogram);
    const sorted = [...counts].sort((a, b) => b - a);
    const topN = Math.ceil(0.1 * sorted.length);
    expect(m.exact.topShare).toBeCloseTo(sorted.slice(0, topN).reduce((a, b) => a + b, 0) / truth.rows, 12);
    expect(logBucket(1)).toBe(0);
    expect(logBucket(1023)).toBe(9);
  });
});

describe('individual-level amplification (one T per creator)', () => {
  it('exact per-creator reach equals a direct count of the rows; private runs release only creators above τ', () => {
    const builder = new EventTableBuilder(DEMO_META);
    const seen = new Map<string, [Set<string>, Set<string>]>();
    generateEvents({ seed: 17, users: 1500 }, (row) => {
      builder.add(row);
      if (row.category !== 'tvec' && row.category !== 'borderline') return;
      if (!row.linger) return;
      const sets = seen.get(row.creator_id) ?? [new Set<string>(), new Set<string>()];
      sets[row.arm === 'algorithmic' ? 0 : 1].add(row.user_id);
      seen.set(row.creator_id, sets);
    });
    const table = builder.build();
    const input = {
      aggregate: {
        kind: 'amplification',
        level: 'individual',
        maxCreatorsPerUser: 1000,
        categories: ['tvec', 'borderline'],
        treatment: 'algorithmic',
        control: 'chronological',
      },
      privacy: { mechanism: 'laplace', epsilon: 1, delta: 1e-6 },
    };
    const result = exact(table, input);
    const creators = result.metric!.creators as Array<{ creator: string; reach: Record<string, number> }>;
    expect(creators).toHaveLength(seen.size);
    for (const c of creators) {
      const [a, b] = seen.get(c.creator)!;
      expect(c.reach).toEqual({ algorithmic: a.size, chronological: b.size });
    }
    const privatePlan = validatePlan(DEMO_META, {
      aggregate: { ...input.aggregate, maxCreatorsPerUser: 3 },
      privacy: { mechanism: 'laplace', epsilon: 4, delta: 1e-6 },
    });
    const noisy = runPlan(table, privatePlan, { noisy: true, rng: new SeededRandom(5) });
    const released = noisy.metric!.creators as Array<{ creator: string }>;
    const threshold = noisy.metric!.threshold as number;
    expect(threshold).toBeGreaterThan(20);
    expect(released.length).toBeGreaterThan(0);
    // Creators reached by far fewer users than τ are (with overwhelming probability) never released.
    for (const r of released) {
      const [a, b] = seen.get(r.creator)!;
      expect(a.size + b.size).toBeGreaterThan(threshold / 3);
    }
    expect(noisy.noise.map((n) => n.statistic)).toEqual([
      'users per arm [U_A, U_B]',
      'reach per creator (partition selection)',
      'reach per released creator [R_A, R_B]',
    ]);
  });
});

describe('planted effects are recovered', () => {
  it('amplification 2 shows in reach, journeys and the stationary share; amplification 1 does not', () => {
    const amplified = generate({ seed: 5, users: 4000, amplification: 2 }).table;
    const neutral = generate({ seed: 5, users: 4000, amplification: 1 }).table;
    const amp = (t: EventTable) =>
      exact(t, {
        aggregate: {
          kind: 'amplification',
          categories: ['tvec'],
          treatment: 'algorithmic',
          control: 'chronological',
        },
        privacy: GAUSS,
      }).metric!.amplification as number;
    expect(amp(amplified)).toBeGreaterThan(0.2);
    expect(Math.abs(amp(neutral))).toBeLessThan(0.1);
    const journey = (t: EventTable, arm: string) =>
      exact(t, {
        filter: [{ column: 'arm', in: [arm] }],
        aggregate: { kind: 'transition_matrix', maxTransitionsPerUser: 10_000, target: 'tvec', steps: 10 },
        privacy: GAUSS,
      }).metric as {
        reachWithinSteps: Record<string, number>;
        stationary: Record<string, number>;
        hittingTime: Record<string, number>;
      };
    const a = journey(amplified, 'algorithmic');
    const c = journey(amplified, 'chronological');
    expect(a.reachWithinSteps.news).toBeGreaterThan(c.reachWithinSteps.news);
    expect(a.stationary.tvec / c.stationary.tvec).toBeGreaterThan(1.3);
    expect(a.hittingTime.news).toBeLessThan(c.hittingTime.news);
    expect(a.hittingTime.tvec).toBe(0);
  });

  it('engaged users see more borderline and TVEC in the first 30 items', () => {
    const { table } = generate({ seed: 9, users: 4000, escalation: 3, engagedShare: 0.2 });
    const r = exact(table, {
      aggregate: {
        kind: 'share_at_n',
        n: 30,
        categories: ['borderline', 'tvec'],
        cohort: 'engaged',
        maxSessionsPerUser: 3,
      },
      privacy: GAUSS,
    });
    expect(r.metric!.ratio as number).toBeGreaterThan(1.2);
  });

  it('Zipf popularity concentrates exposure', () => {
    const flat = generate({ seed: 3, users: 2000, zipf: 0 }).table;
    const steep = generate({ seed: 3, users: 2000, zipf: 1.5 }).table;
    const top = (t: EventTable) =>
      (
        exact(t, {
          aggregate: { kind: 'concentration', maxImpressionsPerUser: 1000, q: 0.1 },
          privacy: GAUSS,
        }).metric!.exact as { topShare: number }
      ).topShare;
    expect(top(steep)).toBeGreaterThan(0.5);
    expect(top(flat)).toBeLessThan(0.2);
  });

  it('the generator is reproducible from its seed', () => {
    const rows = (seed: number) => {
      const out: EventRow[] = [];
      generateEvents({ seed, users: 20 }, (r) => out.push(r));
      return out;
    };
    expect(rows(4)).toEqual(rows(4));
    expect(rows(4)).not.toEqual(rows(5));
  });
});

describe('private versions stay within their stated 95 % intervals', () => {
  it('count by category (Gaussian) and amplification reach (Laplace), ≥ 95 % coverage over many runs', () => {
    const { table } = generate({ seed: 21, users: 500 });
    const rng = new SeededRandom(99);
    const cases = [
      {
        truncate: { maxRowsPerUser: 20 },
        groupBy: { keys: ['category'] },
        aggregate: { kind: 'count' },
        privacy: { mechanism: 'gaussian', rho: 0.05 },
      },
      {
        aggregate: {
          kind: 'amplification',
          categories: ['tvec'],
          treatment: 'algorithmic',
          control: 'chronological',
        },
        privacy: { mechanism: 'laplace', epsilon: 0.5 },
      },
    ];
    for (const input of cases) {
      const plan = validatePlan(DEMO_META, input);
      const truthRun = runPlan(table, plan, { noisy: false });
      const truthValues = truthRun.rows
        ? truthRun.rows.map((r) => r.value)
        : Object.values(truthRun.metric!.reach as object);
      let inside = 0;
      let total = 0;
      for (let run = 0; run < 300; run++) {
        const r = runPlan(table, plan, { noisy: true, rng });
        const values = r.rows ? r.rows.map((x) => x.value) : Object.values(r.metric!.reach as object);
        const h = r.noise[0].interval95;
        values.forEach((v: number, i: number) => {
          total++;
          if (Math.abs(v - truthValues[i]) <= h) inside++;
        });
      }
      expect(inside / total).toBeGreaterThanOrEqual(0.94);
      expect(inside / total).toBeLessThan(0.999); // the interval is not vacuously wide
    }
  });
});
