/**
 * Crisis activations as the crisis periods of transparency reports (src/transparency/crisis-periods.ts): every
 * activation that went live, of real incidents the organisation coordinated or took part in. Exercises are never
 * counted.
 */
import { liveActivations } from '../store/crisis.js';
import type { Db } from '../store/database.js';
import type { CrisisPeriod, CrisisPeriodSource } from '../transparency/crisis-periods.js';

export class CrisisActivationPeriods implements CrisisPeriodSource {
  constructor(private readonly db: Db) {}

  async periods(orgId: number, from: string, to: string): Promise<CrisisPeriod[]> {
    return (await liveActivations(this.db, orgId, from, to)).map((a) => ({
      id: `activation:${a.id}`,
      name: `${a.title} (${a.key}${a.type_key ? ` ${a.type_key}` : ''})`,
      from: a.activated_at,
      to: a.concluded_at,
    }));
  }
}
