/**
 * The protocols Kaitiaki ships, from the public descriptions in ../shared/reference (A2, A4). Where a published
 * name was not available (two of GIFCT's 2025 activation types), the preset says so rather than inventing one.
 * Operators edit a preset to fit their own process; that makes a version of their own.
 */
import type { ActivationType, ProtocolDefinition } from './protocols.js';

const c = (key: string, label: string) => ({ key, label });

const ongoing = c('ongoing_event', 'An ongoing terrorist or mass-violence event');
const onPlatform = c(
  'on_member_platform_or_spread_inevitable',
  'The content is on a member platform, or so widely available that spread is inevitable',
);
const murder = c('depicts_murder_or_attempt', 'The content depicts murder or attempted murder');

const gifctRoles = [
  { key: 'operating_board', label: 'Operating board (decides activation)' },
  { key: 'secretariat', label: 'Secretariat (coordinates, communicates)' },
  { key: 'member', label: 'Member company' },
  { key: 'advisory_committee', label: 'Independent Advisory Committee (observes)' },
];

const everyoneGifct: ActivationType['notify'] = [
  'members',
  'affected_governments',
  'advisory_network',
  'other_mechanisms',
];

const gifctSections = {
  parameters:
    'An offline terrorist or mass-violence event whose perpetrator content manifests online; objective: limit its spread across member platforms.',
  roles_and_measures:
    'The secretariat gathers awareness and informs members; the operating board decides; members hash the content into the incident bank and act under their own policies and terms.',
  activation_procedure:
    'Criteria are assessed and recorded with evidence; activation needs a formal decision by the operating board (no single person activates alone).',
  duration:
    'Concluded when members confirm volume and impact have noticeably decreased, or on time passed since the offline event and members’ feedback on re-upload attempts; reviewed at 24 h.',
  safeguards:
    'Scope limited to perpetrator-produced content; bystander content only by explicit decision; each member keeps its own legal basis; human-rights note recorded with every decision; the advisory committee observes.',
  public_reporting:
    'A public status post: activation time and type, criteria met, steps taken, conclusion time and basis, visually distinct items and total hashes.',
};

export const PRESETS: readonly ProtocolDefinition[] = [
  {
    key: 'gifct-2021',
    name: 'GIFCT Incident Response Framework (2021 levels)',
    description:
      'Three hierarchical levels: Incident, Content Incident, Content Incident Protocol (retired 2025).',
    roles: gifctRoles,
    types: [
      {
        key: 'INCIDENT',
        label: 'Incident (situational awareness)',
        criteria: [ongoing, c('online_aspect', 'The event has an online aspect')],
        hash_sharing: false,
        notify: ['members', 'advisory_network'],
      },
      {
        key: 'CONTENT_INCIDENT',
        label: 'Content Incident',
        criteria: [
          ongoing,
          c('perpetrator_or_accomplice_content', 'Perpetrator or accomplice content other than video'),
          murder,
          onPlatform,
        ],
        hash_sharing: true,
        notify: everyoneGifct,
      },
      {
        key: 'CONTENT_INCIDENT_PROTOCOL',
        label: 'Content Incident Protocol',
        criteria: [
          ongoing,
          c(
            'perpetrator_or_accomplice_video',
            'Live-streamed or recorded video by the perpetrator or an accomplice',
          ),
          murder,
          onPlatform,
        ],
        hash_sharing: true,
        notify: everyoneGifct,
      },
    ],
    activation: { decider_roles: ['operating_board'], min_deciders: 2 },
    ack_minutes: 30,
    review_after_hours: 24,
    sections: gifctSections,
  },
  {
    key: 'gifct-2025',
    name: 'GIFCT Incident Response Framework (2025 types)',
    description:
      'Three non-hierarchical activation types for content that graphically depicts or glorifies the violence; only the Perpetrator Content Incident is named publicly.',
    roles: gifctRoles,
    types: [
      {
        key: 'PERPETRATOR_CONTENT_INCIDENT',
        label: 'Perpetrator Content Incident',
        criteria: [
          ongoing,
          c('perpetrator_produced_content', 'Perpetrator-produced content, e.g. a livestream of the attack'),
          murder,
          onPlatform,
        ],
        hash_sharing: true,
        notify: everyoneGifct,
      },
      {
        key: 'TYPE_2',
        label: 'Second 2025 activation type (name not published; edit to match)',
        criteria: [ongoing, c('glorification_content', 'Content explicitly glorifying the violence')],
        hash_sharing: false,
        notify: ['members', 'advisory_network'],
      },
      {
        key: 'TYPE_3',
        label: 'Third 2025 activation type (name not published; edit to match)',
        criteria: [ongoing, c('online_aspect', 'The event has an online aspect')],
        hash_sharing: false,
        notify: ['members', 'advisory_network'],
      },
    ],
    activation: { decider_roles: ['operating_board'], min_deciders: 2 },
    ack_minutes: 30,
    review_after_hours: 24,
    sections: gifctSections,
  },
  {
    key: 'tcap',
    name: 'Terrorist Content Analytics Platform tiered alerts',
    description:
      'Four tiers; Tier 2 (Crisis) follows the Incident Response Policy and prioritises smaller platforms.',
    roles: [
      { key: 'tcap_team', label: 'TCAP team (assesses and decides)' },
      { key: 'platform', label: 'Alerted platform' },
      { key: 'observer', label: 'Civil-society observer' },
    ],
    types: [
      {
        key: 'TIER_1',
        label: 'Tier 1: Threat to Life',
        criteria: [c('intent', 'Intent to harm is shown'), c('capability', 'Capability to harm is shown')],
        hash_sharing: true,
        notify: ['members', 'affected_governments'],
      },
      {
        key: 'TIER_2',
        label: 'Tier 2: Crisis (perpetrator content)',
        criteria: [
          c(
            'attack_with_online_component',
            'A terrorist or violent-extremist attack with a significant online component',
          ),
          c('perpetrator_content', 'Livestream, manifesto or attacker-made content, or its reposts'),
        ],
        hash_sharing: true,
        notify: everyoneGifct,
      },
      {
        key: 'TIER_3',
        label: 'Tier 3: Designation (official propaganda of designated entities)',
        criteria: [c('designated_entity', 'Produced by an entity designated by a government or the UN')],
        hash_sharing: true,
        notify: ['members'],
      },
      {
        key: 'TIER_4',
        label: 'Tier 4: Promotional (support, glorification, instructions)',
        criteria: [c('promotional', 'Supports, glorifies or instructs in terrorism')],
        hash_sharing: false,
        notify: ['members'],
      },
    ],
    activation: { decider_roles: ['tcap_team'], min_deciders: 1 },
    ack_minutes: 60,
    review_after_hours: 24,
    sections: {
      parameters:
        'Pre-incident, during-incident and post-incident phases of a terrorist or violent-extremist attack with a significant online component.',
      roles_and_measures:
        'The TCAP team assesses and alerts platforms, smaller ones first; platforms act under their own terms.',
      activation_procedure: 'Triage against the tier criteria by the TCAP team, recorded with evidence.',
      duration: 'Until alerts no longer find new content; reviewed daily.',
      safeguards:
        'Bystander content case by case (graphic nature, likelihood supporters share it); human-rights note with each decision.',
      public_reporting: 'Alerts and outcomes in the TCAP transparency report.',
    },
  },
  {
    key: 'nz-dia',
    name: 'New Zealand Online Crisis Response Process',
    description:
      'Three levels chosen from harm to New Zealanders and virality; linked to the Call CRP, EUCP and GIFCT.',
    roles: [
      { key: 'dia_lead', label: 'Department of Internal Affairs lead (decides)' },
      { key: 'agency', label: 'Government agency' },
      { key: 'platform', label: 'Online service provider' },
    ],
    types: [
      {
        key: 'ACTIVATE',
        label: 'Level 1: activate the online crisis response',
        criteria: [c('harm_high', 'High harm to New Zealanders'), c('virality_high', 'High virality')],
        hash_sharing: true,
        notify: everyoneGifct,
      },
      {
        key: 'INCREASED_MONITORING',
        label: 'Level 2: increased monitoring and business as usual',
        criteria: [c('harm_or_virality', 'Elevated harm or virality')],
        hash_sharing: false,
        notify: ['members'],
      },
      {
        key: 'BAU',
        label: 'Level 3: business as usual',
        criteria: [],
        hash_sharing: false,
        notify: [],
      },
    ],
    activation: { decider_roles: ['dia_lead'], min_deciders: 1 },
    ack_minutes: 30,
    review_after_hours: 24,
    sections: {
      parameters: 'Online harm to New Zealanders from an attack, rated by harm and virality.',
      roles_and_measures:
        'DIA leads and informs agencies and providers; providers act under New Zealand law and their terms.',
      activation_procedure: 'DIA assesses harm × virality and records the level decision.',
      duration: 'Until harm and virality fall; reviewed daily.',
      safeguards:
        'Classification Office decisions ground objectionable-content rulings; human-rights note with each decision.',
      public_reporting: 'A public summary of the response once it ends.',
    },
  },
  {
    key: 'blank',
    name: 'Blank protocol (template)',
    description:
      'A starting point: add roles, activation types and the six DSA Art. 48 sections before using it.',
    roles: [],
    types: [],
    activation: { decider_roles: [], min_deciders: 1 },
    ack_minutes: 30,
    review_after_hours: 24,
    sections: {
      parameters: '',
      roles_and_measures: '',
      activation_procedure: '',
      duration: '',
      safeguards: '',
      public_reporting: '',
    },
  },
];
