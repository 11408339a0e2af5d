/**
 * `kaitiaki sharing subscribe-list|subscribe-tcap|status|sync|unsubscribe`: subscriptions to external lists in the
 * local store. A subscription made here is run by `kaitiaki serve` on its interval, or at once with `sync`.
 */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { InvalidArgumentError, type Command } from 'commander';
import { ValidationError } from '../../core/errors.js';
import type { TickResult } from '../../sources/runner.js';
import type { SubscriptionStatus } from '../../sources/service.js';
import type { CliIo } from '../io.js';
import { tableLines } from '../output.js';
import { registerCollectionCommands } from './collections.js';
import { addStoreOptions, openStore, type StoreOptions } from './context.js';

function seconds(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1) throw new InvalidArgumentError('a whole number of seconds');
  return n;
}

function statusJson(s: SubscriptionStatus) {
  const sub = s.subscription;
  return {
    id: sub.id,
    name: sub.name,
    kind: s.kind,
    config: s.config,
    enabled: sub.enabled,
    interval_seconds: sub.intervalSeconds,
    bank_id: sub.bankId,
    checkpoint: sub.checkpoint,
    lag_records: s.lagRecords,
    lag_seconds: s.lagSeconds,
    last_success_at: sub.lastSuccessAt,
    last_error: sub.lastError,
    records_upserted: sub.recordsUpserted,
    records_deleted: sub.recordsDeleted,
    records_quarantined: sub.recordsQuarantined,
  };
}

const runLine = (name: string, r: TickResult) =>
  r.status === 'failed'
    ? `${name}: failed: ${r.error}\n`
    : `${name}: ${r.status}: ${r.upserted} added or changed, ${r.deleted} deleted, ${r.quarantined} quarantined\n`;

export function registerSharingCommand(program: Command, io: CliIo): void {
  const sharing = program
    .command('sharing')
    .description(
      'hash sharing: collections on this instance, hubs it joins, subscriptions to external lists (TCAP, CSV / JSON lines)',
    );

  const subscribe = async (
    options: StoreOptions & { interval?: number; sync?: boolean; json?: boolean },
    input: { name: string; kind: string; config: Record<string, unknown> },
  ) => {
    const { ctx, organisation } = await openStore(options);
    try {
      const created = await ctx.subscriptions.create('cli', organisation.id, {
        ...input,
        intervalSeconds: options.interval,
      });
      const runs = options.sync ? await ctx.subscriptions.syncNow(organisation.id, created.id) : [];
      const status = ctx.subscriptions.status(await ctx.subscriptions.get(organisation.id, created.id));
      if (options.json) io.stdout.write(JSON.stringify(statusJson(status)) + '\n');
      else {
        io.stdout.write(
          `subscribed ${organisation.name} to ${input.kind} "${created.name}" (id ${created.id}) into the read-only bank ${created.name} (id ${created.bankId})\n`,
        );
        for (const r of runs) io.stdout.write(runLine(created.name, r));
      }
      if (runs.some((r) => r.status === 'failed')) io.exitCode = 1;
    } finally {
      await ctx.close();
    }
  };

  addStoreOptions(
    sharing
      .command('subscribe-list')
      .argument('<name>', 'subscription name (also the name of its read-only mirror bank)')
      .argument('<location>', 'http(s) URL of the list, or a file under KAITIAKI_SOURCE_FILE_ROOT')
      .description('follow a CSV or JSON-lines list (the columns of `bank import`, plus deleted)'),
  )
    .option('-f, --format <format>', 'csv or jsonl (default: from the name)')
    .option('--interval <seconds>', 'how often `serve` fetches it (default 3600)', seconds)
    .option('--sync', 'fetch it now')
    .option('--json', 'print JSON')
    .action(
      (
        name: string,
        location: string,
        options: StoreOptions & { format?: string; interval?: number; sync?: boolean; json?: boolean },
      ) =>
        subscribe(options, {
          name,
          kind: 'list',
          config: {
            ...(/^https?:\/\//i.test(location) ? { url: location } : { path: location }),
            ...(options.format ? { format: options.format } : {}),
          },
        }),
    );

  addStoreOptions(
    sharing
      .command('subscribe-tcap')
      .argument('<name>', 'subscription name (also the name of its read-only mirror bank)')
      .description("follow Tech Against Terrorism's TCAP hash list (token from $KAITIAKI_TCAP_TOKEN)"),
  )
    .option('--base-url <url>', 'API root (default https://app.terrorismanalytics.org/)')
    .option('--interval <seconds>', 'how often `serve` fetches it (default 900)', seconds)
    .option('--sync', 'fetch it now')
    .option('--json', 'print JSON')
    .action(
      (
        name: string,
        options: StoreOptions & { baseUrl?: string; interval?: number; sync?: boolean; json?: boolean },
      ) =>
        subscribe(options, {
          name,
          kind: 'tcap',
          config: {
            token: process.env.KAITIAKI_TCAP_TOKEN ?? '',
            ...(options.baseUrl ? { base_url: options.baseUrl } : {}),
          },
        }),
    );

  addStoreOptions(
    sharing
      .command('status')
      .description('each subscription: source, checkpoint, lag, last error, records quarantined'),
  )
    .option('--json', 'print JSON lines')
    .action(async (options: StoreOptions & { json?: boolean }) => {
      const { ctx, organisation } = await openStore(options);
      try {
        const rows: string[][] = [];
        let cursor: string | undefined;
        const now = Date.now();
        do {
          const page = await ctx.subscriptions.list(organisation.id, { cursor, limit: 1000 });
          for (const sub of page.items) {
            const s = ctx.subscriptions.status(sub, now);
            if (options.json) io.stdout.write(JSON.stringify(statusJson(s)) + '\n');
            else
              rows.push([
                String(sub.id),
                sub.name,
                s.kind + (sub.enabled ? '' : ' (paused)'),
                sub.checkpoint === null ? '-' : sub.checkpoint.slice(0, 40),
                s.lagRecords === null ? '?' : String(s.lagRecords),
                s.lagSeconds === null ? 'never synced' : `${s.lagSeconds}s`,
                String(sub.recordsUpserted),
                String(sub.recordsQuarantined),
                sub.lastError ? sub.lastError.slice(0, 80) : '-',
              ]);
          }
          cursor = page.nextCursor ?? undefined;
        } while (cursor);
        if (!options.json)
          io.stdout.write(
            tableLines(
              [
                'id',
                'name',
                'kind',
                'checkpoint',
                'lag',
                'since caught up',
                'stored',
                'quarantined',
                'last error',
              ],
              rows,
            ),
          );
      } finally {
        await ctx.close();
      }
    });

  addStoreOptions(
    sharing
      .command('sync')
      .argument('<name>', 'subscription name or id')
      .description('fetch a subscription now, page after page until the source has nothing more'),
  ).action(async (nameOrId: string, options: StoreOptions) => {
    const { ctx, organisation } = await openStore(options);
    try {
      const sub = /^\d+$/.test(nameOrId)
        ? await ctx.subscriptions.get(organisation.id, Number(nameOrId))
        : await ctx.subscriptions.getByName(organisation.id, nameOrId);
      const runs = await ctx.subscriptions.syncNow(organisation.id, sub.id);
      for (const r of runs) io.stdout.write(runLine(sub.name, r));
      if (runs.some((r) => r.status === 'failed')) io.exitCode = 1;
    } finally {
      await ctx.close();
    }
  });

  addStoreOptions(
    sharing
      .command('unsubscribe')
      .argument('<name>', 'subscription name or id')
      .description('delete a subscription and its mirror bank'),
  ).action(async (nameOrId: string, options: StoreOptions) => {
    const { ctx, organisation } = await openStore(options);
    try {
      const sub = /^\d+$/.test(nameOrId)
        ? await ctx.subscriptions.get(organisation.id, Number(nameOrId))
        : await ctx.subscriptions.getByName(organisation.id, nameOrId);
      await ctx.subscriptions.delete('cli', organisation.id, sub.id);
      io.stdout.write(`unsubscribed from ${sub.name}; its bank is deleted\n`);
    } finally {
      await ctx.close();
    }
  });

  addStoreOptions(
    sharing
      .command('join')
      .argument('<name>', 'subscription name (also the name of its read-only mirror bank)')
      .requiredOption('--hub <url>', "the hub's base URL")
      .requiredOption('--collection <id>', 'the shared bank on the hub', positiveInt)
      .option(
        '--hub-public-key <file>',
        "the hub's public key (PEM) from its operator; without it, the key the hub states is pinned (trust on first use)",
      )
      .description(
        "follow a collection on another Kaitiaki (a hub) and register this instance's key there to contribute; your organisation's key on the hub from $KAITIAKI_HUB_KEY",
      ),
  )
    .option('--sync', 'fetch it now')
    .option('--json', 'print JSON')
    .action(
      async (
        name: string,
        options: StoreOptions & {
          hub: string;
          collection: number;
          hubPublicKey?: string;
          sync?: boolean;
          json?: boolean;
        },
      ) => {
        const apiKey = process.env.KAITIAKI_HUB_KEY ?? '';
        if (!apiKey)
          throw new ValidationError("set KAITIAKI_HUB_KEY to your organisation's API key on the hub");
        const { ctx, organisation } = await openStore(options);
        try {
          const joined = await ctx.subscriptions.joinHub('cli', organisation.id, {
            name,
            hubUrl: options.hub,
            collectionId: options.collection,
            apiKey,
            ...(options.hubPublicKey ? { hubPublicKey: readFileSync(options.hubPublicKey, 'utf8') } : {}),
          });
          const runs = options.sync
            ? await ctx.subscriptions.syncNow(organisation.id, joined.subscription.id)
            : [];
          const fingerprint = createHash('sha256').update(joined.hub.publicKey).digest('hex').slice(0, 16);
          if (options.json)
            io.stdout.write(
              JSON.stringify({
                subscription: statusJson(
                  ctx.subscriptions.status(
                    await ctx.subscriptions.get(organisation.id, joined.subscription.id),
                  ),
                ),
                hub_public_key: joined.hub.publicKey,
                hub_key_fingerprint: fingerprint,
                pinned: joined.hub.pinned,
              }) + '\n',
            );
          else {
            io.stdout.write(
              `joined collection ${options.collection} on ${options.hub} as "${name}" (subscription ${joined.subscription.id}, mirror bank ${joined.subscription.bankId})\n` +
                `hub key pinned (${joined.hub.pinned}), SHA-256 fingerprint ${fingerprint}: compare it with the hub's operator\n` +
                `this instance's key is registered with the hub: \`kaitiaki sharing contribute ${name} ...\` sends signed contributions\n`,
            );
            for (const r of runs) io.stdout.write(runLine(name, r));
          }
          if (runs.some((r) => r.status === 'failed')) io.exitCode = 1;
        } finally {
          await ctx.close();
        }
      },
    );

  addStoreOptions(
    sharing
      .command('contribute')
      .argument('<name>', 'the hub subscription (from `sharing join`), name or id')
      .argument('<signals...>', 'signals as type:value, e.g. pdq:f8f8f0ce... md5:9e107d9d...')
      .option('--label <label...>', 'labels for every signal')
      .option('--incident <ref>', 'an incident the signals belong to')
      .option('--retract', 'retract these signals (your own contributions) instead of adding them')
      .option('--json', 'print JSON')
      .description("send signals to the hub collection, signed with this instance's key"),
  ).action(
    async (
      nameOrId: string,
      signals: string[],
      options: StoreOptions & { label?: string[]; incident?: string; retract?: boolean; json?: boolean },
    ) => {
      const items = signals.map((signal) => {
        const colon = signal.indexOf(':');
        if (colon < 1) throw new ValidationError(`"${signal}" is not type:value (e.g. pdq:f8f8f0ce...)`);
        return {
          op: options.retract ? ('retract' as const) : ('add' as const),
          signal_type: signal.slice(0, colon),
          value: signal.slice(colon + 1),
          ...(options.retract || !options.label ? {} : { labels: options.label }),
          ...(options.retract || !options.incident ? {} : { incident: options.incident }),
        };
      });
      const { ctx, organisation } = await openStore(options);
      try {
        const sub = /^\d+$/.test(nameOrId)
          ? await ctx.subscriptions.get(organisation.id, Number(nameOrId))
          : await ctx.subscriptions.getByName(organisation.id, nameOrId);
        const received = await ctx.subscriptions.contribute('cli', organisation.id, sub.id, items);
        if (options.json) io.stdout.write(JSON.stringify(received) + '\n');
        else
          io.stdout.write(
            `batch ${received.batch}: ${received.added} added, ${received.present} already there, ${received.retracted} retracted${received.replayed ? ' (sent before)' : ''}\n`,
          );
      } finally {
        await ctx.close();
      }
    },
  );

  registerCollectionCommands(sharing, io);
}

function positiveInt(value: string): number {
  const n = Number(value);
  if (!Number.isSafeInteger(n) || n < 1) throw new InvalidArgumentError('a positive whole number');
  return n;
}
