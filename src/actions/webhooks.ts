/**
 * Action delivery by webhook. Each action in the outbox is POSTed as JSON to every enabled webhook of its
 * organisation, signed with HMAC-SHA256 over `<timestamp>.<body>` in the `Kaitiaki-Signature` header
 * (`t=<unix seconds>,v1=<hex>`); `Kaitiaki-Action-Id` names the action so receivers can ignore repeats.
 * Failures are retried with exponential backoff (5 s doubling, at most 1 h apart) for 48 hours, then the action
 * is dead-lettered. Every attempt is logged in webhook_deliveries.
 *
 * Verifying on the receiving side: recompute HMAC-SHA256(secret, t + "." + raw body), compare with v1 in constant
 * time, and refuse timestamps more than 5 minutes old.
 */
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { NotFoundError } from '../core/errors.js';
import { assertOutboundUrl, postOutbound, type OutboundPolicy } from '../core/outbound.js';
import type { Db } from '../store/database.js';
import { nowIso } from '../store/database.js';

export const SIGNATURE_HEADER = 'kaitiaki-signature';
export const ACTION_ID_HEADER = 'kaitiaki-action-id';
const FIRST_RETRY_MS = 5_000;
const MAX_RETRY_GAP_MS = 3_600_000;
export const DELIVERY_WINDOW_MS = 48 * 3_600_000;
/** A claimed action is invisible to other deliverers for this long (several processes may run deliverers). */
const CLAIM_MS = 60_000;

export function signPayload(secret: string, body: string, timestamp = Math.floor(Date.now() / 1000)): string {
  return `t=${timestamp},v1=${createHmac('sha256', secret).update(`${timestamp}.${body}`).digest('hex')}`;
}

/** The receiver's check, exported so tests (and integrators reading the code) use the documented recipe. */
export function verifySignature(
  secret: string,
  body: string,
  header: string,
  toleranceSeconds = 300,
  now = Date.now(),
): boolean {
  const parts = Object.fromEntries(header.split(',').map((p) => p.split('=') as [string, string]));
  const timestamp = Number(parts.t);
  if (!Number.isInteger(timestamp) || !parts.v1 || Math.abs(now / 1000 - timestamp) > toleranceSeconds)
    return false;
  const expected = Buffer.from(createHmac('sha256', secret).update(`${timestamp}.${body}`).digest('hex'));
  const given = Buffer.from(parts.v1);
  return expected.length === given.length && timingSafeEqual(expected, given);
}

export function backoffMs(attempts: number): number {
  return Math.min(MAX_RETRY_GAP_MS, FIRST_RETRY_MS * 2 ** Math.max(0, attempts - 1));
}

export interface Webhook {
  id: number;
  orgId: number;
  url: string;
  enabled: boolean;
  createdAt: string;
}

export class WebhookService {
  constructor(
    private readonly db: Db,
    private readonly policy: OutboundPolicy = { allowedHosts: [] },
  ) {}

  async create(orgId: number, url: string): Promise<{ webhook: Webhook; secret: string }> {
    const parsed = await assertOutboundUrl(url, this.policy);
    const secret = `whsec_${randomBytes(24).toString('base64url')}`;
    const row = await this.db
      .insertInto('webhooks')
      .values({ org_id: orgId, url: parsed.toString(), secret, enabled: 1, created_at: nowIso() })
      .returningAll()
      .executeTakeFirstOrThrow();
    return { webhook: { id: row.id, orgId, url: row.url, enabled: true, createdAt: row.created_at }, secret };
  }

  async list(orgId: number): Promise<Webhook[]> {
    const rows = await this.db
      .selectFrom('webhooks')
      .selectAll()
      .where('org_id', '=', orgId)
      .orderBy('id')
      .execute();
    return rows.map((r) => ({
      id: r.id,
      orgId: r.org_id,
      url: r.url,
      enabled: r.enabled === 1,
      createdAt: r.created_at,
    }));
  }

  async delete(orgId: number, id: number): Promise<void> {
    const result = await this.db
      .deleteFrom('webhooks')
      .where('org_id', '=', orgId)
      .where('id', '=', id)
      .executeTakeFirst();
    if (Number(result.numDeletedRows) === 0) throw new NotFoundError(`webhook ${id} not found`);
  }

  async actions(orgId: number, status?: string, limit = 100) {
    let query = this.db.selectFrom('actions').selectAll().where('org_id', '=', orgId);
    if (status) query = query.where('status', '=', status);
    return query.orderBy('created_at', 'desc').limit(limit).execute();
  }

  async deliveries(orgId: number, limit = 100) {
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

/** Sends due actions; runs on a timer in `serve` and can be poked after a decision commits. */
export class ActionDeliverer {
  private timer: NodeJS.Timeout | null = null;
  private running: Promise<number> | null = null;

  constructor(
    private readonly db: Db,
    private readonly options: { timeoutMs?: number; policy?: OutboundPolicy } = {},
  ) {}

  start(intervalMs = 1000): void {
    this.stop();
    this.timer = setInterval(() => void this.runOnce().catch(() => undefined), intervalMs);
    this.timer.unref();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
  }

  /** Delivers every due action once; returns how many were delivered. Concurrent calls share one run. */
  runOnce(): Promise<number> {
    this.running ??= this.deliverDue().finally(() => (this.running = null));
    return this.running;
  }

  private async deliverDue(): Promise<number> {
    const now = new Date();
    const due = await this.db
      .selectFrom('actions')
      .selectAll()
      .where('status', '=', 'pending')
      .where('next_attempt_at', '<=', now.toISOString())
      .orderBy('next_attempt_at')
      .limit(50)
      .execute();
    let delivered = 0;
    for (const action of due) {
      // Claim it: only the deliverer whose update matches the row it read goes on.
      const claim = await this.db
        .updateTable('actions')
        .set({ next_attempt_at: new Date(now.getTime() + CLAIM_MS).toISOString() })
        .where('id', '=', action.id)
        .where('next_attempt_at', '=', action.next_attempt_at)
        .executeTakeFirst();
      if (Number(claim.numUpdatedRows) === 0) continue;
      if (await this.deliver(action)) delivered++;
    }
    return delivered;
  }

  private async deliver(action: {
    id: string;
    org_id: number;
    payload: string;
    attempts: number;
    created_at: string;
  }): Promise<boolean> {
    const hooks = await this.db
      .selectFrom('webhooks')
      .selectAll()
      .where('org_id', '=', action.org_id)
      .where('enabled', '=', 1)
      .execute();
    const attempt = action.attempts + 1;
    const errors: string[] = [];
    // Retries are per endpoint: a webhook that took the action already is not sent it again because another failed.
    const done = new Set(
      (
        await this.db
          .selectFrom('webhook_deliveries')
          .select('webhook_id')
          .where('action_id', '=', action.id)
          .where('status_code', '>=', 200)
          .where('status_code', '<', 300)
          .execute()
      ).map((r) => r.webhook_id),
    );
    for (const hook of hooks) {
      if (done.has(hook.id)) continue;
      const started = Date.now();
      let status: number | null = null;
      let error: string | null = null;
      try {
        const response = await postOutbound(
          hook.url,
          {
            'content-type': 'application/json',
            [SIGNATURE_HEADER]: signPayload(hook.secret, action.payload),
            [ACTION_ID_HEADER]: action.id,
          },
          action.payload,
          this.options.policy ?? { allowedHosts: [] },
          this.options.timeoutMs ?? 10_000,
        );
        status = response.status;
        if (status < 200 || status >= 300) error = `answered ${status}`;
      } catch (err) {
        error = err instanceof Error ? err.message : String(err);
      }
      await this.db
        .insertInto('webhook_deliveries')
        .values({
          action_id: action.id,
          webhook_id: hook.id,
          attempt,
          status_code: status,
          error,
          duration_ms: Date.now() - started,
          created_at: nowIso(),
        })
        .execute();
      if (error) errors.push(`${hook.url}: ${error}`);
    }
    const now = Date.now();
    if (hooks.length > 0 && errors.length === 0) {
      await this.db
        .updateTable('actions')
        .set({
          status: 'delivered',
          attempts: attempt,
          delivered_at: new Date(now).toISOString(),
          last_error: null,
        })
        .where('id', '=', action.id)
        .execute();
      return true;
    }
    const expired = now - Date.parse(action.created_at) > DELIVERY_WINDOW_MS;
    await this.db
      .updateTable('actions')
      .set({
        status: expired ? 'dead' : 'pending',
        attempts: attempt,
        next_attempt_at: new Date(now + backoffMs(attempt)).toISOString(),
        last_error: hooks.length === 0 ? 'no webhook configured' : errors.join('; ').slice(0, 2000),
      })
      .where('id', '=', action.id)
      .execute();
    return false;
  }
}
