/**
 * The seam to hash-sharing feedback: when an appeal reverses a decision that a shared signal (an entry of a bank
 * another organisation owns) caused, the appeal service calls `falsePositive` once per such entry, inside the
 * reversal's transaction. The sharing-feedback work plugs its dispute filing in here; until then nothing is filed
 * (the reversal is still counted in the bank's error rate through bank_reversals).
 */
import type { UnitOfWork } from '../store/unit-of-work.js';

export interface FalsePositive {
  appealId: number;
  /** The organisation whose decision was reversed. */
  orgId: number;
  decisionId: number;
  caseId: number;
  bankId: number;
  entryId: number;
  /** The organisation that owns the bank (and so the shared signal). */
  bankOrgId: number;
  /** The reviewer's reasoned reply. */
  reason: string;
  at: string;
}

export interface SharedSignalFeedback {
  /** `unit` is the reversal's unit of work: write the dispute in it, so both commit or neither. */
  falsePositive(fp: FalsePositive, unit: UnitOfWork): Promise<void>;
}

export const NO_SHARED_SIGNAL_FEEDBACK: SharedSignalFeedback = {
  falsePositive: async () => undefined,
};
