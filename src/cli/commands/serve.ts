/** `kaitiaki serve`: the main job. Opens the store, loads the index, serves the API on 127.0.0.1 by default. */
import cluster from 'node:cluster';
import type { Command } from 'commander';
import { InvalidArgumentError } from 'commander';
import { readConfig } from '../../config/config.js';
import { AppContext } from '../../context.js';
import type { LogFormat } from '../../http/request-log.js';
import { ValidationError } from '../../core/errors.js';
import { checkHmaListenAddress, hmaPrincipal, parseHmaListen, startHmaServer } from '../../http/hma-app.js';
import { startServer } from '../../http/server.js';
import type { CliIo } from '../io.js';
import { initialise, printInit } from './init.js';
import { createLogger } from '../../core/logger.js';

function parsePort(value: string): number {
  const port = Number(value);
  if (!Number.isInteger(port) || port < 0 || port > 65535)
    throw new InvalidArgumentError('a port from 0 to 65535');
  return port;
}

function parseLogFormat(value: string): LogFormat {
  if (value !== 'pretty' && value !== 'json') throw new InvalidArgumentError('pretty or json');
  return value;
}

function parseWorkers(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1 || n > 64) throw new InvalidArgumentError('a whole number from 1 to 64');
  return n;
}

/**
 * With --workers N, this process only forks N servers sharing the port (each with its own index, all following
 * the same store through its change feed), restarts none, and stops them on SIGINT/SIGTERM.
 */
async function runPrimary(workers: number, io: CliIo): Promise<void> {
  let announced = false;
  cluster.on('listening', (_worker, address) => {
    if (announced) return;
    announced = true;
    const url = `http://${address.address ?? '127.0.0.1'}:${address.port}`;
    io.stdout.write(`Kaitiaki is serving on ${url} with ${workers} workers (API docs: ${url}/docs)\n`);
  });
  for (let i = 0; i < workers; i++) cluster.fork();
  const stop = () => {
    for (const worker of Object.values(cluster.workers ?? {})) worker?.process.kill('SIGTERM');
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
  await new Promise<void>((resolve) => {
    let alive = workers;
    cluster.on('exit', () => {
      alive--;
      if (alive === 0) resolve();
    });
  });
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
    .option(
      '--log-format <format>',
      'pretty (a line per request, for people) or json; default pretty in a terminal, json otherwise',
      parseLogFormat,
    )
    .option('-w, --workers <n>', 'server processes sharing the port (default 1)', parseWorkers, 1)
    .option(
      '--hma-listen <host:port>',
      'also serve the HMA facade alone, WITHOUT authentication, on this address (default $KAITIAKI_HMA_LISTEN)',
    )
    .option(
      '--hma-org <org>',
      'organisation (id or name) the HMA listener acts as (default $KAITIAKI_HMA_ORG)',
    )
    .option('--hma-listen-force', 'let the HMA listener bind to a public address (you firewall it)')
    .action(
      async (options: {
        dataDir?: string;
        databaseUrl?: string;
        port?: number;
        host?: string;
        quiet?: boolean;
        logFormat?: LogFormat;
        workers: number;
        hmaListen?: string;
        hmaOrg?: string;
        hmaListenForce?: boolean;
      }) => {
        const config = readConfig(process.env, {
          dataDir: options.dataDir,
          ...(options.databaseUrl ? { databaseUrl: options.databaseUrl } : {}),
          ...(options.port !== undefined ? { port: options.port } : {}),
          ...(options.host ? { host: options.host } : {}),
          ...(options.hmaListen ? { hmaListen: options.hmaListen } : {}),
          ...(options.hmaOrg ? { hmaOrg: options.hmaOrg } : {}),
          ...(options.hmaListenForce ? { hmaListenForce: true } : {}),
        });
        const hma = config.hma;
        if ((hma.listen === null) !== (hma.org === null))
          throw new ValidationError(
            '--hma-listen and --hma-org go together (KAITIAKI_HMA_LISTEN and KAITIAKI_HMA_ORG)',
            'KAI_ERR_CONFIG',
          );
        const format = options.logFormat ?? (process.stderr.isTTY ? 'pretty' : 'json');
        const logger = createLogger(
          format,
          process.env.KAITIAKI_LOG_LEVEL ?? (options.quiet ? 'warn' : 'info'),
        );
        const ctx = await AppContext.open(config, logger);
        const init = await initialise(ctx);
        if (init.created) printInit(init, io, false, config.databaseUrl ? 'PostgreSQL' : config.dataDir);
        if (hma.listen && hma.org && cluster.isPrimary) {
          // Refuse a public address or an unknown organisation before loading anything.
          try {
            await checkHmaListenAddress(parseHmaListen(hma.listen).host, hma.listenForce);
            await hmaPrincipal(ctx, hma.org);
          } catch (err) {
            await ctx.close();
            throw err;
          }
        }
        if (options.workers > 1 && cluster.isPrimary) {
          await ctx.close();
          if (hma.listen && hma.org)
            io.stdout.write(
              `HMA listener (no authentication) on http://${hma.listen} in every worker, acting as organisation ${hma.org}\n`,
            );
          await runPrimary(options.workers, io);
          return;
        }
        io.stderr.write('loading the index...\n');
        const report = await ctx.start((n) => {
          if (n % 1_000_000 === 0) io.stderr.write(`  ${n} entries\n`);
        });
        io.stderr.write(`index loaded: ${report.entries} entries in ${report.seconds.toFixed(1)} s\n`);
        const server = await startServer(ctx, { logger: options.quiet ? false : format });
        if (!cluster.isWorker)
          io.stdout.write(`Kaitiaki is serving on ${server.url} (API docs: ${server.url}/docs)\n`);
        let hmaServer: Awaited<ReturnType<typeof startHmaServer>> | null = null;
        if (hma.listen && hma.org) {
          try {
            hmaServer = await startHmaServer(ctx, {
              listen: hma.listen,
              org: hma.org,
              force: hma.listenForce,
              logger: options.quiet ? false : format,
            });
          } catch (err) {
            await server.close();
            throw err;
          }
          if (!cluster.isWorker)
            io.stdout.write(
              `HMA listener (no authentication: HMA facade only) on ${hmaServer.url}, acting as ` +
                `${hmaServer.principal.label} (organisation ${hmaServer.principal.orgId}, role ${hmaServer.principal.role})\n`,
            );
        }
        await new Promise<void>((resolve) => {
          const stop = () => {
            io.stderr.write('shutting down...\n');
            (hmaServer ? hmaServer.app.close() : Promise.resolve())
              .then(() => server.close())
              .then(resolve, resolve);
          };
          process.once('SIGINT', stop);
          process.once('SIGTERM', stop);
        });
        // A worker's channel to the primary would keep it alive: let go of it so the process can end.
        if (cluster.isWorker) cluster.worker?.disconnect();
      },
    );
}
