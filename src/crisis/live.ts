/**
 * The live side of an incident between instances. Members on their own Kaitiaki instances follow one feed of
 * every incident bank they accepted (one cursor, so an incident opened while a member was offline arrives when it
 * comes back, and no new subscription is needed per incident), and report back their own numbers per minute:
 * uploads that matched the incident bank and those blocked, and their first block. Reports carry totals per
 * minute, so a report sent twice (a retry, a restart) changes nothing.
 */
import { ValidationError } from '../core/errors.js';
import { waitForRecords, type FeedPage, type SharingFeed } from '../sharing/feed.js';
import type { BankService } from '../store/banks.js';
import type { Db } from '../store/database.js';
import type { CrisisCaller, CrisisService } from './crisis-service.js';
import type { MinuteTotals } from './member-numbers.js';

export interface IncidentCollection {
  id: number;
  incident_id: number;
  title: string;
  exercise: boolean;
}

export interface IncidentFeedPage extends Omit<FeedPage, 'collection'> {
  /** The incident banks this page may carry records of: a record of any other collection is not genuine. */
  collections: IncidentCollection[];
}

export interface TelemetryReport {
  minutes: MinuteTotals[];
  first_block_at?: string | null;
}

const MINUTE = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}$/;
export const MAX_MINUTES_PER_REPORT = 1440;

export class CrisisLive {
  constructor(
    private readonly deps: {
      db: Db;
      crisis: CrisisService;
      banks: BankService;
      sharingFeed: SharingFeed;
      /** Resolves at this process's next commit (or when the signal aborts). */
      nextCommit: (signal: AbortSignal) => Promise<void>;
    },
  ) {}

  /** Like `feed`, but with nothing after the cursor it waits up to `waitMs` for a change (a long poll). */
  feedWaiting(
    caller: CrisisCaller,
    after: number,
    waitMs: number,
    limit?: number,
  ): Promise<IncidentFeedPage> {
    return waitForRecords(() => this.feed(caller, after, limit), this.deps.nextCommit, waitMs);
  }

  /** Signed changes of every incident bank the caller can see, after one cursor. */
  async feed(caller: CrisisCaller, after: number, limit?: number): Promise<IncidentFeedPage> {
    const store = this.deps.crisis.store();
    const orgIds = [caller.orgId, ...(await store.coordinatorsOf(caller.orgId))];
    const visible = await this.deps.banks.visibleBankIds(caller.orgId);
    const banks = (await store.incidentBanks([...new Set(orgIds)])).filter((b) => visible.has(b.bank_id));
    const page = await this.deps.sharingFeed.changes(
      banks.map((b) => b.bank_id),
      after,
      limit,
    );
    return {
      collections: banks.map((b) => ({
        id: b.bank_id,
        incident_id: b.id,
        title: b.title,
        exercise: b.exercise === 1,
      })),
      ...page,
    };
  }

  /** A member's own numbers for an incident it takes part in. */
  async report(
    caller: CrisisCaller,
    incidentId: number,
    report: TelemetryReport,
  ): Promise<{ minutes: number }> {
    const incident = await this.deps.crisis.visibleIncident(caller, incidentId);
    if (report.minutes.length > MAX_MINUTES_PER_REPORT)
      throw new ValidationError(`at most ${MAX_MINUTES_PER_REPORT} minutes per report`, 'KAI_ERR_TELEMETRY');
    for (const [i, m] of report.minutes.entries()) {
      if (!MINUTE.test(m.minute) || Number.isNaN(Date.parse(`${m.minute}:00Z`)))
        throw new ValidationError(
          `minutes[${i}].minute must be a UTC minute YYYY-MM-DDTHH:MM`,
          'KAI_ERR_TELEMETRY',
        );
      if (m.blocks > m.matches)
        throw new ValidationError(`minutes[${i}]: more blocks than matches`, 'KAI_ERR_TELEMETRY');
    }
    const firstBlock = report.first_block_at ? new Date(report.first_block_at) : null;
    if (firstBlock && Number.isNaN(firstBlock.getTime()))
      throw new ValidationError('first_block_at must be an ISO 8601 date-time', 'KAI_ERR_TELEMETRY');
    await this.deps.crisis.store().putTelemetry(
      report.minutes.map((m) => ({
        incident_id: incident.id,
        member_org_id: caller.orgId,
        minute: m.minute,
        matches: m.matches,
        blocks: m.blocks,
        first_block_at: firstBlock?.toISOString() ?? null,
      })),
    );
    return { minutes: report.minutes.length };
  }
}
