/** Report renderings: CSV (one metric per line) and a printable HTML page with SVG bar charts (d3-scale). */
import { scaleBand, scaleLinear } from 'd3-scale';
import { csvLine } from '../core/csv.js';

export const REPORT_FORMATS = ['json', 'csv', 'html'] as const;
export type ReportFormat = (typeof REPORT_FORMATS)[number];

/** Every leaf of the report as a dotted path (arrays by index), in document order. */
export function flatten(value: unknown, prefix = ''): [string, string][] {
  if (value === null || typeof value !== 'object') return [[prefix, value === null ? '' : String(value)]];
  const out: [string, string][] = [];
  const entries = Array.isArray(value) ? value.map((v, i) => [String(i), v] as const) : Object.entries(value);
  for (const [key, child] of entries) out.push(...flatten(child, prefix ? `${prefix}.${key}` : key));
  return out;
}

export function reportCsv(report: object): string {
  return (
    csvLine(['metric', 'value']) +
    flatten(report)
      .map(([k, v]) => csvLine([k, v]))
      .join('')
  );
}

const escape = (s: string) =>
  s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);

/** A horizontal bar chart as inline SVG (no script: prints and archives as is). */
export function barChart(title: string, data: Record<string, number>): string {
  const entries = Object.entries(data);
  if (entries.length === 0) return `<p class="empty">${escape(title)}: nothing in this period.</p>`;
  const width = 640;
  const left = 180;
  const rowHeight = 22;
  const height = entries.length * rowHeight + 10;
  const y = scaleBand()
    .domain(entries.map(([k]) => k))
    .range([5, height - 5])
    .padding(0.2);
  const max = Math.max(1, ...entries.map(([, v]) => v));
  const x = scaleLinear()
    .domain([0, max])
    .range([0, width - left - 60])
    .nice();
  const bars = entries
    .map(([k, v]) => {
      const top = y(k) ?? 0;
      const w = x(v);
      return (
        `<text x="${left - 6}" y="${top + y.bandwidth() / 2 + 4}" text-anchor="end">${escape(k)}</text>` +
        `<rect x="${left}" y="${top}" width="${w.toFixed(1)}" height="${y.bandwidth().toFixed(1)}" fill="#2b6cb0"/>` +
        `<text x="${(left + w + 4).toFixed(1)}" y="${top + y.bandwidth() / 2 + 4}">${v}</text>`
      );
    })
    .join('');
  return `<figure><figcaption>${escape(title)}</figcaption><svg role="img" aria-label="${escape(title)}" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-size="12" font-family="sans-serif">${bars}</svg></figure>`;
}

function table(rows: [string, string][]): string {
  return `<table><tbody>${rows.map(([k, v]) => `<tr><th>${escape(k)}</th><td>${escape(v)}</td></tr>`).join('')}</tbody></table>`;
}

/** The charts each kind of report draws, from its own figures. */
function charts(report: Record<string, unknown>): string {
  const pick = (path: string) =>
    path
      .split('.')
      .reduce<unknown>(
        (o, k) => (o && typeof o === 'object' ? (o as Record<string, unknown>)[k] : undefined),
        report,
      ) as Record<string, number> | undefined;
  const wanted: [string, string][] =
    report.report === 'company'
      ? [
          ['Actioned by detection source', 'actioned_by_detection_source'],
          ['Actioned by label', 'actioned_by_label'],
          ['Actioned by territory', 'actioned_by_territory'],
          ['Actioned by format', 'actioned_by_format'],
          ['Removal orders not executed, by ground', 'removal_orders.not_executed_by_ground'],
          ['Referrals by outcome', 'referrals.by_outcome'],
        ]
      : report.report === 'government'
        ? [
            ['Orders by Art. 2(7) content type', 'removal_orders.by_content_type'],
            ['Orders not executed, by ground', 'removal_orders.not_executed_by_ground'],
            ['Referrals by outcome', 'referrals.by_outcome'],
          ]
        : [];
  if (report.report === 'hub') {
    const r = report as {
      decisions: number;
      actioned: number;
      removal_orders: { received: number; actioned: number };
      appeals: { filed: number; reversed: number };
      banks: { name: string; reversals: number }[];
      crisis_activations: { name: string; actioned: number }[];
    };
    return [
      barChart('Across members', {
        decisions: r.decisions,
        actioned: r.actioned,
        'removal orders received': r.removal_orders.received,
        'removal orders actioned': r.removal_orders.actioned,
        'appeals filed': r.appeals.filed,
        'appeals reversed': r.appeals.reversed,
      }),
      barChart(
        'Reversals caused by hub banks',
        Object.fromEntries(r.banks.map((b) => [b.name, b.reversals])),
      ),
      barChart(
        'Actioned during crisis activations',
        Object.fromEntries(r.crisis_activations.map((c) => [c.name, c.actioned])),
      ),
    ].join('');
  }
  return wanted.map(([title, path]) => barChart(title, pick(path) ?? {})).join('');
}

export function reportHtml(report: Record<string, unknown>): string {
  const org = report.organisation as { name: string };
  const period = report.period as { from: string; to: string };
  const title = `${String(report.report)} transparency report — ${org.name}`;
  const methodology = (report.methodology as string[]).map((m) => `<li>${escape(m)}</li>`).join('');
  const figures = flatten(report).filter(([k]) => !k.startsWith('methodology'));
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>${escape(title)}</title>
<style>
body{font-family:system-ui,sans-serif;max-width:60rem;margin:2rem auto;padding:0 1rem;color:#1a202c}
h1{font-size:1.6rem}table{border-collapse:collapse;width:100%;font-size:.85rem}
th,td{border-bottom:1px solid #e2e8f0;padding:.2rem .4rem;text-align:left}td{text-align:right;font-variant-numeric:tabular-nums}
figure{margin:1rem 0;break-inside:avoid}figcaption{font-weight:600;margin-bottom:.3rem}
@media print{body{margin:0}a{color:inherit}}
</style></head><body>
<h1>${escape(title)}</h1>
<p>Period: ${escape(period.from)} to ${escape(period.to)} (end exclusive). Generated ${escape(String(report.generated_at))} from the record; nothing in it is typed by hand.</p>
<h2>Charts</h2>${charts(report)}
<h2>All figures</h2>${table(figures)}
<h2>Methodology</h2><ul>${methodology}</ul>
</body></html>
`;
}
