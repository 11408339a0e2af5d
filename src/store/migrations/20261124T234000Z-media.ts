// Frozen in time: never edit a migration that has shipped; add a new one instead.
import type { Kysely } from 'kysely';

export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema.alterTable('submissions').addColumn('media_sha256', 'text').execute();
  await db.schema.alterTable('submissions').addColumn('media_purged_at', 'text').execute();
}
