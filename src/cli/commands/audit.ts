/** `kaitiaki audit verify`: walk the hash chain and name the first record that was changed, removed or reordered. */
import type { Command } from 'commander';
import { readConfig } from '../../config/config.js';
import { AppContext } from '../../context.js';
import type { CliIo } from '../io.js';

export function registerAuditCommand(program: Command, io: CliIo): void {
  const audit = program.command('audit').description('the audit trail');
  audit
    .command('verify')
    .description('check the whole hash chain; exit 1 at the first tampered record')
    .option('-d, --data-dir <dir>', 'data directory (default $KAITIAKI_DATA_DIR or ./data)')
    .option('--database-url <url>', 'PostgreSQL instead of SQLite')
    .option('--json', 'print the result as JSON')
    .action(async (options: { dataDir?: string; databaseUrl?: string; json?: boolean }) => {
      const config = readConfig(process.env, {
        dataDir: options.dataDir,
        ...(options.databaseUrl ? { databaseUrl: options.databaseUrl } : {}),
      });
      const ctx = await AppContext.open(config);
      try {
        const result = await ctx.audit.verify();
        if (options.json) io.stdout.write(JSON.stringify(result) + '\n');
        else if (result.ok)
          io.stdout.write(`audit trail intact: ${result.records} records, last hash ${result.lastHash}\n`);
        else
          io.stdout.write(
            `audit trail TAMPERED at record ${result.firstBadId}: ${result.reason} (${result.records} records before it verified)\n`,
          );
        if (!result.ok) io.exitCode = 1;
      } finally {
        await ctx.close();
      }
    });
}
