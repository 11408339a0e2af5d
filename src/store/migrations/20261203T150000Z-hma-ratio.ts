// Frozen in time: never edit a migration that has shipped; add a new one instead.
import { sql, type Kysely } from 'kysely';
import type { DialectName } from '../dialect.js';

/**
 * HMA semantics: a bank's matching ratio (a fraction, HMA's `enabled_ratio`; 0 for a disabled bank), and per
 * entry what an HMA client gave (`disable_until_ts`, content metadata) as a JSON text.
 */
export async function up(db: Kysely<unknown>, dialect: DialectName): Promise<void> {
  await db.schema
    .alterTable('banks')
    .addColumn('enabled_ratio', dialect === 'postgres' ? 'double precision' : 'real', (c) =>
      c.notNull().defaultTo(1.0),
    )
    .execute();
  await sql`UPDATE banks SET enabled_ratio = 0 WHERE enabled = 0`.execute(db);
  await db.schema.alterTable('entries').addColumn('hma', 'text').execute();
}
