/**
 * Appeals (complaints) against decisions: TCO Art. 10, DSA Art. 20, Santa Clara "Appeal". The affected user
 * appeals through the platform's API or with the signed link from the statement of reasons, within the
 * organisation's window (six months by default). A person other than the original decider decides, within 14 days,
 * with a reasoned reply. A reversal sends `content.restore`, corrects the statement of reasons, and counts against
 * the bank entries that caused the decision.
 */
import { randomUUID } from 'node:crypto';
import type { StoreAccess } from '../store/unit-of-work.js';
import { ConflictError, ForbiddenError, NotFoundError, ValidationError } from '../core/errors.js';
import type { MatchEvidence } from '../matching/match-service.js';
import { AppealStore, type AppealedDecision, type AppealRow } from '../store/appeals.js';
import { OrgSettingsStore } from '../store/org-settings.js';
import { OrderStore } from '../store/orders.js';
import { decodeCursor, pageLimit, toPage, type Page } from '../store/pagination.js';
import { appealTokenValid, readAppealToken, signAppealToken } from './links.js';
import { NO_SHARED_SIGNAL_FEEDBACK, type SharedSignalFeedback } from './shared-signal-feedback.js';

export const APPEAL_REPLY_MS = 14 * 24 * 3_600_000;
const DAY_MS = 24 * 3_600_000;
/** Decisions that restrict content, and so can be appealed. */
const APPEALABLE = new Set(['remove', 'restrict', 'label']);
export const APPEAL_OUTCOMES = ['upheld', 'reversed'] as const;
export type AppealOutcome = (typeof APPEAL_OUTCOMES)[number];

export interface AppealCaller {
  orgId: number;
  label: string;
  /** Set when a person (session) acts; appeals are decided by people only. */
  userId?: number;
}

export interface AppealView {
  id: number;
  decision_id: number;
  case_id: number;
  appellant_id: string;
  channel: string;
  statement: string;
  status: string;
  original_decider: string;
  automated_detection: boolean;
  assignee: string | null;
  filed_at: string;
  due_at: string;
  overdue: boolean;
  decided_at: string | null;
  decided_by: string | null;
  reply: string | null;
  restore_action_id: string | null;
}

export function appealView(row: AppealRow, now: Date): AppealView {
  return {
    id: row.id,
    decision_id: row.decision_id,
    case_id: row.case_id,
    appellant_id: row.appellant_id,
    channel: row.channel,
    statement: row.statement,
    status: row.status,
    original_decider: row.original_decider,
    automated_detection: row.automated_detection === 1,
    assignee: row.assignee,
    filed_at: row.filed_at,
    due_at: row.due_at,
    overdue: row.status === 'open' && row.due_at < now.toISOString(),
    decided_at: row.decided_at,
    decided_by: row.decided_by,
    reply: row.reply,
    restore_action_id: row.restore_action_id,
  };
}

/** One answer for "no such decision", "not appealable" and "under non-disclosure": intake reveals nothing. */
const nothingToAppeal = (id: number) =>
  new NotFoundError(`no appealable decision ${id}`, 'KAI_ERR_APPEAL_NOTHING_TO_APPEAL');

type Ctx = StoreAccess;

export class AppealsService {
  now: () => Date = () => new Date();
  /** Called for each shared signal behind a reversed decision (see shared-signal-feedback.ts); none by default. */
  sharedSignalFeedback: SharedSignalFeedback = NO_SHARED_SIGNAL_FEEDBACK;

  constructor(private readonly ctx: Ctx) {}

  private get store() {
    return new AppealStore(this.ctx.database.db);
  }

  /** The link token for a decision (put into the statement of reasons). */
  async tokenFor(orgId: number, decisionId: number): Promise<string> {
    const secret = await new OrgSettingsStore(this.ctx.database.db).appealSecret(orgId);
    return signAppealToken(secret, { orgId, decisionId });
  }

  private async appealable(orgId: number, decisionId: number): Promise<AppealedDecision> {
    const decision = await this.store.decision(orgId, decisionId);
    if (!decision || !APPEALABLE.has(decision.decision)) throw nothingToAppeal(decisionId);
    const order = await new OrderStore(this.ctx.database.db).orderForCase(decision.caseId);
    if (order?.non_disclosure_until && order.non_disclosure_until > this.now().toISOString())
      throw nothingToAppeal(decisionId);
    return decision;
  }

  /** The platform files on behalf of its user: by decision id or statement id. */
  async file(
    caller: AppealCaller,
    input: { decision_id?: number; statement_id?: string; appellant_id: string; statement: string },
  ): Promise<AppealView> {
    let decisionId = input.decision_id;
    if (decisionId === undefined && input.statement_id)
      decisionId = await this.store.decisionForStatement(caller.orgId, input.statement_id);
    if (decisionId === undefined) {
      if (input.statement_id) throw nothingToAppeal(0);
      throw new ValidationError('an appeal names the decision: decision_id or statement_id');
    }
    const decision = await this.appealable(caller.orgId, decisionId);
    if (!decision.uploaderId || decision.uploaderId !== input.appellant_id)
      throw new ForbiddenError(
        'only the user whose content the decision affected may appeal it',
        'KAI_ERR_APPEAL_NOT_AFFECTED',
      );
    return this.create(caller.label, decision, input.appellant_id, 'api', input.statement);
  }

  /** The affected user follows the signed link from the statement of reasons (no account needed). */
  async fileByLink(input: { token: string; statement: string }): Promise<AppealView> {
    const claims = readAppealToken(input.token);
    const secret = await new OrgSettingsStore(this.ctx.database.db)
      .appealSecret(claims.orgId)
      .catch(() => null);
    if (!secret || !appealTokenValid(secret, claims.body, claims.signature))
      throw new ForbiddenError('the appeal link is not valid', 'KAI_ERR_APPEAL_LINK');
    const decision = await this.appealable(claims.orgId, claims.decisionId);
    return this.create(
      'appeal-link',
      decision,
      decision.uploaderId ?? 'link-holder',
      'link',
      input.statement,
    );
  }

  private async create(
    actor: string,
    decision: AppealedDecision,
    appellantId: string,
    channel: 'api' | 'link',
    statement: string,
  ): Promise<AppealView> {
    const now = this.now();
    const settings = await new OrgSettingsStore(this.ctx.database.db).get(decision.orgId);
    const closes = new Date(decision.decidedAt).getTime() + settings.appealWindowDays * DAY_MS;
    if (now.getTime() > closes)
      throw new ConflictError(
        `the appeal window closed on ${new Date(closes).toISOString()} (${settings.appealWindowDays} days after the decision)`,
        'KAI_ERR_APPEAL_OUT_OF_WINDOW',
      );
    if (await this.store.openFor(decision.decisionId))
      throw new ConflictError(
        `decision ${decision.decisionId} has an open appeal already`,
        'KAI_ERR_APPEAL_EXISTS',
      );
    const evidence = JSON.parse(decision.evidence) as MatchEvidence[];
    const row = await this.ctx.mutate(actor, async (m) => {
      const appeal = await new AppealStore(m.db).insert({
        org_id: decision.orgId,
        decision_id: decision.decisionId,
        case_id: decision.caseId,
        appellant_id: appellantId,
        channel,
        statement,
        status: 'open',
        original_decider: decision.decidedBy,
        automated_detection: evidence.length > 0 ? 1 : 0,
        bank_ids: JSON.stringify(
          evidence.map((e) => ({ bank_id: e.bank.id, entry_id: e.entry.id, bank_org_id: e.bank.orgId })),
        ),
        assignee: null,
        filed_at: now.toISOString(),
        due_at: new Date(now.getTime() + APPEAL_REPLY_MS).toISOString(),
      });
      await m.audit({
        orgId: decision.orgId,
        action: 'appeal.file',
        subjectType: 'appeal',
        subjectId: appeal.id,
        detail: { decision_id: decision.decisionId, channel },
      });
      return appeal;
    });
    return appealView(row, now);
  }

  async get(orgId: number, id: number): Promise<AppealView> {
    const row = await this.store.get(orgId, id);
    if (!row) throw new NotFoundError(`appeal ${id} not found`, 'KAI_ERR_APPEAL_NOT_FOUND');
    return appealView(row, this.now());
  }

  async list(
    orgId: number,
    options: { status?: string; overdue?: boolean; cursor?: string; limit?: number },
  ): Promise<Page<AppealView>> {
    const limit = pageLimit(options.limit);
    const now = this.now();
    const rows = await this.store.list({
      orgId,
      status: options.status,
      overdueAt: options.overdue ? now.toISOString() : undefined,
      afterId: decodeCursor(options.cursor),
      limit,
    });
    return toPage(rows, limit, (r) => appealView(r, now));
  }

  async assign(caller: AppealCaller, id: number, assignee: string): Promise<AppealView> {
    const row = await this.store.get(caller.orgId, id);
    if (!row) throw new NotFoundError(`appeal ${id} not found`, 'KAI_ERR_APPEAL_NOT_FOUND');
    if (row.status !== 'open') throw new ConflictError(`appeal ${id} is decided`, 'KAI_ERR_APPEAL_STATE');
    if (assignee === row.original_decider)
      throw new ConflictError(
        'an appeal goes to a reviewer other than the one who took the decision',
        'KAI_ERR_APPEAL_OWN_DECISION',
      );
    const updated = await this.ctx.mutate(caller.label, async (m) => {
      const appeal = await new AppealStore(m.db).update(id, { assignee });
      await m.audit({
        orgId: caller.orgId,
        action: 'appeal.assign',
        subjectType: 'appeal',
        subjectId: id,
        detail: { assignee },
      });
      return appeal;
    });
    return appealView(updated, this.now());
  }

  /** A person decides: upheld, or reversed (restore, correct the statement, count against the banks). */
  async decide(
    caller: AppealCaller,
    id: number,
    input: { outcome: AppealOutcome; reply: string },
  ): Promise<AppealView> {
    const row = await this.store.get(caller.orgId, id);
    if (!row) throw new NotFoundError(`appeal ${id} not found`, 'KAI_ERR_APPEAL_NOT_FOUND');
    if (row.status !== 'open') throw new ConflictError(`appeal ${id} is decided`, 'KAI_ERR_APPEAL_STATE');
    if (caller.userId === undefined)
      throw new ForbiddenError(
        'an appeal is decided by a person (sign in), never by an API key',
        'KAI_ERR_APPEAL_NEEDS_PERSON',
      );
    if (caller.label === row.original_decider)
      throw new ForbiddenError(
        'you took the decision under appeal; another reviewer must decide it',
        'KAI_ERR_APPEAL_OWN_DECISION',
      );
    if (row.assignee && row.assignee !== caller.label)
      throw new ForbiddenError(`appeal ${id} is assigned to ${row.assignee}`, 'KAI_ERR_APPEAL_ASSIGNED');
    if (input.reply.trim().length < 10)
      throw new ValidationError('the reply to the user needs reasons (10 characters or more)');
    const now = this.now();
    const at = now.toISOString();
    const updated = await this.ctx.mutate(caller.label, async (m) => {
      const store = new AppealStore(m.db);
      let restoreId: string | null = null;
      if (input.outcome === 'reversed') {
        restoreId = randomUUID();
        const statementId = await store.correctStatement(row.decision_id, {
          reversed: true,
          reversed_at: at,
          appeal_id: id,
          reason: input.reply,
        });
        const content = await new AppealStore(m.db).caseContent(row.case_id);
        await new OrderStore(m.db).enqueueAction({
          id: restoreId,
          orgId: row.org_id,
          caseId: row.case_id,
          decisionId: row.decision_id,
          type: 'content.restore',
          payload: {
            action_id: restoreId,
            type: 'content.restore',
            case_id: row.case_id,
            appeal_id: id,
            content: { external_id: content.external_id, uploader_id: content.uploader_id },
            statement_id: statementId,
            reason: input.reply,
            created_at: at,
          },
          dueAt: at,
          now: at,
        });
        for (const hit of JSON.parse(row.bank_ids) as {
          bank_id: number;
          entry_id: number;
          bank_org_id: number;
        }[]) {
          await store.recordBankReversal({
            appealId: id,
            bankId: hit.bank_id,
            entryId: hit.entry_id,
            bankOrgId: hit.bank_org_id,
            orgId: row.org_id,
            at,
          });
          // A shared signal (another organisation's bank) was wrong here: a false-positive dispute on it.
          if (hit.bank_org_id !== row.org_id)
            await this.sharedSignalFeedback.falsePositive(
              {
                appealId: id,
                orgId: row.org_id,
                decisionId: row.decision_id,
                caseId: row.case_id,
                bankId: hit.bank_id,
                entryId: hit.entry_id,
                bankOrgId: hit.bank_org_id,
                reason: input.reply,
                at,
              },
              m,
            );
        }
      }
      const appeal = await store.update(id, {
        status: input.outcome,
        decided_at: at,
        decided_by: caller.label,
        reply: input.reply,
        restore_action_id: restoreId,
      });
      await m.audit({
        orgId: row.org_id,
        action: 'appeal.decide',
        subjectType: 'appeal',
        subjectId: id,
        detail: { outcome: input.outcome, restore_action_id: restoreId },
      });
      return appeal;
    });
    return appealView(updated, now);
  }
}
