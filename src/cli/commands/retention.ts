/**
 * `kaitiaki retention purge`: delete media and uploader ids past the retention period, and the content preserved
 * after removal orders whose (maybe extended) preservation ended (also runs every six hours in serve).
 */
import type { Command } from 'commander';
import { readConfig } from '../../config/config.js';
import { AppContext } from '../../context.js';
import type { CliIo } from '../io.js';

export function registerRetentionCommand(program: Command, io: CliIo): void {
  program
    .command('retention')
    .description('retention of media and personal data')
    .command('purge')
    .description(
      `delete submitted media and uploader ids older than KAITIAKI_MEDIA_RETENTION_DAYS (default 183)`,
    )
    .option('-d, --data-dir <dir>', 'data directory (default $KAITIAKI_DATA_DIR or ./data)')
    .option('--database-url <url>', 'PostgreSQL instead of SQLite')
    .action(async (options: { dataDir?: string; databaseUrl?: string }) => {
      const config = readConfig(process.env, {
        dataDir: options.dataDir,
        ...(options.databaseUrl ? { databaseUrl: options.databaseUrl } : {}),
      });
      const ctx = await AppContext.open(config);
      try {
        const result = await ctx.review.purgeExpired();
        io.stdout.write(
          `retention: purged ${result.media} media files and ${result.uploaderIds} uploader ids of submissions before ${result.cutoff}\n`,
        );
        const preserved = await ctx.orders.purgePreservations();
        io.stdout.write(
          `preservation: ended for ${preserved.orders} removal orders; purged ${preserved.media} media files and ${preserved.uploaderIds} uploader ids\n`,
        );
      } finally {
        await ctx.close();
      }
    });
}
