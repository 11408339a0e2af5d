// Frozen in time: never edit a migration that has shipped; add a new one instead.
import type { Kysely } from 'kysely';
import type { DialectName } from '../dialect.js';

/**
 * Collections (shared banks) get member rights and a label taxonomy.
 *
 * - `bank_shares.rights`: `read`, `contribute` or `moderate` (moderate implies contribute). Existing shares keep what
 *   `can_contribute` gave them; `can_contribute` stays, kept equal to "rights is not read", for older readers.
 * - `bank_taxonomies` / `bank_labels`: the labels a bank's entries may carry (key, description, group, order), and
 *   the preset it was seeded from. A bank without a row in `bank_taxonomies` accepts any label, as before.
 */
export async function up(db: Kysely<unknown>, dialect: DialectName): Promise<void> {
  const ref = dialect === 'postgres' ? 'bigint' : 'integer';
  await db.schema
    .alterTable('bank_shares')
    .addColumn('rights', 'text', (c) => c.notNull().defaultTo('read'))
    .execute();
  await (db as Kysely<{ bank_shares: { rights: string; can_contribute: number } }>)
    .updateTable('bank_shares')
    .set({ rights: 'contribute' })
    .where('can_contribute', '=', 1)
    .execute();

  await db.schema
    .createTable('bank_taxonomies')
    .addColumn('bank_id', ref, (c) => c.primaryKey().references('banks.id').onDelete('cascade'))
    .addColumn('preset', 'text')
    .addColumn('updated_by', 'text', (c) => c.notNull())
    .addColumn('updated_at', 'text', (c) => c.notNull())
    .execute();
  await db.schema
    .createTable('bank_labels')
    .addColumn('bank_id', ref, (c) => c.notNull().references('banks.id').onDelete('cascade'))
    .addColumn('key', 'text', (c) => c.notNull())
    .addColumn('description', 'text', (c) => c.notNull())
    .addColumn('label_group', 'text', (c) => c.notNull())
    .addColumn('position', 'integer', (c) => c.notNull())
    .addPrimaryKeyConstraint('bank_labels_pk', ['bank_id', 'key'])
    .execute();
}
