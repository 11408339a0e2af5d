/**
 * HMA's `disable_until_ts`: content disabled until a time comes back by itself when that time passes. `serve`
 * runs this every minute; it enables the entries whose time has passed, each change audited.
 */
import type { StoreAccess } from '../store/unit-of-work.js';
import { EntryService } from '../store/entries.js';

/** Enables the entries disabled through HMA until a time before `now` (ms); returns how many. */
export async function enableExpiredHmaContent(ctx: StoreAccess, now = Date.now()): Promise<number> {
  const candidates = await new EntryService(ctx.database.db).disabledUntilCandidates();
  const due = candidates.filter((row) => {
    const until = row.hma.disable_until_ts;
    return until !== undefined && until > 1 && until * 1000 <= now;
  });
  let enabled = 0;
  for (const row of due) {
    enabled += await ctx.mutate('system', async (m) => {
      // Still disabled (another process or a person may have acted since the scan)?
      if ((await m.entries.statusOf(row.id)) !== 'disabled') return 0;
      await m.entries.update(row.bankId, row.id, { status: 'active' });
      await m.audit({
        orgId: row.orgId,
        action: 'entry.update',
        subjectType: 'entry',
        subjectId: row.id,
        detail: {
          bank_id: row.bankId,
          changes: { status: 'active' },
          reason: 'disable_until_ts passed',
          via: 'hma',
        },
      });
      return 1;
    });
  }
  return enabled;
}
