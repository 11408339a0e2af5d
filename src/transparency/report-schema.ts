/**
 * The published JSON Schema (draft 2020-12) of the three reports; served at /public/transparency/report.schema.json
 * and kept in docs/transparency-report.schema.json (a test checks they agree).
 */
const int = { type: 'integer', minimum: 0 };
const counts = { type: 'object', additionalProperties: int };
const rate = { type: ['number', 'null'], minimum: 0, maximum: 1 };
const nullableInt = { type: ['integer', 'null'] };
const distribution = {
  type: 'object',
  required: ['count', 'p50', 'p90', 'p99'],
  additionalProperties: false,
  properties: { count: int, p50: nullableInt, p90: nullableInt, p99: nullableInt },
};
const header = {
  schema_version: { const: 1 },
  organisation: {
    type: 'object',
    required: ['id', 'name'],
    properties: { id: { type: 'integer' }, name: { type: 'string' } },
  },
  period: {
    type: 'object',
    required: ['from', 'to'],
    properties: {
      from: { type: 'string', format: 'date-time' },
      to: { type: 'string', format: 'date-time' },
    },
  },
  generated_at: { type: 'string', format: 'date-time' },
  methodology: { type: 'array', items: { type: 'string' } },
};
const obj = (properties: Record<string, unknown>) => ({
  type: 'object',
  required: Object.keys(properties),
  additionalProperties: false,
  properties,
});

const company = obj({
  report: { const: 'company' },
  ...header,
  totals: obj({
    decisions: int,
    actioned: int,
    no_violation: int,
    automated_actioned: int,
    automated_share: rate,
  }),
  actioned_by_detection_source: obj(
    Object.fromEntries(
      [
        'removal_order',
        'referral',
        'alert',
        'trusted_flagger',
        'user_report',
        'shared_bank',
        'own_bank',
        'proactive',
      ].map((k) => [k, int]),
    ),
  ),
  actioned_by_label: counts,
  actioned_by_territory: counts,
  actioned_by_format: counts,
  actioned_by_restriction: counts,
  time_to_action_seconds: distribution,
  removal_orders: obj({
    received: int,
    actioned: int,
    items_actioned: int,
    within_one_hour: int,
    within_one_hour_share: rate,
    late: int,
    pending: int,
    not_executed: int,
    not_executed_by_ground: counts,
    by_member_state: counts,
    by_content_type: counts,
    time_to_action_seconds: distribution,
    cross_border: int,
    scrutiny_requested: int,
    scrutiny_outcomes: counts,
    reinstated: int,
    non_disclosure: int,
  }),
  referrals: obj({ received: int, by_outcome: counts, by_authority: counts, acceptance_rate: rate }),
  appeals: obj({
    filed: int,
    open: int,
    overdue: int,
    upheld: int,
    reversed: int,
    reversal_rate: rate,
    decision_time_seconds: distribution,
    automated_detection: obj({ filed: int, upheld: int, reversed: int }),
    other_detection: obj({ filed: int, upheld: int, reversed: int }),
    by_channel: counts,
  }),
  banks: {
    type: 'array',
    items: obj({
      bank_id: { type: 'integer' },
      name: { type: 'string' },
      owner_org_id: { type: 'integer' },
      shared: { type: 'boolean' },
      actioned: int,
      reversed: int,
      error_rate: rate,
    }),
  },
  hash_sharing: obj({
    entries_contributed_own_banks: int,
    entries_contributed_other_banks: int,
    reversals_reported_to_other_banks: int,
  }),
  tco_art_7_3: obj({
    a_measures: { type: 'string' },
    b_reappearance: { type: 'string' },
    c_items_removed_following_orders: int,
    c_orders_not_executed: int,
    c_grounds: counts,
    d_complaints: int,
    d_outcomes: obj({ upheld: int, reversed: int, pending: int }),
    e_review_proceedings: int,
    e_outcomes: counts,
    f_reinstated_required: int,
    g_reinstated_following_complaint: int,
  }),
  crisis_periods: obj({
    recorded: { type: 'boolean' },
    periods: {
      type: 'array',
      items: obj({
        id: { type: 'string' },
        name: { type: 'string' },
        from: { type: 'string', format: 'date-time' },
        to: { type: 'string', format: 'date-time' },
        decisions: int,
        actioned: int,
        automated_actioned: int,
      }),
    },
  }),
});

const government = obj({
  report: { const: 'government' },
  ...header,
  removal_orders: obj({
    issued: int,
    items: int,
    cross_border: int,
    cross_border_share: rate,
    scrutinised: int,
    scrutiny_outcomes: counts,
    actioned: int,
    not_executed: int,
    not_executed_by_ground: counts,
    pending: int,
    withdrawn: int,
    reinstated: int,
    within_one_hour: int,
    within_one_hour_share: rate,
    time_to_action_seconds: distribution,
    by_content_type: counts,
    by_platform: {
      type: 'array',
      items: obj({
        platform_org_id: { type: 'integer' },
        platform: { type: 'string' },
        issued: int,
        actioned: int,
        within_one_hour: int,
        not_executed: int,
        median_seconds: nullableInt,
      }),
    },
  }),
  referrals: obj({
    sent: int,
    by_outcome: counts,
    acceptance_rate: rate,
    by_platform: {
      type: 'array',
      items: obj({
        platform_org_id: { type: 'integer' },
        platform: { type: 'string' },
        sent: int,
        actioned: int,
        partial: int,
        declined: int,
        pending: int,
        acceptance_rate: rate,
      }),
    },
    basis_used: counts,
  }),
  non_disclosure: obj({ orders: int, extended: int, mean_days: { type: ['number', 'null'] } }),
  not_recorded: { type: 'array', items: { type: 'string' } },
});

const hub = obj({
  report: { const: 'hub' },
  ...header,
  members: int,
  decisions: int,
  actioned: int,
  automated_share: rate,
  removal_orders: obj({ received: int, actioned: int, within_one_hour: int }),
  appeals: obj({ filed: int, reversed: int }),
  banks: {
    type: 'array',
    items: obj({ bank_id: { type: 'integer' }, name: { type: 'string' }, reversals: int }),
  },
  crisis_activations: {
    type: 'array',
    items: obj({
      id: { type: 'string' },
      name: { type: 'string' },
      from: { type: 'string', format: 'date-time' },
      to: { type: 'string', format: 'date-time' },
      decisions: int,
      actioned: int,
    }),
  },
  not_recorded: { type: 'array', items: { type: 'string' } },
});

export const REPORT_SCHEMA = {
  $schema: 'https://json-schema.org/draft/2020-12/schema',
  $id: 'https://kaitiaki.example/schemas/transparency-report.schema.json',
  title: 'Kaitiaki transparency report (company, government or hub)',
  oneOf: [{ $ref: '#/$defs/company' }, { $ref: '#/$defs/government' }, { $ref: '#/$defs/hub' }],
  $defs: { company, government, hub },
} as const;
