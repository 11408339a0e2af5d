// Frozen in time: never edit a migration that has shipped; add a new one instead.
import type { Kysely } from 'kysely';

/**
 * The review console: a case version (a decision names the version it was made on; a stale one is refused),
 * a claim (who has the case open, until when), and an index for the queue's order (priority, then due time).
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .alterTable('cases')
    .addColumn('version', 'integer', (c) => c.notNull().defaultTo(1))
    .execute();
  await db.schema.alterTable('cases').addColumn('claimed_by', 'text').execute();
  await db.schema.alterTable('cases').addColumn('claim_expires_at', 'text').execute();
  await db.schema
    .createIndex('cases_queue_idx')
    .on('cases')
    .columns(['org_id', 'status', 'priority', 'due_at', 'id'])
    .execute();
}
