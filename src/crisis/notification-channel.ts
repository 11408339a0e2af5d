/**
 * Delivers crisis notifications (outbox actions of type `crisis.notification`) to the webhook of the contact
 * each is addressed to. The contact is a participant's on-call address, not one of its registered webhooks, and
 * may belong to a government or a civil-society network that has no shared secret with this hub: so the body is
 * signed with the instance's Ed25519 key, which any receiver checks against the hub's public key (GET
 * /v1/sharing/instance), exactly as it checks shared records.
 *
 * Verifying on the receiving side: take the JSON body, remove `signature`, and verify it (base64url) with
 * Ed25519 over the canonical JSON of the rest (keys sorted, no whitespace); refuse `signed_at` far in the past.
 *
 * The acknowledgement link's token is minted here, at each delivery attempt, and only its sha256 is stored: a
 * retried delivery replaces the link of the attempt before it.
 */
import { postOutbound, type OutboundPolicy } from '../core/outbound.js';
import type { ActionChannel, ChannelOutcome, OutboxAction } from '../actions/outbox.js';
import { signRecord } from '../sharing/signing.js';
import { CrisisNotificationStore } from '../store/crisis-notifications.js';
import type { Db } from '../store/database.js';
import type { InstanceIdentity } from '../store/sharing-feed.js';
import type { Contact } from './crisis-service.js';
import { ackPath, CRISIS_NOTIFICATION, mintAckToken } from './notifications.js';

export const ACTION_ID_HEADER = 'kaitiaki-action-id';

export class CrisisNotificationChannel implements ActionChannel {
  readonly name = 'crisis-notification';
  readonly types = [CRISIS_NOTIFICATION];
  private readonly store: CrisisNotificationStore;

  constructor(
    db: Db,
    private readonly options: {
      identity: () => Promise<InstanceIdentity>;
      policy: OutboundPolicy;
      /** The hub's public address, for absolute acknowledgement links; null: the link's path only. */
      publicUrl: string | null;
      timeoutMs?: number;
    },
  ) {
    this.store = new CrisisNotificationStore(db);
  }

  async deliver(action: OutboxAction): Promise<ChannelOutcome> {
    const payload = JSON.parse(action.payload) as Record<string, unknown> & { notification_id: number };
    const row = await this.store.notification(payload.notification_id);
    // Acknowledged before it went out (through Kaitiaki itself): there is nothing left to ask.
    if (!row || row.acked_at !== null) return { delivered: true };
    const contact = JSON.parse(row.contact) as Contact;
    if (!contact.webhook_url)
      return { delivered: false, error: `contact "${contact.name}" has no webhook_url` };
    const identity = await this.options.identity();
    const { token, hash } = mintAckToken();
    const path = ackPath(token);
    const body = {
      ...payload,
      ack: {
        token,
        path,
        url: this.options.publicUrl ? `${this.options.publicUrl}${path}` : null,
        method: 'POST',
      },
      instance_id: identity.id,
      signed_at: new Date().toISOString(),
    };
    const signed = JSON.stringify({ ...body, signature: signRecord(body, identity.privateKey) });
    // The hash is stored before the request: a receiver may follow the link before it answers.
    await this.store.setTokenHash(row.id, hash);
    try {
      const response = await postOutbound(
        contact.webhook_url,
        { 'content-type': 'application/json', [ACTION_ID_HEADER]: action.id },
        signed,
        this.options.policy,
        this.options.timeoutMs ?? 10_000,
      );
      if (response.status < 200 || response.status >= 300)
        return { delivered: false, error: `${contact.webhook_url}: answered ${response.status}` };
      return { delivered: true };
    } catch (err) {
      return {
        delivered: false,
        error: `${contact.webhook_url}: ${err instanceof Error ? err.message : String(err)}`,
      };
    }
  }
}
