/** `kaitiaki dsa export|submit`: statements of reasons for the EU DSA Transparency Database. */
import { readFileSync } from 'node:fs';
import type { Command } from 'commander';
import { ValidationError } from '../../core/errors.js';
import { parsePeriod } from '../../transparency/stats.js';
import type { CliIo } from '../io.js';
import { addStoreOptions, openStore, type StoreOptions } from './context.js';

type PeriodOptions = StoreOptions & { from: string; to: string };

export function registerDsaCommand(program: Command, io: CliIo): void {
  const dsa = program
    .command('dsa')
    .description('statements of reasons for the EU DSA Transparency Database');
  addStoreOptions(
    dsa
      .command('export')
      .description(
        'print the statements not yet submitted, mapped to the database schema (removal orders excluded)',
      )
      .requiredOption('--from <date>', 'statements created from (inclusive)')
      .requiredOption('--to <date>', 'until (exclusive)'),
  ).action(async (options: PeriodOptions) => {
    const period = parsePeriod(options.from, options.to);
    const { ctx, organisation } = await openStore(options);
    try {
      const preview = await ctx.dsa.preview(organisation.id, period);
      io.stdout.write(
        JSON.stringify(
          { statements: preview.flatMap((p) => ('statement' in p ? [p.statement] : [])) },
          null,
          2,
        ) + '\n',
      );
    } finally {
      await ctx.close();
    }
  });
  addStoreOptions(
    dsa
      .command('submit')
      .description('send the statements not yet accepted, 100 per request, with retries')
      .requiredOption('--from <date>', 'statements created from (inclusive)')
      .requiredOption('--to <date>', 'until (exclusive)')
      .requiredOption(
        '--endpoint <url>',
        'e.g. https://transparency.dsa.ec.europa.eu (use the sandbox first)',
      )
      .requiredOption('--token-file <file>', 'file holding the API token (never on the command line)'),
  ).action(async (options: PeriodOptions & { endpoint: string; tokenFile: string }) => {
    const period = parsePeriod(options.from, options.to);
    if (!/^https?:\/\//.test(options.endpoint))
      throw new ValidationError('--endpoint must be an http(s) URL');
    const token = readFileSync(options.tokenFile, 'utf8').trim();
    if (!token) throw new ValidationError('the token file is empty');
    const { ctx, organisation } = await openStore(options);
    try {
      const result = await ctx.dsa.submit('cli', organisation.id, period, {
        baseUrl: options.endpoint,
        token,
      });
      io.stdout.write(JSON.stringify(result) + '\n');
      if (result.invalid.length > 0 || result.refused.length > 0) io.exitCode = 1;
    } finally {
      await ctx.close();
    }
  });
}
