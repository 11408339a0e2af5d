/**
 * `npm run bench -- sharing [--members 20] [--contributions 30] [--initial 100000]`: a hub and N member instances,
 * each `kaitiaki serve` in its own process with its own SQLite store, every member following the hub's shared
 * bank as a `kaitiaki` source (polling every second). Measures, from a contribution accepted at the hub to
 * matchable at every member, p50 and p99; the initial sync of a bank of `--initial` signals into a fresh member
 * (and that the member answers matches while it syncs); and, at the end, signals lost or duplicated per member.
 */
import type { ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readConfig } from '../src/config/config.js';
import { AppContext } from '../src/context.js';
import { initialise } from '../src/cli/commands/init.js';
import { prepareEntry } from '../src/store/entries.js';
import { api, cleanup, startServer } from './server-harness.js';

const hash = (label: string) => createHash('sha256').update(label).digest('hex');

async function until(probe: () => Promise<boolean>, timeoutMs: number, pollMs = 20): Promise<number> {
  const started = performance.now();
  for (;;) {
    if (await probe()) return performance.now() - started;
    if (performance.now() - started > timeoutMs) throw new Error('timed out');
    await new Promise((r) => setTimeout(r, pollMs));
  }
}

const percentile = (values: number[], p: number) => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
};

/** A hub store with one bank of `initial` signals, its owner's key and the admin key. */
async function seedHub(dataDir: string, initial: number) {
  const ctx = await AppContext.open(readConfig(process.env, { dataDir }));
  try {
    const init = await initialise(ctx, 'Hub');
    const org = init.organisation.id;
    const bank = await ctx.banks.create(org, { name: 'SHARED_TVEC' });
    const context = {
      bankId: bank.id,
      orgId: org,
      contributorOrgId: org,
      source: 'import' as const,
      defaultLabels: [],
    };
    for (let start = 0; start < initial; start += 5000) {
      const rows = [];
      for (let i = start; i < Math.min(initial, start + 5000); i++)
        rows.push(prepareEntry({ signalType: 'pdq', value: hash(`seed ${i}`) }, context));
      await ctx.entries.insertMany(rows);
    }
    return { adminKey: init.adminKey!, bank: bank.id };
  } finally {
    await ctx.close();
  }
}

export async function run(args: string[]): Promise<unknown> {
  const arg = (name: string, fallback: number) => {
    const i = args.indexOf(name);
    return i >= 0 ? Number(args[i + 1]) : fallback;
  };
  const memberCount = arg('--members', 20);
  const contributions = arg('--contributions', 30);
  const initial = arg('--initial', 100_000);
  const log = (m: string) => process.stderr.write(`bench sharing: ${m}\n`);
  const dirs: string[] = [];
  const children: ChildProcess[] = [];
  try {
    const hubDir = mkdtempSync(join(tmpdir(), 'kaitiaki-bench-hub-'));
    dirs.push(hubDir);
    log(`seeding the hub with ${initial} signals`);
    const { adminKey, bank } = await seedHub(hubDir, initial);
    const hub = await startServer(['--data-dir', hubDir], {});
    children.push(hub.child);
    const publicKey = (await api(hub.url, adminKey, 'GET', '/v1/sharing/instance')).public_key as string;
    const allowed = { KAITIAKI_SOURCE_ALLOWED_HOSTS: new URL(hub.url).host };

    const members: { url: string; key: string }[] = [];
    let initialSyncS = 0;
    let matchesDuringSync = 0;
    for (let i = 0; i < memberCount; i++) {
      const org = await api(hub.url, adminKey, 'POST', '/v1/organisations', {
        name: `Member ${i}`,
        admin_key: { name: 'sync', role: 'admin' },
      });
      await api(hub.url, adminKey, 'POST', `/v1/banks/${bank}/shares`, {
        organisation_id: org.organisation.id,
      });
      await api(hub.url, org.api_key.key, 'POST', `/v1/shares/incoming/${bank}/accept`, {});
      const dir = join(mkdtempSync(join(tmpdir(), `kaitiaki-bench-member${i}-`)), 'data');
      dirs.push(dir);
      const ctx = await AppContext.open(readConfig(process.env, { dataDir: dir }));
      const key = (await initialise(ctx, `Member ${i}`)).adminKey!;
      await ctx.close();
      const server = await startServer(['--data-dir', dir], allowed);
      children.push(server.child);
      const member = { url: server.url, key };
      const started = performance.now();
      await api(member.url, key, 'POST', '/v1/subscriptions', {
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
      if (i === 0) {
        // The first member's initial sync is timed; it must keep answering matches meanwhile.
        const last = hash(`seed ${initial - 1}`);
        await until(
          async () => {
            const answer = await api(member.url, key, 'POST', '/v1/match', {
              signals: [{ type: 'pdq', value: last }],
            });
            matchesDuringSync++;
            return answer.matches.length > 0;
          },
          600_000,
          200,
        );
        initialSyncS = (performance.now() - started) / 1000;
        log(
          `initial sync of ${initial} signals: ${initialSyncS.toFixed(1)} s (${matchesDuringSync} matches answered meanwhile)`,
        );
      }
      members.push(member);
    }
    log(`${memberCount} members subscribed; waiting for all to catch up`);
    const probe = hash(`seed ${initial - 1}`);
    for (const m of members)
      await until(
        async () =>
          (await api(m.url, m.key, 'POST', '/v1/match', { signals: [{ type: 'pdq', value: probe }] })).matches
            .length > 0,
        600_000,
        200,
      );

    const latencies: number[] = [];
    for (let c = 0; c < contributions; c++) {
      const value = hash(`contribution ${c}`);
      await api(hub.url, adminKey, 'POST', `/v1/banks/${bank}/entries`, { signal_type: 'pdq', value });
      const accepted = performance.now();
      await Promise.all(
        members.map(async (m) => {
          await until(
            async () =>
              (await api(m.url, m.key, 'POST', '/v1/match', { signals: [{ type: 'pdq', value }] })).matches
                .length > 0,
            30_000,
          );
          latencies.push(performance.now() - accepted);
        }),
      );
    }
    const p50 = percentile(latencies, 50);
    const p99 = percentile(latencies, 99);
    log(`propagation to ${memberCount} members: p50 ${p50.toFixed(0)} ms, p99 ${p99.toFixed(0)} ms`);

    // Nothing lost, nothing twice: every member's mirror holds exactly the hub's signals.
    const expected = initial + contributions;
    let lost = 0;
    let duplicated = 0;
    for (const m of members) {
      const status = (await api(m.url, m.key, 'GET', '/v1/subscriptions')).items[0];
      const bankView = await api(m.url, m.key, 'GET', `/v1/banks/${status.bank_id}`);
      const count = Number(bankView.entry_count);
      if (count < expected) lost += expected - count;
      if (count > expected) duplicated += count - expected;
    }
    return {
      members: memberCount,
      contributions,
      polling_interval_s: 1,
      p50_ms: Math.round(p50),
      p99_ms: Math.round(p99),
      initial_sync_signals: initial,
      initial_sync_s: Math.round(initialSyncS * 10) / 10,
      matches_answered_during_initial_sync: matchesDuringSync,
      lost,
      duplicated,
    };
  } finally {
    for (const child of children) child.kill('SIGTERM');
    for (const dir of dirs) cleanup(dir);
  }
}
