/** Opinions of organisations on shared signals (see migrations/…-signal-feedback). */
import type { Selectable } from 'kysely';
import type { Db } from './database.js';
import type { SignalFeedbackTable } from './schema.js';

export const FEEDBACK_KINDS = ['confirm', 'false_positive', 'seen'] as const;
export type FeedbackKind = (typeof FEEDBACK_KINDS)[number];

export interface Feedback {
  entryId: number;
  bankId: number;
  orgId: number;
  kind: FeedbackKind;
  reason: string | null;
  /** Where it came from: `api` (a person or a platform said so), `appeal` (a reversed decision). */
  source: string;
  createdAt: string;
  updatedAt: string;
}

/** An opinion as the bank's owner reads it: with the name of the organisation that holds it. */
export interface BankFeedback extends Feedback {
  orgName: string;
}

type FeedbackRow = Selectable<SignalFeedbackTable>;

const toFeedback = (r: FeedbackRow): Feedback => ({
  entryId: r.entry_id,
  bankId: r.bank_id,
  orgId: r.org_id,
  kind: r.kind as FeedbackKind,
  reason: r.reason,
  source: r.source,
  createdAt: r.created_at,
  updatedAt: r.updated_at,
});

export interface ContributorOpinions {
  orgId: number;
  orgName: string;
  signals: number;
  disputed: number;
  confirm: number;
  falsePositive: number;
  seen: number;
}

export interface EntryOpinions {
  entryId: number;
  confirm: number;
  falsePositive: number;
  seen: number;
}

export class SignalFeedbackStore {
  constructor(private readonly db: Db) {}

  /** Sets an organisation's one opinion of an entry (a later opinion replaces its earlier one). */
  async put(input: Omit<Feedback, 'createdAt' | 'updatedAt'>, now: string): Promise<void> {
    await this.db
      .insertInto('signal_feedback')
      .values({
        entry_id: input.entryId,
        bank_id: input.bankId,
        org_id: input.orgId,
        kind: input.kind,
        reason: input.reason,
        source: input.source,
        created_at: now,
        updated_at: now,
      })
      .onConflict((c) =>
        c.columns(['entry_id', 'org_id']).doUpdateSet({
          kind: input.kind,
          reason: input.reason,
          source: input.source,
          updated_at: now,
        }),
      )
      .execute();
  }

  /** How many organisations hold each opinion of one entry. */
  async opinions(entryId: number): Promise<EntryOpinions> {
    const rows = await this.db
      .selectFrom('signal_feedback')
      .select(['kind', (eb) => eb.fn.countAll<number>().as('n')])
      .where('entry_id', '=', entryId)
      .groupBy('kind')
      .execute();
    const count = (kind: FeedbackKind) => Number(rows.find((r) => r.kind === kind)?.n ?? 0);
    return {
      entryId,
      confirm: count('confirm'),
      falsePositive: count('false_positive'),
      seen: count('seen'),
    };
  }

  /** One organisation's opinion of one entry, if it gave one. */
  async ofOrganisation(entryId: number, orgId: number): Promise<Feedback | null> {
    const row = await this.db
      .selectFrom('signal_feedback')
      .selectAll()
      .where('entry_id', '=', entryId)
      .where('org_id', '=', orgId)
      .executeTakeFirst();
    return row ? toFeedback(row) : null;
  }

  /**
   * Per contributing organisation of a bank's entries: how many it contributed, how many of those are disputed, and
   * the opinions others gave of them (a contributor whose signals draw false positives shows here).
   */
  async byContributor(bankId: number): Promise<ContributorOpinions[]> {
    const entries = await this.db
      .selectFrom('entries')
      .innerJoin('organisations', 'organisations.id', 'entries.contributor_org_id')
      .select([
        'entries.contributor_org_id as org_id',
        'organisations.name as org_name',
        (eb) => eb.fn.countAll<number>().as('signals'),
        (eb) =>
          eb.fn
            .sum<number>(eb.case().when('entries.status', '=', 'disputed').then(1).else(0).end())
            .as('disputed'),
      ])
      .where('entries.bank_id', '=', bankId)
      .groupBy(['entries.contributor_org_id', 'organisations.name'])
      .execute();
    const opinions = await this.db
      .selectFrom('signal_feedback')
      .innerJoin('entries', 'entries.id', 'signal_feedback.entry_id')
      .select([
        'entries.contributor_org_id as org_id',
        'signal_feedback.kind',
        (eb) => eb.fn.countAll<number>().as('n'),
      ])
      .where('signal_feedback.bank_id', '=', bankId)
      .groupBy(['entries.contributor_org_id', 'signal_feedback.kind'])
      .execute();
    const count = (orgId: number, kind: FeedbackKind) =>
      Number(opinions.find((o) => Number(o.org_id) === orgId && o.kind === kind)?.n ?? 0);
    return entries
      .map((e) => {
        const orgId = Number(e.org_id);
        return {
          orgId,
          orgName: e.org_name,
          signals: Number(e.signals),
          disputed: Number(e.disputed ?? 0),
          confirm: count(orgId, 'confirm'),
          falsePositive: count(orgId, 'false_positive'),
          seen: count(orgId, 'seen'),
        };
      })
      .sort((a, b) => b.falsePositive - a.falsePositive || a.orgId - b.orgId);
  }

  /** Every opinion of a bank's entries, newest first, each with its organisation's name. */
  async ofBank(bankId: number, limit = 1000): Promise<BankFeedback[]> {
    const rows = await this.db
      .selectFrom('signal_feedback')
      .innerJoin('organisations', 'organisations.id', 'signal_feedback.org_id')
      .selectAll('signal_feedback')
      .select('organisations.name as org_name')
      .where('signal_feedback.bank_id', '=', bankId)
      .orderBy('signal_feedback.updated_at', 'desc')
      .orderBy('signal_feedback.id', 'desc')
      .limit(limit)
      .execute();
    return rows.map((r) => ({ ...toFeedback(r), orgName: r.org_name }));
  }
}
