/** SQL for crisis notifications, their acknowledgement and escalation, and intervention resources (src/crisis/). */
import type { Insertable, Selectable } from 'kysely';
import type { Db } from './database.js';
import type { CrisisNotificationsTable, CrisisResourcesTable } from './schema.js';

export type NotificationRow = Selectable<CrisisNotificationsTable>;
export type ResourceRow = Selectable<CrisisResourcesTable>;

/** A notification overdue for acknowledgement, with what escalating it needs to know. */
export interface OverdueRow extends NotificationRow {
  incident_id: number;
  coordinator_org_id: number;
}

export class CrisisNotificationStore {
  constructor(private readonly db: Db) {}

  async insert(row: Insertable<CrisisNotificationsTable>): Promise<NotificationRow> {
    return this.db.insertInto('crisis_notifications').values(row).returningAll().executeTakeFirstOrThrow();
  }

  async notification(id: number): Promise<NotificationRow | undefined> {
    return this.db.selectFrom('crisis_notifications').selectAll().where('id', '=', id).executeTakeFirst();
  }

  async byTokenHash(tokenHash: string): Promise<NotificationRow | undefined> {
    return this.db
      .selectFrom('crisis_notifications')
      .selectAll()
      .where('token_hash', '=', tokenHash)
      .executeTakeFirst();
  }

  async forActivations(activationIds: number[]): Promise<NotificationRow[]> {
    if (activationIds.length === 0) return [];
    return this.db
      .selectFrom('crisis_notifications')
      .selectAll()
      .where('activation_id', 'in', activationIds)
      .orderBy('activation_id')
      .orderBy('member_org_id')
      .orderBy('contact_index')
      .orderBy('id')
      .execute();
  }

  /** A new link for the notification: the hash of the token just sent replaces the previous one. */
  async setTokenHash(id: number, tokenHash: string): Promise<void> {
    await this.db
      .updateTable('crisis_notifications')
      .set({ token_hash: tokenHash })
      .where('id', '=', id)
      .execute();
  }

  /** Records the acknowledgement unless one is recorded already; 0 rows when it was. */
  async ack(id: number, ack: { at: string; via: string; actor: string; late: boolean }): Promise<number> {
    const result = await this.db
      .updateTable('crisis_notifications')
      .set({ acked_at: ack.at, ack_via: ack.via, ack_actor: ack.actor, late: ack.late ? 1 : 0 })
      .where('id', '=', id)
      .where('acked_at', 'is', null)
      .executeTakeFirst();
    return Number(result.numUpdatedRows);
  }

  /**
   * Notifications of live activations past due, neither acknowledged nor escalated, oldest first; left out too
   * when the participant acknowledged another notification of the activation since this one was sent (through
   * an earlier contact, late), but not for an acknowledgement of an earlier activation's round.
   */
  async overdue(now: string, limit: number): Promise<OverdueRow[]> {
    return this.db
      .selectFrom('crisis_notifications as n')
      .innerJoin('crisis_activations as a', 'a.id', 'n.activation_id')
      .innerJoin('crisis_incidents as i', 'i.id', 'a.incident_id')
      .selectAll('n')
      .select(['a.incident_id', 'i.org_id as coordinator_org_id'])
      .where('n.due_at', '<=', now)
      .where('n.acked_at', 'is', null)
      .where('n.escalated_at', 'is', null)
      .where('a.state', 'in', ['active', 'deescalating'])
      .where(({ not, exists, selectFrom }) =>
        not(
          exists(
            selectFrom('crisis_notifications as m')
              .select('m.id')
              .whereRef('m.activation_id', '=', 'n.activation_id')
              .whereRef('m.member_org_id', '=', 'n.member_org_id')
              .whereRef('m.acked_at', '>=', 'n.sent_at'),
          ),
        ),
      )
      .orderBy('n.due_at')
      .orderBy('n.id')
      .limit(limit)
      .execute();
  }

  /** Marks the notification escalated unless it was acknowledged or escalated meanwhile; 0 rows then. */
  async markEscalated(id: number, at: string): Promise<number> {
    const result = await this.db
      .updateTable('crisis_notifications')
      .set({ escalated_at: at })
      .where('id', '=', id)
      .where('acked_at', 'is', null)
      .where('escalated_at', 'is', null)
      .executeTakeFirst();
    return Number(result.numUpdatedRows);
  }

  /** How the outbox fared with the notifications' deliveries (by action id). */
  async deliveries(
    actionIds: string[],
  ): Promise<{ id: string; status: string; attempts: number; last_error: string | null }[]> {
    if (actionIds.length === 0) return [];
    return this.db
      .selectFrom('actions')
      .select(['id', 'status', 'attempts', 'last_error'])
      .where('id', 'in', actionIds)
      .execute();
  }

  // Intervention resources

  async insertResource(row: Insertable<CrisisResourcesTable>): Promise<ResourceRow> {
    return this.db.insertInto('crisis_resources').values(row).returningAll().executeTakeFirstOrThrow();
  }

  async resources(activationIds: number[]): Promise<ResourceRow[]> {
    if (activationIds.length === 0) return [];
    return this.db
      .selectFrom('crisis_resources')
      .selectAll()
      .where('activation_id', 'in', activationIds)
      .orderBy('id')
      .execute();
  }

  /** Whether the organisation has an enabled webhook (interventions reach it through its own webhooks). */
  async hasWebhook(orgId: number): Promise<boolean> {
    const row = await this.db
      .selectFrom('webhooks')
      .select('id')
      .where('org_id', '=', orgId)
      .where('enabled', '=', 1)
      .executeTakeFirst();
    return row !== undefined;
  }
}
