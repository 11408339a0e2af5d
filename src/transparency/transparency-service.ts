/** Builds a report of the kind the organisation is, for a period, in the asked format. */
import type { OrgSettingsStore } from '../store/org-settings.js';
import type { OrganisationService } from '../store/organisations.js';
import type { StoreAccess } from '../store/unit-of-work.js';
import { ForbiddenError, NotFoundError } from '../core/errors.js';
import type { Period } from '../store/transparency.js';
import { companyReport } from './company-report.js';
import { NO_CRISIS_PERIODS, type CrisisPeriodSource } from './crisis-periods.js';
import { governmentReport } from './government-report.js';
import { hubReport } from './hub-report.js';
import { reportCsv, reportHtml, type ReportFormat } from './render.js';

export const REPORT_KINDS = ['company', 'government', 'hub'] as const;
export type ReportKind = (typeof REPORT_KINDS)[number];

/** Which organisation kinds each report is for. */
const KIND_OF_REPORT: Record<ReportKind, readonly string[]> = {
  company: ['platform', 'instance', 'civil-society', 'research'],
  government: ['authority', 'government'],
  hub: ['hub'],
};

type Ctx = Pick<StoreAccess, 'database'> & {
  readonly organisations: OrganisationService;
  readonly orgSettings: OrgSettingsStore;
};

export class TransparencyService {
  /** Where the company and hub reports find crisis periods (see crisis-periods.ts); none by default. */
  crisisPeriods: CrisisPeriodSource = NO_CRISIS_PERIODS;

  constructor(private readonly ctx: Ctx) {}

  async build(
    orgId: number,
    kind: ReportKind,
    period: Period,
    now = new Date(),
  ): Promise<Record<string, unknown>> {
    const org = await this.ctx.organisations.get(orgId);
    if (!KIND_OF_REPORT[kind].includes(org.kind))
      throw new ForbiddenError(
        `a ${kind} report is for organisations of kind ${KIND_OF_REPORT[kind].join(' or ')}; this one is ${org.kind}`,
        'KAI_ERR_REPORT_KIND',
      );
    const db = this.ctx.database.db;
    const who = { id: org.id, name: org.name };
    const report =
      kind === 'company'
        ? await companyReport(db, who, period, now, this.crisisPeriods)
        : kind === 'government'
          ? await governmentReport(db, who, period, now)
          : await hubReport(db, who, period, now, this.crisisPeriods);
    return report as unknown as Record<string, unknown>;
  }

  /** Published reports, kept a while: the public URL must not let anyone make the server recount a year at will. */
  private readonly published = new Map<string, { report: Record<string, unknown>; until: number }>();
  static readonly PUBLISHED_TTL_MS = 10 * 60_000;
  static readonly PUBLISHED_MAX = 200;

  /** The public copy: only when the organisation chose to publish its reports. */
  async buildPublished(orgId: number, kind: ReportKind, period: Period): Promise<Record<string, unknown>> {
    const settings = await this.ctx.orgSettings.get(orgId);
    if (!settings.publishReports)
      throw new NotFoundError('no published report here', 'KAI_ERR_REPORT_NOT_PUBLISHED');
    const key = `${orgId}|${kind}|${period.from}|${period.to}`;
    const cached = this.published.get(key);
    if (cached && cached.until > Date.now()) return cached.report;
    const report = await this.build(orgId, kind, period);
    if (this.published.size >= TransparencyService.PUBLISHED_MAX)
      this.published.delete(this.published.keys().next().value!);
    this.published.set(key, { report, until: Date.now() + TransparencyService.PUBLISHED_TTL_MS });
    return report;
  }

  render(report: Record<string, unknown>, format: ReportFormat): { body: string; contentType: string } {
    if (format === 'csv') return { body: reportCsv(report), contentType: 'text/csv; charset=utf-8' };
    if (format === 'html') return { body: reportHtml(report), contentType: 'text/html; charset=utf-8' };
    return { body: JSON.stringify(report, null, 2) + '\n', contentType: 'application/json; charset=utf-8' };
  }
}
