/** `kaitiaki audit verify`: walk the hash chain and name the first record that was changed, removed or reordered. */
import type { Command } from 'commander';
import { readConfig } from '../../config/config.js';
import { AppContext } from '../../context.js';
import { ValidationError } from '../../core/errors.js';
import type { AuditHead } from '../../store/audit.js';
import type { CliIo } from '../io.js';

export function registerAuditCommand(program: Command, io: CliIo): void {
  const audit = program.command('audit').description('the audit trail');
  audit
    .command('verify')
    .description('check the whole hash chain; exit 1 at the first tampered record')
    .option('-d, --data-dir <dir>', 'data directory (default $KAITIAKI_DATA_DIR or ./data)')
    .option('--database-url <url>', 'PostgreSQL instead of SQLite')
    .option('--json', 'print the result as JSON')
    .option(
      '--expect-head <seq:hash>',
      'a head printed by an earlier run and kept elsewhere: fail if the chain no longer reaches it',
    )
    .action(
      async (options: { dataDir?: string; databaseUrl?: string; json?: boolean; expectHead?: string }) => {
        const expected = options.expectHead ? parseHead(options.expectHead) : undefined;
        const config = readConfig(process.env, {
          dataDir: options.dataDir,
          ...(options.databaseUrl ? { databaseUrl: options.databaseUrl } : {}),
        });
        const ctx = await AppContext.open(config);
        try {
          const result = await ctx.audit.verify(undefined, expected);
          if (options.json) io.stdout.write(JSON.stringify(result) + '\n');
          else if (result.ok)
            io.stdout.write(
              `audit trail intact: ${result.records} records, last hash ${result.lastHash}\n` +
                `head: ${result.head.seq}:${result.head.hash} (keep it elsewhere; check later with --expect-head)\n`,
            );
          else
            io.stdout.write(
              `audit trail TAMPERED at record ${result.firstBadId}: ${result.reason} (${result.records} records before it verified)\n`,
            );
          if (!result.ok) io.exitCode = 1;
        } finally {
          await ctx.close();
        }
      },
    );
}

function parseHead(raw: string): AuditHead {
  const match = /^(\d+):([0-9a-f]{64})$/.exec(raw.trim());
  if (!match) throw new ValidationError('--expect-head must be <record number>:<64 hex digits>');
  return { seq: Number(match[1]), hash: match[2] };
}
