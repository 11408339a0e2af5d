/**
 * Store and HTTP suites run once per dialect. SQLite always; PostgreSQL when reachable at
 * KAITIAKI_TEST_DATABASE_URL (default postgres://postgres@127.0.0.1:5432/test). Without it the PostgreSQL runs are
 * skipped with a printed reason, except under CI=true, where an unreachable server fails the run.
 * KAITIAKI_TEST_DIALECTS=sqlite (or postgres) narrows the list.
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { Database } from '../../src/store/database.js';
import type { DialectName } from '../../src/store/dialect.js';

export const POSTGRES_URL =
  process.env.KAITIAKI_TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';

async function postgresReachable(): Promise<string | null> {
  const client = new pg.Client({ connectionString: POSTGRES_URL, connectionTimeoutMillis: 3000 });
  try {
    await client.connect();
    await client.query('select 1');
    return null;
  } catch (err) {
    return err instanceof Error ? err.message : String(err);
  } finally {
    await client.end().catch(() => undefined);
  }
}

const wanted = (process.env.KAITIAKI_TEST_DIALECTS ?? 'sqlite,postgres').split(',').map((d) => d.trim());
const postgresProblem = wanted.includes('postgres') ? await postgresReachable() : 'not requested';

if (postgresProblem && wanted.includes('postgres')) {
  if (process.env.CI === 'true') {
    throw new Error(`CI=true but PostgreSQL at ${POSTGRES_URL} is unreachable: ${postgresProblem}`);
  }
  console.warn(`[kaitiaki tests] skipping PostgreSQL runs: ${POSTGRES_URL} unreachable (${postgresProblem})`);
}

/** The dialects this run covers. */
export const TEST_DIALECTS: DialectName[] = (['sqlite', 'postgres'] as const).filter(
  (d) => wanted.includes(d) && (d === 'sqlite' || postgresProblem === null),
);

export interface TestDatabase {
  db: Database;
  /** Opens the same database again (a restart). */
  reopen(): Promise<Database>;
  cleanup(): Promise<void>;
}

/**
 * Opens (and migrates) a suite's schema. Kysely's migrator lists every schema's tables first; when another suite
 * drops its schema at that moment, PostgreSQL answers "schema ... does not exist" (or that schema's migration table
 * "does not exist") for the other one. Nothing was migrated then (each migration is transactional), so trying again
 * is safe.
 */
async function openPostgres(schema: string): Promise<Database> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await Database.postgres(POSTGRES_URL, { schema, maxConnections: 4 });
    } catch (err) {
      const message = err instanceof Error ? err.message : String(err);
      const otherSuiteDropped =
        /(schema "test_[0-9a-f]+"|relation "test_[0-9a-f]+\.kysely_migration(_lock)?") does not exist/;
      if (attempt >= 3 || !otherSuiteDropped.test(message)) throw err;
    }
  }
}

/** A fresh database: a temporary SQLite file, or a PostgreSQL schema of its own. */
export async function freshDatabase(dialect: DialectName): Promise<TestDatabase> {
  if (dialect === 'sqlite') {
    const dir = mkdtempSync(join(tmpdir(), 'kaitiaki-test-'));
    const path = join(dir, 'kaitiaki.sqlite');
    return {
      db: await Database.sqlite(path),
      reopen: () => Database.sqlite(path),
      cleanup: async () => rmSync(dir, { recursive: true, force: true }),
    };
  }
  const schema = `test_${randomBytes(6).toString('hex')}`;
  return {
    db: await openPostgres(schema),
    reopen: () => Database.postgres(POSTGRES_URL, { schema, maxConnections: 4 }),
    cleanup: async () => {
      const client = new pg.Client({ connectionString: POSTGRES_URL });
      await client.connect();
      await client.query(`drop schema if exists ${schema} cascade`);
      await client.end();
    },
  };
}
