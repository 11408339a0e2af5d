/**
 * Decisions on cases. Every decision becomes an action in the outbox and a statement of reasons in the same
 * transaction as the decision, so a crash can lose neither; the outbox delivers it once the transaction commits.
 */

/**
 * Submissions, cases, decisions, actions and statements of reasons. A submission with signals gets its verdict
 * in the same request: no match, matched and acted on (a `block` policy), queued for review, or logged. Every
 * decision becomes an action in the outbox and a statement of reasons in the same transaction as the decision,
 * so a crash can lose neither; the outbox delivers it once the transaction commits.
 */
import { randomUUID } from 'node:crypto';
import { ConflictError, KaitiakiError, NotFoundError, ValidationError } from '../core/errors.js';
import type { Outbox } from '../actions/outbox.js';
import type { Mutation, StoreAccess } from '../store/unit-of-work.js';
import type { MatchEvidence } from '../matching/match-service.js';
import { nowIso } from '../store/database.js';
import { prepareEntry } from '../store/entries.js';
import { statementOfReasons, type Decision, type GroundType } from './statements.js';
import { signAppealToken } from '../appeals/links.js';
import { recordDecisionFact } from '../transparency/facts.js';
import { OrgSettingsStore } from '../store/org-settings.js';
import type { BankService } from '../store/banks.js';
import { CaseStore } from '../store/cases.js';
import { DecisionStore } from '../store/decisions.js';
import { StatementStore } from '../store/statements.js';
import { SubmissionStore } from '../store/submissions.js';
import type { CaseService } from './cases.js';

export interface DecisionInput {
  decision: Decision;
  groundType: GroundType;
  ground: string;
  reason: string;
  /** Hash the submission's signals into this bank, so one decision protects everyone downstream. */
  addToBankId?: number;
  /** The case version the reviewer saw; a decision on a case changed since then is refused. */
  version?: number;
}

export interface DecisionDeps extends StoreAccess {
  readonly outbox: Outbox;
  readonly banks: BankService;
  readonly cases: CaseService;
}

export class DecisionService {
  constructor(private readonly ctx: DecisionDeps) {}

  private get db() {
    return this.ctx.database.db;
  }

  async decisions(orgId: number, caseId: number) {
    return new DecisionStore(this.db).ofCase(orgId, caseId);
  }

  /** A person's decision on an open case: recorded with its action, statement and audit records in one transaction. */
  async decide(
    actor: string,
    orgId: number,
    caseId: number,
    input: DecisionInput,
  ): Promise<{ decisionId: number; actionId: string | null; statementId: string | null }> {
    const current = await this.ctx.cases.getCase(orgId, caseId);
    if (current.status !== 'open')
      throw new ConflictError(`case ${caseId} is ${current.status}, not open`, 'KAI_ERR_CASE_CLOSED');
    if (
      (input.version !== undefined && input.version !== current.version) ||
      (current.claimedBy !== null && current.claimedBy !== actor)
    )
      throw await this.ctx.cases.whyNotYours(orgId, current, actor);
    if (input.reason.trim().length < 3) throw new ValidationError('a decision needs a reason');
    const bank =
      input.addToBankId !== undefined
        ? await this.ctx.banks.assertCanContribute(orgId, input.addToBankId)
        : null;
    const submission = current.submissionId
      ? await this.ctx.cases.getSubmission(orgId, current.submissionId)
      : null;
    return this.ctx.mutate(actor, async (m) => {
      // The guard that counts: only one decision moves the case from the version it was seen at (a concurrent
      // one waits on the row and then finds the version moved), and never while someone else holds the claim.
      const now = nowIso();
      const taken = await new CaseStore(m.db).takeForDecision(
        orgId,
        caseId,
        input.version ?? current.version,
        actor,
        now,
      );
      if (!taken)
        throw await this.ctx.cases.whyNotYours(orgId, await this.ctx.cases.getCase(orgId, caseId), actor);
      const result = await this.recordDecision(m, orgId, caseId, input, actor, false);
      if (bank && submission) {
        for (const signal of submission.signals) {
          const row = prepareEntry(
            {
              signalType: signal.type,
              value: signal.value,
              note: `from case ${caseId}`,
              externalId: submission.externalId,
            },
            {
              bankId: bank.id,
              orgId: bank.orgId,
              contributorOrgId: orgId,
              source: 'submission',
              defaultLabels: bank.defaultLabels,
            },
          );
          const { entry, created } = await m.entries.add(row);
          if (created)
            await m.audit({
              orgId: bank.orgId,
              action: 'entry.create',
              subjectType: 'entry',
              subjectId: entry.id,
              detail: { bank_id: bank.id, case_id: caseId },
            });
        }
      }
      return result;
    });
  }

  /**
   * One decision applied to several cases (a selection in the queue): each case is decided on its own, with its
   * own version check, action and statement of reasons, so one refused case (changed, claimed, closed) does not
   * stop or undo the others. Answers per case.
   */
  async decideMany(
    actor: string,
    orgId: number,
    cases: { id: number; version: number }[],
    input: Omit<DecisionInput, 'version' | 'addToBankId'>,
  ): Promise<
    (
      | { id: number; decided: true; decisionId: number; statementId: string | null }
      | { id: number; decided: false; code: string; error: string }
    )[]
  > {
    if (new Set(cases.map((c) => c.id)).size !== cases.length)
      throw new ValidationError('each case may appear once in a bulk decision');
    const results = [];
    for (const c of cases) {
      try {
        const r = await this.decide(actor, orgId, c.id, { ...input, version: c.version });
        results.push({
          id: c.id,
          decided: true as const,
          decisionId: r.decisionId,
          statementId: r.statementId,
        });
      } catch (err) {
        if (!(err instanceof KaitiakiError) || err.httpStatus >= 500) throw err;
        results.push({ id: c.id, decided: false as const, code: err.code, error: err.message });
      }
    }
    return results;
  }

  async recordDecision(
    m: Mutation,
    orgId: number,
    caseId: number,
    input: DecisionInput,
    decidedBy: string,
    automated: boolean,
  ) {
    const now = nowIso();
    const cases = new CaseStore(m.db);
    const decisionId = await new DecisionStore(m.db).insert({
      caseId,
      orgId,
      decision: input.decision,
      groundType: input.groundType,
      ground: input.ground,
      reason: input.reason,
      automated,
      decidedBy,
      createdAt: now,
    });
    await recordDecisionFact(m.db, decisionId);
    const status = input.decision === 'escalate' ? 'open' : 'decided';
    await cases.settle(caseId, status, input.decision === 'escalate' ? 'urgent' : undefined, now);
    await m.audit({
      orgId,
      action: 'case.decide',
      subjectType: 'case',
      subjectId: caseId,
      detail: { decision: input.decision, ground_type: input.groundType, ground: input.ground, automated },
    });
    if (input.decision === 'escalate' || input.decision === 'no-violation')
      return { decisionId, actionId: null, statementId: null };

    const decided = await cases.byId(caseId);
    const submission = decided.submissionId
      ? await new SubmissionStore(m.db).byId(decided.submissionId)
      : undefined;
    const context = submission
      ? (submission.context as { content_type?: 'photo' | 'video' | 'other'; country?: string })
      : {};
    const evidence = decided.evidence as MatchEvidence[];
    const org = await m.organisations.get(orgId);
    const actionId = randomUUID();
    const statementId = randomUUID();
    const statement = statementOfReasons({
      statementId,
      decision: input.decision,
      groundType: input.groundType,
      ground: input.ground,
      reason: input.reason,
      automatedDetection: evidence.length > 0,
      automatedDecision: automated ? 'fully' : evidence.length > 0 ? 'partially' : 'not',
      contentType: context.content_type ?? 'other',
      contentId: decided.externalId ?? String(caseId),
      labels: [...new Set(evidence.flatMap((e) => e.entry.labels))],
      territorialScope: context.country ? [context.country] : ['EU'],
      decidedAt: now,
      contentDate: submission?.createdAt ?? now,
      platformName: org.name,
    });
    // The signed appeal link (POST /v1/appeals/by-link with this token) travels with the statement.
    const appealSecret = await new OrgSettingsStore(m.db).appealSecret(orgId);
    statement.appeal_token = signAppealToken(appealSecret, { orgId, decisionId });
    const payload = {
      action_id: actionId,
      type: `content.${input.decision}`,
      case_id: caseId,
      content: { external_id: decided.externalId, uploader_id: submission?.uploaderId ?? null },
      decision: {
        id: decisionId,
        decision: input.decision,
        ground_type: input.groundType,
        ground: input.ground,
        automated,
      },
      statement_id: statementId,
      statement_text: statement.plain_language,
      appeal_token: statement.appeal_token,
      created_at: now,
    };
    await this.ctx.outbox.enqueue(m, {
      id: actionId,
      orgId,
      caseId,
      decisionId,
      type: payload.type,
      payload,
      now,
    });
    await new StatementStore(m.db).insert({
      id: statementId,
      orgId,
      caseId,
      decisionId,
      actionId,
      body: statement,
      createdAt: now,
    });
    await m.audit({
      orgId,
      action: 'action.create',
      subjectType: 'action',
      subjectId: actionId,
      detail: { case_id: caseId, type: payload.type, statement_id: statementId },
    });
    return { decisionId, actionId, statementId };
  }

  /** Every statement of the organisation in creation order, in batches (for the transparency database). */
  async *statements(orgId: number, since = ''): AsyncGenerator<Record<string, unknown>[]> {
    let after = { createdAt: since, id: '' };
    for (;;) {
      const rows = await new StatementStore(this.db).after(orgId, after, 1000);
      if (rows.length === 0) return;
      after = rows[rows.length - 1].key;
      yield rows.map((r) => r.body);
    }
  }

  async statement(orgId: number, id: string): Promise<Record<string, unknown>> {
    const body = await new StatementStore(this.db).body(orgId, id);
    if (!body) throw new NotFoundError(`statement ${id} not found`, 'KAI_ERR_STATEMENT_NOT_FOUND');
    return body;
  }
}
