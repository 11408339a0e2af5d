/**
 * Removal orders (Regulation (EU) 2021/784, TCO) and voluntary referrals from authorities.
 *
 * An order arrives from an organisation of kind `authority`, is checked for the Annex I fields, timestamped on
 * receipt and starts a one-hour clock (Art. 3(3)). The platform answers with Annex II (removed or disabled, and
 * when: a late answer is accepted and marked late) or Annex III (cannot comply; the clock restarts when the grounds
 * cease, Art. 3(7), or when the authority clarifies, Art. 3(8)). Cross-border orders (Art. 4) carry the scrutiny
 * window: 48 h to request, 72 h to decide; an infringement ends the order and the content is reinstated. While an
 * Art. 11(3) non-disclosure applies the content provider's notice is held back in the outbox.
 */
import { randomUUID } from 'node:crypto';
import type { MediaStore } from '../media/media-store.js';
import type { OrganisationService } from '../store/organisations.js';
import type { StoreAccess } from '../store/unit-of-work.js';
import { ConflictError, ForbiddenError, NotFoundError, ValidationError } from '../core/errors.js';
import { SubmissionMediaStore } from '../store/submission-media.js';
import { OrderStore, type OrderRow, type ReferralRow } from '../store/orders.js';
import { OrgSettingsStore } from '../store/org-settings.js';
import { decodeCursor, pageLimit, toPage, type Page } from '../store/pagination.js';
import { recordDecisionFact } from '../transparency/facts.js';

export const HOUR_MS = 3_600_000;
/** Art. 11(3): non-disclosure for at most six weeks, extendable once by six weeks. */
export const NON_DISCLOSURE_MAX_MS = 42 * 24 * HOUR_MS;
/** Art. 6(1): content removed after an order is preserved for six months. */
export const PRESERVATION_MS = 183 * 24 * HOUR_MS;
export const SCRUTINY_REQUEST_MS = 48 * HOUR_MS;
export const SCRUTINY_DECISION_MS = 72 * HOUR_MS;
/** Reminders to the platform while an order's clock runs (minutes after the clock started). */
export const ESCALATION_MINUTES = [30, 50] as const;

export const CONTENT_TYPE_LETTERS = ['a', 'b', 'c', 'd', 'e'] as const;
export const ANNEX_III_GROUNDS = [
  'force_majeure',
  'de_facto_impossibility',
  'manifest_error',
  'insufficient_information',
] as const;
export type AnnexIiiGround = (typeof ANNEX_III_GROUNDS)[number];
/** Grounds after which the platform says when they ceased (Art. 3(7)); the others wait for the authority (3(8)). */
const PLATFORM_RESTARTS: readonly string[] = ['force_majeure', 'de_facto_impossibility'];
export const SCRUTINY_REQUESTERS = ['platform', 'content_provider', 'competent_authority'] as const;
export const SCRUTINY_OUTCOMES = ['no_infringement', 'infringement'] as const;
export const REFERRAL_OUTCOMES = ['actioned', 'declined', 'partial'] as const;

export interface ContentItem {
  url?: string;
  external_id?: string;
}

/** Annex I, as sent; every field optional here so that all missing ones are named in one answer. */
export interface OrderInput {
  platform_org_id?: number;
  reference?: string;
  authority_name?: string;
  member_state?: string;
  content_types?: string[];
  reasons?: string;
  items?: ContentItem[];
  legal_basis?: string;
  signed_at?: string;
  signature?: string;
  redress?: string;
  non_disclosure_until?: string;
  cross_border?: boolean;
}

export const ANNEX_I_REQUIRED = [
  'platform_org_id',
  'reference',
  'authority_name',
  'member_state',
  'content_types',
  'reasons',
  'items',
  'legal_basis',
  'signed_at',
  'signature',
  'redress',
] as const;

export interface Caller {
  orgId: number;
  label: string;
}

export interface OrderView {
  id: number;
  reference: string;
  authority_org_id: number;
  platform_org_id: number;
  authority_name: string;
  member_state: string;
  content_types: string[];
  reasons: string;
  items: ContentItem[];
  legal_basis: string;
  signed_at: string;
  redress: string;
  cross_border: boolean;
  non_disclosure_until: string | null;
  non_disclosure_extended: boolean;
  received_at: string;
  clock_start: string;
  deadline_at: string;
  /** Seconds left on the clock (negative once overdue); null when the clock is not running. */
  seconds_left: number | null;
  /** Which reminder the order has reached: none, 30 or 50 minutes in, or past the hour. */
  escalation: 'none' | '30m' | '50m' | 'overdue' | null;
  status: string;
  case_id: number | null;
  annex_ii: { action: string; actioned_at: string; answered_at: string; late: boolean } | null;
  annex_iii: { ground: string; detail: string | null; sent_at: string } | null;
  scrutiny: {
    requested_by: string;
    requested_at: string;
    deadline_at: string;
    outcome: string | null;
    decided_at: string | null;
  } | null;
  reinstated_at: string | null;
  reinstatement_reason: string | null;
  preserve_until: string | null;
  /** Art. 6(2): extensions asked by the competent authority or a court, oldest first. */
  preservation_extensions: PreservationExtension[];
  /** When the preserved content and data were purged (null while preserved, or when nothing was removed). */
  preservation_purged_at: string | null;
}

export interface PreservationExtension {
  until: string;
  requested_by: string;
  reason: string;
  at: string;
}

export interface ReferralInput {
  platform_org_id: number;
  reference: string;
  items: ContentItem[];
  basis_cited: string;
  reasons: string;
}

export interface ReferralView {
  id: number;
  reference: string;
  authority_org_id: number;
  platform_org_id: number;
  items: ContentItem[];
  basis_cited: string;
  reasons: string;
  received_at: string;
  outcome: string;
  basis_used: string | null;
  outcome_at: string | null;
  case_id: number | null;
}

function isoOrThrow(value: string, field: string): Date {
  const date = new Date(value);
  if (!/^\d{4}-\d{2}-\d{2}T/.test(value) || Number.isNaN(date.getTime()))
    throw new ValidationError(`${field} must be an ISO 8601 date-time, got "${value}"`);
  return date;
}

function hostOf(url: string): string {
  try {
    return new URL(url).host.toLowerCase();
  } catch {
    throw new ValidationError(`"${url}" is not a URL`);
  }
}

export function orderView(row: OrderRow, now: Date): OrderView {
  const running = row.status === 'open';
  const elapsed = now.getTime() - new Date(row.clock_start).getTime();
  const escalation = !running
    ? null
    : elapsed >= HOUR_MS
      ? 'overdue'
      : elapsed >= ESCALATION_MINUTES[1] * 60_000
        ? '50m'
        : elapsed >= ESCALATION_MINUTES[0] * 60_000
          ? '30m'
          : 'none';
  return {
    id: row.id,
    reference: row.reference,
    authority_org_id: row.authority_org_id,
    platform_org_id: row.platform_org_id,
    authority_name: row.authority_name,
    member_state: row.member_state,
    content_types: JSON.parse(row.content_types) as string[],
    reasons: row.reasons,
    items: JSON.parse(row.items) as ContentItem[],
    legal_basis: row.legal_basis,
    signed_at: row.signed_at,
    redress: row.redress,
    cross_border: row.cross_border === 1,
    non_disclosure_until: row.non_disclosure_until,
    non_disclosure_extended: row.non_disclosure_extended === 1,
    received_at: row.received_at,
    clock_start: row.clock_start,
    deadline_at: row.deadline_at,
    seconds_left: running ? Math.round((new Date(row.deadline_at).getTime() - now.getTime()) / 1000) : null,
    escalation,
    status: row.status,
    case_id: row.case_id,
    annex_ii: row.action
      ? {
          action: row.action,
          actioned_at: row.actioned_at!,
          answered_at: row.answered_at!,
          late: row.late === 1,
        }
      : null,
    annex_iii: row.annex_iii_ground
      ? { ground: row.annex_iii_ground, detail: row.annex_iii_detail, sent_at: row.annex_iii_at! }
      : null,
    scrutiny: row.scrutiny_requested_by
      ? {
          requested_by: row.scrutiny_requested_by,
          requested_at: row.scrutiny_requested_at!,
          deadline_at: row.scrutiny_deadline_at!,
          outcome: row.scrutiny_outcome,
          decided_at: row.scrutiny_decided_at,
        }
      : null,
    reinstated_at: row.reinstated_at,
    reinstatement_reason: row.reinstatement_reason,
    preserve_until: row.preserve_until,
    preservation_extensions: JSON.parse(row.preservation_extensions) as PreservationExtension[],
    preservation_purged_at: row.preservation_purged_at,
  };
}

function referralView(row: ReferralRow): ReferralView {
  return {
    id: row.id,
    reference: row.reference,
    authority_org_id: row.authority_org_id,
    platform_org_id: row.platform_org_id,
    items: JSON.parse(row.items) as ContentItem[],
    basis_cited: row.basis_cited,
    reasons: row.reasons,
    received_at: row.received_at,
    outcome: row.outcome,
    basis_used: row.basis_used,
    outcome_at: row.outcome_at,
    case_id: row.case_id,
  };
}

type Ctx = StoreAccess & {
  readonly organisations: OrganisationService;
  readonly media: MediaStore;
};

export class OrdersService {
  /** The clock; tests move it. */
  now: () => Date = () => new Date();

  constructor(private readonly ctx: Ctx) {}

  private get store() {
    return new OrderStore(this.ctx.database.db);
  }

  private async assertAuthority(orgId: number): Promise<void> {
    const org = await this.ctx.organisations.get(orgId);
    if (org.kind !== 'authority')
      throw new ForbiddenError(
        'only organisations of kind "authority" send removal orders and referrals',
        'KAI_ERR_NOT_AN_AUTHORITY',
      );
  }

  /** Checks the content is the addressed platform's: its declared hosts, or content ids it knows. */
  private async checkItems(platformOrgId: number, items: ContentItem[]): Promise<void> {
    const settings = await new OrgSettingsStore(this.ctx.database.db).get(platformOrgId);
    for (const [i, item] of items.entries()) {
      if (!item.url && !item.external_id)
        throw new ValidationError(`items[${i}] needs a url or an external_id`, 'KAI_ERR_ORDER_INCOMPLETE');
      if (item.url) {
        const host = hostOf(item.url);
        if (!settings.hosts.includes(host))
          throw new ValidationError(
            `items[${i}]: ${host} is not a host of organisation ${platformOrgId}; send the order to the platform that hosts the content`,
            'KAI_ERR_ORDER_WRONG_PLATFORM',
          );
      }
      if (item.external_id && !(await this.store.platformKnowsContent(platformOrgId, item.external_id)))
        throw new ValidationError(
          `items[${i}]: organisation ${platformOrgId} has no content "${item.external_id}"; send the order to the platform that hosts the content`,
          'KAI_ERR_ORDER_WRONG_PLATFORM',
        );
    }
  }

  private async addressedPlatform(platformOrgId: number): Promise<void> {
    const platform = await this.ctx.organisations.get(platformOrgId).catch((err: unknown) => {
      if (err instanceof NotFoundError) return null;
      throw err;
    });
    if (!platform || platform.kind !== 'platform')
      throw new ValidationError(
        `platform_org_id ${platformOrgId} is not a platform organisation`,
        'KAI_ERR_ORDER_WRONG_PLATFORM',
      );
  }

  async issue(caller: Caller, input: OrderInput): Promise<OrderView> {
    await this.assertAuthority(caller.orgId);
    const missing = ANNEX_I_REQUIRED.filter((field) => {
      const value = input[field];
      return value === undefined || value === '' || (Array.isArray(value) && value.length === 0);
    });
    if (missing.length > 0)
      throw new ValidationError(
        `the removal order lacks Annex I fields: ${missing.join(', ')}`,
        'KAI_ERR_ORDER_INCOMPLETE',
        { errors: missing.map((field) => ({ path: `body/${field}`, message: 'required by Annex I' })) },
      );
    const bad = input.content_types!.filter((t) => !(CONTENT_TYPE_LETTERS as readonly string[]).includes(t));
    if (bad.length > 0)
      throw new ValidationError(
        `content_types must be Art. 2(7) letters a-e, got ${bad.join(', ')}`,
        'KAI_ERR_ORDER_INCOMPLETE',
        { errors: [{ path: 'body/content_types', message: 'Art. 2(7) letters a-e only' }] },
      );
    const received = this.now();
    const signed = isoOrThrow(input.signed_at!, 'signed_at');
    if (signed.getTime() > received.getTime() + 5 * 60_000)
      throw new ValidationError('signed_at is in the future', 'KAI_ERR_ORDER_INCOMPLETE');
    let nonDisclosure: string | null = null;
    if (input.non_disclosure_until) {
      const until = isoOrThrow(input.non_disclosure_until, 'non_disclosure_until');
      if (
        until.getTime() <= received.getTime() ||
        until.getTime() > received.getTime() + NON_DISCLOSURE_MAX_MS
      )
        throw new ValidationError(
          'non_disclosure_until must be in the future and at most six weeks away (TCO Art. 11(3))',
          'KAI_ERR_ORDER_NON_DISCLOSURE',
        );
      nonDisclosure = until.toISOString();
    }
    await this.addressedPlatform(input.platform_org_id!);
    await this.checkItems(input.platform_org_id!, input.items!);
    if (await this.store.orderByReference(caller.orgId, input.reference!))
      throw new ConflictError(
        `an order with reference "${input.reference}" exists already`,
        'KAI_ERR_ORDER_EXISTS',
      );

    const at = received.toISOString();
    const deadline = new Date(received.getTime() + HOUR_MS).toISOString();
    const row = await this.ctx.mutate(caller.label, async (m) => {
      const store = new OrderStore(m.db);
      const first = input.items![0];
      const caseId = await store.openCase(
        input.platform_org_id!,
        first.external_id ?? first.url!,
        'urgent',
        deadline,
        at,
      );
      const order = await store.insertOrder({
        authority_org_id: caller.orgId,
        platform_org_id: input.platform_org_id!,
        reference: input.reference!,
        authority_name: input.authority_name!,
        member_state: input.member_state!,
        content_types: JSON.stringify(input.content_types),
        reasons: input.reasons!,
        items: JSON.stringify(input.items),
        item_count: input.items!.length,
        legal_basis: input.legal_basis!,
        signed_at: signed.toISOString(),
        signature: input.signature!,
        redress: input.redress!,
        non_disclosure_until: nonDisclosure,
        cross_border: input.cross_border ? 1 : 0,
        received_at: at,
        clock_start: at,
        deadline_at: deadline,
        status: 'open',
        case_id: caseId,
        created_at: at,
      });
      for (const minutes of ESCALATION_MINUTES) {
        await store.enqueueAction({
          id: randomUUID(),
          orgId: order.platform_org_id,
          caseId,
          decisionId: 0,
          type: 'order.escalation',
          payload: {
            type: 'order.escalation',
            order_id: order.id,
            reference: order.reference,
            minutes,
            deadline_at: deadline,
          },
          dueAt: new Date(received.getTime() + minutes * 60_000).toISOString(),
          now: at,
        });
      }
      await m.audit({
        orgId: order.platform_org_id,
        action: 'order.receive',
        subjectType: 'removal_order',
        subjectId: order.id,
        detail: { authority_org_id: caller.orgId, reference: order.reference, deadline_at: deadline },
      });
      return order;
    });
    return orderView(row, received);
  }

  /** An order the caller may see: the issuing authority's or the addressed platform's, else not found. */
  private async visible(caller: Caller, id: number): Promise<OrderRow> {
    const row = await this.store.order(id);
    if (!row || (row.authority_org_id !== caller.orgId && row.platform_org_id !== caller.orgId))
      throw new NotFoundError(`removal order ${id} not found`, 'KAI_ERR_ORDER_NOT_FOUND');
    return row;
  }

  private async asPlatform(caller: Caller, id: number): Promise<OrderRow> {
    const row = await this.visible(caller, id);
    if (row.platform_org_id !== caller.orgId)
      throw new ForbiddenError(
        'only the platform the order is addressed to may answer it',
        'KAI_ERR_ORDER_NOT_YOURS',
      );
    return row;
  }

  private async asAuthority(caller: Caller, id: number): Promise<OrderRow> {
    const row = await this.visible(caller, id);
    if (row.authority_org_id !== caller.orgId)
      throw new ForbiddenError('only the issuing authority may do this', 'KAI_ERR_ORDER_NOT_YOURS');
    return row;
  }

  async get(caller: Caller, id: number): Promise<OrderView> {
    return orderView(await this.visible(caller, id), this.now());
  }

  async list(
    caller: Caller,
    options: { status?: string; cursor?: string; limit?: number },
  ): Promise<Page<OrderView>> {
    const org = await this.ctx.organisations.get(caller.orgId);
    const limit = pageLimit(options.limit);
    const rows = await this.store.listOrders({
      side: org.kind === 'authority' ? 'authority' : 'platform',
      orgId: caller.orgId,
      status: options.status,
      afterId: decodeCursor(options.cursor),
      limit,
    });
    const now = this.now();
    return toPage(rows, limit, (r) => orderView(r, now));
  }

  /** Annex II: removed or disabled, and when. After the deadline it is accepted and marked late. */
  async confirm(
    caller: Caller,
    id: number,
    input: { action: 'removed' | 'disabled'; actioned_at?: string },
  ): Promise<OrderView> {
    const row = await this.asPlatform(caller, id);
    if (row.status !== 'open' && row.status !== 'suspended')
      throw new ConflictError(`order ${id} is ${row.status}; it cannot be confirmed`, 'KAI_ERR_ORDER_STATE');
    const now = this.now();
    const actioned = input.actioned_at ? isoOrThrow(input.actioned_at, 'actioned_at') : now;
    if (
      actioned.getTime() < new Date(row.received_at).getTime() ||
      actioned.getTime() > now.getTime() + 60_000
    )
      throw new ValidationError(
        "actioned_at must lie between the order's receipt and now",
        'KAI_ERR_VALIDATION',
      );
    const late = actioned.getTime() > new Date(row.deadline_at).getTime();
    const at = now.toISOString();
    const updated = await this.ctx.mutate(caller.label, async (m) => {
      const store = new OrderStore(m.db);
      let noticeId: string | null = null;
      if (row.case_id !== null) {
        const decisionId = await store.recordDecision({
          orgId: row.platform_org_id,
          caseId: row.case_id,
          decision: 'remove',
          ground: row.legal_basis,
          reason: `Removal order ${row.reference} from ${row.authority_name} (${row.member_state})`,
          decidedBy: caller.label,
          at: actioned.toISOString(),
        });
        await recordDecisionFact(m.db, decisionId);
        await store.cancelPendingActions(row.case_id, 'order.escalation');
        // Art. 11: the content provider is told, unless a non-disclosure holds the notice back until it ends.
        noticeId = randomUUID();
        const release =
          row.non_disclosure_until && row.non_disclosure_until > at ? row.non_disclosure_until : at;
        await store.enqueueAction({
          id: noticeId,
          orgId: row.platform_org_id,
          caseId: row.case_id,
          decisionId,
          type: 'content.notice',
          payload: {
            type: 'content.notice',
            order_id: row.id,
            content: JSON.parse(row.items) as unknown,
            authority: row.authority_name,
            member_state: row.member_state,
            reasons: row.reasons,
            legal_basis: row.legal_basis,
            redress: row.redress,
          },
          dueAt: release,
          now: at,
        });
      }
      const order = await store.updateOrder(id, {
        status: 'actioned',
        action: input.action,
        actioned_at: actioned.toISOString(),
        answered_at: at,
        late: late ? 1 : 0,
        preserve_until: new Date(actioned.getTime() + PRESERVATION_MS).toISOString(),
        notice_action_id: noticeId,
      });
      await m.audit({
        orgId: row.platform_org_id,
        action: 'order.confirm',
        subjectType: 'removal_order',
        subjectId: id,
        detail: { action: input.action, actioned_at: actioned.toISOString(), late },
      });
      return order;
    });
    return orderView(updated, now);
  }

  /** Annex III: the platform cannot comply; the clock stops until the grounds cease or the authority clarifies. */
  async cannotComply(
    caller: Caller,
    id: number,
    input: { ground: AnnexIiiGround; detail?: string },
  ): Promise<OrderView> {
    const row = await this.asPlatform(caller, id);
    if (row.status !== 'open')
      throw new ConflictError(
        `order ${id} is ${row.status}; Annex III needs a running clock`,
        'KAI_ERR_ORDER_STATE',
      );
    const now = this.now();
    const updated = await this.ctx.mutate(caller.label, async (m) => {
      const store = new OrderStore(m.db);
      if (row.case_id !== null) await store.cancelPendingActions(row.case_id, 'order.escalation');
      const order = await store.updateOrder(id, {
        status: 'suspended',
        annex_iii_ground: input.ground,
        annex_iii_detail: input.detail ?? null,
        annex_iii_at: now.toISOString(),
      });
      await m.audit({
        orgId: row.platform_org_id,
        action: 'order.cannot_comply',
        subjectType: 'removal_order',
        subjectId: id,
        detail: { ground: input.ground },
      });
      return order;
    });
    return orderView(updated, now);
  }

  /**
   * Restarts the clock at `at`: the platform says when force majeure or impossibility ceased (Art. 3(7)); the
   * authority says when it sent the clarification of a manifest error or missing information (Art. 3(8)).
   */
  async restartClock(caller: Caller, id: number, input: { at?: string }): Promise<OrderView> {
    const row = await this.visible(caller, id);
    if (row.status !== 'suspended' || !row.annex_iii_ground)
      throw new ConflictError(
        `order ${id} is ${row.status}; only a suspended order restarts`,
        'KAI_ERR_ORDER_STATE',
      );
    const byPlatform = PLATFORM_RESTARTS.includes(row.annex_iii_ground);
    const expected = byPlatform ? row.platform_org_id : row.authority_org_id;
    if (caller.orgId !== expected)
      throw new ForbiddenError(
        byPlatform
          ? 'after force majeure or impossibility the platform says when the grounds ceased'
          : 'after a manifest error or insufficient information the issuing authority clarifies and restarts the clock',
        'KAI_ERR_ORDER_NOT_YOURS',
      );
    const now = this.now();
    const start = input.at ? isoOrThrow(input.at, 'at') : now;
    if (start.getTime() < new Date(row.annex_iii_at!).getTime() || start.getTime() > now.getTime() + 60_000)
      throw new ValidationError('at must lie between the Annex III answer and now');
    const deadline = new Date(start.getTime() + HOUR_MS).toISOString();
    const updated = await this.ctx.mutate(caller.label, async (m) => {
      const store = new OrderStore(m.db);
      if (row.case_id !== null) await store.setCaseDue(row.case_id, deadline, now.toISOString());
      const order = await store.updateOrder(id, {
        status: 'open',
        clock_start: start.toISOString(),
        deadline_at: deadline,
      });
      await m.audit({
        orgId: row.platform_org_id,
        action: 'order.clock_restart',
        subjectType: 'removal_order',
        subjectId: id,
        detail: { ground: row.annex_iii_ground, clock_start: start.toISOString(), deadline_at: deadline },
      });
      return order;
    });
    return orderView(updated, now);
  }

  /** Art. 4: scrutiny of a cross-border order, requested within 48 h of receipt (72 h on own initiative). */
  async requestScrutiny(
    caller: Caller,
    id: number,
    input: { requested_by: (typeof SCRUTINY_REQUESTERS)[number] },
  ): Promise<OrderView> {
    const row = await this.visible(caller, id);
    if (row.cross_border !== 1)
      throw new ConflictError(
        'scrutiny applies to cross-border orders only (TCO Art. 4)',
        'KAI_ERR_ORDER_STATE',
      );
    if (row.scrutiny_requested_by)
      throw new ConflictError(`scrutiny of order ${id} was requested already`, 'KAI_ERR_ORDER_STATE');
    const now = this.now();
    const window = input.requested_by === 'competent_authority' ? SCRUTINY_DECISION_MS : SCRUTINY_REQUEST_MS;
    if (now.getTime() > new Date(row.received_at).getTime() + window)
      throw new ConflictError(
        `the scrutiny window closed ${window / HOUR_MS} h after receipt of the order`,
        'KAI_ERR_SCRUTINY_WINDOW_CLOSED',
      );
    const updated = await this.ctx.mutate(caller.label, async (m) => {
      const order = await new OrderStore(m.db).updateOrder(id, {
        scrutiny_requested_by: input.requested_by,
        scrutiny_requested_at: now.toISOString(),
        scrutiny_deadline_at: new Date(now.getTime() + SCRUTINY_DECISION_MS).toISOString(),
      });
      await m.audit({
        orgId: row.platform_org_id,
        action: 'order.scrutiny_request',
        subjectType: 'removal_order',
        subjectId: id,
        detail: { requested_by: input.requested_by },
      });
      return order;
    });
    return orderView(updated, now);
  }

  /** The scrutiny decision; an infringement ends the order's legal effect (then the platform reinstates). */
  async scrutinyOutcome(
    caller: Caller,
    id: number,
    input: { outcome: (typeof SCRUTINY_OUTCOMES)[number] },
  ): Promise<OrderView> {
    const row = await this.visible(caller, id);
    if (!row.scrutiny_requested_by || row.scrutiny_outcome)
      throw new ConflictError(`order ${id} has no pending scrutiny`, 'KAI_ERR_ORDER_STATE');
    const now = this.now();
    const updated = await this.ctx.mutate(caller.label, async (m) => {
      const order = await new OrderStore(m.db).updateOrder(id, {
        scrutiny_outcome: input.outcome,
        scrutiny_decided_at: now.toISOString(),
        ...(input.outcome === 'infringement' ? { status: 'withdrawn' } : {}),
      });
      await m.audit({
        orgId: row.platform_org_id,
        action: 'order.scrutiny_outcome',
        subjectType: 'removal_order',
        subjectId: id,
        detail: { outcome: input.outcome },
      });
      return order;
    });
    return orderView(updated, now);
  }

  /** The order fell (scrutiny found an infringement): the platform reinstates the content. */
  async reinstate(caller: Caller, id: number, input: { reason: string }): Promise<OrderView> {
    const row = await this.asPlatform(caller, id);
    if (row.status !== 'withdrawn')
      throw new ConflictError(
        `order ${id} is ${row.status}; only a withdrawn order is reinstated`,
        'KAI_ERR_ORDER_STATE',
      );
    if (row.reinstated_at)
      throw new ConflictError(`order ${id} was reinstated already`, 'KAI_ERR_ORDER_STATE');
    const now = this.now();
    const at = now.toISOString();
    const updated = await this.ctx.mutate(caller.label, async (m) => {
      const store = new OrderStore(m.db);
      if (row.case_id !== null && row.actioned_at)
        await store.enqueueAction({
          id: randomUUID(),
          orgId: row.platform_org_id,
          caseId: row.case_id,
          decisionId: 0,
          type: 'content.restore',
          payload: {
            type: 'content.restore',
            order_id: row.id,
            content: JSON.parse(row.items) as unknown,
            reason: input.reason,
          },
          dueAt: at,
          now: at,
        });
      const order = await store.updateOrder(id, { reinstated_at: at, reinstatement_reason: input.reason });
      await m.audit({
        orgId: row.platform_org_id,
        action: 'order.reinstate',
        subjectType: 'removal_order',
        subjectId: id,
        detail: { reason: input.reason },
      });
      return order;
    });
    return orderView(updated, now);
  }

  /** Art. 11(3): the authority extends a non-disclosure once, by at most six weeks. */
  async extendNonDisclosure(caller: Caller, id: number, input: { until: string }): Promise<OrderView> {
    const row = await this.asAuthority(caller, id);
    if (!row.non_disclosure_until)
      throw new ConflictError(`order ${id} has no non-disclosure to extend`, 'KAI_ERR_ORDER_STATE');
    if (row.non_disclosure_extended === 1)
      throw new ConflictError('a non-disclosure is extended once at most', 'KAI_ERR_ORDER_NON_DISCLOSURE');
    const until = isoOrThrow(input.until, 'until');
    const current = new Date(row.non_disclosure_until);
    if (until <= current || until.getTime() > current.getTime() + NON_DISCLOSURE_MAX_MS)
      throw new ValidationError(
        'the extension must be later than now and at most six weeks longer',
        'KAI_ERR_ORDER_NON_DISCLOSURE',
      );
    const now = this.now();
    const updated = await this.ctx.mutate(caller.label, async (m) => {
      const store = new OrderStore(m.db);
      const order = await store.updateOrder(id, {
        non_disclosure_until: until.toISOString(),
        non_disclosure_extended: 1,
      });
      if (row.notice_action_id)
        await new OrderStore(m.db).deferAction(row.notice_action_id, until.toISOString());
      await m.audit({
        orgId: row.platform_org_id,
        action: 'order.non_disclosure_extend',
        subjectType: 'removal_order',
        subjectId: id,
        detail: { until: until.toISOString() },
      });
      return order;
    });
    return orderView(updated, now);
  }

  /**
   * Art. 6(2): the preservation of removed content and its data is extended, on the request of the competent
   * authority or a court, for as long as review proceedings need it. The issuing authority asks through the API;
   * the platform records a court's request (the CLI does this as the platform).
   */
  async extendPreservation(
    caller: Caller,
    id: number,
    input: { until: string; reason: string; requested_by?: string },
  ): Promise<OrderView> {
    const row = await this.visible(caller, id);
    if (!row.preserve_until)
      throw new ConflictError(
        `order ${id} removed nothing yet; there is no preservation to extend`,
        'KAI_ERR_ORDER_STATE',
      );
    if (row.preservation_purged_at)
      throw new ConflictError(
        `the preservation of order ${id} ended and was purged at ${row.preservation_purged_at}`,
        'KAI_ERR_PRESERVATION_PURGED',
      );
    if (!input.reason?.trim())
      throw new ValidationError(
        'reason: say which review proceedings need the content',
        'KAI_ERR_VALIDATION',
      );
    const until = isoOrThrow(input.until, 'until');
    const now = this.now();
    if (until.getTime() <= new Date(row.preserve_until).getTime() || until.getTime() <= now.getTime())
      throw new ValidationError(
        `until must be later than the current end of preservation (${row.preserve_until})`,
        'KAI_ERR_PRESERVATION_EXTEND',
      );
    const requestedBy =
      row.authority_org_id === caller.orgId ? 'competent_authority' : (input.requested_by ?? 'court');
    const extension: PreservationExtension = {
      until: until.toISOString(),
      requested_by: requestedBy,
      reason: input.reason.trim(),
      at: now.toISOString(),
    };
    const updated = await this.ctx.mutate(caller.label, async (m) => {
      const order = await new OrderStore(m.db).updateOrder(id, {
        preserve_until: extension.until,
        preservation_extensions: JSON.stringify([
          ...(JSON.parse(row.preservation_extensions) as PreservationExtension[]),
          extension,
        ]),
      });
      await m.audit({
        orgId: row.platform_org_id,
        action: 'order.preservation_extend',
        subjectType: 'removal_order',
        subjectId: id,
        detail: { from: row.preserve_until, until: extension.until, requested_by: requestedBy },
      });
      return order;
    });
    return orderView(updated, now);
  }

  /**
   * The end of preservation: for each order whose (possibly extended) preservation ended, the media and uploader
   * ids Kaitiaki holds for the removed content (the platform's submissions of the ordered content ids) are deleted,
   * the platform is told with a `content.purge` action that its preserved copy may go, and the order records when.
   * One audit record per order. Runs with the retention timer and from `kaitiaki retention purge`.
   */
  async purgePreservations(
    now = this.now(),
  ): Promise<{ orders: number; media: number; uploaderIds: number }> {
    const at = now.toISOString();
    const due = await this.store.preservationsDue(at, 1000);
    const stillPreserved = await this.store.preservedExternalIds(at);
    let media = 0;
    let uploaderIds = 0;
    for (const row of due) {
      const ids = (JSON.parse(row.items) as ContentItem[])
        .flatMap((i) => (i.external_id ? [i.external_id] : []))
        .filter((x) => !stillPreserved.get(row.platform_org_id)?.has(x));
      const submissions = await this.store.preservedSubmissions(row.platform_org_id, ids);
      let orderMedia = 0;
      for (const s of submissions) {
        if (s.media_sha256 && (await this.ctx.media.delete(s.org_id, s.media_sha256))) orderMedia++;
        if (s.uploader_id) uploaderIds++;
      }
      media += orderMedia;
      await this.ctx.mutate('system:retention', async (m) => {
        const store = new OrderStore(m.db);
        await new SubmissionMediaStore(m.db).purge(
          submissions.map((s) => s.id),
          at,
        );
        if (row.case_id !== null)
          await store.enqueueAction({
            id: randomUUID(),
            orgId: row.platform_org_id,
            caseId: row.case_id,
            decisionId: 0,
            type: 'content.purge',
            payload: {
              type: 'content.purge',
              order_id: row.id,
              reference: row.reference,
              content: JSON.parse(row.items) as unknown,
              preserved_until: row.preserve_until,
            },
            dueAt: at,
            now: at,
          });
        await store.updateOrder(row.id, { preservation_purged_at: at });
        await m.audit({
          orgId: row.platform_org_id,
          action: 'order.preservation_purge',
          subjectType: 'removal_order',
          subjectId: row.id,
          detail: {
            preserved_until: row.preserve_until,
            extensions: (JSON.parse(row.preservation_extensions) as unknown[]).length,
            submissions: submissions.length,
            media: orderMedia,
          },
        });
      });
    }
    return { orders: due.length, media, uploaderIds };
  }

  /** Content ids of each platform under a running preservation (the media retention purge leaves them). */
  async preservedContent(now = this.now()): Promise<Map<number, Set<string>>> {
    return this.store.preservedExternalIds(now.toISOString());
  }

  /** Whether a case's content is under a non-disclosure now (appeal intake and notices reveal nothing then). */
  async nonDisclosureApplies(caseId: number): Promise<boolean> {
    const row = await this.store.orderForCase(caseId);
    return !!row?.non_disclosure_until && row.non_disclosure_until > this.now().toISOString();
  }

  async refer(caller: Caller, input: ReferralInput): Promise<ReferralView> {
    await this.assertAuthority(caller.orgId);
    await this.addressedPlatform(input.platform_org_id);
    await this.checkItems(input.platform_org_id, input.items);
    if (await this.store.referralByReference(caller.orgId, input.reference))
      throw new ConflictError(
        `a referral with reference "${input.reference}" exists already`,
        'KAI_ERR_REFERRAL_EXISTS',
      );
    const now = this.now();
    const at = now.toISOString();
    const row = await this.ctx.mutate(caller.label, async (m) => {
      const store = new OrderStore(m.db);
      const first = input.items[0];
      const caseId = await store.openCase(
        input.platform_org_id,
        first.external_id ?? first.url!,
        'normal',
        new Date(now.getTime() + 24 * HOUR_MS).toISOString(),
        at,
      );
      const referral = await store.insertReferral({
        authority_org_id: caller.orgId,
        platform_org_id: input.platform_org_id,
        reference: input.reference,
        items: JSON.stringify(input.items),
        item_count: input.items.length,
        basis_cited: input.basis_cited,
        reasons: input.reasons,
        received_at: at,
        outcome: 'pending',
        case_id: caseId,
      });
      await m.audit({
        orgId: input.platform_org_id,
        action: 'referral.receive',
        subjectType: 'referral',
        subjectId: referral.id,
        detail: { authority_org_id: caller.orgId, reference: input.reference },
      });
      return referral;
    });
    return referralView(row);
  }

  private async visibleReferral(caller: Caller, id: number): Promise<ReferralRow> {
    const row = await this.store.referral(id);
    if (!row || (row.authority_org_id !== caller.orgId && row.platform_org_id !== caller.orgId))
      throw new NotFoundError(`referral ${id} not found`, 'KAI_ERR_REFERRAL_NOT_FOUND');
    return row;
  }

  async getReferral(caller: Caller, id: number): Promise<ReferralView> {
    return referralView(await this.visibleReferral(caller, id));
  }

  async listReferrals(
    caller: Caller,
    options: { outcome?: string; cursor?: string; limit?: number },
  ): Promise<Page<ReferralView>> {
    const org = await this.ctx.organisations.get(caller.orgId);
    const limit = pageLimit(options.limit);
    const rows = await this.store.listReferrals({
      side: org.kind === 'authority' ? 'authority' : 'platform',
      orgId: caller.orgId,
      status: options.outcome,
      afterId: decodeCursor(options.cursor),
      limit,
    });
    return toPage(rows, limit, referralView);
  }

  /** The platform's outcome for a referral and the basis it used (its terms, or a law). */
  async referralOutcome(
    caller: Caller,
    id: number,
    input: { outcome: (typeof REFERRAL_OUTCOMES)[number]; basis_used: string },
  ): Promise<ReferralView> {
    const row = await this.visibleReferral(caller, id);
    if (row.platform_org_id !== caller.orgId)
      throw new ForbiddenError(
        'only the platform the referral is addressed to records its outcome',
        'KAI_ERR_REFERRAL_NOT_YOURS',
      );
    if (row.outcome !== 'pending')
      throw new ConflictError(
        `referral ${id} has its outcome already (${row.outcome})`,
        'KAI_ERR_REFERRAL_STATE',
      );
    const at = this.now().toISOString();
    const updated = await this.ctx.mutate(caller.label, async (m) => {
      // The content itself is decided in the review queue (case_id), with its statement of reasons.
      const store = new OrderStore(m.db);
      const referral = await store.updateReferral(id, {
        outcome: input.outcome,
        basis_used: input.basis_used,
        outcome_at: at,
      });
      await m.audit({
        orgId: row.platform_org_id,
        action: 'referral.outcome',
        subjectType: 'referral',
        subjectId: id,
        detail: { outcome: input.outcome, basis_used: input.basis_used },
      });
      return referral;
    });
    return referralView(updated);
  }
}
