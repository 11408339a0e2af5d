/**
 * What the matcher needs to know of banks at query time, held in memory: which banks each organisation may
 * match against (its own and those shared with it and accepted by it), which are enabled, and each bank's thresholds. Reloaded
 * after bank writes and on every index poll, so other processes' changes arrive too.
 */
import type { Bank } from '../store/banks.js';
import type { Db } from '../store/database.js';
import { bankRulesSnapshot } from '../store/banks.js';
import { getSignalType } from '../signals/registry.js';

export class BankRules {
  private banks = new Map<number, Bank>();
  private sharedWith = new Map<number, Set<number>>();
  private visibleCache = new Map<number, Set<number>>();

  constructor(private readonly db: Db) {}

  async reload(): Promise<void> {
    const { banks, acceptedShares } = await bankRulesSnapshot(this.db);
    this.banks = new Map(banks.map((bank) => [bank.id, bank]));
    const sharedWith = new Map<number, Set<number>>();
    for (const share of acceptedShares) {
      if (!sharedWith.has(share.orgId)) sharedWith.set(share.orgId, new Set());
      sharedWith.get(share.orgId)!.add(share.bankId);
    }
    this.sharedWith = sharedWith;
    this.visibleCache = new Map();
  }

  bank(id: number): Bank | undefined {
    return this.banks.get(id);
  }

  /** Enabled banks the organisation may match against (with includeDisabled, disabled ones too: HMA's bypass). */
  matchableFor(orgId: number, includeDisabled = false): Set<number> {
    const key = includeDisabled ? -orgId : orgId;
    let visible = this.visibleCache.get(key);
    if (!visible) {
      visible = new Set();
      for (const bank of this.banks.values()) {
        if (!bank.enabled && !includeDisabled) continue;
        if (bank.orgId === orgId || (bank.sharing === 'shared' && this.sharedWith.get(orgId)?.has(bank.id)))
          visible.add(bank.id);
      }
      this.visibleCache.set(key, visible);
    }
    return visible;
  }

  threshold(bankId: number, signalType: string): number {
    return this.banks.get(bankId)?.thresholds[signalType] ?? getSignalType(signalType).defaultThreshold;
  }

  /** The largest threshold any bank uses for this type: the index search radius. */
  maxThreshold(signalType: string): number {
    let max = getSignalType(signalType).defaultThreshold;
    for (const bank of this.banks.values()) max = Math.max(max, bank.thresholds[signalType] ?? 0);
    return max;
  }

  get size(): number {
    return this.banks.size;
  }
}
