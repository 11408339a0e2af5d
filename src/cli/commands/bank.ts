/** `kaitiaki bank create|list|import|export`: manage banks in the local store. */
import { createReadStream, createWriteStream, statSync } from 'node:fs';
import { SingleBar } from 'cli-progress';
import { InvalidArgumentError, type Command } from 'commander';
import { exportEntries, importEntries, type TransferFormat } from '../../banks/transfer.js';
import { ValidationError } from '../../core/errors.js';
import type { Bank } from '../../store/banks.js';
import type { CliIo } from '../io.js';
import { tableLines } from '../output.js';
import { addStoreOptions, openStore, type StoreOptions } from './context.js';

function parseFormat(value: string): TransferFormat {
  if (value === 'jsonl' || value === 'csv') return value;
  throw new InvalidArgumentError('jsonl or csv');
}

function formatOf(path: string, explicit?: TransferFormat): TransferFormat {
  if (explicit) return explicit;
  if (path.endsWith('.csv')) return 'csv';
  if (path.endsWith('.jsonl') || path.endsWith('.ndjson') || path === '-') return 'jsonl';
  throw new ValidationError(`cannot tell the format of "${path}" from its name; pass --format jsonl or csv`);
}

async function findBank(
  ctx: Awaited<ReturnType<typeof openStore>>['ctx'],
  orgId: number,
  nameOrId: string,
): Promise<Bank> {
  return /^\d+$/.test(nameOrId)
    ? ctx.banks.getVisible(orgId, Number(nameOrId))
    : ctx.banks.getVisibleByName(orgId, nameOrId);
}

export function registerBankCommand(program: Command, io: CliIo): void {
  const bank = program
    .command('bank')
    .description('create, list, import and export banks in the local store');

  addStoreOptions(bank.command('create').argument('<name>', 'bank name').description('create a bank'))
    .option('--description <text>', 'what the bank holds')
    .option('--labels <labels>', 'default labels for its entries, comma-separated')
    .option('--pdq-threshold <n>', 'PDQ match distance for this bank (default 31)')
    .option('--json', 'print JSON')
    .action(
      async (
        name: string,
        options: StoreOptions & {
          description?: string;
          labels?: string;
          pdqThreshold?: string;
          json?: boolean;
        },
      ) => {
        const { ctx, organisation } = await openStore(options);
        try {
          const input = {
            name,
            description: options.description,
            defaultLabels: options.labels ? options.labels.split(',').map((l) => l.trim()) : undefined,
            thresholds:
              options.pdqThreshold !== undefined ? { pdq: Number(options.pdqThreshold) } : undefined,
          };
          const created = await ctx.bankWrites.create('cli', organisation.id, input, 'cli');
          io.stdout.write(
            options.json
              ? JSON.stringify(created) + '\n'
              : `created bank ${created.name} (id ${created.id}) for ${organisation.name}\n`,
          );
        } finally {
          await ctx.close();
        }
      },
    );

  addStoreOptions(bank.command('list').description('list the banks you own or that are shared with you'))
    .option('--json', 'print JSON lines')
    .action(async (options: StoreOptions & { json?: boolean }) => {
      const { ctx, organisation } = await openStore(options);
      try {
        const rows: string[][] = [];
        let cursor: string | undefined;
        do {
          const page = await ctx.banks.list(organisation.id, { cursor, limit: 1000 });
          for (const b of page.items) {
            const count = await ctx.entries.count(b.id);
            if (options.json) io.stdout.write(JSON.stringify({ ...b, entryCount: count }) + '\n');
            else
              rows.push([
                String(b.id),
                b.name,
                String(count),
                b.enabled ? 'yes' : 'no',
                b.orgId === organisation.id ? b.sharing : 'shared with you',
              ]);
          }
          cursor = page.nextCursor ?? undefined;
        } while (cursor);
        if (!options.json) io.stdout.write(tableLines(['id', 'name', 'entries', 'enabled', 'sharing'], rows));
      } finally {
        await ctx.close();
      }
    });

  addStoreOptions(
    bank
      .command('import')
      .argument('<bank>', 'bank name or id')
      .argument('<file>', 'JSON lines or CSV file')
      .description('import entries (idempotent; bad lines are reported and skipped)'),
  )
    .option('-f, --format <format>', 'jsonl or csv (default: from the file name)', parseFormat)
    .option('--stop-on-error', 'stop at the first bad line')
    .option('--no-progress', 'no progress bar')
    .action(
      async (
        bankName: string,
        file: string,
        options: StoreOptions & { format?: TransferFormat; stopOnError?: boolean; progress: boolean },
      ) => {
        const format = formatOf(file, options.format);
        const size = statSync(file).size;
        const { ctx, organisation } = await openStore(options);
        try {
          const target = await findBank(ctx, organisation.id, bankName);
          await ctx.banks.assertCanContribute(organisation.id, target.id);
          const input = createReadStream(file);
          const bar =
            options.progress && io.stderr.isTTY
              ? new SingleBar({
                  stream: io.stderr,
                  format: 'importing [{bar}] {percentage}% | {lines} lines, {inserted} new, {errors} bad',
                })
              : null;
          bar?.start(size, 0, { lines: 0, inserted: 0, errors: 0 });
          const report = await importEntries(ctx.entries, target, input, {
            format,
            contributorOrgId: organisation.id,
            taxonomy: await ctx.taxonomies.keys(target.id),
            stopOnError: options.stopOnError,
            onProgress: (p) =>
              bar?.update(input.bytesRead, { lines: p.lines, inserted: p.inserted, errors: p.errors }),
          });
          bar?.update(size);
          bar?.stop();
          const { lines, inserted, duplicates, errors } = report;
          await ctx.bankWrites.recordImport('cli', target, {
            file,
            format,
            lines,
            inserted,
            duplicates,
            errors,
          });
          for (const e of report.errorSamples) io.stderr.write(`${file}:${e.line}: ${e.message}\n`);
          if (report.errors > report.errorSamples.length)
            io.stderr.write(`... and ${report.errors - report.errorSamples.length} more bad lines\n`);
          io.stdout.write(
            `imported ${report.lines} lines into ${target.name}: ${report.inserted} new, ${report.duplicates} already there, ${report.errors} bad\n`,
          );
          if (report.errors > 0) io.exitCode = 1;
        } finally {
          await ctx.close();
        }
      },
    );

  addStoreOptions(
    bank
      .command('export')
      .argument('<bank>', 'bank name or id')
      .argument('[file]', 'output file (default: standard output)')
      .description('export every entry'),
  )
    .option('-f, --format <format>', 'jsonl or csv (default: from the file name, else jsonl)', parseFormat)
    .action(
      async (
        bankName: string,
        file: string | undefined,
        options: StoreOptions & { format?: TransferFormat },
      ) => {
        const format = options.format ?? (file?.endsWith('.csv') ? 'csv' : 'jsonl');
        const { ctx, organisation } = await openStore(options);
        try {
          const target = await findBank(ctx, organisation.id, bankName);
          const out = file ? createWriteStream(file) : io.stdout;
          const count = await exportEntries(
            ctx.entries,
            target.id,
            out as NodeJS.WritableStream as import('node:stream').Writable,
            format,
          );
          if (file)
            await new Promise<void>((resolve, reject) =>
              (out as ReturnType<typeof createWriteStream>).end((err?: Error | null) =>
                err ? reject(err) : resolve(),
              ),
            );
          io.stderr.write(`exported ${count} entries from ${target.name}\n`);
        } finally {
          await ctx.close();
        }
      },
    );
}
