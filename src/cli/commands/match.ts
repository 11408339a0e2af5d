/** `kaitiaki match PATH...`: hash files and match them, locally against the store or against a server. */
import { readFile } from 'node:fs/promises';
import { basename } from 'node:path';
import type { Command } from 'commander';
import { KaitiakiError, ValidationError } from '../../core/errors.js';
import { hashFilesInParallel } from '../../hashing/worker-pool.js';
import type { CliIo } from '../io.js';
import { addStoreOptions, openStore, type StoreOptions } from './context.js';
import { signalsOf } from '../../signals/registry.js';

interface MatchOptions extends StoreOptions {
  server?: string;
  key?: string;
}

async function matchRemote(paths: string[], options: MatchOptions, io: CliIo): Promise<number> {
  const key = options.key ?? process.env.KAITIAKI_API_KEY;
  if (!key) throw new ValidationError('--server needs an API key: --key or $KAITIAKI_API_KEY');
  let failed = 0;
  for (const path of paths) {
    try {
      const form = new FormData();
      form.append('file', new Blob([await readFile(path)]), basename(path));
      const response = await fetch(new URL('/v1/match', options.server), {
        method: 'POST',
        headers: { authorization: `Bearer ${key}` },
        body: form,
      });
      const body = (await response.json()) as { matches?: unknown[]; detail?: string; code?: string };
      if (!response.ok)
        throw new KaitiakiError(
          body.code ?? 'KAI_ERR_SERVER',
          body.detail ?? `server answered ${response.status}`,
        );
      io.stdout.write(JSON.stringify({ file: path, matches: body.matches }) + '\n');
    } catch (err) {
      failed++;
      const code = err instanceof KaitiakiError ? err.code : 'KAI_ERR_REQUEST';
      io.stdout.write(
        JSON.stringify({
          file: path,
          error: { code, message: err instanceof Error ? err.message : String(err) },
        }) + '\n',
      );
    }
  }
  return failed;
}

async function matchLocal(paths: string[], options: MatchOptions, io: CliIo): Promise<number> {
  const { ctx, organisation } = await openStore(options);
  let failed = 0;
  try {
    await ctx.indexSync.load();
    const results = new Map<number, string>();
    let printed = 0;
    for await (const outcome of hashFilesInParallel(paths, {})) {
      let line: string;
      if (!outcome.ok) {
        failed++;
        line = JSON.stringify({ file: outcome.path, error: outcome.error });
      } else {
        const matches = await ctx.matcher.match(organisation.id, signalsOf(outcome.result));
        line = JSON.stringify({
          file: outcome.path,
          matches: matches.map((m) => ({
            signal_type: m.signalType,
            distance: m.distance,
            bank: m.bank.name,
            entry_id: m.entry.id,
            labels: m.entry.labels,
          })),
        });
      }
      results.set(outcome.index, line);
      while (results.has(printed)) {
        io.stdout.write(results.get(printed)! + '\n');
        results.delete(printed++);
      }
    }
  } finally {
    await ctx.close();
  }
  return failed;
}

export function registerMatchCommand(program: Command, io: CliIo): void {
  addStoreOptions(
    program
      .command('match')
      .description('hash files and match them against your banks (locally, or on a server with --server)')
      .argument('<paths...>', 'files'),
  )
    .option('--server <url>', 'match on this Kaitiaki server instead of the local store')
    .option('--key <key>', 'API key for --server (default $KAITIAKI_API_KEY)')
    .action(async (paths: string[], options: MatchOptions) => {
      const failed = options.server
        ? await matchRemote(paths, options, io)
        : await matchLocal(paths, options, io);
      if (failed > 0) io.exitCode = 1;
    });
}
