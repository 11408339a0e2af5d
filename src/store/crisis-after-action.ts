/**
 * Reads for the after-action report (src/crisis/after-action.ts): the notifications of an incident's activations
 * and the members' live numbers. Other parts write these tables; this file only reads them.
 */
import type { Selectable } from 'kysely';
import type { Db } from './database.js';
import type { CrisisNotificationsTable } from './schema.js';

export type NotificationRow = Selectable<CrisisNotificationsTable>;

/** One member's numbers over the whole incident (its telemetry rows summed). */
export interface MemberTelemetry {
  member_org_id: number;
  matches: number;
  blocks: number;
  first_block_at: string | null;
}

export class CrisisAfterActionStore {
  constructor(private readonly db: Db) {}

  async notifications(activationIds: number[]): Promise<NotificationRow[]> {
    if (activationIds.length === 0) return [];
    return this.db
      .selectFrom('crisis_notifications')
      .selectAll()
      .where('activation_id', 'in', activationIds)
      .orderBy('id')
      .execute();
  }

  /** Per member: matches and blocks summed over every minute, and the earliest block it reported. */
  async telemetry(incidentId: number): Promise<MemberTelemetry[]> {
    const rows = await this.db
      .selectFrom('crisis_telemetry')
      .select((eb) => [
        'member_org_id',
        eb.fn.sum<number | string>('matches').as('matches'),
        eb.fn.sum<number | string>('blocks').as('blocks'),
        eb.fn.min<string | null>('first_block_at').as('first_block_at'),
      ])
      .where('incident_id', '=', incidentId)
      .groupBy('member_org_id')
      .orderBy('member_org_id')
      .execute();
    // PostgreSQL sums integers as bigint, which the driver returns as a string.
    return rows.map((r) => ({
      member_org_id: Number(r.member_org_id),
      matches: Number(r.matches),
      blocks: Number(r.blocks),
      first_block_at: r.first_block_at,
    }));
  }

  async organisationNames(ids: number[]): Promise<Map<number, string>> {
    if (ids.length === 0) return new Map();
    const rows = await this.db
      .selectFrom('organisations')
      .select(['id', 'name'])
      .where('id', 'in', [...new Set(ids)])
      .execute();
    return new Map(rows.map((r) => [Number(r.id), r.name]));
  }
}
