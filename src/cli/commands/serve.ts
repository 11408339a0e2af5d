/** `kaitiaki serve`: the main job. Opens the store, loads the index, serves the API on 127.0.0.1 by default. */
import type { Command } from 'commander';
import { InvalidArgumentError } from 'commander';
import { readConfig } from '../../config/config.js';
import { AppContext } from '../../context.js';
import { startServer } from '../../http/server.js';
import type { CliIo } from '../io.js';
import { initialise, printInit } from './init.js';

function parsePort(value: string): number {
  const port = Number(value);
  if (!Number.isInteger(port) || port < 0 || port > 65535)
    throw new InvalidArgumentError('a port from 0 to 65535');
  return port;
}

export function registerServeCommand(program: Command, io: CliIo): void {
  program
    .command('serve')
    .description(
      'serve the API (and docs at /docs); the first start on an empty database prints an admin key',
    )
    .option('-d, --data-dir <dir>', 'data directory (default $KAITIAKI_DATA_DIR or ./data)')
    .option('--database-url <url>', 'use PostgreSQL instead of SQLite')
    .option('-p, --port <port>', 'port (default $KAITIAKI_PORT or 8080)', parsePort)
    .option('--host <host>', 'address to listen on (default 127.0.0.1)')
    .option('--quiet', 'no request log')
    .action(
      async (options: {
        dataDir?: string;
        databaseUrl?: string;
        port?: number;
        host?: string;
        quiet?: boolean;
      }) => {
        const config = readConfig(process.env, {
          dataDir: options.dataDir,
          ...(options.databaseUrl ? { databaseUrl: options.databaseUrl } : {}),
          ...(options.port !== undefined ? { port: options.port } : {}),
          ...(options.host ? { host: options.host } : {}),
        });
        const ctx = await AppContext.open(config);
        const init = await initialise(ctx);
        if (init.created) printInit(init, io, false, config.databaseUrl ? 'PostgreSQL' : config.dataDir);
        io.stderr.write('loading the index...\n');
        const report = await ctx.start((n) => {
          if (n % 1_000_000 === 0) io.stderr.write(`  ${n} entries\n`);
        });
        io.stderr.write(`index loaded: ${report.entries} entries in ${report.seconds.toFixed(1)} s\n`);
        const server = await startServer(ctx, { logger: !options.quiet });
        io.stdout.write(`Kaitiaki is serving on ${server.url} (API docs: ${server.url}/docs)\n`);
        await new Promise<void>((resolve) => {
          const stop = () => {
            io.stderr.write('shutting down...\n');
            server.close().then(resolve, resolve);
          };
          process.once('SIGINT', stop);
          process.once('SIGTERM', stop);
        });
      },
    );
}
