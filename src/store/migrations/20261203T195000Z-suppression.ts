// Frozen in time: never edit a migration that has shipped; add a new one instead.
import type { Kysely } from 'kysely';

/**
 * A bank's purpose: `detect` (its matches lead to verdicts, as before) or `suppress` (a suppression bank: content
 * that matches it never gets a verdict, e.g. flags, logos or news stills that detection banks would catch).
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .alterTable('banks')
    .addColumn('purpose', 'text', (c) => c.notNull().defaultTo('detect'))
    .execute();
}
