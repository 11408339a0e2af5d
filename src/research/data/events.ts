/**
 * The exposure-event schema every research dataset uses, and its in-memory columnar form. One row is one
 * impression served to one user. Categorical columns are dictionary-encoded against the dataset's public key sets
 * (fixed by the data owner), private identifiers (user, session, item, creator) against dictionaries built while
 * loading, so queries scan typed arrays.
 */
import { ValidationError } from '../../core/errors.js';

/** Columns whose values come from a public key set fixed by the data owner. */
export const CATEGORICAL_COLUMNS = ['category', 'arm', 'surface', 'country'] as const;
export type CategoricalColumn = (typeof CATEGORICAL_COLUMNS)[number];
/** Identifiers: private keys, never revealed without partition selection. user_id is the privacy unit. */
export const IDENTIFIER_COLUMNS = ['user_id', 'session_id', 'item_id', 'creator_id'] as const;
export type IdentifierColumn = (typeof IDENTIFIER_COLUMNS)[number];
/** Numeric columns; aggregates over them need public bounds. */
export const NUMERIC_COLUMNS = ['ts', 'position', 'dwell_ms', 'engaged', 'linger'] as const;
export type NumericColumn = (typeof NUMERIC_COLUMNS)[number];
export const ALL_COLUMNS = [...IDENTIFIER_COLUMNS, ...CATEGORICAL_COLUMNS, ...NUMERIC_COLUMNS] as const;
export type Column = (typeof ALL_COLUMNS)[number];

export interface EventRow {
  user_id: string;
  session_id: string;
  item_id: string;
  creator_id: string;
  category: string;
  arm: string;
  surface: string;
  country: string;
  /** Milliseconds since the epoch. */
  ts: number;
  /** 1-based rank in the feed. */
  position: number;
  dwell_ms: number;
  /** 1 when the user interacted with the item. */
  engaged: number;
  /** 1 for a linger impression (≥ 50 % visible for ≥ 500 ms; Huszár et al. 2022). */
  linger: number;
}

/** What the data owner declares about a dataset: public key sets and public bounds. */
export interface DatasetMeta {
  publicKeys: Record<CategoricalColumn, string[]>;
  /** Inclusive public bounds for numeric columns. */
  bounds: Partial<Record<NumericColumn, [number, number]>>;
}

export const DEFAULT_BOUNDS: Record<NumericColumn, [number, number]> = {
  ts: [0, 8.64e15],
  position: [1, 1000],
  dwell_ms: [0, 600_000],
  engaged: [0, 1],
  linger: [0, 1],
};

export interface EventTable {
  length: number;
  user: Int32Array;
  session: Int32Array;
  item: Int32Array;
  creator: Int32Array;
  category: Uint8Array;
  arm: Uint8Array;
  surface: Uint8Array;
  country: Uint8Array;
  ts: Float64Array;
  position: Int32Array;
  dwell: Int32Array;
  engaged: Uint8Array;
  linger: Uint8Array;
  /** Number of distinct values of each identifier (codes are 0..n-1). */
  cardinality: Record<IdentifierColumn, number>;
  /** Original identifier strings, by code (needed to name released private keys). */
  names: Record<IdentifierColumn, string[]>;
  /** The public key sets, by code. */
  keys: Record<CategoricalColumn, string[]>;
}

function grow<T extends Int32Array | Uint8Array | Float64Array>(array: T, size: number): T {
  const Ctor = array.constructor as new (n: number) => T;
  const bigger = new Ctor(size);
  bigger.set(array);
  return bigger;
}

/** Builds an EventTable row by row, validating each row against the public key sets and bounds. */
export class EventTableBuilder {
  private capacity: number;
  private n = 0;
  private user: Int32Array;
  private session: Int32Array;
  private item: Int32Array;
  private creator: Int32Array;
  private category: Uint8Array;
  private arm: Uint8Array;
  private surface: Uint8Array;
  private country: Uint8Array;
  private ts: Float64Array;
  private position: Int32Array;
  private dwell: Int32Array;
  private engaged: Uint8Array;
  private linger: Uint8Array;
  private readonly dictionaries: Record<IdentifierColumn, Map<string, number>> = {
    user_id: new Map(),
    session_id: new Map(),
    item_id: new Map(),
    creator_id: new Map(),
  };
  private readonly keyCodes: Record<CategoricalColumn, Map<string, number>>;
  private readonly bounds: Record<NumericColumn, [number, number]>;

  constructor(
    readonly meta: DatasetMeta,
    initialCapacity = 1024,
  ) {
    this.capacity = Math.max(16, initialCapacity);
    this.user = new Int32Array(this.capacity);
    this.session = new Int32Array(this.capacity);
    this.item = new Int32Array(this.capacity);
    this.creator = new Int32Array(this.capacity);
    this.category = new Uint8Array(this.capacity);
    this.arm = new Uint8Array(this.capacity);
    this.surface = new Uint8Array(this.capacity);
    this.country = new Uint8Array(this.capacity);
    this.ts = new Float64Array(this.capacity);
    this.position = new Int32Array(this.capacity);
    this.dwell = new Int32Array(this.capacity);
    this.engaged = new Uint8Array(this.capacity);
    this.linger = new Uint8Array(this.capacity);
    this.keyCodes = Object.fromEntries(
      CATEGORICAL_COLUMNS.map((c) => [c, new Map(meta.publicKeys[c].map((k, i) => [k, i]))]),
    ) as Record<CategoricalColumn, Map<string, number>>;
    this.bounds = { ...DEFAULT_BOUNDS, ...meta.bounds };
  }

  get length(): number {
    return this.n;
  }

  private code(column: IdentifierColumn, value: string): number {
    const dict = this.dictionaries[column];
    let code = dict.get(value);
    if (code === undefined) {
      code = dict.size;
      dict.set(value, code);
    }
    return code;
  }

  private key(column: CategoricalColumn, value: string): number {
    const code = this.keyCodes[column].get(value);
    if (code === undefined) {
      throw new ValidationError(
        `${column} "${value}" is not in the dataset's public key set (${this.meta.publicKeys[column].join(', ')})`,
        'KAI_ERR_RESEARCH_ROW',
      );
    }
    return code;
  }

  private number(column: NumericColumn, value: number): number {
    const [low, high] = this.bounds[column];
    if (!Number.isFinite(value) || value < low || value > high) {
      throw new ValidationError(`${column} ${value} is outside its bounds [${low}, ${high}]`, 'KAI_ERR_RESEARCH_ROW');
    }
    return value;
  }

  add(row: EventRow): void {
    if (this.n === this.capacity) this.resize(this.capacity * 2);
    for (const column of IDENTIFIER_COLUMNS) {
      const v = row[column];
      if (typeof v !== 'string' || v.length === 0 || v.length > 200) {
        throw new ValidationError(`${column} must be a non-empty string of at most 200 characters`, 'KAI_ERR_RESEARCH_ROW');
      }
    }
    const i = this.n;
    // Validate everything before writing, so a bad row leaves the table as it was.
    const category = this.key('category', row.category);
    const arm = this.key('arm', row.arm);
    const surface = this.key('surface', row.surface);
    const country = this.key('country', row.country);
    const ts = this.number('ts', row.ts);
    const position = this.number('position', row.position);
    const dwell = this.number('dwell_ms', row.dwell_ms);
    const engaged = this.number('engaged', row.engaged);
    const linger = this.number('linger', row.linger);
    if (!Number.isInteger(position) || !Number.isInteger(dwell) || (engaged !== 0 && engaged !== 1) || (linger !== 0 && linger !== 1)) {
      throw new ValidationError('position and dwell_ms must be integers, engaged and linger 0 or 1', 'KAI_ERR_RESEARCH_ROW');
    }
    this.user[i] = this.code('user_id', row.user_id);
    this.session[i] = this.code('session_id', row.session_id);
    this.item[i] = this.code('item_id', row.item_id);
    this.creator[i] = this.code('creator_id', row.creator_id);
    this.category[i] = category;
    this.arm[i] = arm;
    this.surface[i] = surface;
    this.country[i] = country;
    this.ts[i] = ts;
    this.position[i] = position;
    this.dwell[i] = dwell;
    this.engaged[i] = engaged;
    this.linger[i] = linger;
    this.n++;
  }

  private resize(size: number): void {
    this.capacity = size;
    this.user = grow(this.user, size);
    this.session = grow(this.session, size);
    this.item = grow(this.item, size);
    this.creator = grow(this.creator, size);
    this.category = grow(this.category, size);
    this.arm = grow(this.arm, size);
    this.surface = grow(this.surface, size);
    this.country = grow(this.country, size);
    this.ts = grow(this.ts, size);
    this.position = grow(this.position, size);
    this.dwell = grow(this.dwell, size);
    this.engaged = grow(this.engaged, size);
    this.linger = grow(this.linger, size);
  }

  build(): EventTable {
    const n = this.n;
    const names = Object.fromEntries(
      IDENTIFIER_COLUMNS.map((c) => [c, [...this.dictionaries[c].keys()]]),
    ) as Record<IdentifierColumn, string[]>;
    return {
      length: n,
      user: this.user.subarray(0, n),
      session: this.session.subarray(0, n),
      item: this.item.subarray(0, n),
      creator: this.creator.subarray(0, n),
      category: this.category.subarray(0, n),
      arm: this.arm.subarray(0, n),
      surface: this.surface.subarray(0, n),
      country: this.country.subarray(0, n),
      ts: this.ts.subarray(0, n),
      position: this.position.subarray(0, n),
      dwell: this.dwell.subarray(0, n),
      engaged: this.engaged.subarray(0, n),
      linger: this.linger.subarray(0, n),
      cardinality: Object.fromEntries(IDENTIFIER_COLUMNS.map((c) => [c, names[c].length])) as Record<IdentifierColumn, number>,
      names,
      keys: Object.fromEntries(CATEGORICAL_COLUMNS.map((c) => [c, [...this.meta.publicKeys[c]]])) as Record<
        CategoricalColumn,
        string[]
      >,
    };
  }
}

/** Row i of a table, decoded (for tests and the mock explorer). */
export function rowAt(table: EventTable, i: number): EventRow {
  return {
    user_id: table.names.user_id[table.user[i]],
    session_id: table.names.session_id[table.session[i]],
    item_id: table.names.item_id[table.item[i]],
    creator_id: table.names.creator_id[table.creator[i]],
    category: table.keys.category[table.category[i]],
    arm: table.keys.arm[table.arm[i]],
    surface: table.keys.surface[table.surface[i]],
    country: table.keys.country[table.country[i]],
    ts: table.ts[i],
    position: table.position[i],
    dwell_ms: table.dwell[i],
    engaged: table.engaged[i],
    linger: table.linger[i],
  };
}
