/**
 * Query plans: declarative JSON a researcher submits. validatePlan turns unknown input into a QueryPlan or refuses
 * it with a reason; nothing a plan can say reveals rows, identifiers without partition selection, or unbounded
 * contributions.
 */
import { ValidationError } from '../core/errors.js';
import {
  CATEGORICAL_COLUMNS,
  IDENTIFIER_COLUMNS,
  NUMERIC_COLUMNS,
  type CategoricalColumn,
  type DatasetMeta,
  type NumericColumn,
} from './data/events.js';
import type { Privacy } from './noise.js';

export type Filter =
  { column: CategoricalColumn; in: string[] } | { column: NumericColumn; between: [number, number] };

export type Truncation =
  { maxRowsPerUser: number } | { maxGroupsPerUser: number; maxRowsPerGroupPerUser: number };

export type GroupBy = { keys: CategoricalColumn[] } | { privateKey: 'item_id' | 'creator_id' };

export type Aggregate =
  | { kind: 'count' }
  | { kind: 'distinct_users' }
  | { kind: 'sum'; column: NumericColumn; low: number; high: number }
  | { kind: 'mean'; column: NumericColumn; low: number; high: number }
  | { kind: 'quantile'; column: NumericColumn; q: number; low: number; high: number }
  | {
      kind: 'amplification';
      categories: string[];
      treatment: string;
      control: string;
      exposure: 'linger' | 'impression';
      /** 'group': T as one set; 'individual': one T per creator (released through partition selection). */
      level: 'group' | 'individual';
      /** Individual level: creators a user can count towards. */
      maxCreatorsPerUser?: number;
    }
  | {
      kind: 'share_at_n';
      n: number;
      categories: string[];
      cohort: 'arm' | 'engaged';
      maxSessionsPerUser: number;
    }
  | { kind: 'transition_matrix'; maxTransitionsPerUser: number; target: string; steps: number }
  | { kind: 'concentration'; maxImpressionsPerUser: number; q: number };

export const AGGREGATE_KINDS = [
  'count',
  'distinct_users',
  'sum',
  'mean',
  'quantile',
  'amplification',
  'share_at_n',
  'transition_matrix',
  'concentration',
] as const;
export type AggregateKind = (typeof AGGREGATE_KINDS)[number];

export interface QueryPlan {
  filter: Filter[];
  truncate?: Truncation;
  groupBy?: GroupBy;
  aggregate: Aggregate;
  privacy: Privacy;
}

/** At most this many cells (groups × values) in one result. */
export const MAX_RESULT_CELLS = 10_000;
/** At most this many private keys released by partition selection. */
export const MAX_PRIVATE_KEYS = 1_000;
const MAX_CONTRIBUTION = 10_000;

class PlanError extends ValidationError {
  constructor(path: string, message: string) {
    super(`plan.${path}: ${message}`, 'KAI_ERR_RESEARCH_PLAN');
  }
}

type Json = Record<string, unknown>;

function object(value: unknown, path: string, allowed: readonly string[]): Json {
  if (!value || typeof value !== 'object' || Array.isArray(value))
    throw new PlanError(path, 'must be an object');
  for (const key of Object.keys(value)) {
    if (!allowed.includes(key))
      throw new PlanError(path, `unknown field "${key}" (allowed: ${allowed.join(', ')})`);
  }
  return value as Json;
}

function finite(value: unknown, path: string): number {
  if (typeof value !== 'number' || !Number.isFinite(value))
    throw new PlanError(path, 'must be a finite number');
  return value;
}

function positiveInt(value: unknown, path: string, max = MAX_CONTRIBUTION): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 1 || value > max) {
    throw new PlanError(path, `must be an integer from 1 to ${max}`);
  }
  return value;
}

function oneOf<T extends string>(value: unknown, path: string, options: readonly T[]): T {
  if (typeof value !== 'string' || !options.includes(value as T)) {
    throw new PlanError(path, `must be one of ${options.join(', ')}`);
  }
  return value as T;
}

function publicKey(meta: DatasetMeta, column: CategoricalColumn, value: unknown, path: string): string {
  return oneOf(value, path, meta.publicKeys[column]);
}

function keyList(meta: DatasetMeta, column: CategoricalColumn, value: unknown, path: string): string[] {
  if (!Array.isArray(value) || value.length === 0 || value.length > 1000) {
    throw new PlanError(path, `must be a non-empty list of ${column} values`);
  }
  return [...new Set(value.map((v, i) => publicKey(meta, column, v, `${path}[${i}]`)))];
}

function bounds(
  meta: DatasetMeta,
  column: NumericColumn,
  low: unknown,
  high: unknown,
  path: string,
): [number, number] {
  if (low === undefined || high === undefined) {
    throw new PlanError(
      path,
      `needs public bounds "low" and "high" for ${column} (values are clamped to them)`,
    );
  }
  const l = finite(low, `${path}.low`);
  const h = finite(high, `${path}.high`);
  if (!(l < h)) throw new PlanError(path, 'low must be below high');
  const declared = meta.bounds[column];
  if (declared && (l < declared[0] || h > declared[1])) {
    throw new PlanError(
      path,
      `bounds must lie within the dataset's public bounds [${declared[0]}, ${declared[1]}]`,
    );
  }
  return [l, h];
}

export function validatePrivacy(value: unknown, path = 'privacy'): Privacy {
  const p = object(value, path, ['mechanism', 'epsilon', 'rho', 'delta']);
  const mechanism = oneOf(p.mechanism, `${path}.mechanism`, ['laplace', 'gaussian'] as const);
  const delta = p.delta === undefined ? undefined : finite(p.delta, `${path}.delta`);
  if (delta !== undefined && !(delta > 0 && delta <= 1e-3))
    throw new PlanError(`${path}.delta`, 'must be in (0, 1e-3]');
  const amount = (name: 'epsilon' | 'rho') => {
    const v = p[name];
    if (typeof v !== 'number' || Number.isNaN(v))
      throw new PlanError(`${path}.${name}`, 'is required and must be a number');
    if (!(v > 0))
      throw new PlanError(
        `${path}.${name}`,
        'must be greater than 0 (a query with no privacy loss releases only noise)',
      );
    if (!Number.isFinite(v) || v > 100) throw new PlanError(`${path}.${name}`, 'must be at most 100');
    return v;
  };
  if (mechanism === 'laplace') {
    if (p.rho !== undefined) throw new PlanError(path, 'Laplace noise is set with "epsilon", not "rho"');
    return { mechanism, epsilon: amount('epsilon'), ...(delta !== undefined ? { delta } : {}) };
  }
  if (p.epsilon !== undefined)
    throw new PlanError(path, 'Gaussian noise is set with "rho" (zCDP), not "epsilon"');
  return { mechanism, rho: amount('rho'), ...(delta !== undefined ? { delta } : {}) };
}

const RAW_KINDS = ['rows', 'select', 'raw', 'sample', 'list', 'head'];

function validateAggregate(meta: DatasetMeta, value: unknown): Aggregate {
  if (!value || typeof value !== 'object' || Array.isArray(value))
    throw new PlanError('aggregate', 'must be an object');
  const kindValue = (value as Json).kind;
  if (typeof kindValue === 'string' && RAW_KINDS.includes(kindValue)) {
    throw new PlanError(
      'aggregate.kind',
      `"${kindValue}" would reveal rows; only aggregates are released (${AGGREGATE_KINDS.join(', ')})`,
    );
  }
  const kind = oneOf(kindValue, 'aggregate.kind', AGGREGATE_KINDS);
  const path = 'aggregate';
  switch (kind) {
    case 'count':
    case 'distinct_users':
      object(value, path, ['kind']);
      return { kind };
    case 'sum':
    case 'mean': {
      const a = object(value, path, ['kind', 'column', 'low', 'high']);
      const column = oneOf(a.column, `${path}.column`, NUMERIC_COLUMNS);
      const [low, high] = bounds(meta, column, a.low, a.high, path);
      return { kind, column, low, high };
    }
    case 'quantile': {
      const a = object(value, path, ['kind', 'column', 'q', 'low', 'high']);
      const column = oneOf(a.column, `${path}.column`, NUMERIC_COLUMNS);
      const q = finite(a.q, `${path}.q`);
      if (!(q >= 0 && q <= 1)) throw new PlanError(`${path}.q`, 'must be in [0, 1]');
      const [low, high] = bounds(meta, column, a.low, a.high, path);
      return { kind, column, q, low, high };
    }
    case 'amplification': {
      const a = object(value, path, [
        'kind',
        'categories',
        'treatment',
        'control',
        'exposure',
        'level',
        'maxCreatorsPerUser',
      ]);
      const treatment = publicKey(meta, 'arm', a.treatment, `${path}.treatment`);
      const control = publicKey(meta, 'arm', a.control, `${path}.control`);
      if (treatment === control) throw new PlanError(path, 'treatment and control must be different arms');
      const level =
        a.level === undefined ? 'group' : oneOf(a.level, `${path}.level`, ['group', 'individual'] as const);
      if (level === 'individual' && a.maxCreatorsPerUser === undefined) {
        throw new PlanError(
          `${path}.maxCreatorsPerUser`,
          'is required at the individual level (a bound on the creators each user counts towards)',
        );
      }
      if (level === 'group' && a.maxCreatorsPerUser !== undefined)
        throw new PlanError(`${path}.maxCreatorsPerUser`, 'applies to the individual level only');
      return {
        kind,
        categories: keyList(meta, 'category', a.categories, `${path}.categories`),
        treatment,
        control,
        level,
        ...(level === 'individual'
          ? { maxCreatorsPerUser: positiveInt(a.maxCreatorsPerUser, `${path}.maxCreatorsPerUser`, 1000) }
          : {}),
        exposure:
          a.exposure === undefined
            ? 'linger'
            : oneOf(a.exposure, `${path}.exposure`, ['linger', 'impression'] as const),
      };
    }
    case 'share_at_n': {
      const a = object(value, path, ['kind', 'n', 'categories', 'cohort', 'maxSessionsPerUser']);
      if (a.maxSessionsPerUser === undefined)
        throw new PlanError(`${path}.maxSessionsPerUser`, "is required (a bound on each user's sessions)");
      return {
        kind,
        n: positiveInt(a.n, `${path}.n`, 1000),
        categories: keyList(meta, 'category', a.categories, `${path}.categories`),
        cohort:
          a.cohort === undefined ? 'arm' : oneOf(a.cohort, `${path}.cohort`, ['arm', 'engaged'] as const),
        maxSessionsPerUser: positiveInt(a.maxSessionsPerUser, `${path}.maxSessionsPerUser`),
      };
    }
    case 'transition_matrix': {
      const a = object(value, path, ['kind', 'maxTransitionsPerUser', 'target', 'steps']);
      if (a.maxTransitionsPerUser === undefined)
        throw new PlanError(
          `${path}.maxTransitionsPerUser`,
          "is required (a bound on each user's transitions)",
        );
      return {
        kind,
        maxTransitionsPerUser: positiveInt(a.maxTransitionsPerUser, `${path}.maxTransitionsPerUser`),
        target: publicKey(meta, 'category', a.target, `${path}.target`),
        steps: a.steps === undefined ? 10 : positiveInt(a.steps, `${path}.steps`, 1000),
      };
    }
    case 'concentration': {
      const a = object(value, path, ['kind', 'maxImpressionsPerUser', 'q']);
      if (a.maxImpressionsPerUser === undefined)
        throw new PlanError(
          `${path}.maxImpressionsPerUser`,
          "is required (a bound on each user's impressions)",
        );
      const q = a.q === undefined ? 0.1 : finite(a.q, `${path}.q`);
      if (!(q > 0 && q < 1)) throw new PlanError(`${path}.q`, 'must be in (0, 1)');
      return {
        kind,
        maxImpressionsPerUser: positiveInt(a.maxImpressionsPerUser, `${path}.maxImpressionsPerUser`),
        q,
      };
    }
  }
}

/** Turns untrusted JSON into a plan for a dataset, or throws a ValidationError naming the field at fault. */
export function validatePlan(meta: DatasetMeta, input: unknown): QueryPlan {
  const p = object(input, 'plan', [
    'filter',
    'truncate',
    'groupBy',
    'aggregate',
    'privacy',
  ]).valueOf() as Json;
  const filter: Filter[] = [];
  if (p.filter !== undefined) {
    if (!Array.isArray(p.filter) || p.filter.length > 20)
      throw new PlanError('filter', 'must be a list of at most 20 conditions');
    p.filter.forEach((f, i) => {
      const path = `filter[${i}]`;
      const c = object(f, path, ['column', 'in', 'between']);
      if (typeof c.column === 'string' && (IDENTIFIER_COLUMNS as readonly string[]).includes(c.column)) {
        throw new PlanError(
          `${path}.column`,
          `${c.column} is a private identifier; filters use public columns only`,
        );
      }
      const column = oneOf(c.column, `${path}.column`, [...CATEGORICAL_COLUMNS, ...NUMERIC_COLUMNS]);
      if ((CATEGORICAL_COLUMNS as readonly string[]).includes(column)) {
        filter.push({
          column: column as CategoricalColumn,
          in: keyList(meta, column as CategoricalColumn, c.in, `${path}.in`),
        });
      } else {
        if (!Array.isArray(c.between) || c.between.length !== 2)
          throw new PlanError(`${path}.between`, 'must be [low, high]');
        const low = finite(c.between[0], `${path}.between[0]`);
        const high = finite(c.between[1], `${path}.between[1]`);
        if (low > high) throw new PlanError(`${path}.between`, 'low must not exceed high');
        filter.push({ column: column as NumericColumn, between: [low, high] });
      }
    });
  }

  let truncate: Truncation | undefined;
  if (p.truncate !== undefined) {
    const t = object(p.truncate, 'truncate', [
      'maxRowsPerUser',
      'maxGroupsPerUser',
      'maxRowsPerGroupPerUser',
    ]);
    if (t.maxRowsPerUser !== undefined) {
      if (t.maxGroupsPerUser !== undefined || t.maxRowsPerGroupPerUser !== undefined) {
        throw new PlanError(
          'truncate',
          'give either maxRowsPerUser, or maxGroupsPerUser with maxRowsPerGroupPerUser',
        );
      }
      truncate = { maxRowsPerUser: positiveInt(t.maxRowsPerUser, 'truncate.maxRowsPerUser') };
    } else {
      truncate = {
        maxGroupsPerUser: positiveInt(t.maxGroupsPerUser, 'truncate.maxGroupsPerUser'),
        maxRowsPerGroupPerUser: positiveInt(t.maxRowsPerGroupPerUser, 'truncate.maxRowsPerGroupPerUser'),
      };
    }
  }

  let groupBy: GroupBy | undefined;
  if (p.groupBy !== undefined) {
    const g = object(p.groupBy, 'groupBy', ['keys', 'privateKey']);
    if (g.keys !== undefined && g.privateKey !== undefined)
      throw new PlanError('groupBy', 'give either keys or privateKey');
    if (g.keys !== undefined) {
      if (!Array.isArray(g.keys) || g.keys.length === 0 || g.keys.length > 4)
        throw new PlanError('groupBy.keys', 'must list 1 to 4 columns');
      const keys = g.keys.map((k, i) => {
        if (typeof k === 'string' && (IDENTIFIER_COLUMNS as readonly string[]).includes(k)) {
          throw new PlanError(
            `groupBy.keys[${i}]`,
            `${k} is a private column: its values may only be released through partition selection (groupBy.privateKey with privacy.delta)`,
          );
        }
        return oneOf(k, `groupBy.keys[${i}]`, CATEGORICAL_COLUMNS);
      });
      if (new Set(keys).size !== keys.length) throw new PlanError('groupBy.keys', 'lists a column twice');
      groupBy = { keys };
    } else {
      if (g.privateKey === 'user_id' || g.privateKey === 'session_id') {
        throw new PlanError(
          'groupBy.privateKey',
          `grouping by ${g.privateKey} would release per-user rows; it is never allowed`,
        );
      }
      groupBy = { privateKey: oneOf(g.privateKey, 'groupBy.privateKey', ['item_id', 'creator_id'] as const) };
    }
  }

  const aggregate = validateAggregate(meta, p.aggregate);
  const privacy = validatePrivacy(p.privacy);
  const plan: QueryPlan = {
    filter,
    aggregate,
    privacy,
    ...(truncate ? { truncate } : {}),
    ...(groupBy ? { groupBy } : {}),
  };
  checkShape(meta, plan);
  return plan;
}

/** Rules between fields: what each aggregate needs of truncation, grouping and privacy. */
function checkShape(meta: DatasetMeta, plan: QueryPlan): void {
  const { aggregate, groupBy, truncate, privacy } = plan;
  const builtIn = ['amplification', 'share_at_n', 'transition_matrix', 'concentration'].includes(
    aggregate.kind,
  );
  if (builtIn && (groupBy || truncate)) {
    throw new PlanError(
      aggregate.kind === 'amplification' ? 'groupBy' : 'truncate',
      `${aggregate.kind} bounds contributions itself; drop groupBy and truncate`,
    );
  }
  if (['count', 'sum', 'mean', 'quantile'].includes(aggregate.kind) && !truncate) {
    throw new PlanError(
      'truncate',
      `${aggregate.kind} needs a bound on each user's contribution (maxRowsPerUser, or maxGroupsPerUser with maxRowsPerGroupPerUser)`,
    );
  }
  if (truncate && 'maxGroupsPerUser' in truncate && !groupBy) {
    throw new PlanError('truncate', 'maxGroupsPerUser needs a groupBy');
  }
  if (aggregate.kind === 'quantile' && groupBy)
    throw new PlanError('groupBy', 'quantile is computed over the whole (filtered) data, without groupBy');
  if (groupBy && 'keys' in groupBy) {
    const cells = groupBy.keys.reduce((n, k) => n * meta.publicKeys[k].length, 1);
    if (cells > MAX_RESULT_CELLS) {
      throw new PlanError(
        'groupBy.keys',
        `the result would have ${cells} cells; at most ${MAX_RESULT_CELLS} are released`,
      );
    }
    if (aggregate.kind === 'distinct_users' && cells > 64 && !(truncate && 'maxGroupsPerUser' in truncate)) {
      throw new PlanError(
        'truncate',
        'distinct_users over more than 64 groups needs truncate.maxGroupsPerUser',
      );
    }
  }
  if (groupBy && 'privateKey' in groupBy) {
    if (aggregate.kind !== 'count' && aggregate.kind !== 'distinct_users') {
      throw new PlanError('aggregate.kind', 'grouping by a private key supports count and distinct_users');
    }
    if (!truncate || !('maxGroupsPerUser' in truncate)) {
      throw new PlanError(
        'truncate',
        'grouping by a private key needs maxGroupsPerUser (and maxRowsPerGroupPerUser = 1 for count)',
      );
    }
    if (aggregate.kind === 'count' && truncate.maxRowsPerGroupPerUser !== 1) {
      throw new PlanError('truncate.maxRowsPerGroupPerUser', 'must be 1 when counting by a private key');
    }
    if (privacy.delta === undefined) {
      throw new PlanError('privacy.delta', 'partition selection of private keys needs a δ (e.g. 1e-6)');
    }
  } else if (aggregate.kind === 'amplification' && aggregate.level === 'individual') {
    if (privacy.delta === undefined)
      throw new PlanError(
        'privacy.delta',
        'individual-level amplification releases creators through partition selection and needs a δ (e.g. 1e-6)',
      );
  } else if (privacy.delta !== undefined) {
    throw new PlanError(
      'privacy.delta',
      'only partition selection (groupBy.privateKey, individual-level amplification) uses δ; remove it',
    );
  }
}
