/**
 * The hub side of hash sharing: a bank shared with an organisation is a collection it can follow. Its changes
 * come as pages after a cursor (the store's monotonic change sequence; resumable, bounded), each page signed by
 * this instance over every record's digest, retractions as tombstones; `follow` keeps yielding pages as new changes commit (the push
 * stream). An organisation sees only banks it owns or whose share it accepted.
 */
import { ConflictError } from '../core/errors.js';
import type { BankService } from '../store/banks.js';
import type { Db } from '../store/database.js';
import { ContributionStore, type BatchItemLink } from '../store/contributions.js';
import { EntryService } from '../store/entries.js';
import type { OrganisationService } from '../store/organisations.js';
import { SharingFeedStore, type FeedRecord, type InstanceIdentity } from '../store/sharing-feed.js';
import { signPage, type PageProof } from './signing.js';

/** Records per page at most: a page is one transaction at the member, so larger pages mean fewer commits. */
export const MAX_PAGE = 5000;

export interface SharedRecord extends Record<string, unknown> {
  collection_id: number;
  seq: number;
  op: 'upsert' | 'retract';
  signal_type: string;
  value: string;
  contribution?: { batch: number; item: number };
}

export interface FeedPage {
  collection: { id: number; name: string; owner_organisation_id: number };
  instance: { id: string; public_key: string };
  records: SharedRecord[];
  /** The cursor for the next page; `more` says whether it is already there. */
  next_after: number;
  more: boolean;
  /** The contribution batches the records name (`contribution.batch`): each as its member instance signed it. */
  batches: SharedBatch[];
  /** The hub's signature over the cursor range, the collections and every record's digest (see signing.ts). */
  proof: PageProof;
}

/** A contribution batch as a page carries it: the contributor's signed payload, signature and registered key. */
export interface SharedBatch extends Record<string, unknown> {
  id: number;
  organisation_id: number;
  instance_id: string;
  public_key: string;
  payload: string;
  signature: string;
}

export class SharingFeed {
  private identityCache: Promise<InstanceIdentity> | null = null;
  private readonly store: SharingFeedStore;

  constructor(
    private readonly db: Db,
    private readonly banks: BankService,
    private readonly organisations: OrganisationService,
  ) {
    this.store = new SharingFeedStore(db);
  }

  identity(): Promise<InstanceIdentity> {
    this.identityCache ??= this.store.identity().catch((err: unknown) => {
      this.identityCache = null;
      throw err;
    });
    return this.identityCache;
  }

  /** One page of a collection's changes after `after` (at most `limit`, up to MAX_PAGE). */
  async page(orgId: number, bankId: number, after: number, limit = MAX_PAGE): Promise<FeedPage> {
    const bank = await this.banks.getVisible(orgId, bankId);
    return {
      collection: { id: bank.id, name: bank.name, owner_organisation_id: bank.orgId },
      ...(await this.changes([bankId], after, limit)),
    };
  }

  /**
   * Signed changes of several banks after `after` (one cursor: the change sequence is shared by every bank). The
   * caller has checked the banks are visible to whoever asks.
   */
  async changes(
    bankIds: readonly number[],
    after: number,
    limit = MAX_PAGE,
  ): Promise<Omit<FeedPage, 'collection'>> {
    // Every change up to the head has committed (sequence order is commit order), so a page read after it misses none.
    const head = await new EntryService(this.db).currentSeq();
    if (after > head)
      throw new ConflictError(
        `cursor ${after} is ahead of this hub (its head is ${head}): was the hub restored from a backup? Start again from 0`,
        'KAI_ERR_CURSOR_AHEAD',
      );
    const size = Math.max(1, Math.min(MAX_PAGE, limit));
    const records = await this.store.changes(bankIds, after, size);
    const identity = await this.identity();
    const names = new Map<number, string>();
    const contributions = new ContributionStore(this.db);
    const proofs = await contributions.proofsOf(records.map((r) => r.entryId));
    const shared: SharedRecord[] = [];
    for (const record of records) {
      const proof = proofs.get(record.entryId)?.[record.op === 'upsert' ? 'add' : 'retract'];
      shared.push(await this.toShared(record, names, proof));
    }
    const batchIds = [...new Set(shared.flatMap((r) => (r.contribution ? [r.contribution.batch] : [])))];
    const batches: SharedBatch[] = (await contributions.batches(batchIds))
      .sort((a, b) => a.id - b.id)
      .map((b) => ({
        id: b.id,
        organisation_id: b.orgId,
        instance_id: b.instanceId,
        public_key: b.publicKey,
        payload: b.payload,
        signature: b.signature,
      }));
    const more = records.length === size;
    const last = records.at(-1)?.seq ?? after;
    const nextAfter = more ? last : Math.max(last, head);
    return {
      instance: { id: identity.id, public_key: identity.publicKey },
      records: shared,
      batches,
      next_after: nextAfter,
      more,
      proof: signPage(
        shared,
        batches,
        { instance_id: identity.id, after, next_after: nextAfter, more, collections: [...bankIds] },
        identity.privateKey,
      ),
    };
  }

  private async toShared(
    record: FeedRecord,
    names: Map<number, string>,
    proof: BatchItemLink | undefined,
  ): Promise<SharedRecord> {
    let contributor: { id: number; name: string } | undefined;
    if (record.contributorOrgId !== undefined) {
      if (!names.has(record.contributorOrgId))
        names.set(record.contributorOrgId, (await this.organisations.get(record.contributorOrgId)).name);
      contributor = { id: record.contributorOrgId, name: names.get(record.contributorOrgId)! };
    }
    const body = {
      collection_id: record.bankId,
      seq: record.seq,
      op: record.op,
      entry_id: record.entryId,
      signal_type: record.signalType,
      value: record.value,
      ...(record.op === 'upsert'
        ? { labels: record.labels, status: record.status, contributor, created_at: record.createdAt }
        : {}),
      at: record.at,
      // The hub instance is named once, in the page proof. Contributed from a member instance: which signed batch
      // item says so (the page carries the batch).
      ...(proof ? { contribution: { batch: proof.batchId, item: proof.item } } : {}),
    };
    return body as SharedRecord;
  }

  /**
   * The push stream: pages after `after`, then each new change as soon as `wake` says something committed here
   * (or within `pollMs` for changes another process made), until `signal` aborts.
   */
  async *follow(
    orgId: number,
    bankId: number,
    after: number,
    wake: (signal: AbortSignal) => Promise<void>,
    signal: AbortSignal,
    pollMs = 500,
  ): AsyncGenerator<FeedPage> {
    let cursor = after;
    while (!signal.aborted) {
      const page = await this.page(orgId, bankId, cursor);
      if (page.records.length > 0) yield page;
      cursor = page.next_after;
      if (page.more) continue;
      await Promise.race([wake(signal), new Promise((resolve) => setTimeout(resolve, pollMs).unref())]);
    }
  }
}

/**
 * A long poll over a feed: reads a page, and with nothing in it waits up to `waitMs` for a commit and reads again
 * (commits of another process of a cluster are seen within a quarter of a second). Members learn of a change as
 * soon as it commits instead of at their next poll.
 */
export async function waitForRecords<P extends { records: unknown[] }>(
  read: () => Promise<P>,
  nextCommit: (signal: AbortSignal) => Promise<void>,
  waitMs: number,
): Promise<P> {
  const deadline = Date.now() + waitMs;
  for (;;) {
    const page = await read();
    const left = deadline - Date.now();
    if (page.records.length > 0 || left <= 0) return page;
    const stop = new AbortController();
    await Promise.race([nextCommit(stop.signal), new Promise((r) => setTimeout(r, Math.min(250, left)))]);
    stop.abort();
  }
}
