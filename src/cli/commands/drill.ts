/**
 * `kaitiaki drill run SCENARIO`: runs a crisis drill (src/crisis/drill.ts) against the hub and member instances the
 * scenario names, and prints the report: per member the share of in-reach variants blocked after the hash landed,
 * time to land and to first block, and the variants out of reach.
 */
import { writeFile } from 'node:fs/promises';
import { SingleBar } from 'cli-progress';
import type { Command } from 'commander';
import { readScenario, runDrill, type DrillProgress, type DrillReport } from '../../crisis/drill.js';
import type { CliIo } from '../io.js';
import { tableLines } from '../output.js';

const pct = (v: number | null) => (v === null ? '-' : `${(v * 100).toFixed(2)}%`);
const ms = (v: number | null) => (v === null ? '-' : `${v} ms`);

function summary(report: DrillReport): string {
  const rows = report.members.map((m) => [
    m.name,
    String(m.uploads),
    `${m.blocked_after_landing}/${m.reachable_after_landing}`,
    pct(m.blocked_share),
    String(m.out_of_reach_after_landing),
    ms(m.landing_ms),
    ms(m.first_block_ms),
    String(m.errors),
  ]);
  const reach = Object.entries(report.reach).map(([k, r]) => `${k} ${r.reachable}/${r.variants} in reach`);
  return (
    `drill "${report.scenario}" (exercise incident ${report.incident_id}): ${report.uploads} uploads, ` +
    `${report.uploads_per_second.toFixed(0)}/s\n` +
    tableLines(
      [
        'member',
        'uploads',
        'blocked/in reach',
        'share',
        'out of reach',
        'hash landed',
        'first block',
        'errors',
      ],
      rows,
    ) +
    `blocked after the hash landed: ${pct(report.blocked_after_hash_share)}; hash to member p50 ${ms(report.hash_to_member_p50_ms)}, ` +
    `p99 ${ms(report.hash_to_member_p99_ms)}; first block p50 ${ms(report.first_block_p50_ms)}\n` +
    `variants: ${reach.join('; ')}\n`
  );
}

export function registerDrillCommand(program: Command, io: CliIo): void {
  const drill = program.command('drill').description('crisis drills: exercises against real instances');
  drill
    .command('run')
    .description('run a drill scenario (JSON: hub, deciders, protocol, type, members, media, uploads, rate)')
    .argument('<scenario>', 'the scenario file')
    .option('--json', 'print the report as JSON')
    .option('--out <file>', 'also write the JSON report to a file')
    .action(async (path: string, options: { json?: boolean; out?: string }) => {
      const scenario = await readScenario(path);
      let bar: SingleBar | null = null;
      let phase = '';
      const progress = (p: DrillProgress) => {
        if (!io.stderr.isTTY) return;
        if (p.phase !== phase) {
          bar?.stop();
          phase = p.phase;
          bar =
            p.phase === 'done'
              ? null
              : new SingleBar({
                  stream: io.stderr,
                  format: `${p.phase} [{bar}] {value}/{total}`,
                  hideCursor: true,
                });
          bar?.start(p.total, p.done);
        } else bar?.update(p.done);
      };
      const report = await runDrill(scenario, progress);
      (bar as SingleBar | null)?.stop();
      if (options.out) await writeFile(options.out, JSON.stringify(report, null, 2));
      io.stdout.write(options.json ? `${JSON.stringify(report, null, 2)}\n` : summary(report));
    });
}
