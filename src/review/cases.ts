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
import { nowIso } from '../store/database.js';
import { pageLimit, type Page } from '../store/pagination.js';
import { sql, type Selectable } from 'kysely';
import type { CasesTable } from '../store/schema.js';

export interface CaseView {
  id: number;
  orgId: number;
  submissionId: number | null;
  externalId: string | null;
  status: string;
  priority: string;
  dueAt: string;
  assignee: string | null;
  evidence: unknown[];
  createdAt: string;
  updatedAt: string;
  /** Goes up on every change a reviewer should see; a decision names the version it was made on. */
  version: number;
  /** Who has the case open now (null when nobody, or the claim has run out), and until when. */
  claimedBy: string | null;
  claimExpiresAt: string | null;
}

/** The queue's filters (all optional; combined with AND). */
export interface CaseFilter {
  status?: 'open' | 'decided';
  priority?: 'urgent' | 'normal';
  /** Where the case came from: a hash match, a user report, or an alert. */
  source?: 'match' | 'report' | 'alert';
  bankId?: number;
  label?: string;
  /** A person's label (`user:4`), `me` resolved by the caller, or `none` for unclaimed cases. */
  claimedBy?: string;
  /** The platform's content id, exactly. */
  externalId?: string;
}

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

function toCase(row: Selectable<CasesTable>, now = nowIso()): CaseView {
  const claimed = row.claimed_by !== null && row.claim_expires_at !== null && row.claim_expires_at > now;
  return {
    id: row.id,
    orgId: row.org_id,
    submissionId: row.submission_id,
    externalId: row.external_id,
    status: row.status,
    priority: row.priority,
    dueAt: row.due_at,
    assignee: row.assignee,
    evidence: JSON.parse(row.evidence) as unknown[],
    createdAt: row.created_at,
    updatedAt: row.updated_at,
    version: Number(row.version),
    claimedBy: claimed ? row.claimed_by : null,
    claimExpiresAt: claimed ? row.claim_expires_at : null,
  };
}

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

/** A LIKE pattern that finds a literal string (for the JSON evidence column). */
function likeLiteral(text: string): string {
  return text.replace(/[!%_]/g, (c) => `!${c}`);
}

export type CaseDeps = StoreAccess;

export class CaseService {
  constructor(private readonly ctx: CaseDeps) {}

  private get db() {
    return this.ctx.database.db;
  }

  async getSubmission(orgId: number, id: number) {
    const row = await this.db
      .selectFrom('submissions')
      .selectAll()
      .where('org_id', '=', orgId)
      .where('id', '=', id)
      .executeTakeFirst();
    if (!row) throw new NotFoundError(`submission ${id} not found`, 'KAI_ERR_SUBMISSION_NOT_FOUND');
    return {
      id: row.id,
      externalId: row.external_id,
      verdict: row.verdict as Verdict,
      caseId: row.case_id,
      signals: JSON.parse(row.signals) as SignalInput[],
      uploaderId: row.uploader_id,
      context: JSON.parse(row.context) as Record<string, unknown>,
      createdAt: row.created_at,
      mediaSha256: row.media_purged_at ? null : row.media_sha256,
      mediaPurgedAt: row.media_purged_at,
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
    const row = await m.db
      .insertInto('cases')
      .values({
        org_id: orgId,
        submission_id: submissionId,
        external_id: externalId,
        status: 'open',
        priority,
        due_at: new Date(now.getTime() + SLA_MS[priority]).toISOString(),
        assignee: null,
        evidence: JSON.stringify(evidence),
        created_at: now.toISOString(),
        updated_at: now.toISOString(),
      })
      .returning('id')
      .executeTakeFirstOrThrow();
    await m.audit({
      orgId,
      action: 'case.open',
      subjectType: 'case',
      subjectId: row.id,
      detail: { submission_id: submissionId, priority },
    });
    return row.id;
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
      const ref = input.externalId ?? input.url!;
      const open = await m.db
        .selectFrom('cases')
        .select('id')
        .where('org_id', '=', orgId)
        .where('external_id', '=', ref)
        .where('status', '=', 'open')
        .executeTakeFirst();
      const priority = input.kind === 'alert' ? 'urgent' : 'normal';
      let caseId = open?.id;
      if (caseId === undefined) {
        const now = new Date();
        const created = await m.db
          .insertInto('cases')
          .values({
            org_id: orgId,
            submission_id: null,
            external_id: ref,
            status: 'open',
            priority,
            due_at: new Date(now.getTime() + SLA_MS[priority]).toISOString(),
            assignee: null,
            evidence: '[]',
            created_at: now.toISOString(),
            updated_at: now.toISOString(),
          })
          .returning('id')
          .executeTakeFirstOrThrow();
        caseId = created.id;
        await m.audit({
          orgId,
          action: 'case.open',
          subjectType: 'case',
          subjectId: caseId,
          detail: { from: input.kind, priority },
        });
      } else if (priority === 'urgent') {
        await m.db
          .updateTable('cases')
          .set({ priority: 'urgent', updated_at: nowIso(), version: sql`version + 1` })
          .where('id', '=', caseId)
          .execute();
      } else {
        // New evidence on a case someone may have open: a decision made without seeing it is refused.
        await m.db
          .updateTable('cases')
          .set({ updated_at: nowIso(), version: sql`version + 1` })
          .where('id', '=', caseId)
          .execute();
      }
      const report = await m.db
        .insertInto('reports')
        .values({
          org_id: orgId,
          case_id: caseId,
          kind: input.kind,
          external_id: input.externalId ?? null,
          url: input.url ?? null,
          source: input.source,
          category: input.category ?? null,
          detail: JSON.stringify(input.detail ?? {}),
          created_at: nowIso(),
        })
        .returning('id')
        .executeTakeFirstOrThrow();
      await m.audit({
        orgId,
        action: `${input.kind}.create`,
        subjectType: input.kind,
        subjectId: report.id,
        detail: { case_id: caseId, source: input.source, category: input.category ?? null },
      });
      return { reportId: report.id, caseId, newCase: open === undefined };
    });
  }

  async reports(orgId: number, caseId: number) {
    const rows = await this.db
      .selectFrom('reports')
      .selectAll()
      .where('org_id', '=', orgId)
      .where('case_id', '=', caseId)
      .orderBy('id')
      .execute();
    return rows.map((r) => ({
      id: r.id,
      kind: r.kind,
      external_id: r.external_id,
      url: r.url,
      source: r.source,
      category: r.category,
      detail: JSON.parse(r.detail) as unknown,
      created_at: r.created_at,
    }));
  }

  /** The filters as a WHERE clause on `cases` (one of them left out, for the counts of its buttons). */
  filtered(orgId: number, filter: CaseFilter, without: 'status' | 'priority' | null = null) {
    let query = this.db.selectFrom('cases').where('cases.org_id', '=', orgId);
    if (filter.status && without !== 'status') query = query.where('cases.status', '=', filter.status);
    if (filter.priority && without !== 'priority')
      query = query.where('cases.priority', '=', filter.priority);
    if (filter.externalId !== undefined) query = query.where('cases.external_id', '=', filter.externalId);
    if (filter.source === 'match') query = query.where('cases.evidence', '!=', '[]');
    if (filter.source === 'report' || filter.source === 'alert') {
      const kind = filter.source;
      query = query.where((eb) =>
        eb.exists(
          eb
            .selectFrom('reports')
            .select('reports.id')
            .whereRef('reports.case_id', '=', 'cases.id')
            .where('reports.kind', '=', kind),
        ),
      );
    }
    if (filter.bankId !== undefined) {
      const pattern = `%"bank":{"id":${filter.bankId},%`;
      query = query.where(sql<boolean>`cases.evidence like ${pattern}`);
    }
    if (filter.label !== undefined) {
      const pattern = `%"labels":[%${likeLiteral(JSON.stringify(filter.label))}%`;
      query = query.where(sql<boolean>`cases.evidence like ${pattern} escape '!'`);
    }
    if (filter.claimedBy === 'none') {
      const now = nowIso();
      query = query.where((eb) =>
        eb.or([eb('cases.claimed_by', 'is', null), eb('cases.claim_expires_at', '<=', now)]),
      );
    } else if (filter.claimedBy !== undefined) {
      query = query
        .where('cases.claimed_by', '=', filter.claimedBy)
        .where('cases.claim_expires_at', '>', nowIso());
    }
    return query;
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
    let query = this.filtered(orgId, options).selectAll('cases');
    if (options.cursor) {
      const after = decodeQueueCursor(options.cursor);
      query = query.where((eb) =>
        eb.or([
          eb('cases.priority', '<', after.p),
          eb.and([
            eb('cases.priority', '=', after.p),
            eb.or([
              eb('cases.due_at', '>', after.d),
              eb.and([eb('cases.due_at', '=', after.d), eb('cases.id', '>', after.i)]),
            ]),
          ]),
        ]),
      );
    }
    const rows = await query
      .orderBy('cases.priority', 'desc')
      .orderBy('cases.due_at')
      .orderBy('cases.id')
      .limit(limit + 1)
      .execute();
    const now = nowIso();
    const items = rows.slice(0, limit).map((r) => toCase(r, now));
    return {
      items,
      nextCursor: rows.length > limit ? encodeQueueCursor(items[items.length - 1]) : null,
    };
  }

  /** Counts for the queue's filter buttons: per status (under the other filters) and per priority. */
  async countCases(orgId: number, filter: CaseFilter = {}): Promise<Record<string, number>> {
    const byStatus = await this.filtered(orgId, filter, 'status')
      .select(['cases.status as key', (eb) => eb.fn.countAll<number>().as('n')])
      .groupBy('cases.status')
      .execute();
    const byPriority = await this.filtered(orgId, filter, 'priority')
      .select(['cases.priority as key', (eb) => eb.fn.countAll<number>().as('n')])
      .groupBy('cases.priority')
      .execute();
    return Object.fromEntries([...byStatus, ...byPriority].map((r) => [r.key, Number(r.n)]));
  }

  /**
   * Claims a case for one reviewer for CLAIM_MS (again by the same reviewer: renewed). Refused with 409 while
   * someone else's claim runs, or when the case is no longer open.
   */
  async claim(actor: string, orgId: number, caseId: number): Promise<CaseView> {
    const now = new Date();
    const updated = await this.db
      .updateTable('cases')
      .set({ claimed_by: actor, claim_expires_at: new Date(now.getTime() + CLAIM_MS).toISOString() })
      .where('org_id', '=', orgId)
      .where('id', '=', caseId)
      .where('status', '=', 'open')
      .where((eb) =>
        eb.or([
          eb('claimed_by', 'is', null),
          eb('claimed_by', '=', actor),
          eb('claim_expires_at', '<=', now.toISOString()),
        ]),
      )
      .executeTakeFirst();
    const current = await this.getCase(orgId, caseId);
    if (Number(updated.numUpdatedRows) === 0) throw await this.whyNotYours(orgId, current, actor);
    return current;
  }

  /** Gives a claim back (leaving the case, or signing out); another reviewer's claim is left alone. */
  async release(actor: string, orgId: number, caseId: number): Promise<CaseView> {
    await this.db
      .updateTable('cases')
      .set({ claimed_by: null, claim_expires_at: null })
      .where('org_id', '=', orgId)
      .where('id', '=', caseId)
      .where('claimed_by', '=', actor)
      .execute();
    return this.getCase(orgId, caseId);
  }

  /**
   * The next case for a reviewer: the most urgent open case nobody else has claimed (their own claim first,
   * e.g. after a reload), claimed for them. Null when the queue is empty.
   */
  async next(actor: string, orgId: number, skip: number[] = []): Promise<CaseView | null> {
    for (let attempt = 0; attempt < 5; attempt++) {
      const now = nowIso();
      let query = this.db
        .selectFrom('cases')
        .select('id')
        .where('org_id', '=', orgId)
        .where('status', '=', 'open')
        .where((eb) =>
          eb.or([
            eb('claimed_by', 'is', null),
            eb('claimed_by', '=', actor),
            eb('claim_expires_at', '<=', now),
          ]),
        );
      if (skip.length > 0) query = query.where('id', 'not in', skip);
      const candidate = await query
        .orderBy('priority', 'desc')
        .orderBy('due_at')
        .orderBy('id')
        .limit(1)
        .executeTakeFirst();
      if (!candidate) return null;
      try {
        return await this.claim(actor, orgId, candidate.id);
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
      for (const u of await this.db
        .selectFrom('users')
        .select(['id', 'display_name', 'email'])
        .where('org_id', '=', orgId)
        .where('id', 'in', userIds)
        .execute())
        names[`user:${u.id}`] = u.display_name || u.email;
    const keyIds = ids('key:');
    if (keyIds.length > 0)
      for (const k of await this.db
        .selectFrom('api_keys')
        .select(['id', 'name'])
        .where('org_id', '=', orgId)
        .where('id', 'in', keyIds)
        .execute())
        names[`key:${k.id}`] = `API key "${k.name}"`;
    return names;
  }

  /** Where each case came from: `match` (hash evidence), `report`, `alert` (for the queue's source column). */
  async sourcesOf(orgId: number, cases: CaseView[]): Promise<Map<number, string[]>> {
    const sources = new Map(cases.map((c) => [c.id, c.evidence.length > 0 ? ['match'] : []]));
    if (cases.length === 0) return sources;
    const kinds = await this.db
      .selectFrom('reports')
      .select(['case_id', 'kind'])
      .distinct()
      .where('org_id', '=', orgId)
      .where(
        'case_id',
        'in',
        cases.map((c) => c.id),
      )
      .orderBy('case_id')
      .orderBy('kind')
      .execute();
    for (const k of kinds) sources.get(k.case_id)?.push(k.kind);
    return sources;
  }

  /** The notes of bank entries that matched (evidence keeps ids only; the note may have been edited since). */
  async entryNotes(entryIds: number[]): Promise<Map<number, string | null>> {
    if (entryIds.length === 0) return new Map();
    const rows = await this.db
      .selectFrom('entries')
      .select(['id', 'note'])
      .where('id', 'in', [...new Set(entryIds)])
      .execute();
    return new Map(rows.map((r) => [r.id, r.note]));
  }

  /** The uploader's other cases in this organisation, newest first, with their last decision. */
  async uploaderHistory(orgId: number, uploaderId: string, exceptCaseId: number) {
    const rows = await this.db
      .selectFrom('submissions')
      .innerJoin('cases', 'cases.id', 'submissions.case_id')
      .select(['cases.id as case_id', 'cases.status', 'cases.external_id', 'cases.created_at'])
      .where('submissions.org_id', '=', orgId)
      .where('submissions.uploader_id', '=', uploaderId)
      .where('cases.id', '!=', exceptCaseId)
      .orderBy('cases.id', 'desc')
      .limit(20)
      .execute();
    const decisions =
      rows.length === 0
        ? []
        : await this.db
            .selectFrom('decisions')
            .select(['case_id', 'decision', 'id'])
            .where('org_id', '=', orgId)
            .where(
              'case_id',
              'in',
              rows.map((r) => r.case_id),
            )
            .orderBy('id')
            .execute();
    const last = new Map(decisions.map((d) => [d.case_id, d.decision]));
    return rows.map((r) => ({ ...r, decision: last.get(r.case_id) ?? null }));
  }

  async getCase(orgId: number, id: number): Promise<CaseView> {
    const row = await this.db
      .selectFrom('cases')
      .selectAll()
      .where('org_id', '=', orgId)
      .where('id', '=', id)
      .executeTakeFirst();
    if (!row) throw new NotFoundError(`case ${id} not found`, 'KAI_ERR_CASE_NOT_FOUND');
    return toCase(row);
  }

  async assign(actor: string, orgId: number, caseId: number, assignee: string | null): Promise<CaseView> {
    await this.getCase(orgId, caseId);
    await this.ctx.mutate(actor, async (m) => {
      await m.db
        .updateTable('cases')
        .set({ assignee, updated_at: nowIso() })
        .where('id', '=', caseId)
        .execute();
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
