/**
 * "A period of a year with 1 M decisions": the benchmark seeds such a year the way the write path stores it
 * (decisions, fact rows, the daily roll-up) and times the reports. Here it runs at a small scale on every test run
 * (so the seeding and the roll-up's agreement with the fact rows are checked), and the recorded full-scale result
 * is held to the target.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { run } from '../../bench/reports-bench.js';

describe('a year of decisions in the company report', () => {
  it('runs the reports benchmark at a small scale: the report counts every decision of the year', async () => {
    const result = (await run(['--decisions', '20000', '--orders', '300'])) as Record<string, number>;
    expect(result).toMatchObject({ decisions: 20_000, orders: 300, decisions_in_report: 20_000 });
    expect(result.fact_groups_from_rollup_s).toBeGreaterThan(0);
  });

  it('keeps the recorded run over 1 M decisions and 10k orders within 5 s on SQLite', () => {
    const recorded = JSON.parse(readFileSync('bench/results/reports.json', 'utf8')) as Record<
      string,
      unknown
    >;
    expect(recorded).toMatchObject({ backend: 'sqlite', decisions: 1_000_000, orders: 10_000 });
    expect(recorded.decisions_in_report).toBe(1_000_000);
    expect(recorded.company_report_s as number).toBeLessThanOrEqual(5);
    expect(recorded.government_report_s).toEqual(expect.any(Number));
  });
});
