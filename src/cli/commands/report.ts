/** `kaitiaki report company|government|hub --from --to --format`: a transparency report computed from the record. */
import { writeFileSync } from 'node:fs';
import type { Command } from 'commander';
import { ValidationError } from '../../core/errors.js';
import { REPORT_FORMATS, type ReportFormat } from '../../transparency/render.js';
import { parsePeriod } from '../../transparency/stats.js';
import { REPORT_KINDS, type ReportKind } from '../../transparency/transparency-service.js';
import type { CliIo } from '../io.js';
import { addStoreOptions, openStore, type StoreOptions } from './context.js';

export function registerReportCommand(program: Command, io: CliIo): void {
  addStoreOptions(
    program
      .command('report')
      .description(
        'a transparency report for a period, computed from the record (company, government or hub)',
      )
      .argument('<kind>', REPORT_KINDS.join(' | '))
      .requiredOption('--from <date>', 'start of the period, inclusive (YYYY-MM-DD or ISO instant)')
      .requiredOption('--to <date>', 'end of the period, exclusive (YYYY-MM-DD or ISO instant)')
      .option('--format <format>', REPORT_FORMATS.join(' | '), 'json')
      .option('--out <file>', 'write to this file instead of standard output'),
  ).action(
    async (
      kind: string,
      options: StoreOptions & { from: string; to: string; format: string; out?: string },
    ) => {
      if (!(REPORT_KINDS as readonly string[]).includes(kind))
        throw new ValidationError(`report kind must be one of ${REPORT_KINDS.join(', ')}, got "${kind}"`);
      if (!(REPORT_FORMATS as readonly string[]).includes(options.format))
        throw new ValidationError(
          `--format must be one of ${REPORT_FORMATS.join(', ')}, got "${options.format}"`,
        );
      const period = parsePeriod(options.from, options.to);
      const { ctx, organisation } = await openStore(options);
      try {
        const report = await ctx.transparency.build(organisation.id, kind as ReportKind, period);
        const { body } = ctx.transparency.render(report, options.format as ReportFormat);
        if (options.out) {
          writeFileSync(options.out, body);
          io.stderr.write(`wrote the ${kind} report of ${organisation.name} to ${options.out}\n`);
        } else io.stdout.write(body);
      } finally {
        await ctx.close();
      }
    },
  );
}
