/** The store side of signed contributions: member instance keys, batches as signed, and what each item did. */
import type { Selectable } from 'kysely';
import { nowIso, type Db } from './database.js';
import type { ContributionBatchesTable, ContributionItemsTable } from './schema.js';

export interface MemberInstance {
  orgId: number;
  instanceId: string;
  publicKey: string;
  joinedAt: string;
  updatedAt: string;
}

export interface StoredBatch {
  id: number;
  bankId: number;
  orgId: number;
  instanceId: string;
  batchKey: string;
  payload: string;
  signature: string;
  publicKey: string;
  signedAt: string;
  receivedAt: string;
}

export interface BatchItemLink {
  batchId: number;
  item: number;
  entryId: number;
  op: 'add' | 'retract';
  outcome: 'added' | 'present' | 'retracted';
}

export class ContributionStore {
  constructor(private readonly db: Db) {}

  async instance(orgId: number, instanceId: string): Promise<MemberInstance | null> {
    const row = await this.db
      .selectFrom('sharing_member_instances')
      .selectAll()
      .where('org_id', '=', orgId)
      .where('instance_id', '=', instanceId)
      .executeTakeFirst();
    return row
      ? {
          orgId: row.org_id,
          instanceId: row.instance_id,
          publicKey: row.public_key,
          joinedAt: row.joined_at,
          updatedAt: row.updated_at,
        }
      : null;
  }

  async instancesOf(orgId: number): Promise<MemberInstance[]> {
    const rows = await this.db
      .selectFrom('sharing_member_instances')
      .selectAll()
      .where('org_id', '=', orgId)
      .orderBy('joined_at')
      .execute();
    return rows.map((row) => ({
      orgId: row.org_id,
      instanceId: row.instance_id,
      publicKey: row.public_key,
      joinedAt: row.joined_at,
      updatedAt: row.updated_at,
    }));
  }

  /** Registers (or replaces: a key rotation) an instance's key for the organisation. */
  async saveInstance(orgId: number, instanceId: string, publicKey: string, by: string): Promise<void> {
    const now = nowIso();
    await this.db
      .insertInto('sharing_member_instances')
      .values({
        org_id: orgId,
        instance_id: instanceId,
        public_key: publicKey,
        joined_by: by,
        joined_at: now,
        updated_at: now,
      })
      .onConflict((oc) =>
        oc.columns(['org_id', 'instance_id']).doUpdateSet({ public_key: publicKey, updated_at: now }),
      )
      .execute();
  }

  async batchByKey(batchKey: string): Promise<StoredBatch | null> {
    const row = await this.db
      .selectFrom('contribution_batches')
      .selectAll()
      .where('batch_key', '=', batchKey)
      .executeTakeFirst();
    return row ? toBatch(row) : null;
  }

  async insertBatch(batch: Omit<StoredBatch, 'id' | 'receivedAt'>): Promise<StoredBatch> {
    const row = await this.db
      .insertInto('contribution_batches')
      .values({
        bank_id: batch.bankId,
        org_id: batch.orgId,
        instance_id: batch.instanceId,
        batch_key: batch.batchKey,
        payload: batch.payload,
        signature: batch.signature,
        public_key: batch.publicKey,
        signed_at: batch.signedAt,
        received_at: nowIso(),
      })
      .returningAll()
      .executeTakeFirstOrThrow();
    return toBatch(row);
  }

  async linkItems(bankId: number, links: BatchItemLink[]): Promise<void> {
    for (let start = 0; start < links.length; start += 500)
      await this.db
        .insertInto('contribution_items')
        .values(
          links.slice(start, start + 500).map((l) => ({
            batch_id: l.batchId,
            item: l.item,
            bank_id: bankId,
            entry_id: l.entryId,
            op: l.op,
            outcome: l.outcome,
          })),
        )
        .execute();
  }

  async itemsOfBatch(batchId: number): Promise<BatchItemLink[]> {
    const rows = await this.db
      .selectFrom('contribution_items')
      .selectAll()
      .where('batch_id', '=', batchId)
      .orderBy('item')
      .execute();
    return rows.map(toLink);
  }

  /**
   * For each entry, the batch item that added it and the one that retracted it (the first of each): what the
   * feed hands members as the contributor's proof.
   */
  async proofsOf(
    entryIds: readonly number[],
  ): Promise<Map<number, { add?: BatchItemLink; retract?: BatchItemLink }>> {
    const out = new Map<number, { add?: BatchItemLink; retract?: BatchItemLink }>();
    for (let start = 0; start < entryIds.length; start += 500) {
      const rows = await this.db
        .selectFrom('contribution_items')
        .selectAll()
        .where('entry_id', 'in', entryIds.slice(start, start + 500))
        .where('outcome', '!=', 'present')
        .orderBy('batch_id')
        .execute();
      for (const row of rows) {
        const link = toLink(row);
        const proofs = out.get(link.entryId) ?? {};
        if (!proofs[link.op]) proofs[link.op] = link;
        out.set(link.entryId, proofs);
      }
    }
    return out;
  }

  /** Every batch item about one entry, oldest first: its provenance. */
  async itemsOfEntry(entryId: number): Promise<(BatchItemLink & { batch: StoredBatch })[]> {
    const rows = await this.db
      .selectFrom('contribution_items')
      .innerJoin('contribution_batches', 'contribution_batches.id', 'contribution_items.batch_id')
      .selectAll('contribution_batches')
      .select([
        'contribution_items.item',
        'contribution_items.entry_id',
        'contribution_items.op',
        'contribution_items.outcome',
        'contribution_items.batch_id',
      ])
      .where('contribution_items.entry_id', '=', entryId)
      .orderBy('contribution_items.batch_id')
      .execute();
    return rows.map((row) => ({ ...toLink(row), batch: toBatch(row) }));
  }

  async batches(ids: readonly number[]): Promise<StoredBatch[]> {
    if (ids.length === 0) return [];
    const rows = await this.db
      .selectFrom('contribution_batches')
      .selectAll()
      .where('id', 'in', ids)
      .execute();
    return rows.map(toBatch);
  }
}

function toLink(row: Omit<Selectable<ContributionItemsTable>, 'bank_id'>): BatchItemLink {
  return {
    batchId: Number(row.batch_id),
    item: row.item,
    entryId: Number(row.entry_id),
    op: row.op as BatchItemLink['op'],
    outcome: row.outcome as BatchItemLink['outcome'],
  };
}

function toBatch(row: Selectable<ContributionBatchesTable>): StoredBatch {
  return {
    id: Number(row.id),
    bankId: Number(row.bank_id),
    orgId: Number(row.org_id),
    instanceId: row.instance_id,
    batchKey: row.batch_key,
    payload: row.payload,
    signature: row.signature,
    publicKey: row.public_key,
    signedAt: row.signed_at,
    receivedAt: row.received_at,
  };
}
