/**
 * A crisis drill: an incident flagged as an exercise (never mixed into real numbers) run end to end against real
 * instances. The coordinator's hub opens the exercise incident and activates it with the protocol's deciders;
 * synthetic uploads of perturbed variants of a clip and its frames go to the member instances at a set rate; a
 * few seconds in, the coordinator banks the hashes, and the drill watches each member for the moment the hash
 * lands there (it matches) and for its first block. Reported per member: the share of in-reach variants blocked at
 * upload after the hash landed, time to land and to first block, and how many variants no hash could catch.
 */
import { readFile } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import { ValidationError } from '../core/errors.js';
import { percentileOf } from '../core/stats.js';
import { TRANSFORM_NAMES, type TransformName } from '../media/variants.js';
import { buildCorpus, reachSummary, type DrillCorpus, type DrillVariant } from './drill-corpus.js';

export interface Endpoint {
  url: string;
  key: string;
}

export interface DrillScenario {
  name: string;
  hub: Endpoint;
  /** Further keys on the hub that record activation decisions (protocols that need several deciders). */
  deciders: string[];
  protocol: string;
  type: string;
  members: (Endpoint & { name: string })[];
  media: {
    frames: string[];
    clip: string | null;
    frame_variants: number;
    clip_variants: number;
    transforms: TransformName[];
    bank_flips: boolean;
  };
  uploads: number;
  rate_per_second: number;
  concurrency: number;
  hash_after_seconds: number;
  seed: number;
}

export interface MemberResult {
  name: string;
  uploads: number;
  /** Uploads of in-reach variants sent after the hash matched at this member, and how many were blocked. */
  reachable_after_landing: number;
  blocked_after_landing: number;
  blocked_share: number | null;
  out_of_reach_after_landing: number;
  /** From the coordinator banking the hash: when it matched at this member, and its first blocked upload. */
  landing_ms: number | null;
  first_block_ms: number | null;
  errors: number;
}

export interface DrillReport {
  scenario: string;
  incident_id: number;
  exercise: true;
  members: MemberResult[];
  uploads: number;
  reach: ReturnType<typeof reachSummary>;
  /** Per media and transform: in-reach uploads after the hash landed, and how many were blocked. */
  blocked_by_variant: Record<string, { in_reach_after_landing: number; blocked: number }>;
  blocked_after_hash_share: number | null;
  hash_to_member_p50_ms: number | null;
  hash_to_member_p99_ms: number | null;
  first_block_p50_ms: number | null;
  uploads_per_second: number;
}

const KEYS = [
  'name',
  'hub',
  'deciders',
  'protocol',
  'type',
  'members',
  'media',
  'uploads',
  'rate_per_second',
  'concurrency',
  'hash_after_seconds',
  'seed',
];

function endpoint(raw: unknown, where: string): Endpoint {
  const e = raw as Partial<Endpoint> | null;
  if (!e || typeof e.url !== 'string' || !/^https?:\/\//.test(e.url) || typeof e.key !== 'string' || !e.key)
    throw new ValidationError(`${where} needs a url (http or https) and a key`, 'KAI_ERR_DRILL_SCENARIO');
  return { url: e.url.replace(/\/+$/, ''), key: e.key };
}

function count(raw: unknown, field: string, fallback: number, max: number): number {
  const n = raw === undefined ? fallback : raw;
  if (typeof n !== 'number' || !Number.isFinite(n) || n < 0 || n > max)
    throw new ValidationError(`${field} must be a number from 0 to ${max}`, 'KAI_ERR_DRILL_SCENARIO');
  return n;
}

/** Reads and checks a scenario file; media paths are relative to the file. */
export async function readScenario(path: string): Promise<DrillScenario> {
  let raw: Record<string, unknown>;
  try {
    raw = JSON.parse(await readFile(path, 'utf8')) as Record<string, unknown>;
  } catch (err) {
    throw new ValidationError(
      `the scenario ${path} is not readable JSON: ${(err as Error).message}`,
      'KAI_ERR_DRILL_SCENARIO',
    );
  }
  return parseScenario(raw, dirname(resolve(path)));
}

export function parseScenario(raw: Record<string, unknown>, baseDir: string): DrillScenario {
  const unknown = Object.keys(raw).filter((k) => !KEYS.includes(k));
  if (unknown.length)
    throw new ValidationError(`unknown scenario field(s): ${unknown.join(', ')}`, 'KAI_ERR_DRILL_SCENARIO');
  const media = (raw.media ?? {}) as Record<string, unknown>;
  const frames = Array.isArray(media.frames) ? media.frames : [];
  if (frames.length === 0 && typeof media.clip !== 'string')
    throw new ValidationError(
      'media needs frames (image paths) or a clip (a video path)',
      'KAI_ERR_DRILL_SCENARIO',
    );
  const transforms = (media.transforms ?? TRANSFORM_NAMES) as string[];
  const badTransform = transforms.find((t) => !(TRANSFORM_NAMES as readonly string[]).includes(t));
  if (badTransform)
    throw new ValidationError(
      `unknown transform "${badTransform}"; known: ${TRANSFORM_NAMES.join(', ')}`,
      'KAI_ERR_DRILL_SCENARIO',
    );
  const members = Array.isArray(raw.members) ? raw.members : [];
  if (members.length === 0)
    throw new ValidationError('a drill needs at least one member', 'KAI_ERR_DRILL_SCENARIO');
  if (typeof raw.protocol !== 'string' || typeof raw.type !== 'string')
    throw new ValidationError(
      'protocol and type name the activation the drill exercises',
      'KAI_ERR_DRILL_SCENARIO',
    );
  return {
    name: typeof raw.name === 'string' ? raw.name : 'drill',
    hub: endpoint(raw.hub, 'hub'),
    deciders: Array.isArray(raw.deciders) ? raw.deciders.map(String) : [],
    protocol: raw.protocol,
    type: raw.type,
    members: members.map((m, i) => ({
      name:
        typeof (m as { name?: unknown }).name === 'string' ? (m as { name: string }).name : `member ${i + 1}`,
      ...endpoint(m, `members[${i}]`),
    })),
    media: {
      frames: frames.map((f) => resolve(baseDir, String(f))),
      clip: typeof media.clip === 'string' ? resolve(baseDir, media.clip) : null,
      frame_variants: count(media.frame_variants, 'media.frame_variants', 10, 1000),
      clip_variants: count(media.clip_variants, 'media.clip_variants', 1, 100),
      transforms: transforms as TransformName[],
      bank_flips: media.bank_flips === true,
    },
    uploads: count(raw.uploads, 'uploads', 1000, 10_000_000),
    rate_per_second: count(raw.rate_per_second, 'rate_per_second', 100, 100_000),
    concurrency: Math.max(1, count(raw.concurrency, 'concurrency', 16, 1024)),
    hash_after_seconds: count(raw.hash_after_seconds, 'hash_after_seconds', 2, 3600),
    seed: count(raw.seed, 'seed', 1, 2 ** 31),
  };
}

async function call<T>(to: Endpoint, method: string, path: string, body?: unknown): Promise<T> {
  const response = await fetch(`${to.url}${path}`, {
    method,
    headers: {
      authorization: `Bearer ${to.key}`,
      ...(body === undefined ? {} : { 'content-type': 'application/json' }),
    },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  const text = await response.text();
  if (!response.ok)
    throw new ValidationError(
      `${method} ${to.url}${path} answered ${response.status}: ${text.slice(0, 300)}`,
      'KAI_ERR_DRILL_CALL',
    );
  return (text ? JSON.parse(text) : null) as T;
}

export interface DrillProgress {
  phase: 'variants' | 'activation' | 'uploads' | 'done';
  done: number;
  total: number;
}

/** Opens the exercise incident at the hub and activates it; returns its id and incident bank. */
async function activateExercise(s: DrillScenario): Promise<{ incident: number; bank: number }> {
  const created = await call<{ id: number; activations: { id: number }[] }>(
    s.hub,
    'POST',
    '/v1/crisis/incidents',
    {
      title: `Drill: ${s.name}`,
      summary: 'Exercise: synthetic uploads of perturbed variants; never part of real numbers.',
      exercise: true,
      protocols: [s.protocol],
    },
  );
  const activation = created.activations[0].id;
  const protocols = await call<{
    items: { key: string; definition: { types: { key: string; criteria: { key: string }[] }[] } }[];
  }>(s.hub, 'GET', '/v1/crisis/protocols');
  const type = protocols.items
    .find((p) => p.key === s.protocol)
    ?.definition.types.find((t) => t.key === s.type);
  if (!type)
    throw new ValidationError(`protocol ${s.protocol} has no type ${s.type}`, 'KAI_ERR_DRILL_SCENARIO');
  const path = `/v1/crisis/activations/${activation}`;
  await call(s.hub, 'POST', `${path}/transitions`, {
    to: 'assessing',
    reason: 'Drill inject: reports of attack content',
  });
  for (const c of type.criteria)
    await call(s.hub, 'POST', `${path}/criteria`, {
      criterion: c.key,
      met: true,
      evidence: ['drill inject'],
    });
  const decision = {
    type: s.type,
    rationale: 'Exercise activation.',
    human_rights: {
      necessity: 'Exercise: tests the response, no real content.',
      proportionality: 'Synthetic uploads only.',
      scope: 'Drill variants of the scenario media.',
      bystander_content: false,
    },
  };
  for (const key of [s.hub.key, ...s.deciders])
    await call({ url: s.hub.url, key }, 'POST', `${path}/decisions`, decision);
  const active = await call<{ bank_id: number | null }>(s.hub, 'POST', `${path}/transitions`, {
    to: 'active',
    reason: 'Drill activation',
    type: s.type,
  });
  if (active.bank_id === null)
    throw new ValidationError(
      `${s.protocol} ${s.type} does not share hashes: a drill needs an incident bank`,
      'KAI_ERR_DRILL_SCENARIO',
    );
  return { incident: created.id, bank: active.bank_id };
}

interface Upload {
  member: number;
  variant: DrillVariant;
  sentAt: number;
  blocked: boolean;
  failed: boolean;
}

export async function runDrill(
  s: DrillScenario,
  onProgress: (p: DrillProgress) => void = () => undefined,
  prepared?: DrillCorpus,
): Promise<DrillReport> {
  const corpus =
    prepared ??
    (await buildCorpus({
      frames: s.media.frames,
      clip: s.media.clip,
      transforms: s.media.transforms,
      frameVariants: s.media.frame_variants,
      clipVariants: s.media.clip_variants,
      bankFlips: s.media.bank_flips,
      seed: s.seed,
      onProgress: (done, total) => onProgress({ phase: 'variants', done, total }),
    }));
  if (corpus.variants.length === 0)
    throw new ValidationError('no variant of the media could be hashed', 'KAI_ERR_DRILL_SCENARIO');
  onProgress({ phase: 'activation', done: 0, total: 1 });
  const { incident, bank } = await activateExercise(s);

  const uploads: Upload[] = [];
  const landedAt: (number | null)[] = s.members.map(() => null);
  let bankedAt: number | null = null;
  const t0 = Date.now();

  // The coordinator banks the hashes a few seconds in; the drill then watches each member for the hash landing.
  const banking = (async () => {
    await new Promise((r) => setTimeout(r, s.hash_after_seconds * 1000));
    // Times run from the first hash accepted at the hub; each member is watched for it from then on, while the
    // coordinator banks the rest.
    const add = (signal: (typeof corpus.banked)[number]) =>
      call(s.hub, 'POST', `/v1/banks/${bank}/entries`, {
        signal_type: signal.type,
        value: signal.value,
        labels: ['drill'],
      });
    const [probe, ...rest] = corpus.banked;
    await add(probe);
    const accepted = Date.now();
    bankedAt = accepted;
    const watching = s.members.map(async (m, i) => {
      for (;;) {
        const answer = await call<{ matches: unknown[] }>(m, 'POST', '/v1/match', { signals: [probe] });
        if (answer.matches.length > 0) return void (landedAt[i] = Date.now());
        if (Date.now() - accepted > 120_000) return;
        await new Promise((r) => setTimeout(r, 20));
      }
    });
    for (const signal of rest) await add(signal);
    await Promise.all(watching);
  })();

  let next = 0;
  const worker = async () => {
    for (;;) {
      const i = next++;
      if (i >= s.uploads) return;
      const due = t0 + (i * 1000) / s.rate_per_second;
      const wait = due - Date.now();
      if (wait > 0) await new Promise((r) => setTimeout(r, wait));
      const member = i % s.members.length;
      // Spread variants over members and time: a prime stride visits every variant before repeating.
      const variant = corpus.variants[(i * 7919) % corpus.variants.length];
      const sentAt = Date.now();
      try {
        const answer = await call<{ policy_action: string | null }>(
          s.members[member],
          'POST',
          '/v1/submissions',
          {
            external_id: `drill-${incident}-${i}`,
            signals: [variant.signal],
            content_type: variant.media === 'clip' ? 'video' : 'photo',
            context: { surface: 'kaitiaki-drill' },
          },
        );
        uploads.push({ member, variant, sentAt, blocked: answer.policy_action === 'block', failed: false });
      } catch {
        uploads.push({ member, variant, sentAt, blocked: false, failed: true });
      }
      if (uploads.length % 100 === 0)
        onProgress({ phase: 'uploads', done: uploads.length, total: s.uploads });
    }
  };
  await Promise.all(Array.from({ length: s.concurrency }, worker));
  const seconds = (Date.now() - t0) / 1000;
  await banking;
  onProgress({ phase: 'uploads', done: uploads.length, total: s.uploads });

  const members = s.members.map((m, i) =>
    memberResult(
      m.name,
      uploads.filter((u) => u.member === i),
      landedAt[i],
      bankedAt,
    ),
  );
  const reachable = members.reduce((n, m) => n + m.reachable_after_landing, 0);
  const blocked = members.reduce((n, m) => n + m.blocked_after_landing, 0);
  const landing = members.map((m) => m.landing_ms).filter((v): v is number => v !== null);
  const report: DrillReport = {
    scenario: s.name,
    incident_id: incident,
    exercise: true,
    members,
    uploads: uploads.length,
    reach: reachSummary(corpus),
    blocked_by_variant: blockedByVariant(uploads, landedAt),
    blocked_after_hash_share: reachable ? blocked / reachable : null,
    hash_to_member_p50_ms: percentileOf(landing, 50),
    hash_to_member_p99_ms: percentileOf(landing, 99),
    first_block_p50_ms: percentileOf(
      members.map((m) => m.first_block_ms).filter((v): v is number => v !== null),
      50,
    ),
    uploads_per_second: uploads.length / seconds,
  };
  await closeExercise(s, incident, report);
  onProgress({ phase: 'done', done: 1, total: 1 });
  return report;
}

function blockedByVariant(uploads: Upload[], landedAt: (number | null)[]): DrillReport['blocked_by_variant'] {
  const out: DrillReport['blocked_by_variant'] = {};
  for (const u of uploads) {
    const landed = landedAt[u.member];
    if (landed === null || u.sentAt < landed || u.failed || !u.variant.reachable) continue;
    const key = `${u.variant.media}:${u.variant.transform}`;
    out[key] ??= { in_reach_after_landing: 0, blocked: 0 };
    out[key].in_reach_after_landing += 1;
    if (u.blocked) out[key].blocked += 1;
  }
  return out;
}

function memberResult(
  name: string,
  uploads: Upload[],
  landedAt: number | null,
  bankedAt: number | null,
): MemberResult {
  const after = landedAt === null ? [] : uploads.filter((u) => u.sentAt >= landedAt && !u.failed);
  const inReach = after.filter((u) => u.variant.reachable);
  const blocked = inReach.filter((u) => u.blocked).length;
  const firstBlock = uploads
    .filter((u) => u.blocked)
    .map((u) => u.sentAt)
    .sort((a, b) => a - b)[0];
  return {
    name,
    uploads: uploads.length,
    reachable_after_landing: inReach.length,
    blocked_after_landing: blocked,
    blocked_share: inReach.length ? blocked / inReach.length : null,
    out_of_reach_after_landing: after.length - inReach.length,
    landing_ms: landedAt !== null && bankedAt !== null ? landedAt - bankedAt : null,
    first_block_ms: firstBlock !== undefined && bankedAt !== null ? Math.max(0, firstBlock - bankedAt) : null,
    errors: uploads.filter((u) => u.failed).length,
  };
}

/** Posts the results as a situational update and concludes the exercise. */
async function closeExercise(s: DrillScenario, incident: number, report: DrillReport): Promise<void> {
  const share = report.blocked_after_hash_share;
  await call(s.hub, 'POST', `/v1/crisis/incidents/${incident}/updates`, {
    text:
      `Drill results: ${report.uploads} uploads to ${report.members.length} members; ` +
      `${share === null ? 'no in-reach upload after landing' : `${(share * 100).toFixed(2)}% of in-reach variants blocked after the hash landed`}; ` +
      `hash to member p99 ${report.hash_to_member_p99_ms ?? '-'} ms; first block p50 ${report.first_block_p50_ms ?? '-'} ms.`,
  });
  const incidentView = await call<{ activations: { id: number }[] }>(
    s.hub,
    'GET',
    `/v1/crisis/incidents/${incident}`,
  );
  await call(s.hub, 'POST', `/v1/crisis/activations/${incidentView.activations[0].id}/transitions`, {
    to: 'concluded',
    reason: 'Drill finished',
    basis: 'other',
    basis_text: 'Exercise completed',
  });
}
