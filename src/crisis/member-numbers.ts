/** Members' live numbers for an incident, from the per-minute totals they report (see live.ts). */
import type { CrisisStore, TelemetryRow } from '../store/crisis.js';

export interface MinuteTotals {
  /** UTC minute, `YYYY-MM-DDTHH:MM`. */
  minute: string;
  matches: number;
  blocks: number;
}

export interface MemberLive {
  organisation_id: number;
  matches: number;
  blocks: number;
  first_block_at: string | null;
  /** The last 60 reported minutes, oldest first. */
  per_minute: MinuteTotals[];
}

/** Per member: totals, the first block and the last hour's minutes. */
export function membersLive(rows: readonly TelemetryRow[]): MemberLive[] {
  const byMember = new Map<number, TelemetryRow[]>();
  for (const row of rows) byMember.set(row.member_org_id, [...(byMember.get(row.member_org_id) ?? []), row]);
  return [...byMember.entries()]
    .sort(([a], [b]) => a - b)
    .map(([orgId, minutes]) => ({
      organisation_id: orgId,
      matches: minutes.reduce((n, m) => n + m.matches, 0),
      blocks: minutes.reduce((n, m) => n + m.blocks, 0),
      first_block_at:
        minutes
          .map((m) => m.first_block_at)
          .filter((at): at is string => at !== null)
          .sort()[0] ?? null,
      per_minute: minutes.slice(-60).map((m) => ({ minute: m.minute, matches: m.matches, blocks: m.blocks })),
    }));
}

export async function liveNumbers(store: CrisisStore, incidentId: number): Promise<MemberLive[]> {
  return membersLive(await store.telemetry(incidentId));
}
