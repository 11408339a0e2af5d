import type { CaseDetail } from '../../api/client';

export interface ReasonTemplate {
  name: string;
  decision: string;
  text: (c: CaseDetail) => string;
}

const banks = (c: CaseDetail) => [...new Set(c.evidence.map((e) => e.bank.name))].join(', ');
const labels = (c: CaseDetail) => [...new Set(c.evidence.flatMap((e) => e.entry.labels))].join(', ');

/**
 * Statement-of-reasons templates, one per common outcome of the TVEC policy. The text is what the user is told:
 * it names the match (bank, labels) or the report, and the moderator can edit it before recording.
 */
export const TEMPLATES: ReasonTemplate[] = [
  {
    name: 'Known terrorist content (hash match)',
    decision: 'remove',
    text: (c) =>
      c.evidence.length > 0
        ? `Matches known terrorist or violent extremist content${banks(c) ? ` in ${banks(c)}` : ''}${labels(c) ? ` (${labels(c)})` : ''}; removed under our terms.`
        : 'Terrorist or violent extremist content; removed under our terms.',
  },
  {
    name: 'Glorification of a violent attack',
    decision: 'remove',
    text: () => 'Glorifies a violent attack or its perpetrators; removed under our terms.',
  },
  {
    name: 'Newsworthy, restricted with a warning',
    decision: 'restrict',
    text: () =>
      'Shows violent extremist material in a news or documentary context; kept behind a warning and age limit.',
  },
  {
    name: 'No violation found',
    decision: 'no-violation',
    text: () => 'Reviewed against our terrorist and violent extremist content policy; no violation found.',
  },
];
