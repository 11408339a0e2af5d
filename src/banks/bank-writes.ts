/**
 * Every change to banks, their shares and their entries, each as one unit of work: the write, its audit record,
 * and what must follow the commit (the bank rules reloaded, cached share policies forgotten; the index catches up
 * after every commit). The HTTP API, the HMA facade and the CLI call these and nothing else to change a bank.
 */
import type { Bank, BankInput, BankShare, BankUpdate, IncomingShare } from '../store/banks.js';
import type { Entry, EntryUpdate } from '../store/entries.js';
import type { NewEntryRow } from '../store/schema.js';
import type { Transactions, UnitOfWork } from '../store/unit-of-work.js';
import type { ContributionLimiter } from './contribution-limit.js';

/** Which door a change came through, recorded in its audit detail (the API's own is not named). */
export type Via = 'hma' | 'cli' | undefined;
const via = (door: Via) => (door ? { via: door } : {});

export interface BankWriteHooks {
  /** Limits what organisations add to banks they do not own (a contribution flood); none by default. */
  contributions?: ContributionLimiter;
  /** After a bank's settings or shares changed: reload the rules matching applies (thresholds, visibility). */
  afterBankWrite(): Promise<void>;
  /** After an organisation's accepted shares changed: its cached share policies are stale. */
  forgetPolicies(orgId: number): void;
}

export class BankWrites {
  constructor(
    private readonly transactions: Transactions,
    private readonly hooks: BankWriteHooks,
  ) {}

  private run<T>(actor: string, fn: (unit: UnitOfWork) => Promise<T>): Promise<T> {
    return this.transactions.run(actor, fn);
  }

  create(actor: string, orgId: number, input: BankInput, door?: Via): Promise<Bank> {
    return this.run(actor, async (unit) => {
      const bank = await unit.banks.create(orgId, input);
      await unit.audit({
        orgId,
        action: 'bank.create',
        subjectType: 'bank',
        subjectId: bank.id,
        detail:
          door === 'hma'
            ? { name: bank.name, enabled_ratio: bank.enabledRatio, via: door }
            : { name: bank.name, ...via(door) },
      });
      unit.onCommit(() => this.hooks.afterBankWrite());
      return bank;
    });
  }

  /** `reported` is the change as the caller expressed it, kept in the audit record (default: `changes`). */
  update(
    actor: string,
    orgId: number,
    bankId: number,
    changes: BankUpdate,
    reported: object = changes,
    door?: Via,
  ): Promise<Bank> {
    return this.run(actor, async (unit) => {
      const bank = await unit.banks.update(orgId, bankId, changes);
      await unit.audit({
        orgId,
        action: 'bank.update',
        subjectType: 'bank',
        subjectId: bank.id,
        detail: { changes: reported, ...via(door) },
      });
      unit.onCommit(() => this.hooks.afterBankWrite());
      return bank;
    });
  }

  delete(actor: string, orgId: number, bankId: number, door?: Via): Promise<void> {
    return this.run(actor, async (unit) => {
      await unit.banks.delete(orgId, bankId);
      await unit.audit({
        orgId,
        action: 'bank.delete',
        subjectType: 'bank',
        subjectId: bankId,
        ...(door ? { detail: via(door) } : {}),
      });
      unit.onCommit(() => this.hooks.afterBankWrite());
    });
  }

  /** Offers a bank to another organisation (it changes nothing for them until they accept). */
  share(
    actor: string,
    orgId: number,
    bankId: number,
    withOrg: number,
    canContribute: boolean,
  ): Promise<BankShare[]> {
    return this.run(actor, async (unit) => {
      const shares = await unit.banks.share(orgId, bankId, withOrg, canContribute);
      await unit.audit({
        orgId,
        action: 'bank.share',
        subjectType: 'bank',
        subjectId: bankId,
        detail: { organisation_id: withOrg, can_contribute: canContribute },
      });
      unit.onCommit(() => this.hooks.afterBankWrite());
      return shares;
    });
  }

  unshare(actor: string, orgId: number, bankId: number, withOrg: number): Promise<BankShare[]> {
    return this.run(actor, async (unit) => {
      const shares = await unit.banks.unshare(orgId, bankId, withOrg);
      await unit.audit({
        orgId,
        action: 'bank.unshare',
        subjectType: 'bank',
        subjectId: bankId,
        detail: { organisation_id: withOrg },
      });
      unit.onCommit(() => this.hooks.afterBankWrite());
      return shares;
    });
  }

  /** The receiver accepts an offered bank with the policy its matches get (or changes that policy). */
  acceptShare(actor: string, orgId: number, bankId: number, policy: string): Promise<IncomingShare> {
    return this.run(actor, async (unit) => {
      const share = await unit.banks.acceptShare(orgId, bankId, policy);
      await unit.audit({
        orgId,
        action: 'share.accept',
        subjectType: 'bank',
        subjectId: bankId,
        detail: { policy, owner_organisation_id: share.ownerOrgId },
      });
      unit.onCommit(() => this.hooks.forgetPolicies(orgId));
      unit.onCommit(() => this.hooks.afterBankWrite());
      return share;
    });
  }

  leaveShare(actor: string, orgId: number, bankId: number): Promise<void> {
    return this.run(actor, async (unit) => {
      await unit.banks.leaveShare(orgId, bankId);
      await unit.audit({ orgId, action: 'share.leave', subjectType: 'bank', subjectId: bankId, detail: {} });
      unit.onCommit(() => this.hooks.forgetPolicies(orgId));
      unit.onCommit(() => this.hooks.afterBankWrite());
    });
  }

  /** Adds prepared entries to a bank (an entry already there is not added twice); each new one is audited. */
  addEntries(
    actor: string,
    bank: Pick<Bank, 'id' | 'orgId'>,
    rows: Omit<NewEntryRow, 'seq'>[],
    door?: Via,
  ): Promise<{ entry: Entry; created: boolean }[]> {
    const foreign = rows.filter((r) => r.contributor_org_id !== bank.orgId);
    for (const [orgId, count] of countBy(foreign.map((r) => r.contributor_org_id)))
      this.hooks.contributions?.take(orgId, bank.id, count);
    return this.run(actor, async (unit) => {
      const results = [];
      for (const row of rows) {
        const result = await unit.entries.add(row);
        if (result.created)
          await unit.audit({
            orgId: bank.orgId,
            action: 'entry.create',
            subjectType: 'entry',
            subjectId: result.entry.id,
            detail: { bank_id: bank.id, signal_type: result.entry.signalType, ...via(door) },
          });
        results.push(result);
      }
      return results;
    });
  }

  updateEntry(
    actor: string,
    bank: Pick<Bank, 'id' | 'orgId'>,
    entryId: number,
    changes: EntryUpdate,
    reported: object = changes,
    door?: Via,
  ): Promise<Entry> {
    return this.run(actor, async (unit) => {
      const entry = await unit.entries.update(bank.id, entryId, changes);
      await unit.audit({
        orgId: bank.orgId,
        action: 'entry.update',
        subjectType: 'entry',
        subjectId: entry.id,
        detail: { bank_id: bank.id, changes: reported, ...via(door) },
      });
      return entry;
    });
  }

  deleteEntry(actor: string, bank: Pick<Bank, 'id' | 'orgId'>, entryId: number, door?: Via): Promise<Entry> {
    return this.run(actor, async (unit) => {
      const entry = await unit.entries.delete(bank.id, entryId);
      await unit.audit({
        orgId: bank.orgId,
        action: 'entry.delete',
        subjectType: 'entry',
        subjectId: entry.id,
        // Through the API the deleted value is kept in the trail; HMA's facade never showed it.
        detail:
          door === 'hma'
            ? { bank_id: bank.id, via: door }
            : { bank_id: bank.id, signal_type: entry.signalType, value: entry.value },
      });
      return entry;
    });
  }

  /** A bulk import's entries commit in batches as they stream in; the import itself is recorded once. */
  recordImport(
    actor: string,
    bank: Pick<Bank, 'id' | 'orgId'>,
    detail: Record<string, unknown>,
  ): Promise<void> {
    return this.run(actor, (unit) =>
      unit.audit({
        orgId: bank.orgId,
        action: 'bank.import',
        subjectType: 'bank',
        subjectId: bank.id,
        detail,
      }),
    );
  }
}

function countBy(values: number[]): Map<number, number> {
  const counts = new Map<number, number>();
  for (const v of values) counts.set(v, (counts.get(v) ?? 0) + 1);
  return counts;
}
