/**
 * The outbox table (`actions`): what Kaitiaki has decided and must tell the organisation's systems. Rows are
 * written in the transaction of the decision that caused them, and delivered after it by the outbox job.
 */
import type { Selectable } from 'kysely';
import type { Db } from './database.js';
import type { ActionsTable } from './schema.js';

export type ActionRow = Selectable<ActionsTable>;

export interface OutboxRow {
  id: string;
  org_id: number;
  type: string;
  payload: string;
  attempts: number;
  created_at: string;
  next_attempt_at: string;
}

export interface NewOutboxAction {
  id: string;
  orgId: number;
  /** The case and decision it comes from; null for an action with neither (e.g. a submission's verdict). */
  caseId: number | null;
  decisionId: number | null;
  type: string;
  payload: Record<string, unknown>;
  /** When it may first be sent (default: at once); a later time holds it back. */
  dueAt?: string;
  now: string;
}

export class OutboxStore {
  constructor(private readonly db: Db) {}

  async insert(action: NewOutboxAction): Promise<void> {
    await this.db
      .insertInto('actions')
      .values({
        id: action.id,
        org_id: action.orgId,
        // The table predates actions without a case: 0 stands for "none" there.
        case_id: action.caseId ?? 0,
        decision_id: action.decisionId ?? 0,
        type: action.type,
        payload: JSON.stringify(action.payload),
        status: 'pending',
        attempts: 0,
        next_attempt_at: action.dueAt ?? action.now,
        last_error: null,
        created_at: action.now,
        delivered_at: null,
      })
      .execute();
  }

  async due(now: Date, limit: number): Promise<OutboxRow[]> {
    return this.db
      .selectFrom('actions')
      .select(['id', 'org_id', 'type', 'payload', 'attempts', 'created_at', 'next_attempt_at'])
      .where('status', '=', 'pending')
      .where('next_attempt_at', '<=', now.toISOString())
      .orderBy('next_attempt_at')
      .limit(limit)
      .execute();
  }

  /** Claims a due action until `until`: only the deliverer whose update matches the row it read goes on. */
  async claim(row: OutboxRow, until: Date): Promise<boolean> {
    const claim = await this.db
      .updateTable('actions')
      .set({ next_attempt_at: until.toISOString() })
      .where('id', '=', row.id)
      .where('next_attempt_at', '=', row.next_attempt_at)
      .executeTakeFirst();
    return Number(claim.numUpdatedRows) > 0;
  }

  async markDelivered(id: string, attempts: number, at: Date): Promise<void> {
    await this.db
      .updateTable('actions')
      .set({ status: 'delivered', attempts, delivered_at: at.toISOString(), last_error: null })
      .where('id', '=', id)
      .execute();
  }

  async markFailed(id: string, attempts: number, next: Date, error: string, dead: boolean): Promise<void> {
    await this.db
      .updateTable('actions')
      .set({
        status: dead ? 'dead' : 'pending',
        attempts,
        next_attempt_at: next.toISOString(),
        last_error: error.slice(0, 2000),
      })
      .where('id', '=', id)
      .execute();
  }

  /** The organisation's actions, newest first (with `status`: only those). */
  async recent(orgId: number, status: string | undefined, limit: number): Promise<ActionRow[]> {
    let query = this.db.selectFrom('actions').selectAll().where('org_id', '=', orgId);
    if (status) query = query.where('status', '=', status);
    return query.orderBy('created_at', 'desc').limit(limit).execute();
  }
}
