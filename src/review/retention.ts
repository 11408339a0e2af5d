/**
 * Retention: uploaded media and uploader ids are kept for the configured period (a reviewer may need them), then
 * deleted; the submission's record and verdict stay.
 */

/**
 * Submissions, cases, decisions, actions and statements of reasons. A submission with signals gets its verdict
 * in the same request: no match, matched and acted on (a `block` policy), queued for review, or logged. Every
 * decision becomes an action in the outbox and a statement of reasons in the same transaction as the decision,
 * so a crash can lose neither; the outbox delivers it once the transaction commits.
 */
import { SubmissionMediaStore } from '../store/submission-media.js';
import type { OrdersService } from '../orders/orders-service.js';
import type { Config } from '../config/config.js';
import type { MediaStore } from '../media/media-store.js';
import type { StoreAccess } from '../store/unit-of-work.js';

export interface RetentionDeps extends StoreAccess {
  readonly config: Config;
  readonly media: MediaStore;
  /** Which content a removal order's preservation still holds. */
  readonly orders: Pick<OrdersService, 'preservedContent'>;
}

export class RetentionService {
  constructor(private readonly ctx: RetentionDeps) {}

  private get db() {
    return this.ctx.database.db;
  }

  /**
   * Retention: media and uploader ids of submissions older than the retention period are deleted (files removed,
   * ids cleared), with one audit record per run. Signals, verdicts, decisions and statements stay: they are the
   * record that transparency reports and appeals rely on.
   */
  async purgeExpired(now = new Date()): Promise<{ media: number; uploaderIds: number; cutoff: string }> {
    const cutoff = new Date(now.getTime() - this.ctx.config.retention.mediaDays * 86_400_000).toISOString();
    // Content removed after a removal order stays while its TCO Art. 6 preservation (maybe extended) runs.
    const preserved = await this.ctx.orders.preservedContent(now);
    const due = (await new SubmissionMediaStore(this.db).dueForPurge(cutoff)).filter(
      (r) => !preserved.get(r.org_id)?.has(r.external_id),
    );
    let media = 0;
    let uploaderIds = 0;
    for (const row of due) {
      if (row.media_sha256) {
        // The same file may belong to a newer submission still within the period: keep it then.
        const newer = await new SubmissionMediaStore(this.db).heldSince(row.org_id, row.media_sha256, cutoff);
        if (!newer && (await this.ctx.media.delete(row.org_id, row.media_sha256))) media++;
      }
      if (row.uploader_id) uploaderIds++;
    }
    if (due.length > 0) {
      await this.ctx.mutate('system:retention', async (m) => {
        await new SubmissionMediaStore(m.db).purge(
          due.map((r) => r.id),
          now.toISOString(),
        );
        await m.audit({
          orgId: null,
          action: 'retention.purge',
          subjectType: 'submissions',
          subjectId: `before ${cutoff}`,
          detail: {
            submissions: due.length,
            media,
            uploader_ids: uploaderIds,
            retention_days: this.ctx.config.retention.mediaDays,
          },
        });
      });
    }
    return { media, uploaderIds, cutoff };
  }
}
