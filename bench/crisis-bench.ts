/**
 * `npm run bench -- crisis [--members 20] [--uploads 10000] [--rate 200]`: a crisis drill with a hub and N member
 * instances, each `kaitiaki serve` in its own process with its own SQLite store, following the hub's crisis feed
 * (`kaitiaki-crisis`, polled every second) with a policy that blocks what carries `crisis-active`. The drill
 * replays perturbed variants of two frames and a clip at the given rate and banks their hashes two seconds in.
 * Reported: the share of in-reach variants blocked after the hash landed (and how many are out of reach),
 * hash-to-member p50/p99 and first block p50. Baseline, same run: the time from a member adding a hash to its own
 * bank to that hash matching there (what sharing adds on top of the local path).
 */
import { percentileOf } from '../src/core/stats.js';
import { spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { randomBytes } from 'node:crypto';
import { runDrill, parseScenario } from '../src/crisis/drill.js';
import { api, cleanup, startServer } from './server-harness.js';

const SHARED = resolve(process.cwd(), '..', 'shared', 'testdata');
const BIN = resolve(process.cwd(), 'dist', 'src', 'bin', 'kaitiaki.js');

function init(dataDir: string): string {
  const out = spawnSync(process.execPath, [BIN, 'init', '--data-dir', dataDir, '--json'], {
    encoding: 'utf8',
  });
  if (out.status !== 0) throw new Error(`init failed: ${out.stderr}`);
  return JSON.parse(out.stdout).admin_key as string;
}

const arg = (args: string[], name: string, fallback: number) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? Number(args[i + 1]) : fallback;
};

/** Nearest-rank percentile of values in any order (0 when there are none). */
const percentile = (values: number[], p: number): number => percentileOf(values, p) ?? 0;

/** Baseline: a member adds a fresh hash to its own bank; how long until it matches there. */
async function localPath(m: { url: string; key: string }): Promise<number> {
  const bank = (
    await api(m.url, m.key, 'POST', '/v1/banks', { name: `own-${randomBytes(4).toString('hex')}` })
  ).id;
  const value = randomBytes(32).toString('hex');
  const started = performance.now();
  await api(m.url, m.key, 'POST', `/v1/banks/${bank}/entries`, { signal_type: 'pdq', value });
  for (;;) {
    const answer = await api(m.url, m.key, 'POST', '/v1/match', { signals: [{ type: 'pdq', value }] });
    if (answer.matches.length > 0) return performance.now() - started;
    await new Promise((r) => setTimeout(r, 20));
  }
}

export async function run(args: string[]) {
  const memberCount = arg(args, 'members', 20);
  const uploads = arg(args, 'uploads', 10_000);
  const rate = arg(args, 'rate', 200);
  const dirs: string[] = [];
  const children: ChildProcess[] = [];
  const dir = () => {
    const d = join(mkdtempSync(join(tmpdir(), 'kaitiaki-crisis-bench-')), 'data');
    dirs.push(d);
    return d;
  };
  try {
    const hubDir = dir();
    const hubAdmin = init(hubDir);
    const hub = await startServer(['--data-dir', hubDir], {});
    children.push(hub.child);
    const org = await api(hub.url, hubAdmin, 'POST', '/v1/organisations', {
      name: 'Crisis secretariat',
      admin_key: { name: 'coordinator', role: 'admin' },
    });
    const coordinator = org;
    const key = coordinator.api_key.key as string;
    await api(hub.url, key, 'PUT', `/v1/crisis/participants/${coordinator.organisation.id}`, {
      groups: [],
      roles: ['tcap_team'],
      contacts: [],
      accepts_incident_banks: false,
    });
    const publicKey = (await api(hub.url, key, 'GET', '/v1/sharing/instance')).public_key;
    const members: { name: string; url: string; key: string }[] = [];
    for (let i = 0; i < memberCount; i++) {
      const onHub = await api(hub.url, hubAdmin, 'POST', '/v1/organisations', {
        name: `Platform ${i}`,
        admin_key: { name: 'link', role: 'admin' },
      });
      await api(hub.url, key, 'PUT', `/v1/crisis/participants/${onHub.organisation.id}`, {
        groups: ['members'],
        roles: ['platform'],
        contacts: [],
        accepts_incident_banks: true,
      });
      const memberDir = dir();
      const admin = init(memberDir);
      const server = await startServer(['--data-dir', memberDir], {
        KAITIAKI_SOURCE_ALLOWED_HOSTS: new URL(hub.url).host,
      });
      children.push(server.child);
      await api(server.url, admin, 'POST', '/v1/subscriptions', {
        name: 'CRISIS',
        kind: 'kaitiaki-crisis',
        interval_seconds: 1,
        config: { hub_url: hub.url, api_key: onHub.api_key.key, hub_public_key: publicKey },
      });
      await api(server.url, admin, 'PUT', '/v1/policies', {
        policies: [{ bank_id: null, label: 'crisis-active', action: 'block' }],
      });
      members.push({ name: `platform ${i}`, url: server.url, key: admin });
      process.stderr.write(`crisis bench: member ${i + 1}/${memberCount} up\n`);
    }
    const baseline: number[] = [];
    for (const m of members) baseline.push(await localPath(m));

    const scenario = parseScenario(
      {
        name: `bench: ${memberCount} members, ${uploads} uploads`,
        hub: { url: hub.url, key },
        protocol: 'tcap',
        type: 'TIER_2',
        members,
        media: {
          frames: [
            join(SHARED, 'pdq/images/bridge-mods/aaa-orig.jpg'),
            join(SHARED, 'pdq/images/misc-images/c.png'),
          ],
          clip: join(SHARED, 'vpdq/videos/chair-orig-22-sd-bar.mp4'),
          frame_variants: 10,
          clip_variants: 2,
        },
        uploads,
        rate_per_second: rate,
        concurrency: 32,
        hash_after_seconds: 2,
      },
      process.cwd(),
    );
    let last = '';
    const report = await runDrill(scenario, (p) => {
      const line = `${p.phase} ${p.done}/${p.total}`;
      if (line !== last && (p.done % 1000 === 0 || p.phase !== 'uploads'))
        process.stderr.write(`crisis bench: ${line}\n`);
      last = line;
    });
    const outOfReach = Object.values(report.reach).reduce((n, r) => n + r.out_of_reach, 0);
    const variants = Object.values(report.reach).reduce((n, r) => n + r.variants, 0);
    return {
      members: memberCount,
      uploads: report.uploads,
      blocked_after_hash_share: report.blocked_after_hash_share,
      blocked_target: 0.99,
      hash_to_member_p50_ms: report.hash_to_member_p50_ms,
      hash_to_member_p99_ms: report.hash_to_member_p99_ms,
      hash_to_member_target_ms: 1000,
      first_block_p50_ms: report.first_block_p50_ms,
      variants,
      variants_out_of_reach: outOfReach,
      reach: report.reach,
      blocked_by_variant: report.blocked_by_variant,
      uploads_per_second: Math.round(report.uploads_per_second),
      baseline: {
        what: "a member's own bank: from adding a hash to it matching there (no sharing), same run",
        p50_ms: Math.round(percentile(baseline, 50)),
        p99_ms: Math.round(percentile(baseline, 99)),
      },
      ratio_p99_to_local:
        report.hash_to_member_p99_ms === null
          ? null
          : report.hash_to_member_p99_ms / percentile(baseline, 99),
      per_member: report.members,
      load_average_at_end: loadavg().map((l) => Math.round(l * 100) / 100),
      machine: '2 cores; hub and members each `kaitiaki serve` with SQLite, all on this machine',
    };
  } finally {
    for (const child of children) child.kill('SIGTERM');
    await new Promise((r) => setTimeout(r, 500));
    for (const d of dirs) cleanup(d);
  }
}
