/** `kaitiaki init`: create the database and the instance's admin organisation, and print a one-time admin key. */
import type { Command } from 'commander';
import { readConfig } from '../../config/config.js';
import { AppContext } from '../../context.js';
import type { CliIo } from '../io.js';

export const ADMIN_ORGANISATION = 'Instance administrators';

export interface InitResult {
  created: boolean;
  organisation: { id: number; name: string };
  adminKey: string | null;
  /** This instance's id and Ed25519 public key, made at init: hubs and members pin it to check its signatures. */
  instance: { id: string; publicKey: string };
}

/** Idempotent: on a database that has organisations already, nothing is created and no key is printed. */
export async function initialise(
  ctx: AppContext,
  organisationName = ADMIN_ORGANISATION,
): Promise<InitResult> {
  const identity = await ctx.sharingFeed.identity();
  const instance = { id: identity.id, publicKey: identity.publicKey };
  const existing = await ctx.organisations.list();
  if (existing.length > 0)
    return {
      created: false,
      organisation: { id: existing[0].id, name: existing[0].name },
      adminKey: null,
      instance,
    };
  const { org, key } = await ctx.accounts.initialiseInstance('kaitiaki init', organisationName);
  return { created: true, organisation: { id: org.id, name: org.name }, adminKey: key, instance };
}

export function printInit(result: InitResult, io: CliIo, json: boolean, dataDescription: string): void {
  if (json) {
    io.stdout.write(
      JSON.stringify({
        organisation: result.organisation,
        admin_key: result.adminKey,
        created: result.created,
        instance: { id: result.instance.id, public_key: result.instance.publicKey },
        ...(result.created
          ? {}
          : {
              note: 'already initialised: the admin key was printed on the first start; make another with `kaitiaki admin-key create`',
            }),
      }) + '\n',
    );
    return;
  }
  if (!result.created) {
    io.stdout.write(
      `Kaitiaki is already initialised in ${dataDescription} (organisation "${result.organisation.name}").\n` +
        `Its admin key was printed once, when it was first set up (by \`npm start\`, \`kaitiaki serve\` or \`kaitiaki init\`).\n` +
        `To make another: kaitiaki admin-key create${dataDescription === 'PostgreSQL' ? ' --database-url <url>' : ` --data-dir ${dataDescription}`}\n`,
    );
    return;
  }
  io.stdout.write(
    `Initialised Kaitiaki in ${dataDescription}.\n` +
      `Admin organisation: ${result.organisation.name} (id ${result.organisation.id})\n` +
      `Admin API key (shown once; store it safely):\n\n  ${result.adminKey}\n\n` +
      `Instance ${result.instance.id}: its Ed25519 signing key is made (GET /v1/sharing/instance shows the public half).\n` +
      `To sign in to the web UI (/ui/), create an account: kaitiaki user create you@example.org --role admin\n`,
  );
}

export function registerInitCommand(program: Command, io: CliIo): void {
  program
    .command('init')
    .description('create the database and an admin organisation; prints a one-time admin API key')
    .option(
      '-d, --data-dir <dir>',
      'data directory for the embedded SQLite database (default $KAITIAKI_DATA_DIR or ./data)',
    )
    .option('--database-url <url>', 'use PostgreSQL instead of SQLite')
    .option('--organisation <name>', 'name of the admin organisation', ADMIN_ORGANISATION)
    .option('--json', 'print {"organisation": ..., "admin_key": "..."}')
    .action(
      async (options: { dataDir?: string; databaseUrl?: string; organisation: string; json?: boolean }) => {
        const config = readConfig(process.env, {
          dataDir: options.dataDir,
          ...(options.databaseUrl ? { databaseUrl: options.databaseUrl } : {}),
        });
        const ctx = await AppContext.open(config);
        try {
          const result = await initialise(ctx, options.organisation);
          printInit(result, io, Boolean(options.json), config.databaseUrl ? 'PostgreSQL' : config.dataDir);
        } finally {
          await ctx.close();
        }
      },
    );
}

/** `kaitiaki admin-key create`: a new instance-administrator key, for whoever runs the server (never via the API). */
export function registerAdminKeyCommand(program: Command, io: CliIo): void {
  program
    .command('admin-key')
    .description('instance-administrator API keys (made on the server, never through the API)')
    .command('create')
    .description('print a new instance-administrator key once')
    .option('-d, --data-dir <dir>', 'data directory (default $KAITIAKI_DATA_DIR or ./data)')
    .option('--database-url <url>', 'use PostgreSQL instead of SQLite')
    .option('--name <name>', 'a name to tell the key apart', 'admin (from kaitiaki admin-key create)')
    .option('--json', 'print {"admin_key": "..."}')
    .action(async (options: { dataDir?: string; databaseUrl?: string; name: string; json?: boolean }) => {
      const config = readConfig(process.env, {
        dataDir: options.dataDir,
        ...(options.databaseUrl ? { databaseUrl: options.databaseUrl } : {}),
      });
      const ctx = await AppContext.open(config);
      try {
        const init = await initialise(ctx);
        const key = init.adminKey
          ? init.adminKey
          : (
              await ctx.accounts.createKey('cli', init.organisation.id, {
                name: options.name,
                role: 'admin',
                instanceAdmin: true,
              })
            ).key;
        io.stdout.write(
          options.json
            ? JSON.stringify({ admin_key: key }) + '\n'
            : `Instance administrator key (shown once; store it safely):\n\n  ${key}\n\n`,
        );
      } finally {
        await ctx.close();
      }
    });
}
