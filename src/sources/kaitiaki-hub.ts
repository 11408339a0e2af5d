/**
 * Another Kaitiaki instance as a source: a member follows one collection (a bank shared with its organisation on
 * the hub) through the hub's signed change pages (`GET <hub>/v1/sharing/banks/<id>/changes?after=<seq>`). The hub's
 * Ed25519 public key is pinned when the subscription is made (from the hub's operator, or read once from
 * `/v1/sharing/instance`). Every page's signature (over its cursor range and each record's digest) is checked
 * against it before anything is stored: a page whose signature fails is refused whole (the run fails, nothing is
 * stored, the checkpoint stays); a record whose digest is not the signed one (altered on the way) or of a
 * collection the page does not cover is quarantined and reported, never stored. The checkpoint is
 * the hub's sequence number: resumable after a restart or a day's outage, and a page that is cut short or
 * unreadable fails the run without moving it.
 */
import { createPublicKey } from 'node:crypto';
import { ValidationError } from '../core/errors.js';
import {
  batchSignatureHolds,
  parsePayload,
  recordMatchesItem,
  type BatchPayload,
} from '../sharing/contributions.js';
import { checkPage } from '../sharing/signing.js';
import { excerpt, sourceGet, SourceError, sourceUrl } from './fetch.js';
import type { SourceDeps, SourceKind, SourcePage, SourceRecord } from './source.js';

export interface HubConfig {
  hubUrl: string;
  collectionId: number;
  apiKey: string;
  /** The hub's Ed25519 public key (SPKI PEM), pinned at subscription time. */
  hubPublicKey: string;
}

export interface WireRecord {
  collection_id?: unknown;
  seq?: unknown;
  op?: unknown;
  entry_id?: unknown;
  signal_type?: unknown;
  value?: unknown;
  labels?: unknown;
  status?: unknown;
  contributor?: { name?: unknown } | null;
  created_at?: unknown;
  at?: unknown;
  contribution?: { batch?: unknown; item?: unknown } | null;
}

/**
 * The records of a hub page as source records, once the page's proof holds with the pinned key (else the page is
 * refused whole with a SourceError): each record the hub signed and of a collection the proof covers and this
 * subscription follows (`ours`), or quarantined with the reason.
 */
export function verifiedHubRecords(
  page: HubPage,
  after: number,
  hubPublicKey: string,
  ours: (collectionId: unknown) => boolean,
): SourceRecord[] {
  const batches = Array.isArray(page.batches) ? (page.batches as Record<string, unknown>[]) : [];
  const verdict = checkPage(
    {
      records: page.records as Record<string, unknown>[],
      batches,
      next_after: page.next_after,
      more: page.more === true,
      proof: page.proof,
    },
    after,
    hubPublicKey,
  );
  if (typeof verdict === 'string') throw new SourceError(verdict, 'KAI_ERR_SOURCE_BAD_SIGNATURE');
  const signedBatches = contributorBatches(batches);
  return page.records.map((wire, i) =>
    hubRecord(
      wire,
      verdict.genuine[i],
      (id) => verdict.collections.has(id as number) && ours(id),
      signedBatches,
    ),
  );
}

/** The page's contribution batches whose member signature holds, by id (a batch that fails is left out). */
function contributorBatches(batches: Record<string, unknown>[]): Map<unknown, BatchPayload> {
  const out = new Map<unknown, BatchPayload>();
  for (const b of batches) {
    if (typeof b.payload !== 'string' || typeof b.signature !== 'string' || typeof b.public_key !== 'string')
      continue;
    if (!batchSignatureHolds(b.payload, b.signature, b.public_key)) continue;
    try {
      const payload = parsePayload(b.payload);
      if (payload.instance_id === b.instance_id) out.set(b.id, payload);
    } catch {
      // an unreadable payload vouches for nothing
    }
  }
  return out;
}

/**
 * One record of a verified page as a source record, or quarantined with the reason. A record contributed from a
 * member instance must also be the item that instance signed.
 */
function hubRecord(
  wire: WireRecord,
  genuine: boolean,
  ours: (collectionId: unknown) => boolean,
  batches: Map<unknown, BatchPayload>,
): SourceRecord {
  const where = `seq ${String(wire.seq)}`;
  const raw = (): string => JSON.stringify(wire);
  if (wire.contribution !== undefined && wire.contribution !== null) {
    const payload = batches.get(wire.contribution.batch);
    const item = wire.contribution.item;
    if (!payload || typeof item !== 'number' || !recordMatchesItem(wire, payload, item))
      return {
        op: 'unreadable',
        reason: "the contributing instance's signature does not hold for this record: forged or altered",
        raw: raw(),
        where,
      };
  }
  if (!genuine)
    return {
      op: 'unreadable',
      reason:
        'the record is not the one the hub signed (its digest differs from the page signature): forged or altered',
      raw: raw(),
      where,
    };
  if (!ours(wire.collection_id))
    return {
      op: 'unreadable',
      reason: `a record of collection ${String(wire.collection_id)}, not ours`,
      raw: raw(),
      where,
    };
  if (typeof wire.signal_type !== 'string' || typeof wire.value !== 'string')
    return { op: 'unreadable', reason: 'a record without signal_type and value', raw: raw(), where };
  const externalId = `hub:${String(wire.entry_id)}`;
  // Only an active signal is acted on; disabled, disputed or retired on the hub means gone here.
  if (wire.op === 'retract' || (wire.op === 'upsert' && wire.status !== 'active'))
    return {
      op: 'delete',
      signalType: wire.signal_type,
      value: wire.value,
      externalId,
      get raw() {
        return raw(); // only a record that turns out bad is kept as received
      },
      where,
    };
  if (wire.op !== 'upsert')
    return { op: 'unreadable', reason: `unknown op ${JSON.stringify(wire.op)}`, raw: raw(), where };
  const contributor = typeof wire.contributor?.name === 'string' ? wire.contributor.name : null;
  return {
    op: 'upsert',
    signalType: wire.signal_type,
    value: wire.value,
    labels: Array.isArray(wire.labels) ? wire.labels.filter((l): l is string => typeof l === 'string') : [],
    externalId,
    note: contributor ? `contributed by ${contributor}` : null,
    createdAt: typeof wire.created_at === 'string' ? wire.created_at : null,
    updatedAt: typeof wire.at === 'string' ? wire.at : null,
    get raw() {
      return raw();
    },
    where,
  };
}

export const kaitiakiHubSource: SourceKind<HubConfig> = {
  name: 'kaitiaki',
  description:
    'a collection on another Kaitiaki instance (a hub): signed change pages, verified with the pinned hub key',
  defaultIntervalSeconds: 1,
  minIntervalSeconds: 1,
  configFields: [
    { name: 'hub_url', type: 'string', required: true, description: "the hub's base URL" },
    { name: 'collection_id', type: 'number', required: true, description: 'the shared bank on the hub' },
    {
      name: 'api_key',
      type: 'string',
      required: true,
      secret: true,
      description: "your organisation's key on the hub",
    },
    {
      name: 'hub_public_key',
      type: 'string',
      required: true,
      description: "the hub's Ed25519 public key (PEM), from its operator or GET /v1/sharing/instance",
    },
  ],
  parseConfig(raw: unknown): HubConfig {
    if (typeof raw !== 'object' || raw === null || Array.isArray(raw))
      throw new ValidationError(
        'a kaitiaki configuration is an object {hub_url, collection_id, api_key, hub_public_key}',
      );
    const c = raw as Record<string, unknown>;
    const unknown = Object.keys(c).filter(
      (k) => !['hub_url', 'collection_id', 'api_key', 'hub_public_key'].includes(k),
    );
    if (unknown.length) throw new ValidationError(`unknown kaitiaki setting(s) ${unknown.join(', ')}`);
    const connection = parseHubConnection(c);
    if (!Number.isSafeInteger(c.collection_id) || (c.collection_id as number) < 1)
      throw new ValidationError('collection_id is the id of the shared bank on the hub (a positive integer)');
    return { ...connection, collectionId: c.collection_id as number };
  },
  redact: (config) => ({ hub_url: config.hubUrl, collection_id: config.collectionId, api_key: '(set)' }),
  create(config, deps) {
    return {
      async fetchPage(checkpoint: string | null): Promise<SourcePage> {
        const after = checkpoint === null ? 0 : Number(checkpoint);
        if (!Number.isSafeInteger(after) || after < 0)
          throw new SourceError(`the checkpoint ${JSON.stringify(checkpoint)} is not a hub sequence number`);
        // A long poll: the hub answers as soon as a change commits, or after a short wait without one.
        const url = new URL(`v1/sharing/banks/${config.collectionId}/changes`, config.hubUrl);
        url.searchParams.set('wait_ms', String(HUB_LONG_POLL_MS));
        const page = await fetchHubPage(url, after, config.apiKey, deps, 'this collection');
        return {
          records: verifiedHubRecords(page, after, config.hubPublicKey, (id) => id === config.collectionId),
          checkpoint: String(page.next_after),
          hasMore: page.more === true,
          again: true,
          combinable: true,
        };
      },
    };
  },
};

/** How long a member's request waits on the hub for a change; a member closing waits at most this long for it. */
export const HUB_LONG_POLL_MS = 2000;

export interface HubPage {
  records: WireRecord[];
  next_after: number;
  more?: unknown;
  [field: string]: unknown;
}

/** GETs one page of a hub's signed changes after `after`; a refusal, a cut page or a backward cursor throws. */
export async function fetchHubPage(
  url: URL,
  after: number,
  apiKey: string,
  deps: SourceDeps,
  what: string,
): Promise<HubPage> {
  url.searchParams.set('after', String(after));
  const response = await sourceGet(
    url.toString(),
    { authorization: `Bearer ${apiKey}`, accept: 'application/json' },
    deps,
  );
  if (response.status === 401 || response.status === 403 || response.status === 404)
    throw new SourceError(
      `the hub refused ${what} (HTTP ${response.status}): a key of another organisation, or a share you left?`,
      'KAI_ERR_SOURCE_AUTH',
    );
  if (response.status !== 200)
    throw new SourceError(`the hub answered HTTP ${response.status}: ${excerpt(response.body)}`);
  let page: { records?: unknown; next_after?: unknown; more?: unknown };
  try {
    page = JSON.parse(response.body.toString('utf8')) as typeof page;
  } catch {
    throw new SourceError(
      `the hub answered a page that is not JSON (cut short?): ${excerpt(response.body)}`,
      'KAI_ERR_SOURCE_BAD_PAGE',
    );
  }
  if (
    !Array.isArray(page.records) ||
    !Number.isSafeInteger(page.next_after) ||
    (page.next_after as number) < after
  )
    throw new SourceError(
      'the hub answered a page without records and a forward cursor',
      'KAI_ERR_SOURCE_BAD_PAGE',
    );
  return page as HubPage;
}

/** Where the hub is, the organisation's key there, and the hub's pinned public key: checked, with clear errors. */
export function parseHubConnection(c: Record<string, unknown>): Omit<HubConfig, 'collectionId'> {
  let hubUrl = sourceUrl(c.hub_url, 'hub_url');
  if (!hubUrl.endsWith('/')) hubUrl += '/';
  if (typeof c.api_key !== 'string' || !/^[\x21-\x7e]{8,400}$/.test(c.api_key))
    throw new ValidationError('api_key is your organisation’s API key on the hub');
  try {
    if (typeof c.hub_public_key !== 'string') throw new Error('missing');
    const key = createPublicKey(c.hub_public_key);
    if (key.asymmetricKeyType !== 'ed25519') throw new Error(`a ${key.asymmetricKeyType} key`);
  } catch (err) {
    throw new ValidationError(
      `hub_public_key must be the hub's Ed25519 public key in PEM (${(err as Error).message})`,
    );
  }
  return { hubUrl, apiKey: c.api_key, hubPublicKey: c.hub_public_key as string };
}
