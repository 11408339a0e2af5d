/** SQL for removal orders and referrals. Rows only; the rules live in src/orders/. */
import type { Insertable, Selectable, Updateable } from 'kysely';
import { CaseStore } from './cases.js';
import type { Db } from './database.js';
import { DecisionStore } from './decisions.js';
import type { ReferralsTable, RemovalOrdersTable } from './schema.js';

export type OrderRow = Selectable<RemovalOrdersTable>;
export type ReferralRow = Selectable<ReferralsTable>;

export interface OrderListFilter {
  /** 'authority': orders this organisation issued; 'platform': orders addressed to it. */
  side: 'authority' | 'platform';
  orgId: number;
  status?: string;
  afterId: number;
  limit: number;
}

export class OrderStore {
  constructor(private readonly db: Db) {}

  /** Holds a pending notice action back until `until` (a non-disclosure period extended). */
  async deferAction(actionId: string, until: string): Promise<void> {
    await this.db
      .updateTable('actions')
      .set({ next_attempt_at: until })
      .where('id', '=', actionId)
      .where('status', '=', 'pending')
      .execute();
  }

  async insertOrder(row: Insertable<RemovalOrdersTable>): Promise<OrderRow> {
    return this.db.insertInto('removal_orders').values(row).returningAll().executeTakeFirstOrThrow();
  }

  async order(id: number): Promise<OrderRow | undefined> {
    return this.db.selectFrom('removal_orders').selectAll().where('id', '=', id).executeTakeFirst();
  }

  async orderByReference(authorityOrgId: number, reference: string): Promise<OrderRow | undefined> {
    return this.db
      .selectFrom('removal_orders')
      .selectAll()
      .where('authority_org_id', '=', authorityOrgId)
      .where('reference', '=', reference)
      .executeTakeFirst();
  }

  async orderForCase(caseId: number): Promise<OrderRow | undefined> {
    return this.db.selectFrom('removal_orders').selectAll().where('case_id', '=', caseId).executeTakeFirst();
  }

  async updateOrder(id: number, changes: Updateable<RemovalOrdersTable>): Promise<OrderRow> {
    return this.db
      .updateTable('removal_orders')
      .set(changes)
      .where('id', '=', id)
      .returningAll()
      .executeTakeFirstOrThrow();
  }

  async listOrders(filter: OrderListFilter): Promise<OrderRow[]> {
    let query = this.db
      .selectFrom('removal_orders')
      .selectAll()
      .where(filter.side === 'authority' ? 'authority_org_id' : 'platform_org_id', '=', filter.orgId)
      .where('id', '>', filter.afterId);
    if (filter.status) query = query.where('status', '=', filter.status);
    return query
      .orderBy('id')
      .limit(filter.limit + 1)
      .execute();
  }

  async insertReferral(row: Insertable<ReferralsTable>): Promise<ReferralRow> {
    return this.db.insertInto('referrals').values(row).returningAll().executeTakeFirstOrThrow();
  }

  async referral(id: number): Promise<ReferralRow | undefined> {
    return this.db.selectFrom('referrals').selectAll().where('id', '=', id).executeTakeFirst();
  }

  async referralByReference(authorityOrgId: number, reference: string): Promise<ReferralRow | undefined> {
    return this.db
      .selectFrom('referrals')
      .selectAll()
      .where('authority_org_id', '=', authorityOrgId)
      .where('reference', '=', reference)
      .executeTakeFirst();
  }

  async updateReferral(id: number, changes: Updateable<ReferralsTable>): Promise<ReferralRow> {
    return this.db
      .updateTable('referrals')
      .set(changes)
      .where('id', '=', id)
      .returningAll()
      .executeTakeFirstOrThrow();
  }

  async listReferrals(filter: OrderListFilter): Promise<ReferralRow[]> {
    let query = this.db
      .selectFrom('referrals')
      .selectAll()
      .where(filter.side === 'authority' ? 'authority_org_id' : 'platform_org_id', '=', filter.orgId)
      .where('id', '>', filter.afterId);
    if (filter.status) query = query.where('outcome', '=', filter.status);
    return query
      .orderBy('id')
      .limit(filter.limit + 1)
      .execute();
  }

  /** Actioned orders whose preservation ended before `now` and was not purged yet. */
  async preservationsDue(now: string, limit: number): Promise<OrderRow[]> {
    return this.db
      .selectFrom('removal_orders')
      .selectAll()
      .where('preserve_until', '<', now)
      .where('preservation_purged_at', 'is', null)
      .orderBy('id')
      .limit(limit)
      .execute();
  }

  /** Content ids (of a platform) under a preservation that still runs at `now`. */
  async preservedExternalIds(now: string): Promise<Map<number, Set<string>>> {
    const rows = await this.db
      .selectFrom('removal_orders')
      .select(['platform_org_id', 'items'])
      .where('preserve_until', '>=', now)
      .where('preservation_purged_at', 'is', null)
      .execute();
    const ids = new Map<number, Set<string>>();
    for (const r of rows) {
      const set = ids.get(r.platform_org_id) ?? new Set<string>();
      for (const item of JSON.parse(r.items) as { external_id?: string }[])
        if (item.external_id) set.add(item.external_id);
      ids.set(r.platform_org_id, set);
    }
    return ids;
  }

  /** The platform's submissions of these content ids that still hold media or an uploader id. */
  async preservedSubmissions(orgId: number, externalIds: string[]) {
    if (externalIds.length === 0) return [];
    return this.db
      .selectFrom('submissions')
      .select(['id', 'org_id', 'external_id', 'media_sha256', 'uploader_id'])
      .where('org_id', '=', orgId)
      .where('external_id', 'in', externalIds)
      .where('media_purged_at', 'is', null)
      .execute();
  }

  async platformKnowsContent(orgId: number, externalId: string): Promise<boolean> {
    const submission = await this.db
      .selectFrom('submissions')
      .select('id')
      .where('org_id', '=', orgId)
      .where('external_id', '=', externalId)
      .executeTakeFirst();
    if (submission) return true;
    const found = await this.db
      .selectFrom('cases')
      .select('id')
      .where('org_id', '=', orgId)
      .where('external_id', '=', externalId)
      .executeTakeFirst();
    return found !== undefined;
  }

  /** A case in the platform's review queue for an order or referral; `dueAt` drives the queue's countdown. */
  async openCase(
    orgId: number,
    externalId: string,
    priority: string,
    dueAt: string,
    now: string,
  ): Promise<number> {
    return new CaseStore(this.db).insert({
      orgId,
      submissionId: null,
      externalId,
      priority,
      dueAt,
      evidence: [],
      createdAt: now,
    });
  }

  async setCaseDue(caseId: number, dueAt: string, now: string): Promise<void> {
    await this.db
      .updateTable('cases')
      .set({ due_at: dueAt, updated_at: now })
      .where('id', '=', caseId)
      .execute();
  }

  /** Records the platform's decision on the order's case (a removal, so reports count it). */
  async recordDecision(input: {
    orgId: number;
    caseId: number;
    decision: string;
    ground: string;
    reason: string;
    decidedBy: string;
    at: string;
  }): Promise<number> {
    const decisionId = await new DecisionStore(this.db).insert({
      caseId: input.caseId,
      orgId: input.orgId,
      decision: input.decision,
      groundType: 'illegal',
      ground: input.ground,
      reason: input.reason,
      automated: false,
      decidedBy: input.decidedBy,
      createdAt: input.at,
    });
    // Settled like any decided case: status, a new version, and no claim left on it.
    await new CaseStore(this.db).settle(input.caseId, 'decided', undefined, input.at);
    return decisionId;
  }

  /** An outbox action; `dueAt` in the future holds it back (the deliverer only sends due actions). */
  async enqueueAction(input: {
    id: string;
    orgId: number;
    caseId: number;
    decisionId: number;
    type: string;
    payload: Record<string, unknown>;
    dueAt: string;
    now: string;
  }): Promise<void> {
    await this.db
      .insertInto('actions')
      .values({
        id: input.id,
        org_id: input.orgId,
        case_id: input.caseId,
        decision_id: input.decisionId,
        type: input.type,
        payload: JSON.stringify(input.payload),
        status: 'pending',
        attempts: 0,
        next_attempt_at: input.dueAt,
        last_error: null,
        created_at: input.now,
        delivered_at: null,
      })
      .execute();
  }

  /** Pending escalation reminders for an order's case are dropped once the order is answered. */
  async cancelPendingActions(caseId: number, type: string): Promise<void> {
    await this.db
      .updateTable('actions')
      .set({ status: 'cancelled' })
      .where('case_id', '=', caseId)
      .where('type', '=', type)
      .where('status', '=', 'pending')
      .execute();
  }
}
