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
 * A contact without a webhook is e-mailed instead, when the operator configured an SMTP server: the same facts
 * and the link, as plain text (unsigned: e-mail has no place for the hub's signature).
 *
 * The acknowledgement link's token is minted here, at each delivery attempt, and only its sha256 is stored: a
 * retried delivery replaces the link of the attempt before it. That is why a contact is reached one way only
 * (its webhook if it has one, else its e-mail): two ways retried apart would each void the other's link.
 */
import { postOutbound, type OutboundPolicy } from '../core/outbound.js';
import type { Mailer } from '../actions/mailer.js';
import type { ActionChannel, ChannelOutcome, OutboxAction } from '../actions/outbox.js';
import { ACTION_ID_HEADER } from '../actions/webhooks.js';
import { signRecord } from '../sharing/signing.js';
import { CrisisNotificationStore } from '../store/crisis-notifications.js';
import type { Db } from '../store/database.js';
import type { InstanceIdentity } from '../store/sharing-feed.js';
import type { Contact } from './crisis-service.js';
import { ackPath, CRISIS_NOTIFICATION, mintAckToken } from './notifications.js';

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
      /** E-mail for contacts without a webhook; absent when no SMTP server is configured. */
      mailer?: Mailer;
      timeoutMs?: number;
    },
  ) {
    this.store = new CrisisNotificationStore(db);
  }

  async deliver(action: OutboxAction): Promise<ChannelOutcome> {
    const payload = JSON.parse(action.payload) as NotificationPayload;
    const row = await this.store.notification(payload.notification_id);
    // Acknowledged before it went out (through Kaitiaki itself): there is nothing left to ask.
    if (!row || row.acked_at !== null) return { delivered: true };
    const contact = JSON.parse(row.contact) as Contact;
    const { token, hash } = mintAckToken();
    const path = ackPath(token);
    const ack = {
      token,
      path,
      url: this.options.publicUrl ? `${this.options.publicUrl}${path}` : null,
      method: 'POST',
    };
    // The hash is stored before sending: a receiver may follow the link before it answers.
    await this.store.setTokenHash(row.id, hash);
    if (contact.webhook_url) return this.post(action.id, contact.webhook_url, { ...payload, ack });
    if (contact.email && this.options.mailer) return this.mail(contact.email, payload, ack.url ?? ack.path);
    return { delivered: false, error: `contact "${contact.name}" has no webhook_url and e-mail is off` };
  }

  private async post(
    actionId: string,
    url: string,
    payload: Record<string, unknown>,
  ): Promise<ChannelOutcome> {
    const identity = await this.options.identity();
    const body = { ...payload, instance_id: identity.id, signed_at: new Date().toISOString() };
    const signed = JSON.stringify({ ...body, signature: signRecord(body, identity.privateKey) });
    try {
      const response = await postOutbound(
        url,
        { 'content-type': 'application/json', [ACTION_ID_HEADER]: actionId },
        signed,
        this.options.policy,
        this.options.timeoutMs ?? 10_000,
      );
      if (response.status < 200 || response.status >= 300)
        return { delivered: false, error: `${url}: answered ${response.status}` };
      return { delivered: true };
    } catch (err) {
      return { delivered: false, error: `${url}: ${err instanceof Error ? err.message : String(err)}` };
    }
  }

  private async mail(to: string, payload: NotificationPayload, link: string): Promise<ChannelOutcome> {
    const { incident, activation, resources } = payload;
    const exercise = incident.exercise ? 'EXERCISE: ' : '';
    const text = [
      `${exercise}${incident.title}`,
      '',
      `${activation.protocol_name}: ${activation.type_label} (${activation.type}) is ${activation.state}.`,
      `Please acknowledge by ${payload.due_local} (${incident.zone}):`,
      '',
      link,
      ...(resources.length > 0
        ? [
            '',
            'Resources:',
            ...resources.map((r) => `- ${r.title} (${r.locale}): ${r.url ?? r.message ?? ''}`),
          ]
        : []),
      '',
      `Sent to ${payload.recipient.contact_name} by Kaitiaki. If nobody acknowledges, the next contact is notified.`,
    ].join('\n');
    try {
      await this.options.mailer!.send({
        to,
        subject: `${exercise}${activation.protocol_name} ${activation.type_label}: ${incident.title} - please acknowledge`,
        text,
      });
      return { delivered: true };
    } catch (err) {
      return {
        delivered: false,
        error: `mail to ${to}: ${err instanceof Error ? err.message : String(err)}`,
      };
    }
  }
}

/** What CrisisNotifications puts in the outbox (see its `send`). */
interface NotificationPayload extends Record<string, unknown> {
  notification_id: number;
  incident: { title: string; zone: string; exercise: boolean };
  activation: { protocol_name: string; type: string; type_label: string; state: string };
  recipient: { contact_name: string };
  resources: { title: string; locale: string; url: string | null; message: string | null }[];
  due_local: string;
}
