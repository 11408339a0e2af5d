/**
 * Statements of reasons with the fields of the EU Digital Services Act transparency database (Article 17 DSA),
 * plus a plain-language text a platform can show the person whose content was acted on.
 */
export const DECISIONS = ['remove', 'restrict', 'label', 'no-violation', 'escalate'] as const;
export type Decision = (typeof DECISIONS)[number];
export const GROUND_TYPES = ['illegal', 'terms'] as const;
export type GroundType = (typeof GROUND_TYPES)[number];

export interface StatementInput {
  statementId: string;
  decision: Decision;
  groundType: GroundType;
  /** The legal provision (e.g. "Regulation (EU) 2021/784 (TCO), Art. 2(7)") or the terms clause. */
  ground: string;
  reason: string;
  automatedDetection: boolean;
  automatedDecision: 'fully' | 'partially' | 'not';
  contentType: 'photo' | 'video' | 'other';
  contentId: string;
  labels: string[];
  territorialScope: string[];
  decidedAt: string;
  contentDate: string;
  platformName: string;
}

const VISIBILITY: Record<Decision, string | null> = {
  remove: 'DECISION_VISIBILITY_CONTENT_REMOVED',
  restrict: 'DECISION_VISIBILITY_CONTENT_AGE_RESTRICTED',
  label: 'DECISION_VISIBILITY_CONTENT_LABELLED',
  'no-violation': null,
  escalate: null,
};

/** The transparency database's JSON form (field names as its API takes them). */
export function statementOfReasons(input: StatementInput): Record<string, unknown> {
  const illegal = input.groundType === 'illegal';
  return {
    uuid: input.statementId,
    decision_visibility: VISIBILITY[input.decision] ? [VISIBILITY[input.decision]] : [],
    decision_monetary: null,
    decision_provision: null,
    decision_account: null,
    decision_ground: illegal ? 'DECISION_GROUND_ILLEGAL_CONTENT' : 'DECISION_GROUND_INCOMPATIBLE_CONTENT',
    illegal_content_legal_ground: illegal ? input.ground : null,
    illegal_content_explanation: illegal ? input.reason : null,
    incompatible_content_ground: illegal ? null : input.ground,
    incompatible_content_explanation: illegal ? null : input.reason,
    category: 'STATEMENT_CATEGORY_ILLEGAL_OR_HARMFUL_SPEECH',
    category_specification: input.labels,
    content_type: [
      input.contentType === 'photo'
        ? 'CONTENT_TYPE_IMAGE'
        : input.contentType === 'video'
          ? 'CONTENT_TYPE_VIDEO'
          : 'CONTENT_TYPE_OTHER',
    ],
    content_id: { platform: input.contentId },
    content_date: input.contentDate.slice(0, 10),
    application_date: input.decidedAt.slice(0, 10),
    territorial_scope: input.territorialScope,
    source_type: 'SOURCE_VOLUNTARY',
    automated_detection: input.automatedDetection ? 'Yes' : 'No',
    automated_decision: `AUTOMATED_DECISION_${input.automatedDecision.toUpperCase()}`,
    decision_facts: input.reason,
    puid: input.contentId,
    platform_name: input.platformName,
    plain_language: plainLanguage(input),
  };
}

function plainLanguage(input: StatementInput): string {
  const what = {
    remove: 'removed',
    restrict: 'restricted',
    label: 'labelled',
    'no-violation': 'left up',
    escalate: 'referred for further review',
  }[input.decision];
  const why =
    input.groundType === 'illegal'
      ? `it is illegal under ${input.ground}`
      : `it breaks our terms (${input.ground})`;
  const how = input.automatedDetection
    ? input.automatedDecision === 'fully'
      ? 'It was identified automatically as a copy of known terrorist or violent-extremist content, and acted on automatically.'
      : 'It was identified automatically as matching known content and reviewed by a person.'
    : 'A person reviewed it.';
  return `Your content (${input.contentId}) was ${what} because ${why}. ${how} Reason: ${input.reason} You can appeal this decision.`;
}
