/** Webhooks (where an organisation's actions are POSTed) and the log of every delivery attempt to them. */
import type { Selectable } from 'kysely';
import { nowIso, type Db } from './database.js';
import type { WebhooksTable } from './schema.js';

export interface Webhook {
  id: number;
  orgId: number;
  url: string;
  enabled: boolean;
  createdAt: string;
}

/** Where to send an action, and the secret to sign it with. */
export interface WebhookTarget {
  id: number;
  url: string;
  secret: string;
}

export interface DeliveryAttempt {
  actionId: string;
  webhookId: number;
  attempt: number;
  statusCode: number | null;
  error: string | null;
  durationMs: number;
}

function toWebhook(r: Selectable<WebhooksTable>): Webhook {
  return { id: r.id, orgId: r.org_id, url: r.url, enabled: r.enabled === 1, createdAt: r.created_at };
}

export class WebhookStore {
  constructor(private readonly db: Db) {}

  /** A new, enabled webhook. */
  async insert(orgId: number, url: string, secret: string): Promise<Webhook> {
    const row = await this.db
      .insertInto('webhooks')
      .values({ org_id: orgId, url, secret, enabled: 1, created_at: nowIso() })
      .returningAll()
      .executeTakeFirstOrThrow();
    return toWebhook(row);
  }

  async list(orgId: number): Promise<Webhook[]> {
    const rows = await this.db
      .selectFrom('webhooks')
      .selectAll()
      .where('org_id', '=', orgId)
      .orderBy('id')
      .execute();
    return rows.map(toWebhook);
  }

  /** Deletes the organisation's webhook; false when it has none with this id. */
  async delete(orgId: number, id: number): Promise<boolean> {
    const result = await this.db
      .deleteFrom('webhooks')
      .where('org_id', '=', orgId)
      .where('id', '=', id)
      .executeTakeFirst();
    return Number(result.numDeletedRows) > 0;
  }

  /** The organisation's enabled webhooks. */
  async enabledOf(orgId: number): Promise<WebhookTarget[]> {
    const rows = await this.db
      .selectFrom('webhooks')
      .selectAll()
      .where('org_id', '=', orgId)
      .where('enabled', '=', 1)
      .execute();
    return rows.map((r) => ({ id: r.id, url: r.url, secret: r.secret }));
  }

  /** The webhooks that took the action already (answered 2xx to an attempt). */
  async deliveredTo(actionId: string): Promise<Set<number>> {
    const rows = await this.db
      .selectFrom('webhook_deliveries')
      .select('webhook_id')
      .where('action_id', '=', actionId)
      .where('status_code', '>=', 200)
      .where('status_code', '<', 300)
      .execute();
    return new Set(rows.map((r) => r.webhook_id));
  }

  async recordDelivery(d: DeliveryAttempt): Promise<void> {
    await this.db
      .insertInto('webhook_deliveries')
      .values({
        action_id: d.actionId,
        webhook_id: d.webhookId,
        attempt: d.attempt,
        status_code: d.statusCode,
        error: d.error,
        duration_ms: d.durationMs,
        created_at: nowIso(),
      })
      .execute();
  }

  /** The organisation's delivery log, latest first. */
  async deliveries(orgId: number, limit: number) {
    return this.db
      .selectFrom('webhook_deliveries')
      .innerJoin('actions', 'actions.id', 'webhook_deliveries.action_id')
      .select([
        'webhook_deliveries.id',
        'webhook_deliveries.action_id',
        'webhook_deliveries.webhook_id',
        'webhook_deliveries.attempt',
        'webhook_deliveries.status_code',
        'webhook_deliveries.error',
        'webhook_deliveries.duration_ms',
        'webhook_deliveries.created_at',
      ])
      .where('actions.org_id', '=', orgId)
      .orderBy('webhook_deliveries.id', 'desc')
      .limit(limit)
      .execute();
  }
}
