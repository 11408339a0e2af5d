/**
 * Matching: signals in, evidence out. Each match names the bank, the entry, the signal type, the distance, the
 * labels and the contributing organisation, and only banks the caller may see (its own, or shared with it) and
 * that are enabled are searched, each at its own threshold.
 */
import { getSignalType, normalizeSignal } from '../signals/registry.js';
import type { Entry, EntryService } from '../store/entries.js';
import type { BankRules } from './bank-rules.js';
import type { SignalIndexSet } from './signal-index-set.js';

export interface SignalInput {
  type: string;
  value: string;
}

export interface MatchEvidence {
  signalType: string;
  /** Index of the input signal this match is for. */
  signalIndex: number;
  distance: number;
  detail?: string;
  bank: { id: number; name: string; orgId: number };
  entry: {
    id: number;
    labels: string[];
    contributorOrgId: number;
    source: string;
    externalId: string | null;
    status: string;
  };
}

/** Entries read for evidence are kept (up to this many) so that content that matches again costs no store read. */
const ENTRY_CACHE_SIZE = 100_000;

export class MatchService {
  private readonly entryCache = new Map<number, Entry>();

  constructor(
    private readonly index: SignalIndexSet,
    private readonly banks: BankRules,
    private readonly entries: EntryService,
  ) {}

  /** Validates the signals (throwing ValidationError on the first bad one) and returns every match, closest first. */
  async match(
    orgId: number,
    signals: SignalInput[],
    options: { banks?: Set<number> } = {},
  ): Promise<MatchEvidence[]> {
    const normalized = signals.map((s) => normalizeSignal(s.type, s.value));
    const raw = this.rawMatches(orgId, normalized, options);
    if (raw.length === 0) return [];
    const entries = await this.entriesById([...new Set(raw.map((m) => m.id))]);
    const evidence: MatchEvidence[] = [];
    for (const m of raw) {
      const entry = entries.get(m.id);
      const bank = this.banks.bank(m.bankId);
      // An entry deleted or disabled since the index last caught up is not evidence.
      if (!entry || !bank || entry.status !== 'active') continue;
      evidence.push({
        signalType: m.signalType,
        signalIndex: m.signalIndex,
        distance: m.distance,
        ...(m.detail ? { detail: m.detail } : {}),
        bank: { id: bank.id, name: bank.name, orgId: bank.orgId },
        entry: {
          id: entry.id,
          labels: entry.labels,
          contributorOrgId: entry.contributorOrgId,
          source: entry.source,
          externalId: entry.externalId,
          status: entry.status,
        },
      });
    }
    return evidence.sort(
      (a, b) => a.signalIndex - b.signalIndex || a.distance - b.distance || a.entry.id - b.entry.id,
    );
  }

  /** Called by the index sync for every changed entry, so the cache never outlives a change it has seen. */
  forget(entryId: number): void {
    this.entryCache.delete(entryId);
  }

  private async entriesById(ids: number[]): Promise<Map<number, Entry>> {
    const found = new Map<number, Entry>();
    const missing: number[] = [];
    for (const id of ids) {
      const cached = this.entryCache.get(id);
      if (cached) found.set(id, cached);
      else missing.push(id);
    }
    if (missing.length > 0) {
      for (const [id, entry] of await this.entries.getMany(missing)) {
        found.set(id, entry);
        if (this.entryCache.size >= ENTRY_CACHE_SIZE)
          this.entryCache.delete(this.entryCache.keys().next().value!);
        this.entryCache.set(id, entry);
      }
    }
    return found;
  }

  /** Index hits (id, bank, distance) within each bank's threshold, before fetching entry details. */
  rawMatches(
    orgId: number,
    signals: SignalInput[],
    options: { banks?: Set<number>; ignoreThresholds?: boolean; includeDisabledBanks?: boolean } = {},
  ): {
    id: number;
    bankId: number;
    distance: number;
    detail?: string;
    signalType: string;
    signalIndex: number;
  }[] {
    const allowed = this.banks.matchableFor(orgId, options.includeDisabledBanks);
    const bankFilter = (bankId: number) =>
      allowed.has(bankId) && (!options.banks || options.banks.has(bankId));
    const out = [];
    for (const [signalIndex, signal] of signals.entries()) {
      const thresholdFor = (bankId: number) => this.banks.threshold(bankId, signal.type);
      const found = this.index.search(signal.type, signal.value, this.banks.maxThreshold(signal.type), {
        bankFilter,
        thresholdFor: getSignalType(signal.type).perBankThresholds ? thresholdFor : undefined,
      });
      for (const m of found) out.push({ ...m, signalType: signal.type, signalIndex });
    }
    return out;
  }
}
