/** Crisis response answers (incidents, activations, protocols, participants), shared by the crisis routes. */
import { Type } from 'typebox';
import type {
  IncidentSummary,
  IncidentView,
  ParticipantView,
  ProtocolView,
} from '../../crisis/crisis-service.js';
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

export const ParticipantSchema = answerOf<ParticipantView>()(
  Type.Object({
    organisation_id: Id,
    groups: Type.Array(Type.String()),
    roles: Type.Array(Type.String()),
    contacts: Type.Array(
      Type.Object({
        name: Type.String(),
        webhook_url: Type.Optional(Type.String()),
        email: Type.Optional(Type.String()),
      }),
    ),
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

export const ResourceSchema = Type.Object({
  id: Id,
  activation_id: Id,
  kind: Type.String(),
  locale: Type.String(),
  title: Type.String(),
  url: Nullable(Type.String()),
  message: Nullable(Type.String()),
  created_by: Type.String(),
  created_at: Time,
});

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
