/**
 * `kaitiaki order preserve <id> --until --reason`: extend the TCO Art. 6 preservation of what a removal order
 * removed, as the platform recording a court's (or the authority's) request. `kaitiaki retention purge` ends it.
 */
import type { Command } from 'commander';
import { ValidationError } from '../../core/errors.js';
import type { CliIo } from '../io.js';
import { addStoreOptions, openStore, type StoreOptions } from './context.js';

const REQUESTERS = ['court', 'competent_authority'] as const;

export function registerOrderCommand(program: Command, io: CliIo): void {
  const order = program.command('order').description('removal orders (TCO) addressed to the platform');
  addStoreOptions(
    order
      .command('preserve')
      .description('extend the preservation of removed content and its data (TCO Art. 6(2))')
      .argument('<id>', 'removal order id')
      .requiredOption('--until <instant>', 'new end of preservation (ISO 8601 date-time)')
      .requiredOption('--reason <text>', 'the review proceedings that need the content')
      .option('--requested-by <who>', REQUESTERS.join(' | '), 'court')
      .option('--json', 'print the order as JSON'),
  ).action(
    async (
      id: string,
      options: StoreOptions & { until: string; reason: string; requestedBy: string; json?: boolean },
    ) => {
      if (!/^\d+$/.test(id)) throw new ValidationError(`order id must be a number, got "${id}"`);
      if (!(REQUESTERS as readonly string[]).includes(options.requestedBy))
        throw new ValidationError(
          `--requested-by must be one of ${REQUESTERS.join(', ')}, got "${options.requestedBy}"`,
        );
      const { ctx, organisation } = await openStore(options);
      try {
        const view = await ctx.orders.extendPreservation(
          { orgId: organisation.id, label: 'cli' },
          Number(id),
          { until: options.until, reason: options.reason, requested_by: options.requestedBy },
        );
        if (options.json) io.stdout.write(JSON.stringify(view, null, 2) + '\n');
        else
          io.stdout.write(
            `order ${view.id} (${view.reference}): content and data preserved until ${view.preserve_until} (${view.preservation_extensions.length} extension(s))\n`,
          );
      } finally {
        await ctx.close();
      }
    },
  );
}
