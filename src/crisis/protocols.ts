/**
 * Crisis protocols are data, not code: GIFCT went from one level (2019) to three hierarchical levels (2021) to
 * three non-hierarchical types (2025) in six years, TCAP has four tiers and New Zealand three levels. A protocol
 * says which activation types exist (each with its criteria checklist, whether hash sharing opens, and who is
 * notified), which roles there are and who decides an activation, and the six sections DSA Art. 48 asks of a
 * crisis protocol. Editing a protocol stores a new version; an incident keeps the version it was activated under.
 */
import { ValidationError } from '../core/errors.js';

export const NOTIFY_GROUPS = [
  'members',
  'affected_governments',
  'advisory_network',
  'other_mechanisms',
] as const;
export type NotifyGroup = (typeof NOTIFY_GROUPS)[number];

/** DSA Art. 48(2)(a)-(f): what every crisis protocol must set out. */
export const ART48_SECTIONS = [
  'parameters', // (a) the extraordinary circumstances and the objectives
  'roles_and_measures', // (b) each participant's role and measures before and after activation
  'activation_procedure', // (c)
  'duration', // (d) the period of the measures, limited to what is necessary
  'safeguards', // (e) fundamental rights: expression and information, non-discrimination
  'public_reporting', // (f) how measures, duration and outcomes are reported when the crisis ends
] as const;
export type Art48Section = (typeof ART48_SECTIONS)[number];

export interface Criterion {
  key: string;
  label: string;
}

export interface ActivationType {
  key: string;
  label: string;
  /** Every criterion must be asserted as met before an activation of this type. */
  criteria: Criterion[];
  /** Whether the activation opens an incident bank that is pushed to members. */
  hash_sharing: boolean;
  notify: NotifyGroup[];
}

export interface ProtocolRole {
  key: string;
  label: string;
}

export interface ProtocolDefinition {
  key: string;
  name: string;
  description: string;
  roles: ProtocolRole[];
  types: ActivationType[];
  activation: {
    /** Roles whose holders may decide an activation. */
    decider_roles: string[];
    /** Distinct people who must each record a decision ("nobody can activate it alone" when ≥ 2). */
    min_deciders: number;
  };
  /** Minutes a notified contact has to acknowledge before the next contact is tried. */
  ack_minutes: number;
  /** Hours after activation at which the protocol asks whether to conclude (observed activations: 23–43 h). */
  review_after_hours: number;
  sections: Record<Art48Section, string>;
}

const KEY = /^[a-z0-9][a-z0-9_-]{0,62}$/i;

/** Checks a definition sent by a user; names every problem at once. */
export function validateDefinition(def: ProtocolDefinition): ProtocolDefinition {
  const problems: { path: string; message: string }[] = [];
  const bad = (path: string, message: string) => problems.push({ path: `body/${path}`, message });
  if (!KEY.test(def.key)) bad('key', 'letters, digits, _ and - only, at most 63');
  const roleKeys = new Set(def.roles.map((r) => r.key));
  if (roleKeys.size !== def.roles.length) bad('roles', 'role keys must be unique');
  const typeKeys = new Set(def.types.map((t) => t.key));
  if (typeKeys.size !== def.types.length) bad('types', 'activation type keys must be unique');
  for (const [i, type] of def.types.entries()) {
    if (!KEY.test(type.key)) bad(`types/${i}/key`, 'letters, digits, _ and - only');
    const criteria = new Set(type.criteria.map((c) => c.key));
    if (criteria.size !== type.criteria.length) bad(`types/${i}/criteria`, 'criterion keys must be unique');
  }
  for (const role of def.activation.decider_roles)
    if (!roleKeys.has(role)) bad('activation/decider_roles', `"${role}" is not one of the protocol's roles`);
  if (def.activation.min_deciders < 1) bad('activation/min_deciders', 'at least 1');
  if (problems.length > 0)
    throw new ValidationError(
      `the protocol definition has ${problems.length} problem(s): ${problems.map((p) => `${p.path}: ${p.message}`).join('; ')}`,
      'KAI_ERR_CRISIS_PROTOCOL',
      { errors: problems },
    );
  return def;
}

/** What stops a protocol from being used for an activation (a blank template has no types and no sections). */
export function unusableBecause(def: ProtocolDefinition): string | null {
  const empty = ART48_SECTIONS.filter((s) => !def.sections[s]?.trim());
  if (def.types.length === 0) return 'it defines no activation type';
  if (def.activation.decider_roles.length === 0) return 'it names no role that decides an activation';
  if (empty.length > 0) return `its DSA Art. 48 sections are empty: ${empty.join(', ')}`;
  return null;
}

export function activationType(def: ProtocolDefinition, key: string): ActivationType {
  const type = def.types.find((t) => t.key === key);
  if (!type)
    throw new ValidationError(
      `protocol ${def.key} has no activation type "${key}"; it has ${def.types.map((t) => t.key).join(', ')}`,
      'KAI_ERR_CRISIS_TYPE',
    );
  return type;
}
