/** Shared by commands that work on the local store: open the configured database, pick the acting organisation. */
import type { Command } from 'commander';
import { readConfig } from '../../config/config.js';
import { AppContext } from '../../context.js';
import { NotFoundError } from '../../core/errors.js';
import type { Organisation } from '../../store/organisations.js';

export interface StoreOptions {
  dataDir?: string;
  databaseUrl?: string;
  organisation?: string;
}

export function addStoreOptions(command: Command): Command {
  return command
    .option('-d, --data-dir <dir>', 'data directory (default $KAITIAKI_DATA_DIR or ./data)')
    .option('--database-url <url>', 'use PostgreSQL instead of SQLite')
    .option(
      '-o, --organisation <name-or-id>',
      'act as this organisation (default: the one kaitiaki init created)',
    );
}

export async function openStore(
  options: StoreOptions,
): Promise<{ ctx: AppContext; organisation: Organisation }> {
  const config = readConfig(process.env, {
    dataDir: options.dataDir,
    ...(options.databaseUrl ? { databaseUrl: options.databaseUrl } : {}),
  });
  const ctx = await AppContext.open(config);
  try {
    const organisations = await ctx.organisations.list();
    const wanted = options.organisation;
    const organisation = wanted
      ? organisations.find((o) => o.name === wanted || String(o.id) === wanted)
      : organisations[0];
    if (!organisation) {
      throw new NotFoundError(
        wanted ? `no organisation "${wanted}"` : 'no organisation yet: run `kaitiaki init` first',
        'KAI_ERR_NOT_INITIALISED',
      );
    }
    return { ctx, organisation };
  } catch (err) {
    await ctx.close();
    throw err;
  }
}
