/**
 * Matches and blocks per minute across members, as SVG bars (d3-scale, like the printable transparency
 * reports). The same numbers are in a table under it for screen readers and for reading exact values.
 */
import { scaleBand, scaleLinear } from 'd3-scale';
import type { MemberLive, MinuteTotals } from './types';

const WIDTH = 720;
const HEIGHT = 220;
const MARGIN = { top: 12, right: 12, bottom: 34, left: 44 };
const COLOURS = { matches: '#8fb3d9', blocks: '#13293d' };

/** Every member's minutes summed per minute, oldest first. */
export function perMinute(members: readonly MemberLive[]): MinuteTotals[] {
  const sums = new Map<string, MinuteTotals>();
  for (const m of members)
    for (const row of m.per_minute) {
      const sum = sums.get(row.minute) ?? { minute: row.minute, matches: 0, blocks: 0 };
      sum.matches += row.matches;
      sum.blocks += row.blocks;
      sums.set(row.minute, sum);
    }
  return [...sums.values()].sort((a, b) => a.minute.localeCompare(b.minute));
}

/** "14:41": a UTC minute as the clock in the incident's zone. */
function clock(minute: string, zone: string): string {
  return new Intl.DateTimeFormat('en-GB', {
    timeZone: zone,
    hour: '2-digit',
    minute: '2-digit',
    hourCycle: 'h23',
  }).format(new Date(`${minute}:00Z`));
}

export function MinuteChart({ members, zone }: { members: readonly MemberLive[]; zone: string }) {
  const minutes = perMinute(members);
  if (minutes.length === 0) return <p className="muted">No member has reported numbers yet.</p>;
  const x = scaleBand()
    .domain(minutes.map((m) => m.minute))
    .range([MARGIN.left, WIDTH - MARGIN.right])
    .padding(0.2);
  const y = scaleLinear()
    .domain([0, Math.max(1, ...minutes.map((m) => m.matches))])
    .range([HEIGHT - MARGIN.bottom, MARGIN.top])
    .nice();
  const half = x.bandwidth() / 2;
  // About eight time labels whatever the number of minutes.
  const every = Math.max(1, Math.ceil(minutes.length / 8));
  const totals = minutes.reduce((t, m) => ({ matches: t.matches + m.matches, blocks: t.blocks + m.blocks }), {
    matches: 0,
    blocks: 0,
  });
  const label = `Matches and blocks per minute over ${minutes.length} minutes: ${totals.matches} matches, ${totals.blocks} blocks`;
  return (
    <figure className="crisis-chart">
      <svg
        className="chart"
        role="img"
        aria-label={label}
        viewBox={`0 0 ${WIDTH} ${HEIGHT}`}
        width="100%"
        style={{ maxWidth: WIDTH }}
      >
        {y.ticks(4).map((tick) => (
          <g key={tick}>
            <line x1={MARGIN.left} x2={WIDTH - MARGIN.right} y1={y(tick)} y2={y(tick)} stroke="#d6dbe1" />
            <text x={MARGIN.left - 6} y={y(tick) + 4} textAnchor="end" fontSize={11}>
              {tick}
            </text>
          </g>
        ))}
        {minutes.map((m, i) => (
          <g key={m.minute} data-minute={m.minute}>
            <rect
              className="bar matches"
              x={x(m.minute)}
              y={y(m.matches)}
              width={half}
              height={y(0) - y(m.matches)}
              fill={COLOURS.matches}
            />
            <rect
              className="bar blocks"
              x={(x(m.minute) ?? 0) + half}
              y={y(m.blocks)}
              width={half}
              height={y(0) - y(m.blocks)}
              fill={COLOURS.blocks}
            />
            {i % every === 0 && (
              <text
                x={(x(m.minute) ?? 0) + half}
                y={HEIGHT - MARGIN.bottom + 16}
                textAnchor="middle"
                fontSize={11}
              >
                {clock(m.minute, zone)}
              </text>
            )}
          </g>
        ))}
        <line x1={MARGIN.left} x2={WIDTH - MARGIN.right} y1={y(0)} y2={y(0)} stroke="#1b1f24" />
      </svg>
      <figcaption>
        <span className="swatch" style={{ background: COLOURS.matches }} aria-hidden="true" /> matches{' '}
        <span className="swatch" style={{ background: COLOURS.blocks }} aria-hidden="true" /> blocks, per
        minute (incident time)
      </figcaption>
      <details>
        <summary>The numbers per minute</summary>
        <table>
          <caption className="visually-hidden">Matches and blocks per minute, all members</caption>
          <thead>
            <tr>
              <th scope="col">Minute</th>
              <th scope="col">Matches</th>
              <th scope="col">Blocks</th>
            </tr>
          </thead>
          <tbody>
            {minutes.map((m) => (
              <tr key={m.minute}>
                <td>{clock(m.minute, zone)}</td>
                <td>{m.matches}</td>
                <td>{m.blocks}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </details>
    </figure>
  );
}
