// Frozen in time: never edit a migration that has shipped; add a new one instead.
import { sql, type Kysely } from 'kysely';
import type { DialectName } from '../dialect.js';

/**
 * Trust fixes: instance administration as a key capability (not an organisation role), bank shares as offers
 * the receiving organisation accepts with a policy, the audit chain's head kept apart from the log, and sign-in
 * throttling per account.
 */
export async function up(db: Kysely<unknown>, dialect: DialectName): Promise<void> {
  await db.schema
    .alterTable('api_keys')
    .addColumn('instance_admin', 'integer', (c) => c.notNull().defaultTo(0))
    .execute();
  // The key `kaitiaki init` printed (an admin key of the instance organisation) keeps administering the instance.
  await sql`update api_keys set instance_admin = 1
    where role = 'admin' and created_by = 'kaitiaki init'
      and org_id in (select id from organisations where kind = 'instance')`.execute(db);

  // Existing shares were never agreed to by their receivers: they become offers.
  await db.schema.alterTable('bank_shares').addColumn('accepted_at', 'text').execute();
  await db.schema.alterTable('bank_shares').addColumn('policy', 'text').execute();

  await db.schema
    .createTable('audit_head')
    .addColumn('name', 'text', (c) => c.primaryKey())
    .addColumn('seq', dialect === 'postgres' ? 'bigint' : 'integer', (c) => c.notNull())
    .addColumn('hash', 'text', (c) => c.notNull())
    .addColumn('updated_at', 'text', (c) => c.notNull())
    .execute();
  // The head of a chain written before this migration is its last record.
  await sql`insert into audit_head (name, seq, hash, updated_at)
    select 'audit_chain', coalesce(max(id), 0),
      coalesce((select hash from audit_log where id = (select max(id) from audit_log)), ${'0'.repeat(64)}),
      ${new Date().toISOString()}
    from audit_log`.execute(db);

  // What a synchronous submission answered (policy action and matches), so a replay answers the same.
  await db.schema.alterTable('submissions').addColumn('answer', 'text').execute();

  await db.schema
    .createTable('sign_in_failures')
    .addColumn('account', 'text', (c) => c.primaryKey())
    .addColumn('failures', 'integer', (c) => c.notNull())
    .addColumn('locked_until', 'text')
    .addColumn('last_failure_at', 'text', (c) => c.notNull())
    .execute();
}
