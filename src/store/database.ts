/**
 * Database: the one handle on SQL. SQLite (better-sqlite3) is the embedded default, PostgreSQL (pg) the
 * scale-out choice; both run the same Kysely queries and the same migrations.
 */
import BetterSqlite3 from 'better-sqlite3';
import {
  Kysely,
  Migrator,
  PostgresDialect,
  SqliteDialect,
  type MigrationProvider,
  type Transaction,
} from 'kysely';
import pg from 'pg';
import { DIALECTS, type DialectCapabilities, type DialectName } from './dialect.js';
import { MIGRATIONS } from './migrations/index.js';
import type { Schema } from './schema.js';

// BIGINT/BIGSERIAL come back as strings by default; our ids and counters stay far below 2^53.
pg.types.setTypeParser(20, (value: string) => Number(value));

export type Db = Kysely<Schema>;

/**
 * better-sqlite3 compiles a statement on every prepare(); Kysely prepares each query afresh. The same SQL text
 * recurs (the queries are built from code, values are parameters), so compiled statements are kept, up to a bound.
 */
function withStatementCache(sqlite: BetterSqlite3.Database, limit = 1000): BetterSqlite3.Database {
  const cache = new Map<string, BetterSqlite3.Statement>();
  return new Proxy(sqlite, {
    get(target, property, receiver) {
      if (property === 'prepare') {
        return (text: string) => {
          // Transactions take the write lock when they begin, so a writer waits for another (busy_timeout)
          // instead of failing when its read snapshot turns stale at its first write (SQLITE_BUSY_SNAPSHOT).
          const sql = text === 'begin' ? 'begin immediate' : text;
          let statement = cache.get(sql);
          if (!statement) {
            statement = target.prepare(sql);
            if (cache.size >= limit) cache.delete(cache.keys().next().value!);
            cache.set(sql, statement);
          }
          return statement;
        };
      }
      const value = Reflect.get(target, property, receiver) as unknown;
      return typeof value === 'function' ? value.bind(target) : value;
    },
  });
}
/** A handle that is inside a transaction (type-level reminder; any Db may be one, see withTx). */
export type Tx = Transaction<Schema> | Db;

export interface SqliteOptions {
  /** 'FULL' (default) syncs the WAL on every commit: nothing accepted is lost, even on power loss. */
  synchronous?: 'FULL' | 'NORMAL';
}

export interface PostgresOptions {
  /** Use (and create) this schema instead of `public`; each test suite gets its own. */
  schema?: string;
  maxConnections?: number;
}

export class Database {
  readonly capabilities: DialectCapabilities;

  private constructor(
    readonly db: Db,
    readonly dialect: DialectName,
    private readonly closeHook: () => Promise<void>,
    /** PostgreSQL schema holding the tables, when not the default. */
    private readonly schema?: string,
  ) {
    this.capabilities = DIALECTS[dialect];
  }

  static async sqlite(path: string, options: SqliteOptions = {}): Promise<Database> {
    const sqlite = new BetterSqlite3(path);
    sqlite.pragma('journal_mode = WAL');
    sqlite.pragma(`synchronous = ${options.synchronous ?? 'FULL'}`);
    sqlite.pragma('foreign_keys = ON');
    sqlite.pragma('busy_timeout = 10000');
    // SQLite's default page cache is 2 MB: too small for the entries table's indexes on random hash values, which
    // then cost a page read per insert once the table holds a million rows. This is a ceiling, taken as needed.
    sqlite.pragma('cache_size = -131072');
    // A statement that writes several rows inside a transaction keeps an undo copy of every page it changes that
    // the transaction had changed already (its statement journal), in a temporary file by default: a bulk import
    // of random hash values wrote about 4 KB there per row, which cost more than the rows themselves. In memory
    // it is a copy that lives until the statement ends (temporary tables and sorts also stay in memory).
    sqlite.pragma('temp_store = MEMORY');
    const db = new Kysely<Schema>({ dialect: new SqliteDialect({ database: withStatementCache(sqlite) }) });
    const database = new Database(db, 'sqlite', async () => {
      await db.destroy();
    });
    await database.migrate();
    return database;
  }

  static async postgres(url: string, options: PostgresOptions = {}): Promise<Database> {
    const schema = options.schema;
    if (schema !== undefined && !/^[a-z_][a-z0-9_]{0,62}$/.test(schema)) {
      throw new Error(`invalid PostgreSQL schema name "${schema}"`);
    }
    if (schema) {
      const client = new pg.Client({ connectionString: url });
      await client.connect();
      try {
        await client.query(`create schema if not exists ${schema}`);
      } finally {
        await client.end();
      }
    }
    const pool = new pg.Pool({
      connectionString: url,
      max: options.maxConnections ?? 10,
      ...(schema ? { options: `-c search_path=${schema}` } : {}),
    });
    const db = new Kysely<Schema>({ dialect: new PostgresDialect({ pool }) });
    const database = new Database(
      db,
      'postgres',
      async () => {
        await db.destroy();
      },
      schema,
    );
    try {
      await database.migrate();
    } catch (err) {
      await db.destroy(); // no pool left behind by a failed start
      throw err;
    }
    return database;
  }

  async migrate(): Promise<void> {
    const dialect = this.dialect;
    const provider: MigrationProvider = {
      async getMigrations() {
        return Object.fromEntries(
          MIGRATIONS.map(([name, migration]) => [
            name,
            { up: (db: Kysely<unknown>) => migration.up(db, dialect) },
          ]),
        );
      },
    };
    // An explicit schema for the migration tables: Kysely's existence check would otherwise see another
    // schema's kysely_migration table (another test suite's, say) and skip creating this one's.
    const migrator = new Migrator({
      db: this.db,
      provider,
      ...(this.schema ? { migrationTableSchema: this.schema } : {}),
    });
    const { error, results } = await migrator.migrateToLatest();
    if (error) {
      const failed = results?.find((r) => r.status === 'Error')?.migrationName ?? 'unknown';
      throw new Error(
        `database migration ${failed} failed: ${error instanceof Error ? error.message : String(error)}`,
        {
          cause: error,
        },
      );
    }
  }

  async close(): Promise<void> {
    await this.closeHook();
  }
}

/**
 * Runs fn in a transaction: the caller's, when `db` is one already (so services built on a transaction join it),
 * else a new one.
 */
export async function withTx<T>(db: Db, fn: (tx: Db) => Promise<T>): Promise<T> {
  return db.isTransaction ? fn(db) : db.transaction().execute(fn);
}

export function nowIso(): string {
  return new Date().toISOString();
}
