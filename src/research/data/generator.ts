/**
 * A seeded synthetic generator of exposure events with planted effects, for demos, mock twins and test oracles.
 * Journeys are Markov chains over content categories; in the algorithmic arm, transitions into borderline and TVEC
 * content are multiplied by `amplification` (1 = none), and users with the engaged persona escalate further.
 * Items within a category have Zipf popularity. While it generates, the generator counts the ground truth (reach
 * per arm, transitions, item exposures, share@N) independently of the metric code, so tests compare exactly.
 * It uses a seeded PRNG: never cryptographic, never for noise.
 */
import { ValidationError } from '../../core/errors.js';
import type { DatasetMeta, EventRow } from './events.js';

export const DEMO_CATEGORIES = ['news', 'entertainment', 'sport', 'politics', 'borderline', 'tvec'] as const;
export const DEMO_ARMS = ['algorithmic', 'chronological'] as const;
export const DEMO_SURFACES = ['home', 'up_next', 'search'] as const;
export const DEMO_COUNTRIES = ['NZ', 'AU', 'FR', 'DE', 'US', 'GB'] as const;

export const DEMO_META: DatasetMeta = {
  publicKeys: {
    category: [...DEMO_CATEGORIES],
    arm: [...DEMO_ARMS],
    surface: [...DEMO_SURFACES],
    country: [...DEMO_COUNTRIES],
  },
  bounds: { dwell_ms: [0, 600_000], position: [1, 1000] },
};

export interface GeneratorParams {
  seed: number;
  users: number;
  /** Share of users in the algorithmic arm (Huszár: 4:1). */
  algorithmicShare: number;
  /** Multiplier on transitions into borderline and TVEC in the algorithmic arm. */
  amplification: number;
  /** Extra multiplier on escalation for users with the engaged persona. */
  escalation: number;
  engagedShare: number;
  /** Items per feed session. */
  feedLength: number;
  maxSessionsPerUser: number;
  itemsPerCategory: number;
  /** Zipf exponent of item popularity. */
  zipf: number;
  /** Start of the window (ms since the epoch). */
  start: number;
}

export const DEFAULT_PARAMS: GeneratorParams = {
  seed: 1,
  users: 1000,
  algorithmicShare: 0.8,
  amplification: 2,
  escalation: 2,
  engagedShare: 0.1,
  feedLength: 30,
  maxSessionsPerUser: 3,
  itemsPerCategory: 200,
  zipf: 1.1,
  start: Date.UTC(2026, 10, 1),
};

/** Counted while generating. Arrays are indexed by the codes of DEMO_ARMS / DEMO_CATEGORIES. */
export interface GeneratorTruth {
  params: GeneratorParams;
  rows: number;
  usersByArm: number[];
  /** Users of each arm with ≥ 1 linger impression of each category. */
  lingerReach: number[][];
  /** Users of each arm with ≥ 1 impression (linger or not) of each category. */
  impressionReach: number[][];
  /** transitions[arm][from][to]: consecutive impressions within a session. */
  transitions: number[][][];
  /** Impressions per item id. */
  itemExposures: Map<string, number>;
  /** Share@N per user (mean over the user's sessions) summed by arm, with the number of users. */
  shareSumByArm: number[];
  /** The base chain and the chain of each arm (engaged persona aside). */
  chains: { base: number[][]; algorithmic: number[][] };
}

/** mulberry32: a small seeded PRNG, uniform in [0, 1). */
function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** The base journey chain: mostly mainstream, with a small pull towards borderline and from it to TVEC. */
export const BASE_CHAIN: number[][] = [
  // news  ent   sport pol   border tvec
  [0.4, 0.2, 0.15, 0.2, 0.04, 0.01],
  [0.15, 0.5, 0.2, 0.1, 0.04, 0.01],
  [0.15, 0.25, 0.5, 0.05, 0.04, 0.01],
  [0.25, 0.1, 0.05, 0.45, 0.12, 0.03],
  [0.1, 0.1, 0.05, 0.2, 0.45, 0.1],
  [0.05, 0.05, 0.05, 0.15, 0.35, 0.35],
];
const BORDERLINE = 4;
const TVEC = 5;

/** Transitions into borderline and TVEC multiplied by `factor`, rows renormalised. */
export function amplifiedChain(base: number[][], factor: number): number[][] {
  return base.map((row) => {
    const scaled = row.map((p, j) => (j === BORDERLINE || j === TVEC ? p * factor : p));
    const total = scaled.reduce((a, b) => a + b, 0);
    return scaled.map((p) => p / total);
  });
}

function cumulative(row: number[]): number[] {
  const out: number[] = [];
  let s = 0;
  for (const p of row) out.push((s += p));
  out[out.length - 1] = 1;
  return out;
}

function pick(cdf: number[], u: number): number {
  let lo = 0;
  let hi = cdf.length - 1;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (u < cdf[mid]) hi = mid;
    else lo = mid + 1;
  }
  return lo;
}

export function validateParams(input: Partial<GeneratorParams>): GeneratorParams {
  const p = { ...DEFAULT_PARAMS, ...input };
  const check = (ok: boolean, message: string) => {
    if (!ok) throw new ValidationError(message, 'KAI_ERR_RESEARCH_GENERATOR');
  };
  check(Number.isInteger(p.seed), 'seed must be an integer');
  check(Number.isInteger(p.users) && p.users >= 1 && p.users <= 50_000_000, 'users must be 1 to 50,000,000');
  check(p.algorithmicShare > 0 && p.algorithmicShare < 1, 'algorithmicShare must be in (0, 1)');
  check(p.amplification > 0 && p.amplification <= 100, 'amplification must be in (0, 100]');
  check(p.escalation > 0 && p.escalation <= 100, 'escalation must be in (0, 100]');
  check(p.engagedShare >= 0 && p.engagedShare <= 1, 'engagedShare must be in [0, 1]');
  check(Number.isInteger(p.feedLength) && p.feedLength >= 1 && p.feedLength <= 1000, 'feedLength must be 1 to 1000');
  check(Number.isInteger(p.maxSessionsPerUser) && p.maxSessionsPerUser >= 1 && p.maxSessionsPerUser <= 100, 'maxSessionsPerUser must be 1 to 100');
  check(Number.isInteger(p.itemsPerCategory) && p.itemsPerCategory >= 1 && p.itemsPerCategory <= 1_000_000, 'itemsPerCategory must be 1 to 1,000,000');
  check(p.zipf >= 0 && p.zipf <= 5, 'zipf must be in [0, 5]');
  check(Number.isFinite(p.start) && p.start >= 0, 'start must be a time in ms');
  return p;
}

/** Generates the events in user order, calling `emit` for each row; returns the ground truth. */
export function generateEvents(input: Partial<GeneratorParams>, emit: (row: EventRow) => void): GeneratorTruth {
  const params = validateParams(input);
  const random = mulberry32(params.seed);
  const k = DEMO_CATEGORIES.length;
  const chains = [amplifiedChain(BASE_CHAIN, params.amplification), amplifiedChain(BASE_CHAIN, 1)];
  const engagedChains = [
    amplifiedChain(BASE_CHAIN, params.amplification * params.escalation),
    amplifiedChain(BASE_CHAIN, params.escalation),
  ];
  const cdfs = chains.map((c) => c.map(cumulative));
  const engagedCdfs = engagedChains.map((c) => c.map(cumulative));
  const start = cumulative([0.3, 0.3, 0.2, 0.17, 0.025, 0.005]);
  const zipfWeights = Array.from({ length: params.itemsPerCategory }, (_, r) => 1 / (r + 1) ** params.zipf);
  const zipfTotal = zipfWeights.reduce((a, b) => a + b, 0);
  const zipfCdf = cumulative(zipfWeights.map((w) => w / zipfTotal));

  const truth: GeneratorTruth = {
    params,
    rows: 0,
    usersByArm: [0, 0],
    lingerReach: [new Array(k).fill(0), new Array(k).fill(0)],
    impressionReach: [new Array(k).fill(0), new Array(k).fill(0)],
    transitions: [0, 1].map(() => Array.from({ length: k }, () => new Array(k).fill(0))),
    itemExposures: new Map(),
    shareSumByArm: [0, 0],
    chains: { base: chains[1], algorithmic: chains[0] },
  };
  const sawLinger = new Uint8Array(k);
  const sawAny = new Uint8Array(k);
  let sessionCounter = 0;

  for (let u = 0; u < params.users; u++) {
    const arm = random() < params.algorithmicShare ? 0 : 1;
    const engagedPersona = random() < params.engagedShare;
    const country = DEMO_COUNTRIES[Math.floor(random() * DEMO_COUNTRIES.length)];
    const sessions = 1 + Math.floor(random() * params.maxSessionsPerUser);
    const userId = `u${u + 1}`;
    const userCdfs = engagedPersona ? engagedCdfs[arm] : cdfs[arm];
    truth.usersByArm[arm]++;
    sawLinger.fill(0);
    sawAny.fill(0);
    let shareSum = 0;
    const userStart = params.start + Math.floor(random() * 6 * 86_400_000);
    for (let s = 0; s < sessions; s++) {
      sessionCounter++;
      const sessionId = `s${sessionCounter}`;
      const surface = random() < 0.8 ? 'home' : 'up_next';
      let category = pick(start, random());
      let harmful = 0;
      for (let position = 1; position <= params.feedLength; position++) {
        if (position > 1) {
          const next = pick(userCdfs[category], random());
          truth.transitions[arm][category][next]++;
          category = next;
        }
        const rank = pick(zipfCdf, random());
        const name = DEMO_CATEGORIES[category];
        const itemId = `${name}-${rank + 1}`;
        const dwell = Math.min(600_000, Math.floor(-Math.log(1 - random()) * 3000));
        const linger = dwell >= 500 ? 1 : 0;
        const interest = category >= BORDERLINE ? (engagedPersona ? 0.3 : 0.01) : 0.05;
        const engaged = random() < interest ? 1 : 0;
        emit({
          user_id: userId,
          session_id: sessionId,
          item_id: itemId,
          creator_id: `${name}-creator-${(rank % 25) + 1}`,
          category: name,
          arm: DEMO_ARMS[arm],
          surface,
          country,
          ts: userStart + s * 3_600_000 + position * 10_000,
          position,
          dwell_ms: dwell,
          engaged,
          linger,
        });
        truth.rows++;
        truth.itemExposures.set(itemId, (truth.itemExposures.get(itemId) ?? 0) + 1);
        sawAny[category] = 1;
        if (linger) sawLinger[category] = 1;
        if (category >= BORDERLINE) harmful++;
      }
      shareSum += harmful / params.feedLength;
    }
    for (let c = 0; c < k; c++) {
      truth.lingerReach[arm][c] += sawLinger[c];
      truth.impressionReach[arm][c] += sawAny[c];
    }
    truth.shareSumByArm[arm] += shareSum / sessions;
  }
  return truth;
}
