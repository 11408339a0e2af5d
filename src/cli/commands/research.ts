/**
 * `kaitiaki research ...`: the data owner's side of research access on the local store (datasets, loads, mock
 * twins, accreditation, budgets, review), plus `generate`, which writes synthetic events with planted effects.
 * Researchers work through the API (/v1/research), from wherever they are.
 */
import { closeSync, createReadStream, openSync, readFileSync, writeFileSync, writeSync } from 'node:fs';
import { InvalidArgumentError, type Command } from 'commander';
import { permissionsOf, type Principal } from '../../auth/roles.js';
import { ValidationError } from '../../core/errors.js';
import { DEMO_CATEGORIES, DEMO_ARMS, generateEvents } from '../../research/data/generator.js';
import { eventCsvHeader, eventCsvLine, type InputFormat } from '../../research/data/load.js';
import type { AppContext } from '../../context.js';
import type { Dataset } from '../../research/service.js';
import type { Organisation } from '../../store/organisations.js';
import type { CliIo } from '../io.js';
import { tableLines } from '../output.js';
import { addStoreOptions, openStore, type StoreOptions } from './context.js';

function number(value: string): number {
  const n = Number(value);
  if (!Number.isFinite(n)) throw new InvalidArgumentError('a number');
  return n;
}

function integer(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n)) throw new InvalidArgumentError('an integer');
  return n;
}

function formatOf(path: string, explicit?: string): InputFormat {
  const f =
    explicit ??
    (path.endsWith('.csv')
      ? 'csv'
      : path.endsWith('.jsonl') || path.endsWith('.ndjson')
        ? 'jsonl'
        : undefined);
  if (f !== 'csv' && f !== 'jsonl')
    throw new ValidationError(`cannot tell the format of "${path}"; pass --format csv or jsonl`);
  return f;
}

/** The CLI acts as the organisation's administrator. */
function cliPrincipal(organisation: Organisation): Principal {
  return { orgId: organisation.id, role: 'admin', permissions: permissionsOf('admin'), label: 'cli' };
}

async function findDataset(ctx: AppContext, actor: Principal, nameOrId: string): Promise<Dataset> {
  const all = await ctx.research.listOwnDatasets(actor);
  const found = all.find((d) => d.name === nameOrId || String(d.id) === nameOrId);
  if (!found)
    throw new ValidationError(
      `no research dataset "${nameOrId}" in this organisation`,
      'KAI_ERR_RESEARCH_DATASET_NOT_FOUND',
    );
  return found;
}

async function withStore(
  options: StoreOptions,
  fn: (ctx: AppContext, actor: Principal) => Promise<void>,
): Promise<void> {
  const { ctx, organisation } = await openStore(options);
  try {
    await fn(ctx, cliPrincipal(organisation));
  } finally {
    await ctx.close();
  }
}

export function registerResearchCommand(program: Command, io: CliIo): void {
  const research = program
    .command('research')
    .description('research access with differential privacy (data owner side)');
  const print = (value: unknown) => io.stdout.write(JSON.stringify(value, null, 2) + '\n');

  research
    .command('generate')
    .description('write synthetic exposure events with planted effects (reproducible from --seed)')
    .option('--users <n>', 'number of users', integer, 1000)
    .option('--seed <n>', 'seed', integer, 1)
    .option(
      '--amplification <factor>',
      'multiplier on borderline/TVEC transitions in the algorithmic arm',
      number,
      2,
    )
    .option('--escalation <factor>', 'extra multiplier for users with the engaged persona', number, 2)
    .option('--feed-length <n>', 'items per session', integer, 30)
    .option('--zipf <s>', 'Zipf exponent of item popularity', number, 1.1)
    .option('--format <format>', 'csv or jsonl', 'csv')
    .option('-O, --out <file>', 'write to a file instead of standard output')
    .option('--truth <file>', 'also write the ground truth (reach per arm, transitions) as JSON')
    .action(
      async (options: {
        users: number;
        seed: number;
        amplification: number;
        escalation: number;
        feedLength: number;
        zipf: number;
        format: string;
        out?: string;
        truth?: string;
      }) => {
        if (options.format !== 'csv' && options.format !== 'jsonl')
          throw new ValidationError('--format must be csv or jsonl');
        // Written synchronously in 1 MiB chunks to a file (bounded memory for 10 M rows), else to standard output.
        const fd = options.out ? openSync(options.out, 'w') : null;
        let buffer = options.format === 'csv' ? eventCsvHeader() : '';
        const flush = () => {
          if (fd !== null) writeSync(fd, buffer);
          else io.stdout.write(buffer);
          buffer = '';
        };
        let truth;
        try {
          truth = generateEvents(
            {
              users: options.users,
              seed: options.seed,
              amplification: options.amplification,
              escalation: options.escalation,
              feedLength: options.feedLength,
              zipf: options.zipf,
            },
            (row) => {
              buffer += options.format === 'csv' ? eventCsvLine(row) : JSON.stringify(row) + '\n';
              if (buffer.length > 1 << 20) flush();
            },
          );
          flush();
        } finally {
          if (fd !== null) closeSync(fd);
        }
        const tvec = DEMO_CATEGORIES.indexOf('tvec');
        const summary = {
          rows: truth.rows,
          users: Object.fromEntries(DEMO_ARMS.map((a, i) => [a, truth.usersByArm[i]])),
          tvec_linger_reach: Object.fromEntries(DEMO_ARMS.map((a, i) => [a, truth.lingerReach[i][tvec]])),
          params: truth.params,
        };
        if (options.truth) {
          const { itemExposures: _items, ...rest } = truth;
          writeFileSync(
            options.truth,
            JSON.stringify({ ...rest, categories: DEMO_CATEGORIES, arms: DEMO_ARMS }, null, 2) + '\n',
          );
        }
        io.stderr.write(
          `generated ${summary.rows} events for ${options.users} users (${JSON.stringify(summary.tvec_linger_reach)} reached by tvec)\n`,
        );
      },
    );

  const dataset = research.command('dataset').description('research datasets');
  addStoreOptions(
    dataset
      .command('create')
      .argument('<name>')
      .description('register a dataset (public keys default to the demo schema)'),
  )
    .option('--description <text>', 'what the dataset holds')
    .option('--keys <file>', 'JSON file: { "publicKeys": {...}, "bounds": {...}, "autoApprove": {...} }')
    .action(async (name: string, options: StoreOptions & { description?: string; keys?: string }) =>
      withStore(options, async (ctx, actor) => {
        const meta = options.keys
          ? (JSON.parse(readFileSync(options.keys, 'utf8')) as Record<string, unknown>)
          : {};
        const created = await ctx.research.createDataset(actor, {
          name,
          description: options.description,
          ...meta,
        });
        print({
          id: created.id,
          name: created.name,
          public_keys: created.meta.publicKeys,
          bounds: created.meta.bounds,
        });
      }),
    );
  addStoreOptions(dataset.command('list').description('list datasets')).action(
    async (options: StoreOptions) =>
      withStore(options, async (ctx, actor) => {
        const rows = (await ctx.research.listOwnDatasets(actor)).map((d) => [
          String(d.id),
          d.name,
          String(d.privateRows),
          String(d.mockRows),
        ]);
        io.stdout.write(tableLines(['id', 'name', 'private rows', 'mock rows'], rows));
      }),
  );

  addStoreOptions(
    research
      .command('load')
      .argument('<dataset>')
      .argument('<file>', 'CSV (with header) or JSON lines')
      .description('load events (replaces the twin), streamed'),
  )
    .option('--twin <twin>', 'private or mock', 'private')
    .option('--format <format>', 'csv or jsonl (default: from the file name)')
    .action(async (name: string, file: string, options: StoreOptions & { twin: string; format?: string }) =>
      withStore(options, async (ctx, actor) => {
        if (options.twin !== 'private' && options.twin !== 'mock')
          throw new ValidationError('--twin must be private or mock');
        const d = await findDataset(ctx, actor, name);
        const started = Date.now();
        const { rows } = await ctx.research.loadStream(
          actor,
          d.id,
          options.twin,
          createReadStream(file),
          formatOf(file, options.format),
          (n) => {
            if (io.stderr.isTTY) io.stderr.write(`\r${n} rows`);
          },
        );
        io.stdout.write(
          `loaded ${rows} rows into the ${options.twin} data of ${d.name} in ${((Date.now() - started) / 1000).toFixed(1)} s\n`,
        );
      }),
    );

  addStoreOptions(
    research
      .command('mock')
      .argument('<dataset>')
      .description("generate the mock twin from the dataset's public keys"),
  )
    .option('--users <n>', 'users in the mock', integer, 500)
    .option('--seed <n>', 'seed', integer, 1)
    .action(async (name: string, options: StoreOptions & { users: number; seed: number }) =>
      withStore(options, async (ctx, actor) => {
        const d = await findDataset(ctx, actor, name);
        const { rows } = await ctx.research.generateMock(actor, d.id, {
          users: options.users,
          seed: options.seed,
        });
        io.stdout.write(`mock twin of ${d.name}: ${rows} rows\n`);
      }),
    );

  addStoreOptions(
    research.command('accredit').description('accredit a researcher (or renew an accreditation)'),
  )
    .requiredOption('--principal <who>', 'the researcher\'s API key or account, "key:<id>" or "user:<id>"')
    .requiredOption('--name <name>', 'their name')
    .requiredOption('--email <email>', 'their email')
    .requiredOption('--until <date>', 'accredited until (ISO date)')
    .action(
      async (options: StoreOptions & { principal: string; name: string; email: string; until: string }) =>
        withStore(options, async (ctx, actor) => {
          const r = await ctx.research.registerResearcher(actor, {
            name: options.name,
            email: options.email,
            principal: options.principal,
            accreditedUntil: options.until,
          });
          print({ id: r.id, principal: r.principal, accredited_until: r.accreditedUntil });
        }),
    );

  addStoreOptions(
    research
      .command('budget')
      .argument('<dataset>')
      .argument('<researcher-id>')
      .description("set a researcher's budget on a dataset"),
  )
    .requiredOption('--rho <rho>', 'zCDP budget ρ', number)
    .option('--delta <delta>', 'δ for partition selection of private keys', number)
    .action(
      async (name: string, researcherId: string, options: StoreOptions & { rho: number; delta?: number }) =>
        withStore(options, async (ctx, actor) => {
          const d = await findDataset(ctx, actor, name);
          const b = await ctx.research.setBudget(actor, integer(researcherId), d.id, {
            rho: options.rho,
            ...(options.delta !== undefined ? { delta: options.delta } : {}),
          });
          io.stdout.write(
            `budget ρ = ${b.rho} (${b.rhoSpent} spent), i.e. ε = ${b.epsilon.budget.toFixed(3)} at δ = ${b.epsilon.delta}\n`,
          );
        }),
    );

  addStoreOptions(research.command('requests').description('requests on your datasets'))
    .option('--status <status>', 'pending, approved, denied, released or failed')
    .action(async (options: StoreOptions & { status?: 'pending' }) =>
      withStore(options, async (ctx, actor) => {
        const rows = (await ctx.research.ownerRequests(actor, options.status)).map((r) => [
          String(r.id),
          String(r.datasetId),
          String(r.researcherId),
          (r.plan as { aggregate: { kind: string } }).aggregate.kind,
          String(r.rho),
          r.status,
          r.reason ?? '',
        ]);
        io.stdout.write(tableLines(['id', 'dataset', 'researcher', 'kind', 'rho', 'status', 'reason'], rows));
      }),
    );

  addStoreOptions(
    research
      .command('approve')
      .argument('<request-id>')
      .description('approve: run on the private data, charge and release'),
  ).action(async (id: string, options: StoreOptions) =>
    withStore(options, async (ctx, actor) => {
      const { request } = await ctx.research.approve(actor, integer(id));
      io.stdout.write(`request ${request.id} ${request.status}\n`);
    }),
  );

  addStoreOptions(
    research.command('deny').argument('<request-id>').description('deny a request, with a reason'),
  )
    .requiredOption('--reason <text>', 'why')
    .action(async (id: string, options: StoreOptions & { reason: string }) =>
      withStore(options, async (ctx, actor) => {
        const r = await ctx.research.deny(actor, integer(id), options.reason);
        io.stdout.write(`request ${r.id} ${r.status}: ${r.reason}\n`);
      }),
    );
}
