/**
 * Cases: what a person reviews, and the review queue over them (filters, keyset order, counts, claims). The rows
 * behind review/cases.ts and review/decisions.ts.
 */
import { sql, type ExpressionBuilder, type Selectable } from 'kysely';
import { nowIso, type Db } from './database.js';
import type { CasesTable, Schema } from './schema.js';

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

/** A place in the queue's order (priority descending, then due, then id): the last case of a page. */
export interface QueueKey {
  priority: string;
  dueAt: string;
  id: number;
}

export interface NewCase {
  orgId: number;
  submissionId: number | null;
  externalId: string;
  priority: string;
  dueAt: string;
  evidence: readonly unknown[];
  createdAt: string;
}

/** One of the uploader's cases, as the case page lists them. */
export interface UploaderCase {
  case_id: number;
  status: string;
  external_id: string | null;
  created_at: string;
}

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

/** A LIKE pattern that finds a literal string (for the JSON evidence column). */
function likeLiteral(text: string): string {
  return text.replace(/[!%_]/g, (c) => `!${c}`);
}

/** A case this actor may work on: unclaimed, claimed by the actor already, or whose claim has run out. */
function claimableBy(actor: string, now: string) {
  return (eb: ExpressionBuilder<Schema, 'cases'>) =>
    eb.or([eb('claimed_by', 'is', null), eb('claimed_by', '=', actor), eb('claim_expires_at', '<=', now)]);
}

export class CaseStore {
  constructor(private readonly db: Db) {}

  /** Opens a case; answers its id. */
  async insert(c: NewCase): Promise<number> {
    const row = await this.db
      .insertInto('cases')
      .values({
        org_id: c.orgId,
        submission_id: c.submissionId,
        external_id: c.externalId,
        status: 'open',
        priority: c.priority,
        due_at: c.dueAt,
        assignee: null,
        evidence: JSON.stringify(c.evidence),
        created_at: c.createdAt,
        updated_at: c.createdAt,
      })
      .returning('id')
      .executeTakeFirstOrThrow();
    return row.id;
  }

  /** The open case of the organisation about this content, if there is one. */
  async openIdFor(orgId: number, externalId: string): Promise<number | undefined> {
    const row = await this.db
      .selectFrom('cases')
      .select('id')
      .where('org_id', '=', orgId)
      .where('external_id', '=', externalId)
      .where('status', '=', 'open')
      .executeTakeFirst();
    return row?.id;
  }

  /** Something a reviewer should see changed on the case (its version goes up); urgent raises its priority. */
  async markChanged(caseId: number, priority?: 'urgent'): Promise<void> {
    await this.db
      .updateTable('cases')
      .set({ priority, updated_at: nowIso(), version: sql`version + 1` })
      .where('id', '=', caseId)
      .execute();
  }

  async get(orgId: number, id: number): Promise<CaseView | undefined> {
    const row = await this.db
      .selectFrom('cases')
      .selectAll()
      .where('org_id', '=', orgId)
      .where('id', '=', id)
      .executeTakeFirst();
    return row && toCase(row);
  }

  /** A case known to exist (Kysely's NoResultError when it does not), whatever its organisation. */
  async byId(id: number): Promise<CaseView> {
    return toCase(
      await this.db.selectFrom('cases').selectAll().where('id', '=', id).executeTakeFirstOrThrow(),
    );
  }

  /** The filters as a WHERE clause on `cases` (one of them left out, for the counts of its buttons). */
  private filtered(orgId: number, filter: CaseFilter, without: 'status' | 'priority' | null = null) {
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

  /** Up to `limit` cases of the queue in its order (urgent first, earliest due, oldest), after `after`. */
  async queue(orgId: number, filter: CaseFilter, after: QueueKey | null, limit: number): Promise<CaseView[]> {
    let query = this.filtered(orgId, filter).selectAll('cases');
    if (after) {
      query = query.where((eb) =>
        eb.or([
          eb('cases.priority', '<', after.priority),
          eb.and([
            eb('cases.priority', '=', after.priority),
            eb.or([
              eb('cases.due_at', '>', after.dueAt),
              eb.and([eb('cases.due_at', '=', after.dueAt), eb('cases.id', '>', after.id)]),
            ]),
          ]),
        ]),
      );
    }
    const rows = await query
      .orderBy('cases.priority', 'desc')
      .orderBy('cases.due_at')
      .orderBy('cases.id')
      .limit(limit)
      .execute();
    const now = nowIso();
    return rows.map((r) => toCase(r, now));
  }

  /** The filtered cases counted per status or per priority (that filter itself left out), as [value, count]. */
  async countsBy(
    orgId: number,
    filter: CaseFilter,
    column: 'status' | 'priority',
  ): Promise<[string, number][]> {
    const rows =
      column === 'status'
        ? await this.filtered(orgId, filter, 'status')
            .select(['cases.status as key', (eb) => eb.fn.countAll<number>().as('n')])
            .groupBy('cases.status')
            .execute()
        : await this.filtered(orgId, filter, 'priority')
            .select(['cases.priority as key', (eb) => eb.fn.countAll<number>().as('n')])
            .groupBy('cases.priority')
            .execute();
    return rows.map((r) => [r.key, Number(r.n)]);
  }

  /**
   * Claims an open case for `actor` until `until`, unless someone else's claim still runs at `now`; answers
   * whether it did.
   */
  async claim(orgId: number, caseId: number, actor: string, until: string, now: string): Promise<boolean> {
    const updated = await this.db
      .updateTable('cases')
      .set({ claimed_by: actor, claim_expires_at: until })
      .where('org_id', '=', orgId)
      .where('id', '=', caseId)
      .where('status', '=', 'open')
      .where(claimableBy(actor, now))
      .executeTakeFirst();
    return Number(updated.numUpdatedRows) > 0;
  }

  /** Gives back `actor`'s claim on the case (another's claim is left alone). */
  async release(orgId: number, caseId: number, actor: string): Promise<void> {
    await this.db
      .updateTable('cases')
      .set({ claimed_by: null, claim_expires_at: null })
      .where('org_id', '=', orgId)
      .where('id', '=', caseId)
      .where('claimed_by', '=', actor)
      .execute();
  }

  /** The first open case in queue order that nobody but `actor` holds at `now`, leaving out `skip`. */
  async nextFor(
    orgId: number,
    actor: string,
    now: string,
    skip: readonly number[],
  ): Promise<number | undefined> {
    let query = this.db
      .selectFrom('cases')
      .select('id')
      .where('org_id', '=', orgId)
      .where('status', '=', 'open')
      .where(claimableBy(actor, now));
    if (skip.length > 0) query = query.where('id', 'not in', skip);
    const candidate = await query
      .orderBy('priority', 'desc')
      .orderBy('due_at')
      .orderBy('id')
      .limit(1)
      .executeTakeFirst();
    return candidate?.id;
  }

  async setAssignee(caseId: number, assignee: string | null): Promise<void> {
    await this.db
      .updateTable('cases')
      .set({ assignee, updated_at: nowIso() })
      .where('id', '=', caseId)
      .execute();
  }

  /**
   * The guard of a decision: moves the open case on from `version` (its version goes up), unless someone other
   * than `actor` holds it at `now`. Answers whether it did; a concurrent decision waits on the row, then finds
   * the version moved.
   */
  async takeForDecision(
    orgId: number,
    caseId: number,
    version: number,
    actor: string,
    now: string,
  ): Promise<boolean> {
    const guard = await this.db
      .updateTable('cases')
      .set({ version: sql`version + 1` })
      .where('id', '=', caseId)
      .where('org_id', '=', orgId)
      .where('status', '=', 'open')
      .where('version', '=', version)
      .where(claimableBy(actor, now))
      .executeTakeFirst();
    return Number(guard.numUpdatedRows) > 0;
  }

  /** A decision was recorded: the case takes its status (and `urgent`, when escalated), and its claim ends. */
  async settle(caseId: number, status: string, priority: 'urgent' | undefined, at: string): Promise<void> {
    await this.db
      .updateTable('cases')
      .set({
        status,
        priority,
        updated_at: at,
        version: sql`version + 1`,
        claimed_by: null,
        claim_expires_at: null,
      })
      .where('id', '=', caseId)
      .execute();
  }

  /** The cases of the organisation opened by this uploader's submissions, newest first (at most `limit`). */
  async ofUploader(
    orgId: number,
    uploaderId: string,
    exceptCaseId: number,
    limit = 20,
  ): Promise<UploaderCase[]> {
    return this.db
      .selectFrom('submissions')
      .innerJoin('cases', 'cases.id', 'submissions.case_id')
      .select(['cases.id as case_id', 'cases.status', 'cases.external_id', 'cases.created_at'])
      .where('submissions.org_id', '=', orgId)
      .where('submissions.uploader_id', '=', uploaderId)
      .where('cases.id', '!=', exceptCaseId)
      .orderBy('cases.id', 'desc')
      .limit(limit)
      .execute();
  }
}
