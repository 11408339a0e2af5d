/** Submissions' media and uploader ids as retention and removal orders purge them. */
import type { Db } from './database.js';

export class SubmissionMediaStore {
  constructor(private readonly db: Db) {}

  /** Submissions older than `cutoff` still holding media or an uploader id (at most `limit`). */
  async dueForPurge(cutoff: string, limit = 10_000) {
    return this.db
      .selectFrom('submissions')
      .select(['id', 'org_id', 'external_id', 'media_sha256', 'uploader_id'])
      .where('created_at', '<', cutoff)
      .where('media_purged_at', 'is', null)
      .where((eb) => eb.or([eb('media_sha256', 'is not', null), eb('uploader_id', 'is not', null)]))
      .limit(limit)
      .execute();
  }

  /** Whether a submission of the organisation since `cutoff` holds the same file (then the file is kept). */
  async heldSince(orgId: number, mediaSha256: string, cutoff: string): Promise<boolean> {
    const row = await this.db
      .selectFrom('submissions')
      .select('id')
      .where('org_id', '=', orgId)
      .where('media_sha256', '=', mediaSha256)
      .where('created_at', '>=', cutoff)
      .executeTakeFirst();
    return row !== undefined;
  }

  /** Marks submissions' media as purged at `at` and forgets their uploader (the files are removed apart). */
  async purge(ids: readonly number[], at: string): Promise<void> {
    if (ids.length === 0) return;
    await this.db
      .updateTable('submissions')
      .set({ media_purged_at: at, uploader_id: null })
      .where('id', 'in', ids)
      .execute();
  }
}
