/** The store side of hash sharing: the instance's signing identity, and banks' change feeds. */
import { generateKeyPairSync, randomUUID } from 'node:crypto';
import type { Db } from './database.js';

export interface InstanceIdentity {
  id: string;
  /** Ed25519 public key, SPKI PEM: what members pin when they join. */
  publicKey: string;
  /** Ed25519 private key, PKCS#8 PEM: never leaves the store and this process. */
  privateKey: string;
}

export interface FeedRecord {
  bankId: number;
  seq: number;
  op: 'upsert' | 'retract';
  entryId: number;
  signalType: string;
  value: string;
  /** Present for upserts: labels, status (only `active` is matchable), contributor and times. */
  labels?: string[];
  status?: string;
  contributorOrgId?: number;
  createdAt?: string;
  at: string;
}

export class SharingFeedStore {
  constructor(private readonly db: Db) {}

  /** This instance's identity, made on first use (two processes racing make one: the first insert wins). */
  async identity(): Promise<InstanceIdentity> {
    const existing = await this.db
      .selectFrom('instance_identity')
      .selectAll()
      .orderBy('created_at')
      .executeTakeFirst();
    if (existing)
      return { id: existing.id, publicKey: existing.public_key, privateKey: existing.private_key };
    const { publicKey, privateKey } = generateKeyPairSync('ed25519', {
      publicKeyEncoding: { type: 'spki', format: 'pem' },
      privateKeyEncoding: { type: 'pkcs8', format: 'pem' },
    });
    await this.db
      .insertInto('instance_identity')
      .values({
        id: randomUUID(),
        public_key: publicKey,
        private_key: privateKey,
        created_at: new Date().toISOString(),
      })
      .execute();
    const row = await this.db
      .selectFrom('instance_identity')
      .selectAll()
      .orderBy('created_at')
      .executeTakeFirstOrThrow();
    return { id: row.id, publicKey: row.public_key, privateKey: row.private_key };
  }

  /** Some banks' changes after `after`, oldest first, at most `limit`: current states and retractions. */
  async changes(bankIds: readonly number[], after: number, limit: number): Promise<FeedRecord[]> {
    if (bankIds.length === 0) return [];
    const [upserts, retractions] = await Promise.all([
      this.db
        .selectFrom('entries')
        .select([
          'id',
          'signal_type',
          'value',
          'labels',
          'status',
          'contributor_org_id',
          'created_at',
          'updated_at',
          'seq',
          'bank_id',
        ])
        .where('bank_id', 'in', bankIds)
        .where('seq', '>', after)
        .orderBy('seq')
        .limit(limit)
        .execute(),
      this.db
        .selectFrom('entry_tombstones')
        .select(['entry_id', 'signal_type', 'value', 'seq', 'deleted_at', 'bank_id'])
        .where('bank_id', 'in', bankIds)
        .where('seq', '>', after)
        .orderBy('seq')
        .limit(limit)
        .execute(),
    ]);
    const records: FeedRecord[] = [
      ...upserts.map((r) => ({
        bankId: r.bank_id,
        seq: Number(r.seq),
        op: 'upsert' as const,
        entryId: r.id,
        signalType: r.signal_type,
        value: r.value,
        labels: JSON.parse(r.labels) as string[],
        status: r.status,
        contributorOrgId: r.contributor_org_id,
        createdAt: r.created_at,
        at: r.updated_at,
      })),
      ...retractions.map((r) => ({
        bankId: r.bank_id,
        seq: Number(r.seq),
        op: 'retract' as const,
        entryId: r.entry_id,
        signalType: r.signal_type,
        value: r.value,
        at: r.deleted_at,
      })),
    ];
    return records.sort((a, b) => a.seq - b.seq).slice(0, limit);
  }
}
