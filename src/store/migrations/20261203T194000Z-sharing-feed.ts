// Frozen in time: never edit a migration that has shipped; add a new one instead.
import type { Kysely } from 'kysely';

/**
 * Hash sharing: this instance's Ed25519 identity (made once, on first use), and the indexes that make a bank's
 * change feed (its entries and tombstones after a sequence number) a range scan.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable('instance_identity')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('public_key', 'text', (c) => c.notNull())
    .addColumn('private_key', 'text', (c) => c.notNull())
    .addColumn('created_at', 'text', (c) => c.notNull())
    .execute();
  await db.schema.createIndex('entries_bank_seq').on('entries').columns(['bank_id', 'seq']).execute();
  await db.schema
    .createIndex('entry_tombstones_bank_seq')
    .on('entry_tombstones')
    .columns(['bank_id', 'seq'])
    .execute();
}
