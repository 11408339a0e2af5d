// Frozen in time: never edit a migration that has shipped; add a new one instead.
import type { Kysely } from 'kysely';

/**
 * Flood control: a shared signal that matched an organisation's uploads far above any plausible rate (a common
 * logo in someone's list) stops acting for that organisation, until it lifts the stop.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable('flood_stops')
    .addColumn('org_id', 'integer', (c) => c.notNull())
    .addColumn('entry_id', 'integer', (c) => c.notNull())
    .addColumn('matches', 'integer', (c) => c.notNull())
    .addColumn('created_at', 'text', (c) => c.notNull())
    .addPrimaryKeyConstraint('flood_stops_pk', ['org_id', 'entry_id'])
    .execute();
}
