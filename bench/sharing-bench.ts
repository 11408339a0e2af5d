/**
 * `npm run bench -- sharing [--members 20] [--contributions 30] [--initial 1000000] [--live 1000]`: a hub and
 * member instances, each `kaitiaki serve` in its own process with its own SQLite store.
 * - Initial sync: a fresh member subscribes to a hub bank of `--initial` signals and is timed until the last one
 *   matches there, answering matches all along (their latency is reported). The baseline, in the same run: the
 *   same list loaded into a fresh store of its own with `kaitiaki bank import` from a CSV file on the machine.
 * - Propagation: N members follow a second bank (`--live` signals); from a contribution accepted at the hub
 *   (half added by the hub's owner, half sent by one member's instance, signed) to matchable at every member, p50
 *   and p99; at the end, signals lost or duplicated per member.
 */
import { percentileOf } from '../src/core/stats.js';
import { execFile, type ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { readConfig } from '../src/config/config.js';
import { AppContext } from '../src/context.js';
import { initialise } from '../src/cli/commands/init.js';
import { prepareEntry } from '../src/store/entries.js';
import { api, cleanup, startServer } from './server-harness.js';

const execFileAsync = promisify(execFile);
const BIN = new URL('../src/bin/kaitiaki.js', import.meta.url).pathname;

const hash = (label: string) => createHash('sha256').update(label).digest('hex');

async function until(probe: () => Promise<boolean>, timeoutMs: number, pollMs = 20): Promise<number> {
  const started = performance.now();
  for (;;) {
    if (await probe()) return performance.now() - started;
    if (performance.now() - started > timeoutMs) throw new Error('timed out');
    await new Promise((r) => setTimeout(r, pollMs));
  }
}

/** Nearest-rank percentile of values in any order (0 when there are none). */
const percentile = (values: number[], p: number): number => percentileOf(values, p) ?? 0;

/** A hub store with a bank of `initial` signals (for the initial sync) and one of `live` (propagation). */
async function seedHub(dataDir: string, initial: number, live: number) {
  const ctx = await AppContext.open(readConfig(process.env, { dataDir }));
  try {
    const init = await initialise(ctx, 'Hub');
    const org = init.organisation.id;
    const fill = async (name: string, count: number, label: string) => {
      const bank = await ctx.banks.create(org, { name });
      const context = {
        bankId: bank.id,
        orgId: org,
        contributorOrgId: org,
        source: 'import' as const,
        defaultLabels: [],
      };
      for (let start = 0; start < count; start += 5000) {
        const rows = [];
        for (let i = start; i < Math.min(count, start + 5000); i++)
          rows.push(prepareEntry({ signalType: 'pdq', value: hash(`${label} ${i}`) }, context));
        await ctx.entries.insertManyCounting(rows);
      }
      return bank.id;
    };
    return {
      adminKey: init.adminKey!,
      bulk: await fill('GIFCT_SIZED', initial, 'seed'),
      live: await fill('SHARED_TVEC', live, 'live'),
    };
  } finally {
    await ctx.close();
  }
}

/**
 * The baseline: the same list as a CSV file, loaded into a fresh store with `kaitiaki bank import`. Run without
 * blocking this process (a blocked event loop lets the hub close idle keep-alive connections under it).
 */
async function localImportSeconds(dir: string, initial: number): Promise<number> {
  const csv = join(dir, 'list.csv');
  const lines = ['signal_type,value'];
  for (let i = 0; i < initial; i++) lines.push(`pdq,${hash(`seed ${i}`)}`);
  writeFileSync(csv, lines.join('\n') + '\n');
  const dataDir = join(dir, 'store');
  const cli = (args: string[]) =>
    execFileAsync(process.execPath, [BIN, ...args, '--data-dir', dataDir], { maxBuffer: 1 << 20 });
  await cli(['init']);
  await cli(['bank', 'create', 'GIFCT']);
  const started = performance.now();
  await cli(['bank', 'import', 'GIFCT', csv, '--no-progress']);
  return (performance.now() - started) / 1000;
}

export async function run(args: string[]): Promise<unknown> {
  const arg = (name: string, fallback: number) => {
    const i = args.indexOf(name);
    return i >= 0 ? Number(args[i + 1]) : fallback;
  };
  const memberCount = arg('--members', 20);
  const contributions = arg('--contributions', 30);
  const initial = arg('--initial', 1_000_000);
  const live = arg('--live', 1000);
  const log = (m: string) => process.stderr.write(`bench sharing: ${m}\n`);
  const dirs: string[] = [];
  const children: ChildProcess[] = [];
  const loads: number[] = [];
  const sampleLoad = setInterval(() => loads.push(loadavg()[0]), 5000);
  try {
    const hubDir = mkdtempSync(join(tmpdir(), 'kaitiaki-bench-hub-'));
    dirs.push(hubDir);
    log(`seeding the hub with ${initial} + ${live} signals`);
    const { adminKey, bulk, live: liveBank } = await seedHub(hubDir, initial, live);
    const hub = await startServer(['--data-dir', hubDir], {});
    children.push(hub.child);
    const publicKey = (await api(hub.url, adminKey, 'GET', '/v1/sharing/instance')).public_key as string;
    const allowed = { KAITIAKI_SOURCE_ALLOWED_HOSTS: new URL(hub.url).host };

    /** A member organisation on the hub with the bank shared with it, and its own instance following it. */
    const member = async (i: number, bank: number, rights: 'read' | 'contribute') => {
      const org = await api(hub.url, adminKey, 'POST', '/v1/organisations', {
        name: `Member ${i} of ${bank}`,
        admin_key: { name: 'sync', role: 'admin' },
      });
      await api(hub.url, adminKey, 'POST', `/v1/banks/${bank}/shares`, {
        organisation_id: org.organisation.id,
        rights,
      });
      await api(hub.url, org.api_key.key, 'POST', `/v1/shares/incoming/${bank}/accept`, {});
      const dir = join(mkdtempSync(join(tmpdir(), `kaitiaki-bench-member${i}-`)), 'data');
      dirs.push(dir);
      const ctx = await AppContext.open(readConfig(process.env, { dataDir: dir }));
      const key = (await initialise(ctx, `Member ${i}`)).adminKey!;
      await ctx.close();
      const server = await startServer(['--data-dir', dir], allowed);
      children.push(server.child);
      const started = performance.now();
      const subscription = await api(server.url, key, 'POST', '/v1/subscriptions', {
        name: 'HUB',
        kind: 'kaitiaki',
        interval_seconds: 1,
        config: {
          hub_url: hub.url,
          collection_id: bank,
          api_key: org.api_key.key,
          hub_public_key: publicKey,
        },
      });
      return { url: server.url, key, subscription: subscription.id as number, started, child: server.child };
    };
    const matchMs = async (m: { url: string; key: string }, value: string) => {
      const started = performance.now();
      const answer = await api(m.url, m.key, 'POST', '/v1/match', { signals: [{ type: 'pdq', value }] });
      return { found: answer.matches.length > 0, ms: performance.now() - started };
    };
    const mirrorCount = async (m: { url: string; key: string }) => {
      const status = (await api(m.url, m.key, 'GET', '/v1/subscriptions')).items[0];
      return Number((await api(m.url, m.key, 'GET', `/v1/banks/${status.bank_id}`)).entry_count);
    };

    // 1. Initial sync of the large bank into a fresh member, answering matches all along.
    const first = await member(0, bulk, 'read');
    const last = hash(`seed ${initial - 1}`);
    const duringSync: number[] = [];
    await until(
      async () => {
        const { found, ms } = await matchMs(first, last);
        duringSync.push(ms);
        return found;
      },
      1_200_000,
      200,
    );
    const initialSyncS = (performance.now() - first.started) / 1000;
    const bulkCount = await mirrorCount(first);
    log(
      `initial sync of ${initial} signals: ${initialSyncS.toFixed(1)} s; ${duringSync.length} matches answered meanwhile, p99 ${percentile(duringSync, 99).toFixed(0)} ms; mirror holds ${bulkCount}`,
    );
    first.child.kill('SIGTERM');
    const baselineDir = mkdtempSync(join(tmpdir(), 'kaitiaki-bench-import-'));
    dirs.push(baselineDir);
    const importS = await localImportSeconds(baselineDir, initial);
    log(`baseline: the same list imported from a local CSV file: ${importS.toFixed(1)} s`);

    // 2. Propagation to N members of the live bank.
    const members = [];
    for (let i = 1; i <= memberCount; i++)
      members.push(await member(i, liveBank, i === 1 ? 'contribute' : 'read'));
    log(`${memberCount} members subscribed; waiting for all to catch up`);
    const probe = hash(`live ${live - 1}`);
    for (const m of members) await until(async () => (await matchMs(m, probe)).found, 600_000, 200);

    const fromHub: number[] = [];
    const fromMember: number[] = [];
    for (let c = 0; c < contributions; c++) {
      const value = hash(`contribution ${c}`);
      const byMember = c % 2 === 1;
      if (byMember)
        await api(
          members[0].url,
          members[0].key,
          'POST',
          `/v1/subscriptions/${members[0].subscription}/contributions`,
          {
            contributions: [{ op: 'add', signal_type: 'pdq', value }],
          },
        );
      else
        await api(hub.url, adminKey, 'POST', `/v1/banks/${liveBank}/entries`, { signal_type: 'pdq', value });
      const accepted = performance.now();
      await Promise.all(
        members.map(async (m) => {
          await until(async () => (await matchMs(m, value)).found, 30_000);
          (byMember ? fromMember : fromHub).push(performance.now() - accepted);
        }),
      );
    }
    const latencies = [...fromHub, ...fromMember];
    const p50 = percentile(latencies, 50);
    const p99 = percentile(latencies, 99);
    log(`propagation to ${memberCount} members: p50 ${p50.toFixed(0)} ms, p99 ${p99.toFixed(0)} ms`);

    // Nothing lost, nothing twice: every mirror holds exactly the hub's signals.
    let lost = Math.max(0, initial - bulkCount);
    let duplicated = Math.max(0, bulkCount - initial);
    const expected = live + contributions;
    for (const m of members) {
      const count = await mirrorCount(m);
      if (count < expected) lost += expected - count;
      if (count > expected) duplicated += count - expected;
    }
    return {
      members: memberCount,
      contributions,
      delivery:
        'long poll (wait_ms 2000), asked again at once; one Ed25519 signature per page of up to 5,000',
      p50_ms: Math.round(p50),
      p99_ms: Math.round(p99),
      contributed_at_hub: {
        p50_ms: Math.round(percentile(fromHub, 50)),
        p99_ms: Math.round(percentile(fromHub, 99)),
      },
      contributed_by_member_instance: {
        p50_ms: Math.round(percentile(fromMember, 50)),
        p99_ms: Math.round(percentile(fromMember, 99)),
      },
      initial_sync_signals: initial,
      initial_sync_s: Math.round(initialSyncS * 10) / 10,
      initial_sync_signals_per_s: Math.round(initial / initialSyncS),
      matches_answered_during_initial_sync: duringSync.length,
      match_p99_ms_during_initial_sync: Math.round(percentile(duringSync, 99)),
      baseline_local_import_s: Math.round(importS * 10) / 10,
      initial_sync_vs_local_import: Math.round((initialSyncS / importS) * 100) / 100,
      lost,
      duplicated,
      load_average: { min: Math.min(...loads), max: Math.max(...loads) },
    };
  } finally {
    clearInterval(sampleLoad);
    for (const child of children) child.kill('SIGTERM');
    for (const dir of dirs) cleanup(dir);
  }
}
