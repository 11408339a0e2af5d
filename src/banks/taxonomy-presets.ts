/**
 * The label taxonomies Kaitiaki ships, as data, from the public descriptions in ../shared/reference
 * (hash-sharing-and-alerts.md). A bank seeded from a preset gets its own copy: editing it (PUT the labels) changes
 * that bank only.
 *
 * - `gifct`: GIFCT's Hash-Sharing Database labels. The behavioural label names are those of GIFCT's 2020
 *   transparency report as our reference recalls them, which it could not confirm from a primary source; the
 *   categories are the inclusion bases (the UN sanctions list since 2017, attack perpetrator content since 2019,
 *   and the three categories added in 2021).
 * - `tcap`: Tech Against Terrorism's TCAP tiered alert system (July 2023), the Threat to Life levels of tier 1, and
 *   the ideologies of TCAP's hash list (the labels its source gives entries: `ideology:<name>`).
 */

export interface TaxonomyLabel {
  key: string;
  description: string;
  group: string;
}

export interface TaxonomyPreset {
  key: string;
  name: string;
  description: string;
  labels: readonly TaxonomyLabel[];
}

const label = (group: string) => (key: string, description: string) => ({ key, description, group });

const behaviour = label('behaviour');
const category = label('category');
const tier = label('tier');
const threatLevel = label('threat-to-life level');
const ideology = label('ideology');

export const TAXONOMY_PRESETS: readonly TaxonomyPreset[] = [
  {
    key: 'gifct',
    name: 'GIFCT hash-sharing labels',
    description:
      'Behavioural labels and inclusion categories of the GIFCT Hash-Sharing Database (behavioural label names as recalled from the 2020 transparency report, not confirmed from a primary source).',
    labels: [
      behaviour('imminent-credible-threat', 'Imminent credible threat'),
      behaviour('graphic-violence', 'Graphic violence against defenceless people'),
      behaviour('glorification', 'Glorification of terrorist acts'),
      behaviour('radicalization-recruitment-instruction', 'Radicalisation, recruitment, instruction'),
      behaviour(
        'christchurch-cip',
        'Christchurch / Content Incident Protocol: perpetrator content of an attack',
      ),
      category(
        'un-sanctioned-entity',
        'Content of an entity on the UN Security Council Consolidated Sanctions List (the basis since 2017)',
      ),
      category('perpetrator-content', 'Perpetrator-produced content of an attack (since 2019)'),
      category('attacker-manifesto', 'Attacker manifesto, PDF (category added in 2021)'),
      category('branded-publication', 'Branded terrorist publication, PDF (category added in 2021)'),
      category('tat-url', 'URL identified by Tech Against Terrorism (category added in 2021)'),
    ],
  },
  {
    key: 'tcap',
    name: 'TCAP tiers',
    description:
      "Tech Against Terrorism's TCAP tiered alert system (Phase II, July 2023), tier 1 threat levels, and TCAP hash-list ideologies.",
    labels: [
      tier(
        'tier-1-threat-to-life',
        'Tier 1, Threat to Life: specific, imminent violent intent; alerts platforms and law enforcement',
      ),
      tier(
        'tier-2-crisis',
        'Tier 2, Crisis: perpetrator-produced attack content (livestream, manifesto), during an incident or historical',
      ),
      tier(
        'tier-3-designation',
        'Tier 3, Designation: official propaganda of entities designated by selected democratic states and bodies',
      ),
      tier(
        'tier-4-promotional',
        'Tier 4, Promotional: supporter material for tier 2 and 3 actors (unofficial outlets, inspirational, instructional)',
      ),
      threatLevel('threat-level:low', 'Tier 1 threat level LOW (intent x capability)'),
      threatLevel('threat-level:medium', 'Tier 1 threat level MEDIUM'),
      threatLevel('threat-level:high-unspecific', 'Tier 1 threat level HIGH UNSPECIFIC'),
      threatLevel('threat-level:high-specific', 'Tier 1 threat level HIGH SPECIFIC'),
      ideology('ideology:islamist', 'Islamist (TCAP hash list ideology)'),
      ideology('ideology:far-right', 'Far-right (TCAP hash list ideology)'),
    ],
  },
];

export const TAXONOMY_PRESET_KEYS = TAXONOMY_PRESETS.map((p) => p.key);

export function taxonomyPreset(key: string): TaxonomyPreset | undefined {
  return TAXONOMY_PRESETS.find((p) => p.key === key);
}
