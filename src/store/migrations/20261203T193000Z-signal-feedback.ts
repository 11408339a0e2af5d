// Frozen in time: never edit a migration that has shipped; add a new one instead.
import type { Kysely } from 'kysely';
import type { DialectName } from '../dialect.js';

/**
 * Feedback on shared signals: each organisation that sees an entry (its own, or through an accepted share) holds
 * one opinion of it — confirm, false positive or seen — with where it came from (the API, an appeal reversal).
 */
export async function up(db: Kysely<unknown>, dialect: DialectName): Promise<void> {
  await db.schema
    .createTable('signal_feedback')
    .addColumn('id', dialect === 'postgres' ? 'bigserial' : 'integer', (c) =>
      dialect === 'postgres' ? c.primaryKey() : c.primaryKey().autoIncrement(),
    )
    .addColumn('entry_id', 'integer', (c) => c.notNull())
    .addColumn('bank_id', 'integer', (c) => c.notNull())
    .addColumn('org_id', 'integer', (c) => c.notNull())
    .addColumn('kind', 'text', (c) => c.notNull())
    .addColumn('reason', 'text')
    .addColumn('source', 'text', (c) => c.notNull())
    .addColumn('created_at', 'text', (c) => c.notNull())
    .addColumn('updated_at', 'text', (c) => c.notNull())
    .addUniqueConstraint('signal_feedback_entry_org', ['entry_id', 'org_id'])
    .execute();
  await db.schema
    .createIndex('signal_feedback_bank')
    .on('signal_feedback')
    .columns(['bank_id', 'entry_id'])
    .execute();
}
