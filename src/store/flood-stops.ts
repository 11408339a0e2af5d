/** Flood control's stops: the shared signals an organisation no longer acts on (see review/flood.ts). */
import type { Db } from './database.js';

export class FloodStopStore {
  constructor(private readonly db: Db) {}

  /** The entries the organisation stopped acting on. */
  async stoppedEntryIds(orgId: number): Promise<Set<number>> {
    const rows = await this.db
      .selectFrom('flood_stops')
      .select('entry_id')
      .where('org_id', '=', orgId)
      .execute();
    return new Set(rows.map((r) => r.entry_id));
  }

  /** Records a stop (a second one of the same signal changes nothing); in the caller's transaction. */
  async stop(orgId: number, entryId: number, matches: number): Promise<void> {
    await this.db
      .insertInto('flood_stops')
      .values({ org_id: orgId, entry_id: entryId, matches, created_at: new Date().toISOString() })
      .onConflict((c) => c.doNothing())
      .execute();
  }
}
