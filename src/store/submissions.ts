/**
 * Submissions: content a platform sent for a verdict, with the signals, context and answer it was given (see
 * review/submissions.ts). Retention's media purge is in submission-media.ts.
 */
import type { Selectable } from 'kysely';
import type { Db } from './database.js';
import type { SubmissionsTable } from './schema.js';

export interface SubmissionRecord {
  id: number;
  orgId: number;
  externalId: string;
  idempotencyKey: string | null;
  /** SHA-256 of the request as the Idempotency-Key check compares it. */
  requestHash: string;
  signals: unknown[];
  uploaderId: string | null;
  context: Record<string, unknown>;
  verdict: string;
  caseId: number | null;
  createdAt: string;
  /** The stored media's digest (still set after the media was purged: see mediaPurgedAt). */
  mediaSha256: string | null;
  mediaPurgedAt: string | null;
  /** The first answer to a synchronous submission (`{action, matches}`); null for older or pending ones. */
  answer: unknown;
}

export interface NewSubmission {
  orgId: number;
  externalId: string;
  idempotencyKey: string | null;
  requestHash: string;
  signals: readonly unknown[];
  uploaderId: string | null;
  context: Record<string, unknown>;
  verdict: string;
  createdAt: string;
  mediaSha256: string | null;
  /** The answer given, kept for a replay (left out: none yet, as for a pending submission). */
  answer?: unknown;
}

function toSubmission(row: Selectable<SubmissionsTable>): SubmissionRecord {
  return {
    id: row.id,
    orgId: row.org_id,
    externalId: row.external_id,
    idempotencyKey: row.idempotency_key,
    requestHash: row.request_hash,
    signals: JSON.parse(row.signals) as unknown[],
    uploaderId: row.uploader_id,
    context: JSON.parse(row.context) as Record<string, unknown>,
    verdict: row.verdict,
    caseId: row.case_id,
    createdAt: row.created_at,
    mediaSha256: row.media_sha256,
    mediaPurgedAt: row.media_purged_at,
    answer: row.answer ? (JSON.parse(row.answer) as unknown) : null,
  };
}

export class SubmissionStore {
  constructor(private readonly db: Db) {}

  /** Records a submission (a repeated Idempotency-Key fails on the unique index); answers its id. */
  async insert(s: NewSubmission): Promise<number> {
    const row = await this.db
      .insertInto('submissions')
      .values({
        org_id: s.orgId,
        external_id: s.externalId,
        idempotency_key: s.idempotencyKey,
        request_hash: s.requestHash,
        signals: JSON.stringify(s.signals),
        uploader_id: s.uploaderId,
        context: JSON.stringify(s.context),
        verdict: s.verdict,
        case_id: null,
        created_at: s.createdAt,
        media_sha256: s.mediaSha256,
        answer: s.answer === undefined ? undefined : JSON.stringify(s.answer),
      })
      .returning('id')
      .executeTakeFirstOrThrow();
    return row.id;
  }

  async get(orgId: number, id: number): Promise<SubmissionRecord | undefined> {
    const row = await this.db
      .selectFrom('submissions')
      .selectAll()
      .where('org_id', '=', orgId)
      .where('id', '=', id)
      .executeTakeFirst();
    return row && toSubmission(row);
  }

  /** A submission whatever its organisation (background work and decisions, which know the id). */
  async byId(id: number): Promise<SubmissionRecord | undefined> {
    const row = await this.db.selectFrom('submissions').selectAll().where('id', '=', id).executeTakeFirst();
    return row && toSubmission(row);
  }

  async byIdempotencyKey(orgId: number, key: string): Promise<SubmissionRecord | undefined> {
    const row = await this.db
      .selectFrom('submissions')
      .selectAll()
      .where('org_id', '=', orgId)
      .where('idempotency_key', '=', key)
      .executeTakeFirst();
    return row && toSubmission(row);
  }

  /** The case the submission opened. */
  async setCase(id: number, caseId: number): Promise<void> {
    await this.db.updateTable('submissions').set({ case_id: caseId }).where('id', '=', id).execute();
  }

  /** The media fetched for a URL submission, now stored. */
  async setMedia(id: number, mediaSha256: string): Promise<void> {
    await this.db
      .updateTable('submissions')
      .set({ media_sha256: mediaSha256 })
      .where('id', '=', id)
      .execute();
  }

  /** A pending submission's signals and verdict; false when it was no longer pending (another process's). */
  async recordVerdict(id: number, signals: readonly unknown[], verdict: string): Promise<boolean> {
    const updated = await this.db
      .updateTable('submissions')
      .set({ signals: JSON.stringify(signals), verdict })
      .where('id', '=', id)
      .where('verdict', '=', 'pending')
      .executeTakeFirst();
    return Number(updated.numUpdatedRows) > 0;
  }

  /** The submissions still waiting for their signals, oldest first. */
  async pendingIds(): Promise<number[]> {
    const rows = await this.db
      .selectFrom('submissions')
      .select('id')
      .where('verdict', '=', 'pending')
      .orderBy('id')
      .execute();
    return rows.map((r) => r.id);
  }
}
