/**
 * Runs a validated plan on a columnar table. Every aggregate is computed in two halves: integer statistics with a
 * sensitivity derived from the plan (never from the data), then noise (private runs) or none (mock runs and
 * tests), then post-processing. The same code serves the mock and the private data.
 */
import { partitionThreshold } from './dp/accountant.js';
import { cryptoRandom, type RandomSource } from './dp/random.js';
import { roundUpRational, sampleDiscreteLaplace } from './dp/samplers.js';
import type { CategoricalColumn, EventTable, NumericColumn } from './data/events.js';
import {
  amplification,
  concentrationFromHistogram,
  gini,
  hittingTimes,
  kStepExposure,
  logBucket,
  rowNormalise,
  stationaryDistribution,
  topShare,
} from './metrics.js';
import { addNoise, pureEpsilonOf, rhoOf, sharePrivacy, type NoiseSummary, type Statistic } from './noise.js';
import { MAX_PRIVATE_KEYS, type AggregateKind, type QueryPlan } from './plan.js';

export interface QueryCost {
  rho: number;
  delta: number;
}

export interface ResultRow {
  key: string[];
  value: number;
}

export interface QueryResult {
  kind: AggregateKind;
  /** False for exact runs (the mock); true when noise was added. */
  noisy: boolean;
  /** Grouped results (count, distinct_users, sum, mean). */
  columns?: string[];
  rows?: ResultRow[];
  /** Scalar result (quantile). */
  value?: number;
  /** Built-in metric outputs. */
  metric?: Record<string, unknown>;
  /** What noise was (or, on the mock, would be) added to each statistic. */
  noise: NoiseSummary[];
  cost: QueryCost;
}

/** What a plan costs: fixed by the plan alone, before any data is read. */
export function planCost(plan: QueryPlan): QueryCost {
  return { rho: rhoOf(plan.privacy), delta: plan.privacy.delta ?? 0 };
}

export interface RunOptions {
  /** Add noise (private data) or not (mock, tests). */
  noisy: boolean;
  rng?: RandomSource;
}

const numericArray = (t: EventTable, c: NumericColumn): ArrayLike<number> =>
  c === 'ts'
    ? t.ts
    : c === 'position'
      ? t.position
      : c === 'dwell_ms'
        ? t.dwell
        : c === 'engaged'
          ? t.engaged
          : t.linger;
const categoricalArray = (t: EventTable, c: CategoricalColumn): Uint8Array => t[c];

/** Rows passing the filter. */
function filterMask(table: EventTable, plan: QueryPlan): Uint8Array {
  const mask = new Uint8Array(table.length).fill(1);
  for (const f of plan.filter) {
    if ('in' in f) {
      const allowed = new Uint8Array(256);
      for (const v of f.in) allowed[table.keys[f.column].indexOf(v)] = 1;
      const col = categoricalArray(table, f.column);
      for (let i = 0; i < mask.length; i++) if (mask[i] && !allowed[col[i]]) mask[i] = 0;
    } else {
      const col = numericArray(table, f.column);
      const [low, high] = f.between;
      for (let i = 0; i < mask.length; i++) if (mask[i] && (col[i] < low || col[i] > high)) mask[i] = 0;
    }
  }
  return mask;
}

/** Group code per row for public keys, and the decoded key of each code. */
function publicGroups(
  table: EventTable,
  keys: CategoricalColumn[],
): { code: Int32Array | Uint8Array | null; labels: string[][]; cells: number } {
  const sizes = keys.map((k) => table.keys[k].length);
  const cells = sizes.reduce((a, b) => a * b, 1);
  const labels: string[][] = [];
  for (let g = 0; g < cells; g++) {
    let rest = g;
    const key: string[] = [];
    for (let j = keys.length - 1; j >= 0; j--) {
      key.unshift(table.keys[keys[j]][rest % sizes[j]]);
      rest = Math.floor(rest / sizes[j]);
    }
    labels.push(key);
  }
  // One key: its dictionary codes are the group codes already (no 10M-row pass, no copy).
  if (keys.length === 1) return { code: categoricalArray(table, keys[0]), labels, cells };
  const code = new Int32Array(table.length);
  for (let j = 0; j < keys.length; j++) {
    const col = categoricalArray(table, keys[j]);
    const size = sizes[j];
    for (let i = 0; i < code.length; i++) code[i] = code[i] * size + col[i];
  }
  return { code, labels, cells };
}

/**
 * Applies per-user contribution bounds to the mask: the first maxRowsPerUser rows of each user, or rows in the
 * user's first maxGroupsPerUser groups with at most maxRowsPerGroupPerUser rows each. Which rows are kept depends
 * only on the user's own rows.
 */
function truncateMask(
  table: EventTable,
  plan: QueryPlan,
  mask: Uint8Array,
  group: Int32Array | Uint8Array | null,
): void {
  const t = plan.truncate;
  if (!t) return;
  const users = table.cardinality.user_id;
  if ('maxRowsPerUser' in t) {
    const seen = new Int32Array(users);
    const limit = t.maxRowsPerUser;
    const user = table.user;
    for (let i = 0; i < mask.length; i++) {
      if (!mask[i]) continue;
      const u = user[i];
      if (seen[u] >= limit) mask[i] = 0;
      else seen[u]++;
    }
    return;
  }
  if (!group) return;
  const g = t.maxGroupsPerUser;
  const slots = new Int32Array(users * g).fill(-1);
  const counts = new Int32Array(users * g);
  for (let i = 0; i < mask.length; i++) {
    if (!mask[i]) continue;
    const base = table.user[i] * g;
    const code = group[i];
    let slot = -1;
    for (let s = 0; s < g; s++) {
      const v = slots[base + s];
      if (v === code) {
        slot = s;
        break;
      }
      if (v === -1) {
        slots[base + s] = code;
        slot = s;
        break;
      }
    }
    if (slot === -1 || counts[base + slot] >= t.maxRowsPerGroupPerUser) mask[i] = 0;
    else counts[base + slot]++;
  }
}

/** L1 and L2 sensitivity of a per-group count under the plan's truncation (rows a user can add). */
function countSensitivity(plan: QueryPlan, cells: number): { l1: number; l2: number } {
  const t = plan.truncate!;
  if ('maxRowsPerUser' in t) return { l1: t.maxRowsPerUser, l2: t.maxRowsPerUser };
  const groups = Math.min(t.maxGroupsPerUser, cells);
  return { l1: groups * t.maxRowsPerGroupPerUser, l2: Math.sqrt(groups) * t.maxRowsPerGroupPerUser };
}

interface Noiser {
  noisy: boolean;
  rng: RandomSource;
  plan: QueryPlan;
  summaries: NoiseSummary[];
}

/** Noise (or not) for one statistic using `fraction` of the plan's budget. */
function release(n: Noiser, statistic: Statistic, fraction = 1): number[] {
  const privacy = sharePrivacy(n.plan.privacy, fraction);
  if (n.noisy) {
    const { values, summary } = addNoise(statistic, privacy, n.rng);
    n.summaries.push(summary);
    return values;
  }
  // Exact run: describe the noise a private run would add, by drawing it on zeros and throwing it away.
  const { summary } = addNoise({ ...statistic, values: [] }, privacy, n.rng);
  n.summaries.push(summary);
  return statistic.values.map((v) => v * statistic.unit);
}

/** Fixed-point unit for a bounded column: a power of two about 2^-20 of the bound's magnitude. */
function fixedPointUnit(low: number, high: number): number {
  const magnitude = Math.max(Math.abs(low), Math.abs(high), 1e-300);
  return 2 ** (Math.floor(Math.log2(magnitude)) - 20);
}

export function runPlan(table: EventTable, plan: QueryPlan, options: RunOptions): QueryResult {
  const rng = options.rng ?? cryptoRandom();
  const noiser: Noiser = { noisy: options.noisy, rng, plan, summaries: [] };
  const cost = planCost(plan);
  const base = { kind: plan.aggregate.kind, noisy: options.noisy, cost };
  const mask = filterMask(table, plan);
  const agg = plan.aggregate;

  if (plan.groupBy && 'privateKey' in plan.groupBy) {
    return { ...base, ...privateKeyGroups(table, plan, mask, noiser), noise: noiser.summaries };
  }
  const keys = plan.groupBy && 'keys' in plan.groupBy ? plan.groupBy.keys : [];
  const groups = keys.length > 0 ? publicGroups(table, keys) : { code: null, labels: [[]], cells: 1 };

  switch (agg.kind) {
    case 'count':
    case 'sum':
    case 'mean': {
      truncateMask(table, plan, mask, groups.code);
      const countArray = new Float64Array(groups.cells);
      const sumArray = new Float64Array(groups.cells);
      const col = agg.kind === 'count' ? null : numericArray(table, agg.column);
      const unit = agg.kind === 'count' ? 1 : fixedPointUnit(agg.low, agg.high);
      const code = groups.code;
      if (!col && code) {
        // The hot path (count by public keys): one tight loop.
        for (let i = 0; i < mask.length; i++) if (mask[i]) countArray[code[i]]++;
      } else {
        for (let i = 0; i < mask.length; i++) {
          if (!mask[i]) continue;
          const g = code ? code[i] : 0;
          countArray[g]++;
          if (col && agg.kind !== 'count') {
            const x = Math.min(agg.high, Math.max(agg.low, col[i]));
            sumArray[g] += Math.round(x / unit);
          }
        }
      }
      const counts = Array.from(countArray);
      const sums = Array.from(sumArray);
      const sens = countSensitivity(plan, groups.cells);
      let values: number[];
      if (agg.kind === 'count') {
        values = release(noiser, { name: 'count', values: counts, ...sens, unit: 1 });
      } else {
        const m = Math.ceil(Math.max(Math.abs(agg.low), Math.abs(agg.high)) / unit);
        const sumStat: Statistic = {
          name: `sum(${agg.column})`,
          values: sums,
          l1: sens.l1 * m,
          l2: sens.l2 * m,
          unit,
        };
        if (agg.kind === 'sum') values = release(noiser, sumStat);
        else {
          const noisySums = release(noiser, sumStat, 0.5);
          const noisyCounts = release(noiser, { name: 'count', values: counts, ...sens, unit: 1 }, 0.5);
          values = noisySums.map((s, g) =>
            Math.min(agg.high, Math.max(agg.low, s / Math.max(1, noisyCounts[g]))),
          );
        }
      }
      return {
        ...base,
        columns: keys,
        rows: groups.labels.map((key, g) => ({ key, value: values[g] })),
        noise: noiser.summaries,
      };
    }
    case 'distinct_users': {
      // One per (user, group); users touch at most maxGroupsPerUser groups (or all of them).
      truncateMask(table, plan, mask, groups.code);
      const limit =
        plan.truncate && 'maxGroupsPerUser' in plan.truncate
          ? Math.min(plan.truncate.maxGroupsPerUser, groups.cells)
          : groups.cells;
      const seen = new Set<number>();
      const counts = new Array<number>(groups.cells).fill(0);
      for (let i = 0; i < mask.length; i++) {
        if (!mask[i]) continue;
        const g = groups.code ? groups.code[i] : 0;
        const id = table.user[i] * groups.cells + g;
        if (!seen.has(id)) {
          seen.add(id);
          counts[g]++;
        }
      }
      const values = release(noiser, {
        name: 'distinct_users',
        values: counts,
        l1: limit,
        l2: Math.sqrt(limit),
        unit: 1,
      });
      return {
        ...base,
        columns: keys,
        rows: groups.labels.map((key, g) => ({ key, value: values[g] })),
        noise: noiser.summaries,
      };
    }
    case 'quantile':
      truncateMask(table, plan, mask, null);
      return { ...base, value: quantile(table, plan, mask, noiser), noise: noiser.summaries };
    case 'amplification':
      return {
        ...base,
        metric:
          agg.level === 'individual'
            ? individualAmplification(table, plan, mask, noiser)
            : amplificationMetric(table, plan, mask, noiser),
        noise: noiser.summaries,
      };
    case 'share_at_n':
      return { ...base, metric: shareAtN(table, plan, mask, noiser), noise: noiser.summaries };
    case 'transition_matrix':
      return { ...base, metric: transitions(table, plan, mask, noiser), noise: noiser.summaries };
    case 'concentration':
      return { ...base, metric: concentration(table, plan, mask, noiser), noise: noiser.summaries };
  }
}

/** Count or distinct users per private key, released only for keys whose noisy count passes τ (partition selection). */
function privateKeyGroups(
  table: EventTable,
  plan: QueryPlan,
  mask: Uint8Array,
  noiser: Noiser,
): Pick<QueryResult, 'columns' | 'rows' | 'metric'> {
  const column = (plan.groupBy as { privateKey: 'item_id' | 'creator_id' }).privateKey;
  const codes = column === 'item_id' ? table.item : table.creator;
  truncateMask(table, plan, mask, codes);
  const t = plan.truncate as { maxGroupsPerUser: number; maxRowsPerGroupPerUser: number };
  // With one row per (user, key), count and distinct users coincide.
  const counts = new Int32Array(table.cardinality[column]);
  const seen = plan.aggregate.kind === 'distinct_users' ? new Set<number>() : null;
  const keyCount = table.cardinality[column];
  for (let i = 0; i < mask.length; i++) {
    if (!mask[i]) continue;
    if (seen) {
      const id = table.user[i] * keyCount + codes[i];
      if (seen.has(id)) continue;
      seen.add(id);
    }
    counts[codes[i]]++;
  }
  const epsilon = pureEpsilonOf(plan.privacy);
  const delta = plan.privacy.delta!;
  const threshold = partitionThreshold(epsilon, delta, t.maxGroupsPerUser);
  const scale = roundUpRational(t.maxGroupsPerUser / epsilon);
  const rows: ResultRow[] = [];
  for (let k = 0; k < counts.length; k++) {
    if (counts[k] === 0) continue; // absent keys are never released (and could not pass τ ≥ 2 without noise)
    const value = noiser.noisy ? counts[k] + Number(sampleDiscreteLaplace(scale, noiser.rng)) : counts[k];
    if (value >= threshold) rows.push({ key: [table.names[column][k]], value });
  }
  rows.sort((a, b) => b.value - a.value || (a.key[0] < b.key[0] ? -1 : 1));
  const b = Number(scale.num) / Number(scale.den);
  const p = Math.exp(-1 / b);
  noiser.summaries.push({
    statistic: `${plan.aggregate.kind} by ${column} (partition selection)`,
    mechanism: 'discrete_laplace',
    scale: b,
    sensitivity: t.maxGroupsPerUser,
    interval95: Math.max(0, Math.ceil(Math.log((0.05 * (1 + p)) / 2) / Math.log(p)) - 1),
    rho: planCost(plan).rho,
  });
  return {
    columns: [column],
    rows: rows.slice(0, MAX_PRIVATE_KEYS),
    metric: { threshold, truncated: rows.length > MAX_PRIVATE_KEYS },
  };
}

/** Report-noisy-max over a public grid of 1001 candidates between low and high. */
function quantile(table: EventTable, plan: QueryPlan, mask: Uint8Array, noiser: Noiser): number {
  const agg = plan.aggregate as { column: NumericColumn; q: number; low: number; high: number };
  const col = numericArray(table, agg.column);
  const bins = 1000;
  const step = (agg.high - agg.low) / bins;
  const below = new Array<number>(bins + 2).fill(0);
  let n = 0;
  for (let i = 0; i < mask.length; i++) {
    if (!mask[i]) continue;
    const x = Math.min(agg.high, Math.max(agg.low, col[i]));
    // Values strictly below candidate j: those in bins < j.
    below[Math.min(bins, Math.floor((x - agg.low) / step)) + 1]++;
    n++;
  }
  for (let j = 1; j < below.length; j++) below[j] += below[j - 1];
  const D = 1000;
  const qInt = Math.round(agg.q * D);
  const k = (plan.truncate as { maxRowsPerUser: number }).maxRowsPerUser;
  // Utility −|D·rank − qD·n| is an integer; one row moves it by at most D, a user by k·D.
  const sensitivity = k * D;
  const epsilon = pureEpsilonOf(plan.privacy);
  const scale = roundUpRational((2 * sensitivity) / epsilon);
  let best = 0;
  let bestScore = -Infinity;
  for (let j = 0; j <= bins; j++) {
    const utility = -Math.abs(D * below[j] - qInt * n);
    const score = noiser.noisy ? utility + Number(sampleDiscreteLaplace(scale, noiser.rng)) : utility;
    if (score > bestScore) {
      bestScore = score;
      best = j;
    }
  }
  noiser.summaries.push({
    statistic: `quantile(${agg.column}, ${agg.q}) by report-noisy-max over ${bins + 1} grid points`,
    mechanism: 'discrete_laplace',
    scale: Number(scale.num) / Number(scale.den),
    sensitivity,
    interval95: step,
    rho: planCost(plan).rho,
  });
  return agg.low + best * step;
}

/** First-row arm of each user (users in one arm, as in an experiment); -1 when the user has no row in the mask. */
function userArms(table: EventTable, mask: Uint8Array): Int8Array {
  const arm = new Int8Array(table.cardinality.user_id).fill(-1);
  for (let i = 0; i < mask.length; i++)
    if (mask[i] && arm[table.user[i]] === -1) arm[table.user[i]] = table.arm[i];
  return arm;
}

function amplificationMetric(
  table: EventTable,
  plan: QueryPlan,
  mask: Uint8Array,
  noiser: Noiser,
): Record<string, unknown> {
  const agg = plan.aggregate as Extract<QueryPlan['aggregate'], { kind: 'amplification' }>;
  const a = table.keys.arm.indexOf(agg.treatment);
  const b = table.keys.arm.indexOf(agg.control);
  const inT = new Uint8Array(256);
  for (const c of agg.categories) inT[table.keys.category.indexOf(c)] = 1;
  const arm = userArms(table, mask);
  const reached = new Uint8Array(table.cardinality.user_id);
  const linger = agg.exposure === 'linger';
  for (let i = 0; i < mask.length; i++) {
    if (mask[i] && inT[table.category[i]] && (!linger || table.linger[i])) reached[table.user[i]] = 1;
  }
  // [R_A, R_B, U_A, U_B]: a user is in one arm, so adds at most 1 to one R and 1 to one U.
  const stats = [0, 0, 0, 0];
  for (let u = 0; u < arm.length; u++) {
    const x = arm[u] === a ? 0 : arm[u] === b ? 1 : -1;
    if (x < 0) continue;
    stats[2 + x]++;
    if (reached[u]) stats[x]++;
  }
  const [rA, rB, uA, uB] = release(noiser, {
    name: 'reach and users per arm [R_A, R_B, U_A, U_B]',
    values: stats,
    l1: 2,
    l2: Math.SQRT2,
    unit: 1,
  });
  const clampPos = (x: number) => Math.max(0, x);
  const value = amplification(clampPos(rA), clampPos(uA), clampPos(rB), clampPos(uB));
  return {
    level: 'group',
    categories: agg.categories,
    treatment: agg.treatment,
    control: agg.control,
    exposure: agg.exposure,
    amplification: value,
    reach: { [agg.treatment]: rA, [agg.control]: rB },
    users: { [agg.treatment]: uA, [agg.control]: uB },
  };
}

function shareAtN(
  table: EventTable,
  plan: QueryPlan,
  mask: Uint8Array,
  noiser: Noiser,
): Record<string, unknown> {
  const agg = plan.aggregate as Extract<QueryPlan['aggregate'], { kind: 'share_at_n' }>;
  const inT = new Uint8Array(256);
  for (const c of agg.categories) inT[table.keys.category.indexOf(c)] = 1;
  const users = table.cardinality.user_id;
  const sessionState = new Int8Array(table.cardinality.session_id); // 0 unseen, 1 counted, 2 beyond the cap
  const sessionHits = new Int32Array(table.cardinality.session_id);
  const sessionUser = new Int32Array(table.cardinality.session_id);
  const sessionsPerUser = new Int32Array(users);
  const engaged = new Uint8Array(users);
  const arm = userArms(table, mask);
  for (let i = 0; i < mask.length; i++) {
    if (!mask[i]) continue;
    const s = table.session[i];
    const u = table.user[i];
    if (table.engaged[i] && inT[table.category[i]]) engaged[u] = 1;
    if (sessionState[s] === 0) {
      if (sessionsPerUser[u] < agg.maxSessionsPerUser) {
        sessionsPerUser[u]++;
        sessionState[s] = 1;
        sessionUser[s] = u;
      } else sessionState[s] = 2;
    }
    if (sessionState[s] === 1 && table.position[i] <= agg.n && inT[table.category[i]]) sessionHits[s]++;
  }
  const shareSum = new Float64Array(users);
  for (let s = 0; s < sessionState.length; s++)
    if (sessionState[s] === 1) shareSum[sessionUser[s]] += sessionHits[s] / agg.n;
  const cohorts = agg.cohort === 'arm' ? table.keys.arm : ['not_engaged', 'engaged'];
  const unit = 2 ** -16;
  const sums = new Array<number>(cohorts.length).fill(0);
  const counts = new Array<number>(cohorts.length).fill(0);
  for (let u = 0; u < users; u++) {
    if (sessionsPerUser[u] === 0) continue;
    const c = agg.cohort === 'arm' ? arm[u] : engaged[u];
    sums[c] += Math.round(shareSum[u] / sessionsPerUser[u] / unit);
    counts[c]++;
  }
  const noisySums = release(
    noiser,
    { name: 'sum of per-user Share@N by cohort', values: sums, l1: 1 / unit, l2: 1 / unit, unit },
    0.5,
  );
  const noisyCounts = release(
    noiser,
    { name: 'users by cohort', values: counts, l1: 1, l2: 1, unit: 1 },
    0.5,
  );
  const means = cohorts.map((c, i) => ({
    cohort: c,
    users: noisyCounts[i],
    meanShare: Math.min(1, Math.max(0, noisySums[i] / Math.max(1, noisyCounts[i]))),
  }));
  const result: Record<string, unknown> = {
    n: agg.n,
    categories: agg.categories,
    cohort: agg.cohort,
    cohorts: means,
  };
  if (agg.cohort === 'engaged') {
    result.ratio = means[1].meanShare / means[0].meanShare;
    result.difference = means[1].meanShare - means[0].meanShare;
  }
  return result;
}

function transitions(
  table: EventTable,
  plan: QueryPlan,
  mask: Uint8Array,
  noiser: Noiser,
): Record<string, unknown> {
  const agg = plan.aggregate as Extract<QueryPlan['aggregate'], { kind: 'transition_matrix' }>;
  const k = table.keys.category.length;
  const counts = new Array<number>(k * k).fill(0);
  const used = new Int32Array(table.cardinality.user_id);
  // A transition: consecutive rows of one session at consecutive positions.
  let prev = -1;
  for (let i = 0; i < mask.length; i++) {
    if (!mask[i]) {
      prev = -1;
      continue;
    }
    if (
      prev >= 0 &&
      table.session[prev] === table.session[i] &&
      table.position[i] === table.position[prev] + 1
    ) {
      const u = table.user[i];
      if (used[u] < agg.maxTransitionsPerUser) {
        used[u]++;
        counts[table.category[prev] * k + table.category[i]]++;
      }
    }
    prev = i;
  }
  const L = agg.maxTransitionsPerUser;
  const noisy = release(noiser, { name: 'transition counts', values: counts, l1: L, l2: L, unit: 1 });
  const matrix = Array.from({ length: k }, (_, a) => noisy.slice(a * k, a * k + k));
  const p = rowNormalise(matrix);
  const target = table.keys.category.indexOf(agg.target);
  const labels = table.keys.category;
  const byLabel = (values: number[]) => Object.fromEntries(labels.map((l, i) => [l, values[i]]));
  return {
    categories: labels,
    counts: matrix,
    probabilities: p,
    target: agg.target,
    steps: agg.steps,
    reachWithinSteps: byLabel(kStepExposure(p, target, agg.steps)),
    hittingTime: byLabel(hittingTimes(p, target)),
    stationary: byLabel(stationaryDistribution(p)),
  };
}

const BUCKETS = 32;

function concentration(
  table: EventTable,
  plan: QueryPlan,
  mask: Uint8Array,
  noiser: Noiser,
): Record<string, unknown> {
  const agg = plan.aggregate as Extract<QueryPlan['aggregate'], { kind: 'concentration' }>;
  const used = new Int32Array(table.cardinality.user_id);
  const perItem = new Int32Array(table.cardinality.item_id);
  let total = 0;
  for (let i = 0; i < mask.length; i++) {
    if (!mask[i]) continue;
    const u = table.user[i];
    if (used[u] >= agg.maxImpressionsPerUser) continue;
    used[u]++;
    perItem[table.item[i]]++;
    total++;
  }
  const histogram = new Array<number>(BUCKETS).fill(0);
  const exposures: number[] = [];
  for (let j = 0; j < perItem.length; j++) {
    if (perItem[j] === 0) continue;
    histogram[logBucket(perItem[j])]++;
    exposures.push(perItem[j]);
  }
  const L = agg.maxImpressionsPerUser;
  // A user's L impressions move at most L items across one bucket boundary each: L1 ≤ 2L, L2 ≤ √2·L.
  const noisyHistogram = release(
    noiser,
    { name: 'items by log2 exposure bucket', values: histogram, l1: 2 * L, l2: Math.SQRT2 * L, unit: 1 },
    0.5,
  );
  const [noisyTotal] = release(noiser, { name: 'impressions', values: [total], l1: L, l2: L, unit: 1 }, 0.5);
  const fromHistogram = concentrationFromHistogram(noisyHistogram, agg.q);
  const result: Record<string, unknown> = {
    q: agg.q,
    buckets: noisyHistogram.map((count, b) => ({ from: 2 ** b, to: 2 ** (b + 1), items: count })),
    impressions: noisyTotal,
    topShare: fromHistogram.topShare,
    gini: fromHistogram.gini,
  };
  // Exact item-level figures only where no noise is due (the mock, tests): they read individual items.
  if (!noiser.noisy)
    result.exact = { topShare: topShare(exposures, agg.q), gini: gini(exposures), items: exposures.length };
  return result;
}

/** Discrete Laplace noise of scale b on integers, or none on exact runs; with its summary. */
function laplaceValues(
  noiser: Noiser,
  statistic: string,
  values: number[],
  sensitivity: number,
  epsilon: number,
): number[] {
  const scale = roundUpRational(sensitivity / epsilon);
  const b = Number(scale.num) / Number(scale.den);
  const p = Math.exp(-1 / b);
  noiser.summaries.push({
    statistic,
    mechanism: 'discrete_laplace',
    scale: b,
    sensitivity,
    interval95: Math.max(0, Math.ceil(Math.log((0.05 * (1 + p)) / 2) / Math.log(p)) - 1),
    rho: (epsilon * epsilon) / 2,
  });
  return noiser.noisy ? values.map((v) => v + Number(sampleDiscreteLaplace(scale, noiser.rng))) : values;
}

/**
 * Individual-level amplification: one T per creator (Huszár et al.'s per-author level). Each user counts towards
 * at most maxCreatorsPerUser creators. Creators are private keys: released only if their noisy total reach passes
 * the partition-selection threshold. The pure-ε budget (ε = √(2ρ) for Gaussian plans) is split: ¼ arm sizes,
 * ¼ selection, ½ per-creator reach.
 */
function individualAmplification(
  table: EventTable,
  plan: QueryPlan,
  mask: Uint8Array,
  noiser: Noiser,
): Record<string, unknown> {
  const agg = plan.aggregate as Extract<QueryPlan['aggregate'], { kind: 'amplification' }>;
  const g = agg.maxCreatorsPerUser!;
  const a = table.keys.arm.indexOf(agg.treatment);
  const b = table.keys.arm.indexOf(agg.control);
  const inT = new Uint8Array(256);
  for (const c of agg.categories) inT[table.keys.category.indexOf(c)] = 1;
  const arm = userArms(table, mask);
  const linger = agg.exposure === 'linger';
  const slots = new Int32Array(table.cardinality.user_id * g).fill(-1);
  const reachA = new Int32Array(table.cardinality.creator_id);
  const reachB = new Int32Array(table.cardinality.creator_id);
  for (let i = 0; i < mask.length; i++) {
    if (!mask[i] || !inT[table.category[i]] || (linger && !table.linger[i])) continue;
    const u = table.user[i];
    const x = arm[u] === a ? 0 : arm[u] === b ? 1 : -1;
    if (x < 0) continue;
    const creator = table.creator[i];
    const base = u * g;
    for (let s = 0; s < g; s++) {
      const v = slots[base + s];
      if (v === creator) break;
      if (v === -1) {
        slots[base + s] = creator;
        if (x === 0) reachA[creator]++;
        else reachB[creator]++;
        break;
      }
    }
  }
  const sizes = [0, 0];
  for (let u = 0; u < arm.length; u++) {
    if (arm[u] === a) sizes[0]++;
    else if (arm[u] === b) sizes[1]++;
  }
  const epsilon = pureEpsilonOf(plan.privacy);
  const [uA, uB] = laplaceValues(noiser, 'users per arm [U_A, U_B]', sizes, 1, epsilon / 4);
  const candidates: number[] = [];
  for (let c = 0; c < reachA.length; c++) if (reachA[c] + reachB[c] > 0) candidates.push(c);
  const totals = laplaceValues(
    noiser,
    'reach per creator (partition selection)',
    candidates.map((c) => reachA[c] + reachB[c]),
    g,
    epsilon / 4,
  );
  const threshold = partitionThreshold(epsilon / 4, plan.privacy.delta!, g);
  const kept = candidates.filter((_, j) => !noiser.noisy || totals[j] >= threshold);
  const pairs = laplaceValues(
    noiser,
    'reach per released creator [R_A, R_B]',
    kept.flatMap((c) => [reachA[c], reachB[c]]),
    g,
    epsilon / 2,
  );
  const creators = kept.map((c, j) => {
    const rA = Math.max(0, pairs[2 * j]);
    const rB = Math.max(0, pairs[2 * j + 1]);
    return {
      creator: table.names.creator_id[c],
      reach: { [agg.treatment]: rA, [agg.control]: rB },
      amplification: amplification(rA, Math.max(1, uA), rB, Math.max(1, uB)),
    };
  });
  creators.sort((x, y) => y.amplification - x.amplification || (x.creator < y.creator ? -1 : 1));
  return {
    level: 'individual',
    categories: agg.categories,
    treatment: agg.treatment,
    control: agg.control,
    exposure: agg.exposure,
    users: { [agg.treatment]: uA, [agg.control]: uB },
    threshold,
    creators: creators.slice(0, MAX_PRIVATE_KEYS),
    truncated: creators.length > MAX_PRIVATE_KEYS,
  };
}
