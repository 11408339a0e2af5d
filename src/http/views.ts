/** Domain objects to API views: snake_case, stable field names, nothing internal. */
import type { ApiKeyInfo } from '../store/api-keys.js';
import { DEFAULT_SHARE_POLICY, type Bank, type BankShare, type IncomingShare } from '../store/banks.js';
import type { Entry } from '../store/entries.js';
import type { BankTaxonomy } from '../store/taxonomies.js';
import type { Organisation } from '../store/organisations.js';
import type { MatchEvidence } from '../matching/match-service.js';
import type { Static } from 'typebox';
import type * as V from './schemas/views.js';

export const organisationView = (o: Organisation): Static<typeof V.OrganisationView> => ({
  id: o.id,
  name: o.name,
  kind: o.kind,
  created_at: o.createdAt,
});

export const apiKeyView = (k: ApiKeyInfo): Static<typeof V.ApiKeyView> => ({
  id: k.id,
  organisation_id: k.orgId,
  name: k.name,
  prefix: k.prefix,
  role: k.role,
  created_at: k.createdAt,
  last_used_at: k.lastUsedAt,
  revoked_at: k.revokedAt,
});

export const bankView = (b: Bank): Static<typeof V.BankView> => ({
  id: b.id,
  organisation_id: b.orgId,
  name: b.name,
  description: b.description,
  default_labels: b.defaultLabels,
  thresholds: b.thresholds,
  enabled: b.enabled,
  sharing: b.sharing,
  purpose: b.purpose,
  created_at: b.createdAt,
  updated_at: b.updatedAt,
  ...(b.managedBy ? { managed_by: b.managedBy, read_only: true } : {}),
});

export const shareView = (s: BankShare): Static<typeof V.ShareView> => ({
  organisation_id: s.orgId,
  rights: s.rights,
  can_contribute: s.canContribute,
  status: s.status,
  policy: s.policy,
});

export const incomingShareView = (s: IncomingShare): Static<typeof V.IncomingShareView> => ({
  bank_id: s.bankId,
  bank_name: s.bankName,
  owner: { id: s.ownerOrgId, name: s.ownerName },
  rights: s.rights,
  can_contribute: s.canContribute,
  status: s.status,
  policy: s.status === 'accepted' ? (s.policy ?? DEFAULT_SHARE_POLICY) : null,
  offered_at: s.offeredAt,
  accepted_at: s.acceptedAt,
});

export const taxonomyView = (bankId: number, t: BankTaxonomy | null): Static<typeof V.TaxonomyView> => ({
  bank_id: bankId,
  preset: t?.preset ?? null,
  labels: (t?.labels ?? []).map((l) => ({ key: l.key, description: l.description, group: l.group })),
  updated_by: t?.updatedBy ?? null,
  updated_at: t?.updatedAt ?? null,
});

export const entryView = (e: Entry): Static<typeof V.EntryView> => ({
  id: e.id,
  bank_id: e.bankId,
  signal_type: e.signalType,
  value: e.value,
  labels: e.labels,
  contributor_organisation_id: e.contributorOrgId,
  source: e.source,
  external_id: e.externalId,
  note: e.note,
  status: e.status,
  created_at: e.createdAt,
  updated_at: e.updatedAt,
});

export const matchView = (m: MatchEvidence): Static<typeof V.MatchView> => ({
  signal_index: m.signalIndex,
  signal_type: m.signalType,
  distance: m.distance,
  ...(m.detail ? { detail: m.detail } : {}),
  bank: { id: m.bank.id, name: m.bank.name, organisation_id: m.bank.orgId },
  entry: {
    id: m.entry.id,
    labels: m.entry.labels,
    contributor_organisation_id: m.entry.contributorOrgId,
    source: m.entry.source,
    external_id: m.entry.externalId,
  },
});
