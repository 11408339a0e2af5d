/**
 * Notifications with acknowledgement, and the positive side of a crisis response (issue 12).
 *
 * When an activation goes live, every participant whose groups the activated type notifies gets a notification
 * addressed to its first contact, due for acknowledgement within the protocol's `ack_minutes`. It is written in
 * the transition's own transaction and delivered after the commit through the outbox (a signed webhook, or an
 * e-mail when the contact has no webhook and an SMTP server is configured: see notification-channel.ts). The participant acknowledges through the API or the link in the notification; a
 * notification still unacknowledged when due is escalated to the participant's next contact.
 *
 * Resources (a redirect, counter-speech, crisis-support text per locale) are attached to activations by the
 * coordinator, travel with notifications, and let a participant have Kaitiaki deliver an `intervention` action
 * (an interstitial or a redirect for one of its own content ids) to its own webhooks.
 */
import { createHash, randomBytes, randomUUID } from 'node:crypto';
import { ConflictError, ForbiddenError, NotFoundError, ValidationError } from '../core/errors.js';
import { parseHttpUrl } from '../core/outbound.js';
import type { Outbox } from '../actions/outbox.js';
import type { ActivationRow, IncidentRow, ParticipantRow } from '../store/crisis.js';
import { CrisisStore } from '../store/crisis.js';
import {
  CrisisNotificationStore,
  type NotificationRow,
  type ResourceRow,
} from '../store/crisis-notifications.js';
import type { Db } from '../store/database.js';
import type { Transactions, UnitOfWork } from '../store/unit-of-work.js';
import {
  moment,
  parseDefinition,
  type Contact,
  type CrisisCaller,
  type CrisisService,
  type Moment,
} from './crisis-service.js';
import type { ActivationType, NotifyGroup, ProtocolDefinition } from './protocols.js';
import { resourceView, type ResourceView } from './resource-view.js';
import { isLive } from './states.js';

/** The outbox action type of a notification: only the notification channel delivers it. */
export const CRISIS_NOTIFICATION = 'crisis.notification';
export const INTERVENTION = 'intervention';

export const RESOURCE_KINDS = ['redirect', 'counter_speech', 'crisis_support'] as const;
export type ResourceKind = (typeof RESOURCE_KINDS)[number];
export const INTERVENTION_MODES = ['interstitial', 'redirect'] as const;
export type InterventionMode = (typeof INTERVENTION_MODES)[number];

const MINUTES = 60_000;
/** Escalations handled per run; the job runs again 30 s later for the rest. */
const ESCALATION_BATCH = 100;
const LOCALE = /^[a-z]{2,3}(-[A-Za-z0-9]{2,8})*$/;
const TOKEN = /^[A-Za-z0-9_-]{43}$/;

/** A random link token (256 bits) and the hash that is all the database keeps of it. */
export function mintAckToken(): { token: string; hash: string } {
  const token = randomBytes(32).toString('base64url');
  return { token, hash: hashAckToken(token) };
}

export function hashAckToken(token: string): string {
  return createHash('sha256').update(token).digest('hex');
}

/** The outbox action that delivers a notification: one per notification, so its id is derived from it. */
export function deliveryActionId(notificationId: number): string {
  return `crisis-notification-${notificationId}`;
}

export function ackPath(token: string): string {
  return `/v1/crisis/ack/${token}`;
}

export interface ResourceInput {
  kind: ResourceKind;
  locale: string;
  title: string;
  url?: string;
  message?: string;
}

export interface InterventionInput {
  external_id: string;
  mode: InterventionMode;
  locale: string;
}

export interface NotificationView {
  id: number;
  activation_id: number;
  organisation_id: number | null;
  group: string;
  contact_index: number;
  /** The contact's name, and its addresses unless the caller may not see them. */
  contact: Contact;
  sent: Moment;
  due: Moment;
  acked: Moment | null;
  /** How it was acknowledged: `api` or `link`. */
  via: string | null;
  acked_by: string | null;
  late: boolean;
  escalated: Moment | null;
  /**
   * The webhook delivery through the outbox (`none`: the contact has no webhook); its error names the address,
   * so only callers who see addresses get it.
   */
  delivery: { status: string; attempts: number; error: string | null };
}

/** What the acknowledgement page shows about the notification its link belongs to. */
export interface AckLinkView {
  incident: { id: number; title: string; exercise: boolean };
  activation: { protocol: string; type: string | null; state: string };
  contact_name: string;
  due: Moment;
  acked: Moment | null;
  late: boolean;
}

export class CrisisNotifications {
  constructor(
    private readonly deps: {
      db: Db;
      transactions: Transactions;
      outbox: Outbox;
      /** The crisis engine: its clock (tests move it), who sees an incident. */
      crisis: CrisisService;
      /** Whether contacts without a webhook can be e-mailed (an SMTP server is configured). */
      email: boolean;
    },
  ) {}

  private now(): Date {
    return this.deps.crisis.now();
  }

  private run<T>(actor: string, fn: (unit: UnitOfWork, store: CrisisNotificationStore) => Promise<T>) {
    return this.deps.transactions.run(actor, (unit) => fn(unit, new CrisisNotificationStore(unit.db)));
  }

  // Sending

  /**
   * Called by CrisisService.transition inside its unit of work when an activation becomes active: one
   * notification per participant the type notifies, to its first contact.
   */
  async onActivated(
    unit: UnitOfWork,
    incident: IncidentRow,
    activation: ActivationRow,
    protocol: ProtocolDefinition,
    type: ActivationType,
  ): Promise<void> {
    const participants = await new CrisisStore(unit.db).participants(incident.org_id);
    const notified: number[] = [];
    for (const participant of participants) {
      const group = groupNotified(participant, type.notify);
      if (!group || contactsOf(participant).length === 0) continue;
      await this.send(unit, { incident, activation, protocol, type, participant, group, contactIndex: 0 });
      notified.push(participant.member_org_id);
    }
    await unit.audit({
      orgId: incident.org_id,
      action: 'crisis.notify',
      subjectType: 'crisis_activation',
      subjectId: activation.id,
      detail: { type: type.key, groups: type.notify, notified },
    });
  }

  /** Records one notification and, when its contact can be reached (webhook, or e-mail), enqueues its delivery. */
  private async send(
    unit: UnitOfWork,
    to: {
      incident: IncidentRow;
      activation: ActivationRow;
      protocol: ProtocolDefinition;
      type: ActivationType;
      participant: ParticipantRow;
      group: string;
      contactIndex: number;
    },
  ): Promise<NotificationRow> {
    const contact = contactsOf(to.participant)[to.contactIndex];
    const sent = this.now();
    const due = new Date(sent.getTime() + to.protocol.ack_minutes * MINUTES);
    const store = new CrisisNotificationStore(unit.db);
    const row = await store.insert({
      activation_id: to.activation.id,
      member_org_id: to.participant.member_org_id,
      recipient_group: to.group,
      contact_index: to.contactIndex,
      contact: JSON.stringify(contact),
      // No link works before delivery: the channel mints the token it sends and stores its hash then.
      token_hash: mintAckToken().hash,
      sent_at: sent.toISOString(),
      due_at: due.toISOString(),
      acked_at: null,
      ack_via: null,
      ack_actor: null,
      escalated_at: null,
    });
    // @NOTE With no way to reach the contact (no webhook, and no e-mail or no SMTP server) the notification is
    // still recorded: the participant sees it in Kaitiaki and acknowledges there, and escalation moves on.
    if (contact.webhook_url || (contact.email && this.deps.email)) {
      const resources = await store.resources([to.activation.id]);
      const { incident, activation, protocol, type } = to;
      const actionId = deliveryActionId(row.id);
      await this.deps.outbox.enqueue(unit, {
        id: actionId,
        orgId: to.participant.member_org_id,
        caseId: null,
        decisionId: null,
        type: CRISIS_NOTIFICATION,
        payload: {
          action_id: actionId,
          type: CRISIS_NOTIFICATION,
          notification_id: row.id,
          incident: {
            id: incident.id,
            title: incident.title,
            zone: incident.zone,
            exercise: incident.exercise === 1,
            coordinator_org_id: incident.org_id,
          },
          activation: {
            id: activation.id,
            protocol: protocol.key,
            protocol_name: protocol.name,
            type: type.key,
            type_label: type.label,
            state: activation.state,
          },
          recipient: {
            organisation_id: to.participant.member_org_id,
            group: to.group,
            contact_index: to.contactIndex,
            contact_name: contact.name,
          },
          resources: resources.map(resourcePayload),
          sent_at: row.sent_at,
          due_at: row.due_at,
          due_local: moment(row.due_at, incident.zone).local,
        },
      });
    }
    return row;
  }

  // Acknowledgement

  /** An acknowledgement through the API by the organisation the notification is addressed to. */
  async acknowledge(caller: CrisisCaller, id: number): Promise<NotificationView> {
    return this.run(caller.label, async (unit, store) => {
      const row = await store.notification(id);
      if (!row || row.member_org_id !== caller.orgId)
        throw new NotFoundError(`notification ${id} not found`, 'KAI_ERR_NOTIFICATION_NOT_FOUND');
      return this.record(unit, store, row, 'api', caller.label, caller.orgId);
    });
  }

  /** What the acknowledgement page shows; 403 for a token that is not one Kaitiaki sent. */
  async linkInfo(token: string): Promise<AckLinkView> {
    const row = await this.byToken(new CrisisNotificationStore(this.deps.db), token);
    return this.linkView(row);
  }

  /** An acknowledgement through the link sent with the notification. */
  async acknowledgeByLink(token: string): Promise<AckLinkView> {
    const row = await this.run('ack-link', async (unit, store) => {
      const found = await this.byToken(store, token);
      const contact = JSON.parse(found.contact) as Contact;
      await this.record(unit, store, found, 'link', `link:${contact.name}`, found.member_org_id);
      return (await store.notification(found.id))!;
    });
    return this.linkView(row);
  }

  private async byToken(store: CrisisNotificationStore, token: string): Promise<NotificationRow> {
    const row = TOKEN.test(token) ? await store.byTokenHash(hashAckToken(token)) : undefined;
    if (!row)
      throw new ForbiddenError(
        'this acknowledgement link is not valid (altered, or replaced by a newer one)',
        'KAI_ERR_ACK_LINK',
      );
    return row;
  }

  /** Records the acknowledgement once (a second one changes nothing); late when after the due time. */
  private async record(
    unit: UnitOfWork,
    store: CrisisNotificationStore,
    row: NotificationRow,
    via: 'api' | 'link',
    actor: string,
    orgId: number | null,
  ): Promise<NotificationView> {
    const at = this.now().toISOString();
    const late = at > row.due_at;
    if ((await store.ack(row.id, { at, via, actor, late })) > 0)
      await unit.audit({
        orgId,
        action: 'crisis.notification.ack',
        subjectType: 'crisis_notification',
        subjectId: row.id,
        detail: { activation_id: row.activation_id, via, late },
      });
    const incident = await this.incidentOf(unit.db, row.activation_id);
    const [view] = await this.views(store, [(await store.notification(row.id))!], incident.zone, () => true);
    return view;
  }

  /** Views of notifications with their deliveries; `addresses` says for which rows contact addresses show. */
  private async views(
    store: CrisisNotificationStore,
    rows: NotificationRow[],
    zone: string,
    addresses: (row: NotificationRow) => boolean,
  ): Promise<NotificationView[]> {
    const deliveries = new Map(
      (await store.deliveries(rows.map((r) => deliveryActionId(r.id)))).map((d) => [d.id, d]),
    );
    return rows.map((row) => {
      const shown = addresses(row);
      const view = notificationView(row, zone, shown);
      const delivery = deliveries.get(deliveryActionId(row.id));
      if (delivery)
        view.delivery = {
          status: delivery.status,
          attempts: delivery.attempts,
          error: shown ? delivery.last_error : null,
        };
      return view;
    });
  }

  private async incidentOf(db: Db, activationId: number): Promise<IncidentRow> {
    const store = new CrisisStore(db);
    const activation = (await store.activation(activationId))!;
    return (await store.incident(activation.incident_id))!;
  }

  private async linkView(row: NotificationRow): Promise<AckLinkView> {
    const store = new CrisisStore(this.deps.db);
    const activation = (await store.activation(row.activation_id))!;
    const incident = (await store.incident(activation.incident_id))!;
    const protocol = parseDefinition((await store.protocol(activation.protocol_id))!);
    return {
      incident: { id: incident.id, title: incident.title, exercise: incident.exercise === 1 },
      activation: { protocol: protocol.name, type: activation.type_key, state: activation.state },
      contact_name: (JSON.parse(row.contact) as Contact).name,
      due: moment(row.due_at, incident.zone),
      acked: row.acked_at ? moment(row.acked_at, incident.zone) : null,
      late: row.late === 1,
    };
  }

  /**
   * Every notification of the incident's activations. The coordinator sees every contact address, a
   * participant those of its own notifications, an observer none.
   */
  async list(caller: CrisisCaller, incidentId: number): Promise<NotificationView[]> {
    const incident = await this.deps.crisis.visibleIncident(caller, incidentId);
    const activations = await new CrisisStore(this.deps.db).activations(incident.id);
    const store = new CrisisNotificationStore(this.deps.db);
    const rows = await store.forActivations(activations.map((a) => a.id));
    return this.views(
      store,
      rows,
      incident.zone,
      (row) => !caller.observer && (incident.org_id === caller.orgId || row.member_org_id === caller.orgId),
    );
  }

  // Escalation

  /**
   * The escalation job: each notification past due is marked escalated and the participant's next contact (if
   * there is one) notified, unless the participant acknowledged it, or another notification of the activation
   * since it was sent. Returns how many were escalated.
   */
  async escalate(): Promise<number> {
    const overdue = await new CrisisNotificationStore(this.deps.db).overdue(
      this.now().toISOString(),
      ESCALATION_BATCH,
    );
    let escalated = 0;
    for (const row of overdue) {
      const done = await this.run('system', async (unit, store) => {
        // Another process (or an acknowledgement) may have got there first: the update decides.
        if ((await store.markEscalated(row.id, this.now().toISOString())) === 0) return false;
        const crisis = new CrisisStore(unit.db);
        const participant =
          row.member_org_id === null
            ? undefined
            : await crisis.participant(row.coordinator_org_id, row.member_org_id);
        // The participant's contacts as they are now: a coordinator may have fixed the list meanwhile.
        const next = participant ? contactsOf(participant)[row.contact_index + 1] : undefined;
        let nextId: number | null = null;
        if (participant && next) {
          const activation = (await crisis.activation(row.activation_id))!;
          const incident = (await crisis.incident(activation.incident_id))!;
          const protocol = parseDefinition((await crisis.protocol(activation.protocol_id))!);
          const type = protocol.types.find((t) => t.key === activation.type_key);
          if (type)
            nextId = (
              await this.send(unit, {
                incident,
                activation,
                protocol,
                type,
                participant,
                group: row.recipient_group,
                contactIndex: row.contact_index + 1,
              })
            ).id;
        }
        await unit.audit({
          orgId: row.coordinator_org_id,
          action: 'crisis.notification.escalate',
          subjectType: 'crisis_notification',
          subjectId: row.id,
          detail: {
            activation_id: row.activation_id,
            organisation_id: row.member_org_id,
            contact_index: row.contact_index,
            next_notification_id: nextId,
          },
        });
        return true;
      });
      if (done) escalated++;
    }
    return escalated;
  }

  // Resources and interventions

  async addResource(caller: CrisisCaller, activationId: number, input: ResourceInput): Promise<ResourceView> {
    const resource = validateResource(input);
    return this.run(caller.label, async (unit, store) => {
      const crisis = new CrisisStore(unit.db);
      const activation = await crisis.activation(activationId);
      const incident = activation
        ? await this.deps.crisis.visibleIncident(caller, activation.incident_id, unit.db).catch(() => null)
        : null;
      if (!activation || !incident)
        throw new NotFoundError(`activation ${activationId} not found`, 'KAI_ERR_ACTIVATION_NOT_FOUND');
      if (incident.org_id !== caller.orgId)
        throw new ForbiddenError(
          `only the coordinating organisation adds resources to activation ${activationId}`,
          'KAI_ERR_NOT_THE_COORDINATOR',
        );
      if (['concluded', 'debriefed', 'not_activated'].includes(activation.state))
        throw new ConflictError(
          `activation ${activationId} is ${activation.state}: resources are for activations still under way`,
          'KAI_ERR_ACTIVATION_STATE',
        );
      const row = await store.insertResource({
        activation_id: activationId,
        kind: resource.kind,
        locale: resource.locale,
        title: resource.title,
        url: resource.url ?? null,
        message: resource.message ?? null,
        created_by: caller.label,
        created_at: this.now().toISOString(),
      });
      await unit.audit({
        orgId: caller.orgId,
        action: 'crisis.resource.add',
        subjectType: 'crisis_activation',
        subjectId: activationId,
        detail: { resource_id: row.id, kind: row.kind, locale: row.locale },
      });
      return resourceView(row);
    });
  }

  /** The resources of an incident's activations (the incident view lists them). */
  async resources(activationIds: number[], db: Db = this.deps.db): Promise<ResourceView[]> {
    return (await new CrisisNotificationStore(db).resources(activationIds)).map(resourceView);
  }

  /**
   * A participant asks for an intervention on one of its own content ids: an `intervention` action with the
   * resource for the mode and locale (falling back to the language, then to `en`), delivered to its own
   * webhooks through the outbox.
   */
  async intervene(
    caller: CrisisCaller,
    incidentId: number,
    input: InterventionInput,
  ): Promise<{ action_id: string; resource: ResourceView }> {
    if (!LOCALE.test(input.locale))
      throw new ValidationError(
        `locale "${input.locale}" is not a language tag such as en or mi-NZ`,
        'KAI_ERR_CRISIS_RESOURCE',
      );
    return this.run(caller.label, async (unit, store) => {
      const incident = await this.deps.crisis.visibleIncident(caller, incidentId, unit.db);
      const live = (await new CrisisStore(unit.db).activations(incident.id)).filter((a) => isLive(a.state));
      if (live.length === 0)
        throw new ConflictError(
          `incident ${incidentId} has no live activation: interventions are for a crisis under way`,
          'KAI_ERR_ACTIVATION_STATE',
        );
      const kinds: readonly string[] =
        input.mode === 'redirect' ? ['redirect'] : ['crisis_support', 'counter_speech'];
      const candidates = (await store.resources(live.map((a) => a.id))).filter((r) => kinds.includes(r.kind));
      const resource = pickByLocale(candidates, input.locale);
      if (!resource)
        throw new ConflictError(
          `incident ${incidentId} has no ${kinds.join(' or ')} resource in ${input.locale} or en; the coordinator adds one`,
          'KAI_ERR_CRISIS_NO_RESOURCE',
        );
      if (!(await store.hasWebhook(caller.orgId)))
        throw new ConflictError(
          'your organisation has no enabled webhook: interventions are delivered to your own webhooks',
          'KAI_ERR_NO_WEBHOOK',
        );
      const actionId = randomUUID();
      const now = new Date().toISOString();
      await this.deps.outbox.enqueue(unit, {
        id: actionId,
        orgId: caller.orgId,
        caseId: null,
        decisionId: null,
        type: INTERVENTION,
        payload: {
          action_id: actionId,
          type: INTERVENTION,
          mode: input.mode,
          content: { external_id: input.external_id },
          incident: { id: incident.id, title: incident.title, exercise: incident.exercise === 1 },
          locale: input.locale,
          resource: resourcePayload(resource),
          created_at: now,
        },
        now,
      });
      await unit.audit({
        orgId: caller.orgId,
        action: 'crisis.intervention',
        subjectType: 'crisis_incident',
        subjectId: incident.id,
        detail: { action_id: actionId, mode: input.mode, resource_id: resource.id },
      });
      return { action_id: actionId, resource: resourceView(resource) };
    });
  }
}

function contactsOf(participant: ParticipantRow): Contact[] {
  return JSON.parse(participant.contacts) as Contact[];
}

/** The first of the participant's groups that the activated type notifies, or null. */
function groupNotified(participant: ParticipantRow, notify: readonly NotifyGroup[]): string | null {
  const groups = JSON.parse(participant.groups) as string[];
  return groups.find((g) => (notify as readonly string[]).includes(g)) ?? null;
}

function notificationView(row: NotificationRow, zone: string, addresses: boolean): NotificationView {
  const contact = JSON.parse(row.contact) as Contact;
  return {
    id: row.id,
    activation_id: row.activation_id,
    organisation_id: row.member_org_id,
    group: row.recipient_group,
    contact_index: row.contact_index,
    contact: addresses ? contact : { name: contact.name },
    sent: moment(row.sent_at, zone),
    due: moment(row.due_at, zone),
    acked: row.acked_at ? moment(row.acked_at, zone) : null,
    via: row.ack_via,
    acked_by: row.ack_actor,
    late: row.late === 1,
    escalated: row.escalated_at ? moment(row.escalated_at, zone) : null,
    delivery: { status: 'none', attempts: 0, error: null },
  };
}

function resourcePayload(row: ResourceRow) {
  return {
    id: row.id,
    kind: row.kind,
    locale: row.locale,
    title: row.title,
    url: row.url,
    message: row.message,
  };
}

/** The newest resource in the locale, else in its language, else in English. */
export function pickByLocale<T extends { locale: string }>(rows: T[], locale: string): T | undefined {
  const wanted = locale.toLowerCase();
  const language = wanted.split('-')[0];
  const tiers = [
    (l: string) => l === wanted,
    (l: string) => l.split('-')[0] === language,
    (l: string) => l === 'en',
    (l: string) => l.split('-')[0] === 'en',
  ];
  for (const matches of tiers) {
    const found = rows.filter((r) => matches(r.locale.toLowerCase())).at(-1);
    if (found) return found;
  }
  return undefined;
}

/** Checks a resource: a redirect needs an https url; counter-speech and crisis support need a message. */
export function validateResource(input: ResourceInput): ResourceInput {
  const problems: { path: string; message: string }[] = [];
  const bad = (field: string, message: string) => problems.push({ path: `body/${field}`, message });
  if (!(RESOURCE_KINDS as readonly string[]).includes(input.kind))
    bad('kind', `one of ${RESOURCE_KINDS.join(', ')}`);
  if (!LOCALE.test(input.locale)) bad('locale', `a language tag such as en or mi-NZ, not "${input.locale}"`);
  if (!input.title.trim()) bad('title', 'must not be blank');
  if (input.kind === 'redirect' && !input.url) bad('url', 'a redirect needs the address it sends people to');
  if (input.kind !== 'redirect' && !input.message?.trim())
    bad('message', `${input.kind} needs the text people are shown`);
  if (input.url) {
    try {
      if (parseHttpUrl(input.url, 'resource').protocol !== 'https:') bad('url', 'must use https');
    } catch {
      bad('url', `"${input.url.slice(0, 200)}" is not an http(s) URL`);
    }
  }
  if (problems.length > 0)
    throw new ValidationError(
      `the resource has ${problems.length} problem(s): ${problems.map((p) => `${p.path}: ${p.message}`).join('; ')}`,
      'KAI_ERR_CRISIS_RESOURCE',
      { errors: problems },
    );
  return { ...input, title: input.title.trim() };
}
