/**
 * Action delivery by webhook. Each action in the outbox is POSTed as JSON to every enabled webhook of its
 * organisation, signed with HMAC-SHA256 over `<timestamp>.<body>` in the `Kaitiaki-Signature` header
 * (`t=<unix seconds>,v1=<hex>`); `Kaitiaki-Action-Id` names the action so receivers can ignore repeats.
 * Every attempt is logged in webhook_deliveries; the outbox (outbox.ts) retries until every webhook took it.
 *
 * Verifying on the receiving side: recompute HMAC-SHA256(secret, t + "." + raw body), compare with v1 in constant
 * time, and refuse timestamps more than 5 minutes old.
 */
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { NotFoundError } from '../core/errors.js';
import { assertOutboundUrl, postOutbound, type OutboundPolicy } from '../core/outbound.js';
import type { Db } from '../store/database.js';
import { OutboxStore } from '../store/outbox.js';
import type { Transactions } from '../store/unit-of-work.js';
import { WebhookStore, type Webhook } from '../store/webhooks.js';
import type { ActionChannel, ChannelOutcome, OutboxAction } from './outbox.js';

export { backoffMs, DELIVERY_WINDOW_MS } from './outbox.js';

export const SIGNATURE_HEADER = 'kaitiaki-signature';
export const ACTION_ID_HEADER = 'kaitiaki-action-id';

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

export type { Webhook };

export class WebhookService {
  constructor(
    private readonly db: Db,
    private readonly transactions: Transactions,
    private readonly policy: OutboundPolicy = { allowedHosts: [] },
  ) {}

  /** A new webhook (its address checked against the outbound policy first), audited; the secret is shown once. */
  async create(actor: string, orgId: number, url: string): Promise<{ webhook: Webhook; secret: string }> {
    const parsed = await assertOutboundUrl(url, this.policy);
    const secret = `whsec_${randomBytes(24).toString('base64url')}`;
    return this.transactions.run(actor, async (unit) => {
      const webhook = await new WebhookStore(unit.db).insert(orgId, parsed.toString(), secret);
      await unit.audit({
        orgId,
        action: 'webhook.create',
        subjectType: 'webhook',
        subjectId: webhook.id,
        detail: { url: webhook.url },
      });
      return { webhook, secret };
    });
  }

  async list(orgId: number): Promise<Webhook[]> {
    return new WebhookStore(this.db).list(orgId);
  }

  async delete(actor: string, orgId: number, id: number): Promise<void> {
    await this.transactions.run(actor, async (unit) => {
      const deleted = await new WebhookStore(unit.db).delete(orgId, id);
      if (!deleted) throw new NotFoundError(`webhook ${id} not found`);
      await unit.audit({ orgId, action: 'webhook.delete', subjectType: 'webhook', subjectId: id });
    });
  }

  async actions(orgId: number, status?: string, limit = 100) {
    return new OutboxStore(this.db).recent(orgId, status, limit);
  }

  async deliveries(orgId: number, limit = 100) {
    return new WebhookStore(this.db).deliveries(orgId, limit);
  }
}

/** The webhook channel: the action is POSTed, signed, to every enabled webhook of its organisation. */
export class WebhookChannel implements ActionChannel {
  readonly name = 'webhook';

  constructor(
    private readonly db: Db,
    private readonly options: { timeoutMs?: number; policy?: OutboundPolicy } = {},
  ) {}

  async deliver(action: OutboxAction, attempt: number): Promise<ChannelOutcome> {
    const store = new WebhookStore(this.db);
    const hooks = await store.enabledOf(action.org_id);
    if (hooks.length === 0) return { delivered: false, error: 'no webhook configured' };
    const errors: string[] = [];
    // Retries are per endpoint: a webhook that took the action already is not sent it again because another failed.
    const done = await store.deliveredTo(action.id);
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
      await store.recordDelivery({
        actionId: action.id,
        webhookId: hook.id,
        attempt,
        statusCode: status,
        error,
        durationMs: Date.now() - started,
      });
      if (error) errors.push(`${hook.url}: ${error}`);
    }
    return errors.length === 0 ? { delivered: true } : { delivered: false, error: errors.join('; ') };
  }
}
