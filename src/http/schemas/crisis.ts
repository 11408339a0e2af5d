/** Crisis response answers (incidents, activations, protocols, participants), shared by the crisis routes. */
import { Type } from 'typebox';
import type {
  IncidentSummary,
  IncidentView,
  ParticipantView,
  ProtocolView,
} from '../../crisis/crisis-service.js';
import { REPORT_VARIANTS, type AfterActionReport, type FindingView } from '../../crisis/after-action.js';
import type { DrillRunView } from '../../crisis/drill-runs.js';
import type { AckLinkView, NotificationView } from '../../crisis/notifications.js';
import type { ResourceView } from '../../crisis/resource-view.js';
import { ART48_SECTIONS, NOTIFY_GROUPS } from '../../crisis/protocols.js';
import { STATES } from '../../crisis/states.js';
import { answerOf, Id, Nullable, Time } from './views.js';

export const MomentView = Type.Object({
  at: Time,
  zone: Type.String({ description: 'IANA time zone' }),
  local: Type.String({ description: 'the same instant in the zone, with its offset' }),
});

export const ProtocolDefinitionView = Type.Object({
  key: Type.String(),
  name: Type.String(),
  description: Type.String(),
  roles: Type.Array(Type.Object({ key: Type.String(), label: Type.String() })),
  types: Type.Array(
    Type.Object({
      key: Type.String(),
      label: Type.String(),
      criteria: Type.Array(Type.Object({ key: Type.String(), label: Type.String() })),
      hash_sharing: Type.Boolean(),
      notify: Type.Array(Type.Enum(NOTIFY_GROUPS)),
    }),
  ),
  activation: Type.Object({ decider_roles: Type.Array(Type.String()), min_deciders: Type.Integer() }),
  ack_minutes: Type.Integer(),
  review_after_hours: Type.Integer(),
  sections: Type.Object(
    {
      parameters: Type.String(),
      roles_and_measures: Type.String(),
      activation_procedure: Type.String(),
      duration: Type.String(),
      safeguards: Type.String(),
      public_reporting: Type.String(),
    },
    { description: `DSA Art. 48 (a)-(f): ${ART48_SECTIONS.join(', ')}` },
  ),
});

export const ProtocolSchema = answerOf<ProtocolView>()(
  Type.Object({
    id: Id,
    key: Type.String(),
    version: Type.Integer(),
    preset: Type.Boolean(),
    owner_organisation_id: Nullable(Id),
    usable: Type.Boolean(),
    unusable_because: Nullable(Type.String()),
    definition: ProtocolDefinitionView,
    created_at: Time,
  }),
);

export const ContactView = Type.Object({
  name: Type.String(),
  webhook_url: Type.Optional(Type.String()),
  email: Type.Optional(Type.String()),
});

export const ParticipantSchema = answerOf<ParticipantView>()(
  Type.Object({
    organisation_id: Id,
    groups: Type.Array(Type.String()),
    roles: Type.Array(Type.String()),
    contacts: Type.Array(ContactView),
    accepts_incident_banks: Type.Boolean(),
    incident_policy: Type.String(),
    updated_at: Time,
  }),
);

export const IncidentSummarySchema = answerOf<IncidentSummary>()(
  Type.Object({
    id: Id,
    title: Type.String(),
    exercise: Type.Boolean(),
    coordinator_org_id: Id,
    created: MomentView,
    states: Type.Array(Type.String()),
    live: Type.Boolean(),
  }),
);

export const HumanRightsView = Type.Object({
  necessity: Type.String(),
  proportionality: Type.String(),
  scope: Type.String(),
  bystander_content: Type.Boolean(),
  bystander_decision: Type.Optional(Type.String()),
});

export const BankNumbersView = Type.Object({
  distinct_items: Type.Integer(),
  total_hashes: Type.Integer(),
  added_after_conclusion: Type.Integer(),
  first_hash_at: Nullable(Time),
});

export const MemberLiveView = Type.Object({
  organisation_id: Id,
  matches: Type.Integer(),
  blocks: Type.Integer(),
  first_block_at: Nullable(Time),
  per_minute: Type.Array(
    Type.Object({
      minute: Type.String({ description: 'UTC minute, YYYY-MM-DDTHH:MM' }),
      matches: Type.Integer(),
      blocks: Type.Integer(),
    }),
  ),
});

export const ResourceSchema = answerOf<ResourceView>()(
  Type.Object({
    id: Id,
    activation_id: Id,
    kind: Type.String(),
    locale: Type.String(),
    title: Type.String(),
    url: Nullable(Type.String()),
    message: Nullable(Type.String()),
    created_by: Type.String(),
    created_at: Time,
  }),
);

export const NotificationSchema = answerOf<NotificationView>()(
  Type.Object({
    id: Id,
    activation_id: Id,
    organisation_id: Nullable(Id),
    group: Type.String(),
    contact_index: Type.Integer({ minimum: 0 }),
    contact: Type.Object(ContactView.properties, {
      description: "the contact's name, and its addresses unless you may not see them",
    }),
    sent: MomentView,
    due: MomentView,
    acked: Nullable(MomentView),
    via: Nullable(Type.String({ description: 'how it was acknowledged: api or link' })),
    acked_by: Nullable(Type.String()),
    late: Type.Boolean(),
    escalated: Nullable(MomentView),
    delivery: Type.Object({
      status: Type.String({ description: 'none: the contact has no webhook' }),
      attempts: Type.Integer(),
      error: Nullable(Type.String()),
    }),
  }),
);

export const AckLinkSchema = answerOf<AckLinkView>()(
  Type.Object({
    incident: Type.Object({ id: Id, title: Type.String(), exercise: Type.Boolean() }),
    activation: Type.Object({ protocol: Type.String(), type: Nullable(Type.String()), state: Type.String() }),
    contact_name: Type.String(),
    due: MomentView,
    acked: Nullable(MomentView),
    late: Type.Boolean(),
  }),
);

export const IncidentSchema = answerOf<IncidentView>()(
  Type.Object({
    id: Id,
    title: Type.String(),
    summary: Type.String(),
    exercise: Type.Boolean(),
    coordinator_org_id: Id,
    zone: Type.String(),
    countries: Type.Array(Type.String()),
    occurred: Nullable(MomentView),
    created: MomentView,
    created_by: Type.String(),
    bank_id: Nullable(Id),
    numbers: BankNumbersView,
    members: Type.Array(MemberLiveView, { description: "members' own numbers, as they report them" }),
    activations: Type.Array(
      Type.Object({
        id: Id,
        protocol: Type.Object({ key: Type.String(), version: Type.Integer(), name: Type.String() }),
        type: Nullable(Type.String()),
        type_label: Nullable(Type.String()),
        state: Type.String(),
        next_states: Type.Array(Type.Enum(STATES)),
        opened: MomentView,
        activated: Nullable(MomentView),
        concluded: Nullable(MomentView),
        conclusion: Nullable(Type.Object({ basis: Type.String(), text: Nullable(Type.String()) })),
        not_activated_reason: Nullable(Type.String()),
        review_due: Nullable(MomentView),
        human_rights: Type.Array(
          Type.Object(
            { actor: Type.String(), ...HumanRightsView.properties },
            { description: "each decider's human-rights note, as recorded on activation" },
          ),
        ),
        criteria: Type.Array(
          Type.Object({
            criterion: Type.String(),
            met: Type.Boolean(),
            actor: Type.String(),
            asserted: MomentView,
            note: Nullable(Type.String()),
            evidence: Nullable(Type.Array(Type.String(), { description: 'null for observers' })),
            evidence_count: Type.Integer(),
          }),
        ),
        decisions: Type.Array(
          Type.Object({
            actor: Type.String(),
            organisation_id: Id,
            role: Type.String(),
            type: Type.String(),
            rationale: Type.String(),
            human_rights: HumanRightsView,
            decided: MomentView,
          }),
        ),
        transitions: Type.Array(
          Type.Object({
            from: Type.String(),
            to: Type.String(),
            actor: Type.String(),
            reason: Type.String(),
            at: Time,
            zone: Type.String(),
            local: Type.String(),
          }),
        ),
      }),
    ),
    updates: Type.Array(
      Type.Object({
        id: Id,
        actor: Type.String(),
        text: Type.String(),
        numbers: BankNumbersView,
        at: Time,
        zone: Type.String(),
        local: Type.String(),
      }),
    ),
    resources: Type.Array(ResourceSchema, { description: 'intervention resources of the activations' }),
  }),
);

const Seconds = Nullable(Type.Number({ description: 'seconds; null when either instant is missing' }));
const OrgRef = Type.Object({ id: Id, name: Type.String() });

export const FindingSchema = answerOf<FindingView>()(
  Type.Object({
    id: Id,
    incident_id: Id,
    text: Type.String(),
    owner: Type.String(),
    status: Type.String(),
    due: Nullable(MomentView),
    created: MomentView,
    created_by: Type.String(),
  }),
);

const StatsView = Type.Object({
  count: Type.Integer(),
  min: Nullable(Type.Number()),
  median: Nullable(Type.Number()),
  max: Nullable(Type.Number()),
});

const TIMELINE_KINDS = [
  'occurred',
  'reported',
  'transition',
  'criterion',
  'decision',
  'update',
  'notification_sent',
  'notification_acked',
  'notification_escalated',
  'first_hash',
  'first_block',
] as const;

export const AfterActionReportSchema = answerOf<AfterActionReport>()(
  Type.Object({
    report: Type.Literal('crisis-after-action'),
    variant: Type.Enum(REPORT_VARIANTS),
    generated: MomentView,
    exercise: Type.Boolean(),
    notice: Nullable(Type.String({ description: 'set on an exercise' })),
    incident: Type.Object({
      id: Id,
      title: Type.String(),
      summary: Type.String(),
      zone: Type.String(),
      countries: Type.Array(Type.String()),
      coordinator: Type.Object({ organisation_id: Id, name: Type.String() }),
      reported: MomentView,
      occurred: Nullable(MomentView),
      reported_by: Type.Optional(Type.String()),
    }),
    times: Type.Object({
      first_activation: Nullable(MomentView),
      activation_after_report_seconds: Seconds,
      activation_after_occurrence_seconds: Seconds,
      hash_sharing_activation: Nullable(MomentView),
      first_hash: Nullable(MomentView),
      first_hash_after_activation_seconds: Seconds,
    }),
    activations: Type.Array(
      Type.Object({
        id: Id,
        protocol: Type.Object({ key: Type.String(), version: Type.Integer(), name: Type.String() }),
        type: Nullable(Type.String()),
        type_label: Nullable(Type.String()),
        hash_sharing: Type.Boolean(),
        state: Type.String(),
        opened: MomentView,
        activated: Nullable(MomentView),
        concluded: Nullable(MomentView),
        duration_seconds: Seconds,
        conclusion: Nullable(Type.Object({ basis: Type.String(), text: Nullable(Type.String()) })),
        not_activated_reason: Nullable(Type.String()),
        criteria: Type.Array(
          Type.Object({
            criterion: Type.String(),
            label: Nullable(Type.String()),
            met: Type.Boolean(),
            asserted: MomentView,
            note: Nullable(Type.String()),
            evidence_count: Type.Integer(),
            actor: Type.Optional(Type.String()),
            evidence: Type.Optional(Type.Array(Type.String())),
          }),
        ),
        decisions: Type.Array(
          Type.Object({
            type: Type.String(),
            role: Type.String(),
            rationale: Type.String(),
            human_rights: HumanRightsView,
            decided: MomentView,
            actor: Type.Optional(Type.String()),
            organisation: Type.Optional(OrgRef),
          }),
        ),
      }),
    ),
    bank: BankNumbersView,
    impact: Type.Object({
      matches: Type.Integer(),
      matches_prevented: Type.Integer(),
      members_reporting: Type.Integer(),
      members_blocking: Type.Integer(),
    }),
    notifications_by_group: Type.Record(
      Type.String(),
      Type.Object({
        recipients: Type.Integer(),
        notifications: Type.Integer(),
        acknowledged: Type.Integer(),
        late: Type.Integer(),
        escalated: Type.Integer(),
      }),
    ),
    members_summary: Type.Object({
      members: Type.Integer(),
      notified: Type.Integer(),
      acknowledged: Type.Integer(),
      not_acknowledged: Type.Integer(),
      late: Type.Integer(),
      escalated: Type.Integer(),
      reporting: Type.Integer(),
      blocking: Type.Integer(),
      ack_delay_seconds: StatsView,
      first_block_after_first_hash_seconds: StatsView,
      ack_delay_distribution: Type.Record(Type.String(), Type.Integer()),
      first_block_distribution: Type.Record(Type.String(), Type.Integer()),
    }),
    members: Type.Optional(
      Type.Array(
        Type.Object({
          organisation_id: Id,
          name: Type.String(),
          notifications: Type.Array(
            Type.Object({
              activation_id: Id,
              protocol: Type.String(),
              group: Type.String(),
              contacts: Type.Integer(),
              sent: MomentView,
              due: MomentView,
              acked: Nullable(MomentView),
              ack_delay_seconds: Seconds,
              late: Type.Boolean(),
              escalated: Nullable(MomentView),
              acked_by: Nullable(Type.String()),
              ack_via: Nullable(Type.String()),
            }),
          ),
          matches: Type.Integer(),
          blocks: Type.Integer(),
          first_block: Nullable(MomentView),
          first_block_after_first_hash_seconds: Seconds,
        }),
        { description: 'full variant only' },
      ),
    ),
    findings: Type.Object({
      open: Type.Integer(),
      done: Type.Integer(),
      items: Type.Array(
        Type.Object({
          text: Type.String(),
          status: Type.String(),
          due: Nullable(MomentView),
          created: MomentView,
          id: Type.Optional(Id),
          owner: Type.Optional(Type.String()),
        }),
      ),
    }),
    timeline: Type.Array(
      Type.Object({
        at: Time,
        local: Type.String(),
        kind: Type.Enum(TIMELINE_KINDS),
        activation_id: Nullable(Id),
        protocol: Nullable(Type.String()),
        what: Type.String(),
        text: Nullable(Type.String()),
        from: Type.Optional(Type.String()),
        to: Type.Optional(Type.String()),
        actor: Type.Optional(Nullable(Type.String())),
        organisation: Type.Optional(Nullable(OrgRef)),
      }),
    ),
    methodology: Type.Array(Type.String()),
  }),
);

const Ms = Nullable(Type.Number({ description: 'milliseconds' }));

export const DrillRunSchema = answerOf<DrillRunView>()(
  Type.Object({
    id: Id,
    status: Type.Union([Type.Literal('running'), Type.Literal('done'), Type.Literal('failed')]),
    incident_id: Nullable(Id),
    name: Type.String(),
    report: Nullable(
      Type.Object({
        scenario: Type.String(),
        incident_id: Id,
        exercise: Type.Literal(true),
        members: Type.Array(
          Type.Object({
            name: Type.String(),
            uploads: Type.Integer(),
            reachable_after_landing: Type.Integer(),
            blocked_after_landing: Type.Integer(),
            blocked_share: Nullable(Type.Number()),
            out_of_reach_after_landing: Type.Integer(),
            landing_ms: Ms,
            first_block_ms: Ms,
            errors: Type.Integer(),
          }),
        ),
        uploads: Type.Integer(),
        reach: Type.Record(
          Type.String(),
          Type.Object({ variants: Type.Integer(), reachable: Type.Integer(), out_of_reach: Type.Integer() }),
          { description: 'per media:transform' },
        ),
        blocked_by_variant: Type.Record(
          Type.String(),
          Type.Object({ in_reach_after_landing: Type.Integer(), blocked: Type.Integer() }),
        ),
        blocked_after_hash_share: Nullable(Type.Number()),
        hash_to_member_p50_ms: Ms,
        hash_to_member_p99_ms: Ms,
        first_block_p50_ms: Ms,
        uploads_per_second: Type.Number(),
      }),
    ),
    error: Nullable(Type.String()),
    started_at: Time,
    finished_at: Nullable(Time),
  }),
);
