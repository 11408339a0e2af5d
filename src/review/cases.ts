/**
 * Cases: what a person reviews. Opened by matches (through submissions), user reports and alerts; listed, counted,
 * claimed, released and assigned in the review queue; each shows its evidence, its submission and its history.
 */

/**
 * Submissions, cases, decisions, actions and statements of reasons. A submission with signals gets its verdict
 * in the same request: no match, matched and acted on (a `block` policy), queued for review, or logged. Every
 * decision becomes an action in the outbox and a statement of reasons in the same transaction as the decision,
 * so a crash can lose neither; the outbox delivers it once the transaction commits.
 */
import type { Verdict } from './policy.js';
import { ConflictError, NotFoundError, ValidationError } from '../core/errors.js';
import type { Mutation, StoreAccess } from '../store/unit-of-work.js';
import type { MatchEvidence, SignalInput } from '../matching/match-service.js';
import { ApiKeyService } from '../store/api-keys.js';
import { nowIso } from '../store/database.js';
import { CaseStore, type CaseFilter, type CaseView, type QueueKey } from '../store/cases.js';
import { DecisionStore } from '../store/decisions.js';
import { EntryService } from '../store/entries.js';
import { pageLimit, type Page } from '../store/pagination.js';
import { ReportStore } from '../store/reports.js';
import { SubmissionStore } from '../store/submissions.js';
import { UserService } from '../store/users.js';

export type { CaseFilter, CaseView };

/** How long opening a case keeps it for one reviewer (renewed while the case stays open on their screen). */
export const CLAIM_MS = 10 * 60_000;

export interface ReportInput {
  kind: 'report' | 'alert';
  /** The platform's content id (reports), or absent for a URL alert about content not yet known. */
  externalId?: string;
  url?: string;
  /** Who says so: 'user', or an alert source such as 'tcap'. */
  source: string;
  /** E.g. a GIFCT behavioural label, or the group an alert attributes. */
  category?: string;
  detail?: Record<string, unknown>;
}

/** Review deadlines: urgent cases within an hour (the TCO Regulation's removal-order deadline), others a day. */
const SLA_MS: Record<string, number> = { urgent: 3_600_000, normal: 86_400_000 };

/** The queue's order: urgent before normal ('urgent' > 'normal'), then the earliest due, then the oldest case. */
interface QueueCursor {
  p: string;
  d: string;
  i: number;
}

function encodeQueueCursor(c: CaseView): string {
  return Buffer.from(JSON.stringify({ p: c.priority, d: c.dueAt, i: c.id })).toString('base64url');
}

function decodeQueueCursor(cursor: string): QueueCursor {
  try {
    const c = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')) as Partial<QueueCursor>;
    if (
      typeof c.p === 'string' &&
      typeof c.d === 'string' &&
      typeof c.i === 'number' &&
      Number.isSafeInteger(c.i)
    )
      return { p: c.p, d: c.d, i: c.i };
  } catch {
    // fall through to the error below
  }
  throw new ValidationError(
    'cursor is not one this server issued; start again without a cursor',
    'KAI_ERR_BAD_CURSOR',
  );
}

export type CaseDeps = StoreAccess;

export class CaseService {
  constructor(private readonly ctx: CaseDeps) {}

  private get db() {
    return this.ctx.database.db;
  }

  async getSubmission(orgId: number, id: number) {
    const row = await new SubmissionStore(this.db).get(orgId, id);
    if (!row) throw new NotFoundError(`submission ${id} not found`, 'KAI_ERR_SUBMISSION_NOT_FOUND');
    return {
      id: row.id,
      externalId: row.externalId,
      verdict: row.verdict as Verdict,
      caseId: row.caseId,
      signals: row.signals as SignalInput[],
      uploaderId: row.uploaderId,
      context: row.context,
      createdAt: row.createdAt,
      mediaSha256: row.mediaPurgedAt ? null : row.mediaSha256,
      mediaPurgedAt: row.mediaPurgedAt,
    };
  }

  async openCase(
    m: Mutation,
    orgId: number,
    submissionId: number,
    externalId: string,
    priority: string,
    evidence: MatchEvidence[],
  ): Promise<number> {
    const now = new Date();
    const id = await new CaseStore(m.db).insert({
      orgId,
      submissionId,
      externalId,
      priority,
      dueAt: new Date(now.getTime() + SLA_MS[priority]).toISOString(),
      evidence,
      createdAt: now.toISOString(),
    });
    await m.audit({
      orgId,
      action: 'case.open',
      subjectType: 'case',
      subjectId: id,
      detail: { submission_id: submissionId, priority },
    });
    return id;
  }

  /**
   * A user report or an alert: added to the open case for the same content when there is one, else a new case.
   * Alerts are urgent (a hub or authority flagged the URL); user reports are normal priority.
   */
  async report(
    actor: string,
    orgId: number,
    input: ReportInput,
  ): Promise<{ reportId: number; caseId: number; newCase: boolean }> {
    if (!input.externalId && !input.url)
      throw new ValidationError('a report names the content: external_id or url');
    return this.ctx.mutate(actor, async (m) => {
      const cases = new CaseStore(m.db);
      const ref = input.externalId ?? input.url!;
      const open = await cases.openIdFor(orgId, ref);
      const priority = input.kind === 'alert' ? 'urgent' : 'normal';
      let caseId = open;
      if (caseId === undefined) {
        const now = new Date();
        caseId = await cases.insert({
          orgId,
          submissionId: null,
          externalId: ref,
          priority,
          dueAt: new Date(now.getTime() + SLA_MS[priority]).toISOString(),
          evidence: [],
          createdAt: now.toISOString(),
        });
        await m.audit({
          orgId,
          action: 'case.open',
          subjectType: 'case',
          subjectId: caseId,
          detail: { from: input.kind, priority },
        });
      } else if (priority === 'urgent') {
        await cases.markChanged(caseId, 'urgent');
      } else {
        // New evidence on a case someone may have open: a decision made without seeing it is refused.
        await cases.markChanged(caseId);
      }
      const reportId = await new ReportStore(m.db).insert({
        orgId,
        caseId,
        kind: input.kind,
        externalId: input.externalId ?? null,
        url: input.url ?? null,
        source: input.source,
        category: input.category ?? null,
        detail: input.detail ?? {},
      });
      await m.audit({
        orgId,
        action: `${input.kind}.create`,
        subjectType: input.kind,
        subjectId: reportId,
        detail: { case_id: caseId, source: input.source, category: input.category ?? null },
      });
      return { reportId, caseId, newCase: open === undefined };
    });
  }

  async reports(orgId: number, caseId: number) {
    return new ReportStore(this.db).ofCase(orgId, caseId);
  }

  /**
   * The review queue: urgent before normal, then the earliest due, then the oldest; keyset paging on that
   * order (no OFFSET), so page 20 of a long queue costs what page 1 does.
   */
  async listCases(
    orgId: number,
    options: CaseFilter & { cursor?: string; limit?: number } = {},
  ): Promise<Page<CaseView>> {
    const limit = pageLimit(options.limit);
    let after: QueueKey | null = null;
    if (options.cursor) {
      const c = decodeQueueCursor(options.cursor);
      after = { priority: c.p, dueAt: c.d, id: c.i };
    }
    const rows = await new CaseStore(this.db).queue(orgId, options, after, limit + 1);
    const items = rows.slice(0, limit);
    return {
      items,
      nextCursor: rows.length > limit ? encodeQueueCursor(items[items.length - 1]) : null,
    };
  }

  /** Counts for the queue's filter buttons: per status (under the other filters) and per priority. */
  async countCases(orgId: number, filter: CaseFilter = {}): Promise<Record<string, number>> {
    const cases = new CaseStore(this.db);
    const byStatus = await cases.countsBy(orgId, filter, 'status');
    const byPriority = await cases.countsBy(orgId, filter, 'priority');
    return Object.fromEntries([...byStatus, ...byPriority]);
  }

  /**
   * Claims a case for one reviewer for CLAIM_MS (again by the same reviewer: renewed). Refused with 409 while
   * someone else's claim runs, or when the case is no longer open.
   */
  async claim(actor: string, orgId: number, caseId: number): Promise<CaseView> {
    const now = new Date();
    const claimed = await new CaseStore(this.db).claim(
      orgId,
      caseId,
      actor,
      new Date(now.getTime() + CLAIM_MS).toISOString(),
      now.toISOString(),
    );
    const current = await this.getCase(orgId, caseId);
    if (!claimed) throw await this.whyNotYours(orgId, current, actor);
    return current;
  }

  /** Gives a claim back (leaving the case, or signing out); another reviewer's claim is left alone. */
  async release(actor: string, orgId: number, caseId: number): Promise<CaseView> {
    await new CaseStore(this.db).release(orgId, caseId, actor);
    return this.getCase(orgId, caseId);
  }

  /**
   * The next case for a reviewer: the most urgent open case nobody else has claimed (their own claim first,
   * e.g. after a reload), claimed for them. Null when the queue is empty.
   */
  async next(actor: string, orgId: number, skip: number[] = []): Promise<CaseView | null> {
    for (let attempt = 0; attempt < 5; attempt++) {
      const candidate = await new CaseStore(this.db).nextFor(orgId, actor, nowIso(), skip);
      if (candidate === undefined) return null;
      try {
        return await this.claim(actor, orgId, candidate);
      } catch (err) {
        if (!(err instanceof ConflictError)) throw err; // taken meanwhile: try the next one
      }
    }
    return null;
  }

  /** The conflict to answer when a reviewer may not act on a case: closed, or claimed by someone else. */
  async whyNotYours(orgId: number, current: CaseView, actor: string): Promise<ConflictError> {
    if (current.status !== 'open')
      return new ConflictError(
        `case ${current.id} is ${current.status}, not open: someone decided it already`,
        'KAI_ERR_CASE_CLOSED',
      );
    if (current.claimedBy !== null && current.claimedBy !== actor) {
      const names = await this.displayNames(orgId, [current.claimedBy]);
      return new ConflictError(
        `case ${current.id} is being reviewed by ${names[current.claimedBy]} until ${current.claimExpiresAt}`,
        'KAI_ERR_CASE_CLAIMED',
      );
    }
    return new ConflictError(
      `case ${current.id} changed since you opened it (now version ${current.version}): look at it again before deciding`,
      'KAI_ERR_CASE_STALE',
    );
  }

  /** People's names for actor labels (`user:4` → their display name, `key:2` → the key's name). */
  async displayNames(orgId: number, labels: string[]): Promise<Record<string, string>> {
    const ids = (prefix: string) =>
      [...new Set(labels)]
        .map((l) => (l.startsWith(prefix) ? Number(l.slice(prefix.length)) : NaN))
        .filter((n) => Number.isSafeInteger(n));
    const names: Record<string, string> = Object.fromEntries(labels.map((l) => [l, l]));
    const userIds = ids('user:');
    if (userIds.length > 0)
      for (const [id, name] of await new UserService(this.db).displayNames(orgId, userIds))
        names[`user:${id}`] = name;
    const keyIds = ids('key:');
    if (keyIds.length > 0)
      for (const [id, name] of await new ApiKeyService(this.db).names(orgId, keyIds))
        names[`key:${id}`] = `API key "${name}"`;
    return names;
  }

  /** Where each case came from: `match` (hash evidence), `report`, `alert` (for the queue's source column). */
  async sourcesOf(orgId: number, cases: CaseView[]): Promise<Map<number, string[]>> {
    const sources = new Map(cases.map((c) => [c.id, c.evidence.length > 0 ? ['match'] : []]));
    if (cases.length === 0) return sources;
    const kinds = await new ReportStore(this.db).kindsOf(
      orgId,
      cases.map((c) => c.id),
    );
    for (const k of kinds) sources.get(k.caseId)?.push(k.kind);
    return sources;
  }

  /** The notes of bank entries that matched (evidence keeps ids only; the note may have been edited since). */
  async entryNotes(entryIds: number[]): Promise<Map<number, string | null>> {
    if (entryIds.length === 0) return new Map();
    return new EntryService(this.db).notes([...new Set(entryIds)]);
  }

  /** The uploader's other cases in this organisation, newest first, with their last decision. */
  async uploaderHistory(orgId: number, uploaderId: string, exceptCaseId: number) {
    const rows = await new CaseStore(this.db).ofUploader(orgId, uploaderId, exceptCaseId, 20);
    const last =
      rows.length === 0
        ? new Map<number, string>()
        : await new DecisionStore(this.db).latestOf(
            orgId,
            rows.map((r) => r.case_id),
          );
    return rows.map((r) => ({ ...r, decision: last.get(r.case_id) ?? null }));
  }

  async getCase(orgId: number, id: number): Promise<CaseView> {
    const found = await new CaseStore(this.db).get(orgId, id);
    if (!found) throw new NotFoundError(`case ${id} not found`, 'KAI_ERR_CASE_NOT_FOUND');
    return found;
  }

  async assign(actor: string, orgId: number, caseId: number, assignee: string | null): Promise<CaseView> {
    await this.getCase(orgId, caseId);
    await this.ctx.mutate(actor, async (m) => {
      await new CaseStore(m.db).setAssignee(caseId, assignee);
      await m.audit({
        orgId,
        action: 'case.assign',
        subjectType: 'case',
        subjectId: caseId,
        detail: { assignee },
      });
    });
    return this.getCase(orgId, caseId);
  }
}
