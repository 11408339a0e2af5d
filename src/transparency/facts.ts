/**
 * Decision facts: what the reports count about each decision, computed once (when the decision is taken) into a
 * narrow row, so that a year's report is a GROUP BY rather than a re-read of every case's evidence.
 */
import type { MatchEvidence } from '../matching/match-service.js';
import type { Db } from '../store/database.js';
import { TransparencyStore, type DecisionFact, type Period } from '../store/transparency.js';
import type { DecisionFactsTable } from '../store/schema.js';

export type FactRow = DecisionFactsTable;

export interface FactContext {
  orderCase: boolean;
  referralCase: boolean;
  flag: { kind: string; source: string } | undefined;
}

/**
 * The detection source is what opened the case: an upload's hash match (its bank another organisation's or the
 * platform's own), else a removal order, a referral, an alert, a trusted flagger's or a user's report, else the
 * platform's own initiative.
 */
export function factOf(d: DecisionFact, orgId: number, links: FactContext): FactRow {
  const evidence = d.evidence === '[]' ? [] : (JSON.parse(d.evidence) as MatchEvidence[]);
  let source: string;
  if (d.submissionId !== null && evidence.length > 0)
    source = evidence.some((e) => e.bank.orgId !== orgId) ? 'shared_bank' : 'own_bank';
  else if (links.orderCase) source = 'removal_order';
  else if (links.referralCase) source = 'referral';
  else if (!links.flag) source = 'proactive';
  else if (links.flag.kind === 'alert') source = 'alert';
  else source = links.flag.source === 'trusted_flagger' ? 'trusted_flagger' : 'user_report';
  const context = d.context
    ? (JSON.parse(d.context) as { country?: string; content_type?: string | null })
    : {};
  const banks = new Map<number, number>();
  for (const e of evidence) banks.set(e.bank.id, e.bank.orgId);
  return {
    decision_id: d.id,
    org_id: orgId,
    created_at: d.decidedAt,
    decision: d.decision,
    automated: d.automated,
    source,
    territory: context.country ?? 'unknown',
    format: context.content_type ?? 'unknown',
    labels: JSON.stringify([...new Set(evidence.flatMap((e) => e.entry.labels))].sort()),
    banks: JSON.stringify([...banks.entries()].sort((a, b) => a[0] - b[0])),
    seconds: Math.round((new Date(d.decidedAt).getTime() - new Date(d.caseCreatedAt).getTime()) / 1000),
  };
}

/** Writes the fact row of one decision (call it in the decision's transaction). */
export async function recordDecisionFact(db: Db, decisionId: number): Promise<void> {
  const store = new TransparencyStore(db);
  const d = await store.decisionById(decisionId);
  if (!d) return;
  const bankMatch = d.submissionId !== null && d.evidence !== '[]';
  const links: FactContext = bankMatch
    ? { orderCase: false, referralCase: false, flag: undefined }
    : await store.caseLinks(d.caseId);
  await store.insertFacts([factOf(d, d.orgId, links)]);
}

/** Facts for decisions of the period that have none (taken before facts were kept, or written by other tools). */
export async function catchUpFacts(db: Db, orgId: number, period: Period): Promise<number> {
  const store = new TransparencyStore(db);
  // Two index-only counts answer the usual case (nothing missing) without joining a year of decisions.
  if ((await store.countDecisions(orgId, period)) === (await store.countFacts(orgId, period))) return 0;
  let written = 0;
  for (;;) {
    const missing = await store.decisionsWithoutFacts(orgId, period, 2000);
    if (missing.length === 0) return written;
    const [flags, orderCases, referralCases] = await Promise.all([
      store.firstFlags(orgId),
      store.orderCases(orgId),
      store.referralCases(orgId),
    ]);
    await store.insertFacts(
      missing.map((d) =>
        factOf(d, orgId, {
          orderCase: orderCases.has(d.caseId),
          referralCase: referralCases.has(d.caseId),
          flag: flags.get(d.caseId),
        }),
      ),
    );
    written += missing.length;
  }
}
