/**
 * HMA's `disable_until_ts`: content disabled until a time comes back by itself when that time passes. `serve`
 * runs this every minute; it enables the entries whose time has passed, each change audited (BankWrites).
 */
import type { BankWrites } from './bank-writes.js';
import { EntryService } from '../store/entries.js';
import type { Db } from '../store/database.js';

/** Enables the entries disabled through HMA until a time before `now` (ms); returns how many. */
export async function enableExpiredHmaContent(
  ctx: { database: { db: Db }; bankWrites: BankWrites },
  now = Date.now(),
): Promise<number> {
  const candidates = await new EntryService(ctx.database.db).disabledUntilCandidates();
  let enabled = 0;
  for (const row of candidates) {
    const until = row.hma.disable_until_ts;
    if (until === undefined || until <= 1 || until * 1000 > now) continue;
    if (await ctx.bankWrites.enableExpiredHmaEntry(row)) enabled++;
  }
  return enabled;
}
