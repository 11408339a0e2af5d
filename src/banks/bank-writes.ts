/**
 * Every change to banks, their shares and their entries, each as one unit of work: the write, its audit record,
 * and what must follow the commit (the bank rules reloaded, cached share policies forgotten; the index catches up
 * after every commit). The HTTP API, the HMA facade and the CLI call these and nothing else to change a bank.
 */
import { ForbiddenError, ValidationError } from '../core/errors.js';
import {
  assertWritable,
  type Bank,
  type BankInput,
  type BankShare,
  type BankUpdate,
  type IncomingShare,
  type ShareRights,
} from '../store/banks.js';
import type { Entry, EntryUpdate } from '../store/entries.js';
import { assertLabelsInTaxonomy, isSystemLabel } from '../store/labels.js';
import type { NewEntryRow } from '../store/schema.js';
import { BankTaxonomyStore, type BankLabel, type BankTaxonomy } from '../store/taxonomies.js';
import type { Transactions, UnitOfWork } from '../store/unit-of-work.js';
import type { ContributionLimiter } from './contribution-limit.js';
import { TAXONOMY_PRESET_KEYS, taxonomyPreset } from './taxonomy-presets.js';

/** Which door a change came through, recorded in its audit detail (the API's own is not named). */
export type Via = 'hma' | 'cli' | undefined;
const via = (door: Via) => (door ? { via: door } : {});
/** Who acted on another organisation's bank (a moderator or contributor), for the bank's audit trail. */
const by = (orgId: number, bank: Pick<Bank, 'orgId'>) =>
  orgId === bank.orgId ? {} : { by_organisation_id: orgId };

/** A taxonomy from a preset of Kaitiaki's (`gifct`, `tcap`) or as a list of labels. */
export type TaxonomyInput = { preset: string } | { labels: BankLabel[] };

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
      if (changes.defaultLabels !== undefined)
        assertLabelsInTaxonomy(bank.defaultLabels, await new BankTaxonomyStore(unit.db).keys(bank.id), bank);
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

  /** Offers a bank to another organisation with these rights (it changes nothing for them until they accept). */
  share(
    actor: string,
    orgId: number,
    bankId: number,
    withOrg: number,
    rights: ShareRights,
  ): Promise<BankShare[]> {
    return this.run(actor, async (unit) => {
      const shares = await unit.banks.share(orgId, bankId, withOrg, rights);
      await unit.audit({
        orgId,
        action: 'bank.share',
        subjectType: 'bank',
        subjectId: bankId,
        detail: { organisation_id: withOrg, rights, can_contribute: rights !== 'read' },
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

  /**
   * Adds prepared entries to a bank (an entry already there is not added twice); each new one is audited. When the
   * bank has a taxonomy, a row with a label outside it refuses the whole call before anything is written.
   */
  addEntries(
    actor: string,
    bank: Pick<Bank, 'id' | 'orgId'>,
    rows: Omit<NewEntryRow, 'seq'>[],
    door?: Via,
  ): Promise<{ entry: Entry; created: boolean }[]> {
    return this.run(actor, async (unit) => {
      const taxonomy = await new BankTaxonomyStore(unit.db).keys(bank.id);
      if (taxonomy !== null)
        for (const row of rows)
          assertLabelsInTaxonomy(JSON.parse(row.labels ?? '[]') as string[], taxonomy, bank);
      // Counted once the rows are known to be acceptable: a refused write uses none of the contributor's quota.
      const foreign = rows.filter((r) => r.contributor_org_id !== bank.orgId);
      for (const [orgId, count] of countBy(foreign.map((r) => r.contributor_org_id)))
        this.hooks.contributions?.take(orgId, bank.id, count);
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
      if (changes.labels !== undefined)
        assertLabelsInTaxonomy(changes.labels, await new BankTaxonomyStore(unit.db).keys(bank.id), bank);
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

  /**
   * Enables an entry that HMA disabled until a time that has passed, unless something changed it since it was
   * found (another process or a person may have acted): returns whether it did.
   */
  enableExpiredHmaEntry(entry: { id: number; bankId: number; orgId: number }): Promise<boolean> {
    return this.run('system', async (unit) => {
      if ((await unit.entries.statusOf(entry.id)) !== 'disabled') return false;
      await unit.entries.update(entry.bankId, entry.id, { status: 'active' });
      await unit.audit({
        orgId: entry.orgId,
        action: 'entry.update',
        subjectType: 'entry',
        subjectId: entry.id,
        detail: {
          bank_id: entry.bankId,
          changes: { status: 'active' },
          reason: 'disable_until_ts passed',
          ...via('hma'),
        },
      });
      return true;
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

  /**
   * Retracts (deletes) an entry of a bank the organisation sees: its owner and moderators retract any entry,
   * contributors only the entries they contributed, readers none. Members following the bank receive the
   * retraction as a tombstone. Recorded in the bank's audit trail, naming the organisation when it is not the owner.
   */
  retractEntry(actor: string, orgId: number, bankId: number, entryId: number): Promise<Entry> {
    return this.run(actor, async (unit) => {
      const { bank, rights } = await unit.banks.access(orgId, bankId);
      assertWritable(bank);
      if (rights === 'read')
        throw new ForbiddenError(
          `bank ${bankId} is shared with you read-only; retracting entries needs contribute rights (your own) or moderate rights`,
          'KAI_ERR_SHARE_RIGHTS',
        );
      if (rights === 'contribute') {
        const current = await unit.entries.get(bank.id, entryId);
        if (current.contributorOrgId !== orgId)
          throw new ForbiddenError(
            `signal ${entryId} was contributed by another organisation; with contribute rights you retract only your own (moderate rights retract any)`,
            'KAI_ERR_NOT_YOUR_CONTRIBUTION',
          );
      }
      const entry = await unit.entries.delete(bank.id, entryId);
      await unit.audit({
        orgId: bank.orgId,
        action: 'entry.delete',
        subjectType: 'entry',
        subjectId: entry.id,
        detail: { bank_id: bank.id, signal_type: entry.signalType, value: entry.value, ...by(orgId, bank) },
      });
      return entry;
    });
  }

  /**
   * Replaces a bank's label taxonomy (its owner or a moderator): from a preset, or the labels given; no labels
   * removes it. The bank's default labels must stay allowed. Entries already stored keep their labels; the
   * taxonomy governs writes from now on.
   */
  setTaxonomy(
    actor: string,
    orgId: number,
    bankId: number,
    input: TaxonomyInput,
  ): Promise<{ bank: Bank; taxonomy: BankTaxonomy | null }> {
    return this.run(actor, async (unit) => {
      const bank = await unit.banks.assertCanModerate(orgId, bankId, 'changing the taxonomy');
      let preset: string | null = null;
      let labels: BankLabel[];
      if ('preset' in input) {
        const found = taxonomyPreset(input.preset);
        if (!found)
          throw new ValidationError(
            `no taxonomy preset "${input.preset}"; presets: ${TAXONOMY_PRESET_KEYS.join(', ')}`,
            'KAI_ERR_TAXONOMY_PRESET',
          );
        preset = found.key;
        labels = found.labels.map((l) => ({ ...l }));
      } else labels = input.labels;
      const keys = new Set(labels.map((l) => l.key));
      const orphan = bank.defaultLabels.find((l) => !isSystemLabel(l) && !keys.has(l));
      if (labels.length > 0 && orphan !== undefined)
        throw new ValidationError(
          `the bank's default label "${orphan}" is not in the new taxonomy: add it, or change the bank's default_labels first`,
          'KAI_ERR_LABEL_NOT_IN_TAXONOMY',
        );
      const taxonomy = await new BankTaxonomyStore(unit.db).replace(bank.id, { preset, labels }, actor);
      await unit.audit({
        orgId: bank.orgId,
        action: 'bank.taxonomy',
        subjectType: 'bank',
        subjectId: bank.id,
        detail: { preset, labels: labels.length, ...by(orgId, bank) },
      });
      return { bank, taxonomy };
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
