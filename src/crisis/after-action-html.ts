/**
 * The after-action report as a printable HTML page: tables, and charts drawn here as inline SVG with d3-scale (the
 * transparency report's approach: no script, so the page prints and archives as it is). Every piece of text that
 * came from a person (titles, reasons, rationales, notes, names) is escaped.
 */
import { scaleBand, scaleLinear, scaleUtc } from 'd3-scale';
import type { AfterActionReport, MemberLine, TimelineEvent } from './after-action.js';
import type { Moment } from './crisis-service.js';

const esc = (s: string | number | null | undefined): string =>
  String(s ?? '').replace(
    /[&<>"']/g,
    (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!,
  );

/** 4 h 05 min, 12 min 30 s, 45 s; a dash when unknown. */
export function formatDuration(seconds: number | null): string {
  if (seconds === null) return '—';
  const sign = seconds < 0 ? '−' : '';
  let s = Math.abs(Math.round(seconds));
  const d = Math.floor(s / 86400);
  s -= d * 86400;
  const h = Math.floor(s / 3600);
  s -= h * 3600;
  const m = Math.floor(s / 60);
  s -= m * 60;
  const parts = d
    ? [`${d} d`, `${h} h`]
    : h
      ? [`${h} h`, `${String(m).padStart(2, '0')} min`]
      : m
        ? [`${m} min`, ...(s ? [`${s} s`] : [])]
        : [`${s} s`];
  return sign + parts.join(' ');
}

const local = (m: Moment | null): string => (m ? m.local.replace('T', ' ') : '—');

function table(head: string[], rows: (string | number | null)[][], className = ''): string {
  if (rows.length === 0) return '<p class="empty">None recorded.</p>';
  return `<table${className ? ` class="${className}"` : ''}><thead><tr>${head.map((h) => `<th>${esc(h)}</th>`).join('')}</tr></thead><tbody>${rows
    .map((r) => `<tr>${r.map((c) => `<td>${esc(c ?? '—')}</td>`).join('')}</tr>`)
    .join('')}</tbody></table>`;
}

const STATE_COLOURS: Record<string, string> = {
  awareness: '#cbd5e0',
  assessing: '#ecc94b',
  active: '#e53e3e',
  deescalating: '#ed8936',
  concluded: '#48bb78',
  debriefed: '#2f855a',
  not_activated: '#a0aec0',
};

const MARKS: Partial<Record<TimelineEvent['kind'], { lane: string; colour: string }>> = {
  criterion: { lane: 'Criteria and decisions', colour: '#805ad5' },
  decision: { lane: 'Criteria and decisions', colour: '#1a202c' },
  notification_sent: { lane: 'Notifications', colour: '#3182ce' },
  notification_acked: { lane: 'Notifications', colour: '#38a169' },
  notification_escalated: { lane: 'Notifications', colour: '#e53e3e' },
  first_hash: { lane: 'Hashes and blocks', colour: '#d53f8c' },
  first_block: { lane: 'Hashes and blocks', colour: '#2b6cb0' },
  update: { lane: 'Updates', colour: '#718096' },
  occurred: { lane: 'Incident', colour: '#9b2c2c' },
  reported: { lane: 'Incident', colour: '#1a202c' },
};

/** A tick label in the incident's zone: the time, and the date where the day changes. */
function tickLabel(date: Date, zone: string, withDate: boolean): string {
  const fmt = new Intl.DateTimeFormat('en-GB', {
    timeZone: zone,
    hour: '2-digit',
    minute: '2-digit',
    hourCycle: 'h23',
    ...(withDate ? { day: 'numeric', month: 'short' } : {}),
  });
  return fmt.format(date);
}

/** Lanes: one per activation (its states as segments), then markers for what happened around them. */
export function timelineChart(report: AfterActionReport): string {
  const events = report.timeline;
  if (events.length === 0) return '<p class="empty">Nothing recorded.</p>';
  const times = events.map((e) => Date.parse(e.at));
  let [start, end] = [Math.min(...times), Math.max(...times)];
  if (end - start < 60_000) [start, end] = [start - 30_000, end + 30_000];
  // Room after the last event, so the state an activation ended in shows as a segment too.
  end += Math.max(60_000, (end - start) * 0.05);
  const width = 680;
  const left = 150;
  const right = 16;
  const laneHeight = 24;
  const markerLanes = [...new Set(Object.values(MARKS).map((m) => m!.lane))].filter((lane) =>
    events.some((e) => MARKS[e.kind]?.lane === lane),
  );
  const lanes = [...report.activations.map((a) => `${a.protocol.key} #${a.id}`), ...markerLanes];
  const top = 8;
  const axisY = top + lanes.length * laneHeight + 4;
  const height = axisY + 34;
  const x = scaleUtc()
    .domain([new Date(start), new Date(end)])
    .range([left, width - right]);
  const y = scaleBand()
    .domain(lanes)
    .range([top, top + lanes.length * laneHeight])
    .padding(0.25);
  const zone = report.incident.zone;
  const parts: string[] = [];
  for (const lane of lanes)
    parts.push(
      `<text x="${left - 6}" y="${(y(lane)! + y.bandwidth() / 2 + 4).toFixed(1)}" text-anchor="end">${esc(lane)}</text>`,
    );
  // State segments: each transition starts a state that lasts until the activation's next transition.
  for (const a of report.activations) {
    const lane = `${a.protocol.key} #${a.id}`;
    const moves = events.filter((e) => e.kind === 'transition' && e.activation_id === a.id);
    moves.forEach((move, i) => {
      const from = x(new Date(move.at));
      const to = x(new Date(moves[i + 1]?.at ?? end));
      parts.push(
        `<rect x="${from.toFixed(1)}" y="${y(lane)!.toFixed(1)}" width="${Math.max(1, to - from).toFixed(1)}" height="${y.bandwidth().toFixed(1)}" fill="${STATE_COLOURS[move.to ?? ''] ?? '#a0aec0'}"><title>${esc(`${move.to}: ${move.local.replace('T', ' ')}`)}</title></rect>`,
      );
    });
  }
  for (const e of events) {
    const mark = MARKS[e.kind];
    if (!mark) continue;
    const cx = x(new Date(e.at));
    const cy = y(mark.lane)! + y.bandwidth() / 2;
    const title = `<title>${esc(`${e.local.replace('T', ' ')} ${e.what}`)}</title>`;
    parts.push(
      e.kind === 'first_hash'
        ? `<path d="M${cx.toFixed(1)} ${(cy - 6).toFixed(1)}l6 6l-6 6l-6 -6z" fill="${mark.colour}">${title}</path>`
        : `<circle cx="${cx.toFixed(1)}" cy="${cy.toFixed(1)}" r="4" fill="${mark.colour}" fill-opacity="0.8">${title}</circle>`,
    );
  }
  const ticks = x.ticks(6);
  const day = new Intl.DateTimeFormat('en-GB', { timeZone: zone, day: 'numeric', month: 'short' });
  const multiDay = new Set(ticks.map((t) => day.format(t))).size > 1;
  parts.push(
    `<line x1="${left}" x2="${width - right}" y1="${axisY}" y2="${axisY}" stroke="#4a5568"/>`,
    ...ticks.map((t) => {
      const tx = x(t).toFixed(1);
      return `<line x1="${tx}" x2="${tx}" y1="${axisY}" y2="${axisY + 4}" stroke="#4a5568"/><text x="${tx}" y="${axisY + 16}" text-anchor="middle">${esc(tickLabel(t, zone, multiDay))}</text>`;
    }),
    `<text x="${width - right}" y="${axisY + 30}" text-anchor="end" fill="#4a5568">local time, ${esc(zone)}</text>`,
  );
  const legend = [
    ...Object.entries(STATE_COLOURS).map(([state, colour]) => [state, colour]),
    ['criterion', MARKS.criterion!.colour],
    ['decision', MARKS.decision!.colour],
    ['notified', MARKS.notification_sent!.colour],
    ['acknowledged', MARKS.notification_acked!.colour],
    ['escalated', MARKS.notification_escalated!.colour],
    ['first hash', MARKS.first_hash!.colour],
    ['first block', MARKS.first_block!.colour],
  ]
    .map(([label, colour]) => `<span><i style="background:${colour}"></i>${esc(label)}</span>`)
    .join('');
  return `<figure><figcaption>Activation states and events over time</figcaption><svg role="img" aria-label="Timeline of the incident" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-size="11" font-family="sans-serif">${parts.join('')}</svg><div class="legend">${legend}</div></figure>`;
}

interface Series {
  name: string;
  colour: string;
  values: (number | null)[];
  /** How a value reads at the end of its bar. */
  format: (v: number) => string;
  /** What a missing value reads (per category, when the reasons differ). */
  missing: string | ((index: number) => string);
}

/** Horizontal bars, one group per category and one bar per series (negative values drawn as none). */
export function groupedBars(title: string, categories: string[], series: Series[]): string {
  if (categories.length === 0) return `<p class="empty">${esc(title)}: nothing recorded.</p>`;
  const width = 680;
  const left = 170;
  const rowHeight = 14 * series.length + 10;
  const height = categories.length * rowHeight + 10;
  const y = scaleBand()
    .domain(categories.map((_, i) => String(i)))
    .range([5, height - 5])
    .paddingInner(0.2);
  const inner = scaleBand()
    .domain(series.map((s) => s.name))
    .range([0, y.bandwidth()])
    .padding(0.1);
  const max = Math.max(1, ...series.flatMap((s) => s.values.map((v) => v ?? 0)));
  const x = scaleLinear()
    .domain([0, max])
    .range([0, width - left - 150])
    .nice();
  const parts: string[] = [];
  categories.forEach((category, i) => {
    const top = y(String(i))!;
    parts.push(
      `<text x="${left - 6}" y="${(top + y.bandwidth() / 2 + 4).toFixed(1)}" text-anchor="end">${esc(category)}</text>`,
    );
    for (const s of series) {
      const v = s.values[i];
      const by = top + inner(s.name)!;
      const w = v === null || v < 0 ? 0 : x(v);
      const label = v !== null ? s.format(v) : typeof s.missing === 'string' ? s.missing : s.missing(i);
      parts.push(
        `<rect x="${left}" y="${by.toFixed(1)}" width="${w.toFixed(1)}" height="${inner.bandwidth().toFixed(1)}" fill="${s.colour}"><title>${esc(`${category}, ${s.name}: ${label}`)}</title></rect>`,
        `<text x="${(left + w + 4).toFixed(1)}" y="${(by + inner.bandwidth() - 2).toFixed(1)}" font-size="10">${esc(label)}</text>`,
      );
    }
  });
  const legend = series
    .map((s) => `<span><i style="background:${s.colour}"></i>${esc(s.name)}</span>`)
    .join('');
  return `<figure><figcaption>${esc(title)}</figcaption><svg role="img" aria-label="${esc(title)}" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-size="11" font-family="sans-serif">${parts.join('')}</svg><div class="legend">${legend}</div></figure>`;
}

const minutes = (seconds: number) => formatDuration(seconds);

function memberChart(members: MemberLine[]): string {
  return groupedBars(
    'Per member: acknowledgement delay and first block after the first hash',
    members.map((m) => m.name),
    [
      {
        name: 'acknowledged after',
        colour: '#38a169',
        values: members.map((m) => m.notifications[0]?.ack_delay_seconds ?? null),
        format: minutes,
        missing: (i) => (members[i].notifications.length ? 'not acknowledged' : 'not notified'),
      },
      {
        name: 'first block after first hash',
        colour: '#2b6cb0',
        values: members.map((m) => m.first_block_after_first_hash_seconds),
        format: (v) => (v < 0 ? `before the first hash (${formatDuration(v)})` : minutes(v)),
        missing: 'no block reported',
      },
    ],
  );
}

function distributionChart(report: AfterActionReport): string {
  const ack = report.members_summary.ack_delay_distribution;
  const block = report.members_summary.first_block_distribution;
  const buckets = [...new Set([...Object.keys(block), ...Object.keys(ack)])];
  const count = (v: number) => `${v} member${v === 1 ? '' : 's'}`;
  return groupedBars('Members by acknowledgement delay and by first block after the first hash', buckets, [
    {
      name: 'acknowledgement delay',
      colour: '#38a169',
      values: buckets.map((b) => (b in ack ? ack[b] : null)),
      format: count,
      missing: '',
    },
    {
      name: 'first block after first hash',
      colour: '#2b6cb0',
      values: buckets.map((b) => (b in block ? block[b] : null)),
      format: count,
      missing: '',
    },
  ]);
}

function keyFigures(r: AfterActionReport): string {
  const s = r.members_summary;
  const rows: [string, string][] = [
    ['Reported', local(r.incident.reported)],
    ['Occurred', local(r.incident.occurred)],
    ['First activation', local(r.times.first_activation)],
    ['Time to activation (from report)', formatDuration(r.times.activation_after_report_seconds)],
    ['Time to activation (from occurrence)', formatDuration(r.times.activation_after_occurrence_seconds)],
    ['First hash in the incident bank', local(r.times.first_hash)],
    [
      'Time to first hash (from hash-sharing activation)',
      formatDuration(r.times.first_hash_after_activation_seconds),
    ],
    ['Visually distinct items / total hashes', `${r.bank.distinct_items} / ${r.bank.total_hashes}`],
    ['Hashes added after conclusion', String(r.bank.added_after_conclusion)],
    ['Matches reported by members', String(r.impact.matches)],
    ['Matches prevented (blocks)', String(r.impact.matches_prevented)],
    ['Members notified / acknowledged / late', `${s.notified} / ${s.acknowledged} / ${s.late}`],
    ['Members blocking / reporting numbers', `${s.blocking} / ${s.reporting}`],
    ['Median acknowledgement delay', formatDuration(s.ack_delay_seconds.median)],
    ['Median first block after first hash', formatDuration(s.first_block_after_first_hash_seconds.median)],
    ['Open findings', String(r.findings.open)],
  ];
  return `<table class="figures"><tbody>${rows.map(([k, v]) => `<tr><th>${esc(k)}</th><td>${esc(v)}</td></tr>`).join('')}</tbody></table>`;
}

function activationsSection(r: AfterActionReport): string {
  const full = r.variant === 'full';
  const overview = table(
    ['Protocol', 'Type', 'State', 'Activated', 'Concluded', 'Duration', 'Conclusion basis'],
    r.activations.map((a) => [
      `${a.protocol.name} (${a.protocol.key} v${a.protocol.version})`,
      a.type_label ?? a.type ?? '—',
      a.state,
      local(a.activated),
      local(a.concluded),
      formatDuration(a.duration_seconds),
      a.conclusion
        ? `${a.conclusion.basis}${a.conclusion.text ? `: ${a.conclusion.text}` : ''}`
        : (a.not_activated_reason ?? '—'),
    ]),
  );
  const details = r.activations
    .map((a) => {
      const criteria = table(
        ['Asserted', 'Criterion', 'Met', 'Note', 'Evidence', ...(full ? ['By'] : [])],
        a.criteria.map((c) => [
          local(c.asserted),
          c.label ?? c.criterion,
          c.met ? 'yes' : 'no',
          c.note,
          full ? (c.evidence ?? []).join(', ') || '—' : `${c.evidence_count} reference(s)`,
          ...(full ? [c.actor ?? '—'] : []),
        ]),
      );
      const decisions = a.decisions
        .map(
          (d) =>
            `<div class="decision"><p><strong>${esc(local(d.decided))}</strong>: activate ${esc(d.type)} (${esc(d.role)})${
              full && d.organisation ? `, ${esc(d.actor)} of ${esc(d.organisation.name)}` : ''
            }</p><p>${esc(d.rationale)}</p><dl><dt>Necessity</dt><dd>${esc(d.human_rights.necessity)}</dd><dt>Proportionality</dt><dd>${esc(
              d.human_rights.proportionality,
            )}</dd><dt>Scope</dt><dd>${esc(d.human_rights.scope)}</dd><dt>Bystander content</dt><dd>${
              d.human_rights.bystander_content
                ? `in scope: ${esc(d.human_rights.bystander_decision)}`
                : 'excluded'
            }</dd></dl></div>`,
        )
        .join('');
      return `<h3>${esc(a.protocol.name)} (activation ${a.id})</h3><h4>Criteria</h4>${criteria}<h4>Decisions, rationale and human-rights notes</h4>${decisions || '<p class="empty">No decisions recorded.</p>'}`;
    })
    .join('');
  return overview + details;
}

function membersSection(r: AfterActionReport): string {
  const s = r.members_summary;
  const summary = table(
    ['Members', 'Notified', 'Acknowledged', 'Not acknowledged', 'Late', 'Escalated', 'Reporting', 'Blocking'],
    [
      [
        s.members,
        s.notified,
        s.acknowledged,
        s.not_acknowledged,
        s.late,
        s.escalated,
        s.reporting,
        s.blocking,
      ],
    ],
  );
  const groups = table(
    ['Group', 'Recipients', 'Notifications', 'Acknowledged', 'Late', 'Escalated'],
    Object.entries(r.notifications_by_group).map(([g, n]) => [
      g,
      n.recipients,
      n.notifications,
      n.acknowledged,
      n.late,
      n.escalated,
    ]),
  );
  if (r.variant !== 'full' || !r.members)
    return summary + distributionChart(r) + '<h3>Notifications by group</h3>' + groups;
  const rows = r.members.flatMap((m) => {
    const numbers = [
      m.matches,
      m.blocks,
      local(m.first_block),
      formatDuration(m.first_block_after_first_hash_seconds),
    ];
    if (m.notifications.length === 0) return [[m.name, '—', 'not notified', '—', '—', '—', '—', ...numbers]];
    return m.notifications.map((n) => [
      m.name,
      n.protocol,
      local(n.sent),
      local(n.acked),
      formatDuration(n.ack_delay_seconds),
      n.late ? 'late' : 'in time',
      local(n.escalated),
      ...numbers,
    ]);
  });
  return (
    summary +
    table(
      [
        'Member',
        'Protocol',
        'Notified',
        'Acknowledged',
        'Ack delay',
        'Late',
        'Escalated',
        'Matches',
        'Blocks',
        'First block',
        'After first hash',
      ],
      rows,
      'members',
    ) +
    memberChart(r.members) +
    '<h3>Notifications by group</h3>' +
    groups
  );
}

function timelineTable(r: AfterActionReport): string {
  const full = r.variant === 'full';
  return table(
    ['Local time', 'Protocol', 'What', 'Recorded words', ...(full ? ['Who'] : [])],
    r.timeline.map((e) => [
      e.local.replace('T', ' '),
      e.protocol ?? '',
      e.what,
      e.text,
      ...(full ? [[e.organisation?.name, e.actor].filter(Boolean).join(', ') || '—'] : []),
    ]),
    'timeline',
  );
}

function findingsSection(r: AfterActionReport): string {
  const full = r.variant === 'full';
  return table(
    ['Finding', 'Status', 'Due', ...(full ? ['Owner'] : [])],
    r.findings.items.map((f) => [f.text, f.status, local(f.due), ...(full ? [f.owner ?? '—'] : [])]),
  );
}

export function afterActionHtml(r: AfterActionReport): string {
  const variant = r.variant === 'full' ? 'full report' : 'public summary';
  const title = `After-action report: ${r.incident.title}${r.exercise ? ' (EXERCISE)' : ''}`;
  const banner = r.notice ? `<div class="exercise" role="note">${esc(r.notice)}</div>` : '';
  // An exercise says so on every printed page: the banner is fixed (repeated per page) and the page margin box
  // carries it too, for engines that print margin boxes.
  const exerciseCss = r.notice
    ? `@page{@top-center{content:"${r.notice.replace(/["\\]/g, '')}";color:#9b2c2c;font-weight:700}}
.exercise{background:#fed7d7;color:#742a2a;border:2px solid #9b2c2c;padding:.4rem .6rem;font-weight:700;text-align:center;margin-bottom:1rem}
@media print{.exercise{position:fixed;top:0;left:0;right:0;margin:0}body{padding-top:2.6rem}}`
    : '';
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>${esc(title)}</title>
<style>
body{font-family:system-ui,sans-serif;max-width:60rem;margin:2rem auto;padding:0 1rem;color:#1a202c;font-size:.95rem}
h1{font-size:1.5rem}h2{font-size:1.2rem;margin-top:2rem;border-bottom:1px solid #cbd5e0}h3{font-size:1.05rem}h4{font-size:.95rem;margin-bottom:.3rem}
table{border-collapse:collapse;width:100%;font-size:.8rem;margin:.4rem 0}
th,td{border-bottom:1px solid #e2e8f0;padding:.2rem .4rem;text-align:left;vertical-align:top}
table.figures td{text-align:right;font-variant-numeric:tabular-nums}table.figures th{font-weight:500}
thead th{background:#edf2f7}tr{break-inside:avoid}
figure{margin:1rem 0;break-inside:avoid}figcaption{font-weight:600;margin-bottom:.3rem}svg{max-width:100%;height:auto}
.legend{font-size:.75rem;display:flex;flex-wrap:wrap;gap:.2rem .8rem}.legend i{display:inline-block;width:.7rem;height:.7rem;margin-right:.25rem;vertical-align:middle}
.decision{border-left:3px solid #cbd5e0;padding-left:.6rem;margin:.6rem 0}dl{display:grid;grid-template-columns:10rem 1fr;gap:.1rem .6rem;margin:0}dt{font-weight:600}dd{margin:0}
.meta{color:#4a5568}.empty{color:#718096;font-style:italic}
@media print{body{margin:0;max-width:none;font-size:10pt}h2{break-after:avoid}a{color:inherit}}
${exerciseCss}
</style></head><body>
${banner}
<h1>${esc(title)}</h1>
<p class="meta">${esc(variant)} · incident ${r.incident.id} · coordinated by ${esc(r.incident.coordinator.name)} · zone ${esc(r.incident.zone)}${
    r.incident.countries.length ? ` · ${esc(r.incident.countries.join(', '))}` : ''
  } · generated ${esc(local(r.generated))} from the record; nothing in it is typed by hand.</p>
${r.incident.summary ? `<p>${esc(r.incident.summary)}</p>` : ''}
<h2>Key figures</h2>${keyFigures(r)}
<h2>Timeline</h2>${timelineChart(r)}${timelineTable(r)}
<h2>Activations</h2>${activationsSection(r)}
<h2>Members</h2>${membersSection(r)}
<h2>Situational updates</h2>${table(
    ['Local time', 'Update'],
    r.timeline.filter((e) => e.kind === 'update').map((e) => [e.local.replace('T', ' '), e.text]),
  )}
<h2>Findings</h2>${findingsSection(r)}
<h2>Methodology</h2><ul>${r.methodology.map((m) => `<li>${esc(m)}</li>`).join('')}</ul>
</body></html>
`;
}
