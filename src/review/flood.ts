/**
 * Flood control. A shared signal that matches one organisation's uploads far above any plausible rate (a common
 * logo or flag that slipped into someone's list) would flood its queue or remove innocent posts. Past the limit
 * (KAITIAKI_FLOOD_LIMIT_PER_HOUR matches within an hour, counted per process) the organisation stops acting on
 * that signal (a stop kept in the store), an urgent case is opened so a person looks at it, and a false-positive
 * dispute goes to the signal's owner. The organisation's own signals are never stopped this way.
 */
import type { Logger } from '../core/logger.js';
import type { MatchEvidence } from '../matching/match-service.js';
import { FloodStopStore } from '../store/flood-stops.js';
import type { StoreAccess } from '../store/unit-of-work.js';
import type { CaseService } from './cases.js';

const HOUR_MS = 3_600_000;

export interface FloodDeps extends StoreAccess {
  readonly limitPerHour: number;
  readonly cases: CaseService;
  readonly dispute: (orgId: number, entryId: number, matches: number) => Promise<void>;
  readonly logger: Logger;
}

export class FloodGuard {
  /** Per organisation and entry: when the current hour's count started, and the count. */
  private readonly counts = new Map<string, { since: number; n: number }>();
  /** Per organisation: the entries it stopped acting on (loaded once, kept in step with new stops). */
  private readonly stops = new Map<number, Promise<Set<number>>>();

  constructor(private readonly ctx: FloodDeps) {}

  private stopped(orgId: number): Promise<Set<number>> {
    let stops = this.stops.get(orgId);
    if (!stops) {
      stops = new FloodStopStore(this.ctx.database.db).stoppedEntryIds(orgId);
      this.stops.set(orgId, stops);
    }
    return stops;
  }

  /** The matches the organisation still acts on: stopped signals left out, counting shared ones as they come. */
  async screen(orgId: number, matches: MatchEvidence[], now = Date.now()): Promise<MatchEvidence[]> {
    if (matches.length === 0) return matches;
    const stopped = await this.stopped(orgId);
    const acting: MatchEvidence[] = [];
    for (const match of matches) {
      if (stopped.has(match.entry.id)) continue;
      if (match.bank.orgId !== orgId && this.count(orgId, match.entry.id, now) > this.ctx.limitPerHour) {
        stopped.add(match.entry.id);
        await this.stop(orgId, match);
        continue;
      }
      acting.push(match);
    }
    return acting;
  }

  private count(orgId: number, entryId: number, now: number): number {
    const key = `${orgId}:${entryId}`;
    const current = this.counts.get(key);
    if (!current || now - current.since > HOUR_MS) {
      this.counts.set(key, { since: now, n: 1 });
      return 1;
    }
    return ++current.n;
  }

  private async stop(orgId: number, match: MatchEvidence): Promise<void> {
    const matches = this.ctx.limitPerHour + 1;
    await this.ctx.mutate('system:flood-control', async (unit) => {
      await new FloodStopStore(unit.db).stop(orgId, match.entry.id, matches);
      await unit.audit({
        orgId,
        action: 'signal.flood_stop',
        subjectType: 'entry',
        subjectId: match.entry.id,
        detail: { bank_id: match.bank.id, matches_in_hour: matches },
      });
    });
    this.ctx.logger.warn(
      { org: orgId, entry: match.entry.id, bank: match.bank.id },
      'a shared signal matched too often: no longer acted on',
    );
    await this.ctx.cases.report('system:flood-control', orgId, {
      kind: 'alert',
      externalId: `signal:${match.entry.id}`,
      source: 'flood-control',
      category: 'shared signal flood',
      detail: { entry_id: match.entry.id, bank: match.bank.name, matches_in_hour: matches },
    });
    await this.ctx.dispute(orgId, match.entry.id, matches);
  }
}
