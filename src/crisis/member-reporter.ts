/**
 * The member side of the live numbers: for each `kaitiaki-crisis` subscription, this instance counts its own
 * uploads that matched the hub's incident banks (labels `incident:<id>`), per incident and UTC minute, and those
 * it blocked, and reports the totals to the hub. Totals, not increments: a report that failed is sent again at
 * the next run, and one sent twice changes nothing. The counts are rebuilt from the submissions themselves, so a
 * restart loses nothing.
 */
import { sourceRequest } from '../sources/fetch.js';
import { kaitiakiCrisisSource } from '../sources/kaitiaki-crisis.js';
import type { SourceDeps } from '../sources/source.js';
import { incidentAnswers } from '../store/crisis.js';
import type { Db } from '../store/database.js';
import type { Subscription } from '../store/sources.js';
import type { MinuteTotals } from './member-numbers.js';

interface IncidentCounts {
  minutes: Map<string, { matches: number; blocks: number }>;
  firstBlockAt: string | null;
  dirty: Set<string>;
}

interface Answer {
  action: string | null;
  matches: { bank: { id: number }; entry: { labels: string[] } }[];
}

const PAGE = 5000;

export class MemberCrisisReporter {
  /** Per subscription: the last submission counted and the counts per hub incident. */
  private readonly state = new Map<number, { lastId: number; incidents: Map<number, IncidentCounts> }>();

  constructor(
    private readonly deps: {
      db: Db;
      subscriptions: () => Promise<Subscription[]>;
      sources: SourceDeps;
      log: (message: string, detail: object) => void;
    },
  ) {}

  async runOnce(): Promise<{ reported: number }> {
    let reported = 0;
    for (const subscription of await this.deps.subscriptions()) {
      if (
        subscription.kind !== kaitiakiCrisisSource.name ||
        !subscription.enabled ||
        subscription.bankId === null
      )
        continue;
      await this.count(subscription);
      reported += await this.report(subscription);
    }
    return { reported };
  }

  private async count(subscription: Subscription): Promise<void> {
    const state = this.state.get(subscription.id) ?? {
      lastId: 0,
      incidents: new Map<number, IncidentCounts>(),
    };
    this.state.set(subscription.id, state);
    for (;;) {
      const rows = await incidentAnswers(this.deps.db, subscription.orgId, state.lastId, PAGE);
      for (const row of rows) this.add(state.incidents, subscription.bankId!, row);
      if (rows.length > 0) state.lastId = rows.at(-1)!.id;
      if (rows.length < PAGE) return;
    }
  }

  private add(
    incidents: Map<number, IncidentCounts>,
    mirrorBankId: number,
    row: { created_at: string; answer: string },
  ): void {
    const answer = JSON.parse(row.answer) as Answer;
    const ids = new Set<number>();
    for (const match of answer.matches)
      if (match.bank.id === mirrorBankId)
        for (const label of match.entry.labels)
          if (label.startsWith('incident:')) ids.add(Number(label.slice('incident:'.length)));
    const minute = row.created_at.slice(0, 16);
    const blocked = answer.action === 'block';
    for (const id of ids) {
      if (!Number.isSafeInteger(id)) continue;
      const counts = incidents.get(id) ?? {
        minutes: new Map(),
        firstBlockAt: null,
        dirty: new Set<string>(),
      };
      incidents.set(id, counts);
      const totals = counts.minutes.get(minute) ?? { matches: 0, blocks: 0 };
      totals.matches += 1;
      if (blocked) totals.blocks += 1;
      counts.minutes.set(minute, totals);
      counts.dirty.add(minute);
      if (blocked && (counts.firstBlockAt === null || row.created_at < counts.firstBlockAt))
        counts.firstBlockAt = row.created_at;
    }
  }

  /** Sends each incident's changed minutes; what the hub did not take stays to send next time. */
  private async report(subscription: Subscription): Promise<number> {
    const config = kaitiakiCrisisSource.parseConfig(subscription.config, this.deps.sources);
    let reported = 0;
    for (const [incidentId, counts] of this.state.get(subscription.id)!.incidents) {
      if (counts.dirty.size === 0) continue;
      const minutes: MinuteTotals[] = [...counts.dirty]
        .sort()
        .map((minute) => ({ minute, ...counts.minutes.get(minute)! }));
      const url = new URL(`v1/crisis/incidents/${incidentId}/telemetry`, config.hubUrl).toString();
      try {
        const response = await sourceRequest(
          'POST',
          url,
          { authorization: `Bearer ${config.apiKey}`, 'content-type': 'application/json' },
          JSON.stringify({ minutes, first_block_at: counts.firstBlockAt }),
          this.deps.sources,
        );
        if (response.status !== 200) throw new Error(`HTTP ${response.status}`);
        counts.dirty.clear();
        reported += minutes.length;
      } catch (err) {
        this.deps.log('crisis numbers not reported to the hub; retried at the next run', {
          subscription: subscription.id,
          incident: incidentId,
          err: (err as Error).message,
        });
      }
    }
    return reported;
  }
}
