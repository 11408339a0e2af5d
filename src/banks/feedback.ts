/**
 * Feedback on shared signals. Every organisation that sees an entry (its own bank, or a share it accepted) may say
 * it confirms it, that it is a false positive (with a reason), or that it has seen it; an appeal that reverses a
 * decision caused by another organisation's entry says "false positive" by itself. When enough organisations
 * dispute an entry (KAITIAKI_DISPUTE_THRESHOLD, default 2), it is set aside for everyone (status `disputed`: no
 * match, no verdict) until the bank's owner decides to reinstate or retire it.
 */
import { NotFoundError, ValidationError } from '../core/errors.js';
import type { BankService } from '../store/banks.js';
import type { Db } from '../store/database.js';
import { EntryService, type Entry } from '../store/entries.js';
import {
  FEEDBACK_KINDS,
  SignalFeedbackStore,
  type ContributorOpinions,
  type BankFeedback,
  type EntryOpinions,
  type Feedback,
  type FeedbackKind,
} from '../store/signal-feedback.js';
import type { Transactions, UnitOfWork } from '../store/unit-of-work.js';

/** Where feedback is written: a transaction and its audit trail (a unit of work, or an appeal's reversal). */
type Writer = { db: Db; audit: UnitOfWork['audit'] };

export interface FeedbackInput {
  kind: FeedbackKind;
  reason?: string | null;
}

export class SignalFeedbackService {
  constructor(
    private readonly transactions: Transactions,
    private readonly banks: BankService,
    private readonly db: Db,
    /** Distinct organisations whose "false positive" sets an entry aside for everyone. */
    private readonly disputeThreshold: number,
  ) {}

  /** An organisation's opinion of an entry it can see; returns the entry's opinions and status afterwards. */
  async give(
    actor: string,
    orgId: number,
    entryId: number,
    input: FeedbackInput,
  ): Promise<{ entry: Entry; opinions: EntryOpinions }> {
    if (!(FEEDBACK_KINDS as readonly string[]).includes(input.kind))
      throw new ValidationError(`kind is one of ${FEEDBACK_KINDS.join(', ')}`, 'KAI_ERR_FEEDBACK_KIND');
    const entry = await this.visibleEntry(orgId, entryId);
    return this.transactions.run(actor, (unit) =>
      this.record(unit, { entry, orgId, kind: input.kind, reason: input.reason ?? null, source: 'api' }),
    );
  }

  /** The organisation's own opinion of an entry it can see (null before it gives one), with everyone's counts. */
  async mine(
    orgId: number,
    entryId: number,
  ): Promise<{ entry: Entry; opinions: EntryOpinions; mine: Feedback | null }> {
    const entry = await this.visibleEntry(orgId, entryId);
    const store = new SignalFeedbackStore(this.db);
    const [opinions, mine] = await Promise.all([
      store.opinions(entryId),
      store.ofOrganisation(entryId, orgId),
    ]);
    return { entry, opinions, mine };
  }

  /** An entry of a bank the organisation cannot see does not exist for it. */
  private async visibleEntry(orgId: number, entryId: number): Promise<Entry> {
    const entry = (await new EntryService(this.db).getMany([entryId])).get(entryId);
    if (!entry) throw new NotFoundError(`signal ${entryId} not found`);
    await this.banks.getVisible(orgId, entry.bankId).catch(() => {
      throw new NotFoundError(`signal ${entryId} not found`);
    });
    return entry;
  }

  /** The appeal reversal's "false positive", in the reversal's own transaction. */
  async falsePositiveFromAppeal(
    unit: Writer,
    input: { orgId: number; entryId: number; reason: string },
  ): Promise<void> {
    const entry = (await new EntryService(unit.db).getMany([input.entryId])).get(input.entryId);
    if (!entry) return; // deleted since the decision: nothing left to dispute
    await this.record(unit, {
      entry,
      orgId: input.orgId,
      kind: 'false_positive',
      reason: input.reason,
      source: 'appeal',
    });
  }

  private async record(
    unit: Writer,
    input: { entry: Entry; orgId: number; kind: FeedbackKind; reason: string | null; source: string },
  ): Promise<{ entry: Entry; opinions: EntryOpinions }> {
    const { entry } = input;
    const store = new SignalFeedbackStore(unit.db);
    await store.put(
      {
        entryId: entry.id,
        bankId: entry.bankId,
        orgId: input.orgId,
        kind: input.kind,
        reason: input.reason,
        source: input.source,
      },
      new Date().toISOString(),
    );
    await unit.audit({
      orgId: input.orgId,
      action: 'signal.feedback',
      subjectType: 'entry',
      subjectId: entry.id,
      detail: { bank_id: entry.bankId, kind: input.kind, source: input.source },
    });
    const opinions = await store.opinions(entry.id);
    if (entry.status === 'active' && opinions.falsePositive >= this.disputeThreshold) {
      const disputed = await new EntryService(unit.db).update(entry.bankId, entry.id, { status: 'disputed' });
      await unit.audit({
        orgId: entry.orgId,
        action: 'entry.dispute',
        subjectType: 'entry',
        subjectId: entry.id,
        detail: {
          bank_id: entry.bankId,
          false_positive: opinions.falsePositive,
          threshold: this.disputeThreshold,
        },
      });
      return { entry: disputed, opinions };
    }
    return { entry, opinions };
  }

  /** Flood control's dispute: the organisation's uploads matched the signal far above any plausible rate. */
  async fromFlood(orgId: number, entryId: number, matches: number): Promise<void> {
    const entry = (await new EntryService(this.db).getMany([entryId])).get(entryId);
    if (!entry) return;
    await this.transactions.run('system:flood-control', (unit) =>
      this.record(unit, {
        entry,
        orgId,
        kind: 'false_positive',
        reason: `matched ${matches} uploads within an hour: a common image (logo, flag) rather than the content?`,
        source: 'flood',
      }),
    );
  }

  /** Every opinion of a bank's entries, for its owner and moderators: per entry and per organisation. */
  async ofBank(orgId: number, bankId: number): Promise<BankFeedback[]> {
    await this.banks.assertCanModerate(orgId, bankId, 'seeing every opinion');
    return new SignalFeedbackStore(this.db).ofBank(bankId);
  }

  /** Opinions of a bank's signals aggregated per contributing organisation, for its owner and moderators. */
  async byContributor(orgId: number, bankId: number): Promise<ContributorOpinions[]> {
    await this.banks.assertCanModerate(orgId, bankId, 'seeing every opinion');
    return new SignalFeedbackStore(this.db).byContributor(bankId);
  }

  /**
   * The decision on a disputed entry, by the bank's owner or an organisation with moderate rights: reinstate it
   * (matching again) or retire it. Recorded in the bank's audit trail, naming a moderator's organisation.
   */
  resolve(
    actor: string,
    orgId: number,
    bankId: number,
    entryId: number,
    decision: 'reinstate' | 'retire',
    reason: string,
  ): Promise<Entry> {
    return this.transactions.run(actor, async (unit) => {
      const bank = await unit.banks.assertCanModerate(orgId, bankId, 'deciding a dispute');
      const current = await unit.entries.get(bankId, entryId);
      if (current.status !== 'disputed')
        throw new ValidationError(
          `signal ${entryId} is ${current.status}, not disputed`,
          'KAI_ERR_NOT_DISPUTED',
        );
      const entry = await unit.entries.update(bankId, entryId, {
        status: decision === 'reinstate' ? 'active' : 'retired',
      });
      await unit.audit({
        orgId: bank.orgId,
        action: 'entry.dispute_resolve',
        subjectType: 'entry',
        subjectId: entryId,
        detail: {
          bank_id: bankId,
          decision,
          reason,
          ...(orgId === bank.orgId ? {} : { by_organisation_id: orgId }),
        },
      });
      return entry;
    });
  }
}
