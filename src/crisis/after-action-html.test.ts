import { describe, expect, it } from 'vitest';
import { formatDuration, groupedBars } from './after-action-html.js';

describe('after-action page pieces', () => {
  it('writes durations the way a reader says them', () => {
    expect(formatDuration(null)).toBe('—');
    expect(formatDuration(45)).toBe('45 s');
    expect(formatDuration(130)).toBe('2 min 10 s');
    expect(formatDuration(1200)).toBe('20 min');
    expect(formatDuration(13_200)).toBe('3 h 40 min');
    expect(formatDuration(3 * 86_400 + 7200)).toBe('3 d 2 h');
    expect(formatDuration(-90)).toBe('−1 min 30 s');
  });

  it('draws bars to scale, none for missing or negative values, and escapes every label', () => {
    const svg = groupedBars(
      'Delays <by member>',
      ['A & B', '<C>'],
      [
        {
          name: 'ack',
          colour: '#000',
          values: [600, null],
          format: (v) => `${v} s`,
          missing: (i) => `missing ${i}`,
        },
        { name: 'block', colour: '#111', values: [-30, 300], format: (v) => `${v} s`, missing: 'none' },
      ],
    );
    expect(svg).toContain('<figcaption>Delays &lt;by member&gt;</figcaption>');
    expect(svg).toContain('>A &amp; B</text>');
    expect(svg).toContain('>&lt;C&gt;</text>');
    expect(svg).not.toMatch(/<C>|<by member>/);
    const widths = [...svg.matchAll(/<rect [^>]*width="([\d.]+)"/g)].map((m) => Number(m[1]));
    // A's ack (600), A's block (negative: none), C's ack (missing: none), C's block (300): half of A's ack.
    expect(widths[1]).toBe(0);
    expect(widths[2]).toBe(0);
    expect(widths[3]).toBeCloseTo(widths[0] / 2, 0);
    expect(svg).toContain('>missing 1</text>');
    expect(svg).toContain('>-30 s</text>');
  });
});
