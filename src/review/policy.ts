/**
 * Policies: what a match does. A policy names a bank (or any bank) and optionally a label, and an action:
 * `block` (act automatically), `review-urgent`, `review`, or `log`. When several matches or policies apply, the
 * strongest action wins (block > review-urgent > review > log); a bank-and-label policy beats a bank policy,
 * which beats an any-bank policy, for the same match.
 */
import { getSignalType } from '../signals/registry.js';

export const POLICY_ACTIONS = ['block', 'review-urgent', 'review', 'log'] as const;
export type PolicyAction = (typeof POLICY_ACTIONS)[number];

export interface Policy {
  bankId: number | null;
  label: string | null;
  action: PolicyAction;
}

export interface MatchForPolicy {
  bankId: number;
  labels: string[];
  signalType: string;
  distance: number;
}

/** What became of a submission: nothing matched, acted on, queued for review, logged, still hashing, or failed. */
export type Verdict = 'no-match' | 'actioned' | 'queued' | 'logged' | 'pending' | 'failed';

/** The verdict a policy action gives a submission. */
export function verdictOf(action: PolicyAction | null): Verdict {
  if (action === null) return 'no-match';
  if (action === 'block') return 'actioned';
  return action === 'log' ? 'logged' : 'queued';
}

const STRENGTH: Record<PolicyAction, number> = { block: 3, 'review-urgent': 2, review: 1, log: 0 };

/**
 * What a small platform gets without configuring anything: an identical file (MD5/SHA-256: any exact type) of known content is
 * blocked at upload; a near-identical photo or video (PDQ distance <= 10) goes to urgent review; a looser match
 * to review. Nothing is removed on a perceptual match without a person.
 */
export function defaultAction(match: MatchForPolicy): PolicyAction {
  if (getSignalType(match.signalType).matchKind === 'exact') return 'block';
  return match.distance <= 10 ? 'review-urgent' : 'review';
}

function specificity(policy: Policy): number {
  return (policy.bankId !== null ? 2 : 0) + (policy.label !== null ? 1 : 0);
}

/** The action for one match: the most specific policy that applies, else the default. */
export function actionForMatch(match: MatchForPolicy, policies: Policy[]): PolicyAction {
  const applicable = policies
    .filter(
      (p) =>
        (p.bankId === null || p.bankId === match.bankId) &&
        (p.label === null || match.labels.includes(p.label)),
    )
    .sort((a, b) => specificity(b) - specificity(a) || STRENGTH[b.action] - STRENGTH[a.action]);
  return applicable[0]?.action ?? defaultAction(match);
}

/** The action for a submission: the strongest over its matches; null when nothing matched. */
export function actionForMatches(matches: MatchForPolicy[], policies: Policy[]): PolicyAction | null {
  let best: PolicyAction | null = null;
  for (const match of matches) {
    const action = actionForMatch(match, policies);
    if (best === null || STRENGTH[action] > STRENGTH[best]) best = action;
  }
  return best;
}
