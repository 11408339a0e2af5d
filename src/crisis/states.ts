/**
 * The life of one activation (one protocol's view of an incident). It starts in awareness, is assessed, and is
 * either activated or closed as not activated with a reason (the Conflans pattern: hashes shared, no protocol).
 * An active activation may de-escalate before it concludes; a concluded one is debriefed.
 */
export const STATES = [
  'awareness',
  'assessing',
  'active',
  'deescalating',
  'concluded',
  'debriefed',
  'not_activated',
] as const;
export type ActivationState = (typeof STATES)[number];

const NEXT: Record<ActivationState, readonly ActivationState[]> = {
  awareness: ['assessing', 'not_activated'],
  assessing: ['active', 'not_activated'],
  active: ['deescalating', 'concluded'],
  deescalating: ['active', 'concluded'],
  concluded: ['debriefed'],
  debriefed: [],
  not_activated: [],
};

export function allowedNext(state: ActivationState): readonly ActivationState[] {
  return NEXT[state];
}

/** States in which the incident bank acts "while an incident is active" (members block at upload). */
export function isLive(state: string): boolean {
  return state === 'active' || state === 'deescalating';
}

export const CONCLUSION_BASES = [
  'volume_and_impact_decreased',
  'time_since_offline_event',
  'member_feedback_low_reupload_attempts',
  'other',
] as const;
export type ConclusionBasis = (typeof CONCLUSION_BASES)[number];
