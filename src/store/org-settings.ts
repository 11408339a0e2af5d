/** Per-organisation settings for orders, appeals and reports (hosts, appeal window, publication). */
import { randomBytes } from 'node:crypto';
import { nowIso, type Db } from './database.js';

export interface OrgSettings {
  orgId: number;
  hosts: string[];
  appealWindowDays: number;
  publishReports: boolean;
}

/** DSA Art. 20(1): complaints possible for at least six months after the decision. */
export const DEFAULT_APPEAL_WINDOW_DAYS = 183;

export class OrgSettingsStore {
  constructor(private readonly db: Db) {}

  async get(orgId: number): Promise<OrgSettings> {
    const row = await this.db
      .selectFrom('org_settings')
      .selectAll()
      .where('org_id', '=', orgId)
      .executeTakeFirst();
    return {
      orgId,
      hosts: row ? (JSON.parse(row.hosts) as string[]) : [],
      appealWindowDays: row?.appeal_window_days ?? DEFAULT_APPEAL_WINDOW_DAYS,
      publishReports: row ? row.publish_reports === 1 : false,
    };
  }

  /** The key that signs this organisation's appeal links; made on first use. */
  async appealSecret(orgId: number): Promise<string> {
    const row = await this.db
      .selectFrom('org_settings')
      .select('appeal_link_secret')
      .where('org_id', '=', orgId)
      .executeTakeFirst();
    if (row) return row.appeal_link_secret;
    await this.put(orgId, {});
    return this.appealSecret(orgId);
  }

  async put(
    orgId: number,
    changes: Partial<Pick<OrgSettings, 'hosts' | 'appealWindowDays' | 'publishReports'>>,
  ): Promise<OrgSettings> {
    const current = await this.get(orgId);
    const next = { ...current, ...changes };
    const values = {
      hosts: JSON.stringify(next.hosts),
      appeal_window_days: next.appealWindowDays,
      publish_reports: next.publishReports ? 1 : 0,
      updated_at: nowIso(),
    };
    await this.db
      .insertInto('org_settings')
      .values({ org_id: orgId, appeal_link_secret: randomBytes(32).toString('hex'), ...values })
      .onConflict((oc) => oc.column('org_id').doUpdateSet(values))
      .execute();
    return next;
  }

  /** The platform organisations that declared a host. */
  async hostOwners(host: string): Promise<number[]> {
    const rows = await this.db.selectFrom('org_settings').select(['org_id', 'hosts']).execute();
    return rows.filter((r) => (JSON.parse(r.hosts) as string[]).includes(host)).map((r) => r.org_id);
  }
}
