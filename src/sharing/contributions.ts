/**
 * Contributions from member instances. A member instance signs each batch of contributions with its own Ed25519
 * key (made at `init`, registered with the hub when its organisation joins): the signed payload names the batch,
 * the collection, the instance, the time and each item (add with labels and an optional incident reference, or
 * retract). The hub checks the signature against the registered key before anything is stored; a forged or
 * altered batch is refused and the refusal is recorded in the audit trail. An accepted batch is kept exactly as
 * signed, and each item is linked to the entry it added or retracted, so the hub's feed can hand every member the
 * contributor's own signature with each record (see feed.ts) and anyone can ask who contributed a signal.
 */
import { createPublicKey, randomUUID } from 'node:crypto';
import { ConflictError, ForbiddenError, ValidationError } from '../core/errors.js';
import { normalizeSignal } from '../signals/registry.js';
import { canonicalJson } from '../store/audit.js';
import type { Bank, BankService } from '../store/banks.js';
import { ContributionStore, type BatchItemLink, type StoredBatch } from '../store/contributions.js';
import type { Db } from '../store/database.js';
import { EntryService, prepareEntry } from '../store/entries.js';
import { assertLabelsInTaxonomy } from '../store/labels.js';
import { SignalFeedbackStore } from '../store/signal-feedback.js';
import { BankTaxonomyStore } from '../store/taxonomies.js';
import type { InstanceIdentity } from '../store/sharing-feed.js';
import type { Transactions, UnitOfWork } from '../store/unit-of-work.js';
import { signRecord, verifyText } from './signing.js';

export const MAX_BATCH_ITEMS = 1000;
const MAX_PAYLOAD_BYTES = 1024 * 1024;
const INCIDENT_REF = /^[A-Za-z0-9_.:-]{1,64}$/;

export interface ContributionItem {
  op: 'add' | 'retract';
  signal_type: string;
  value: string;
  labels?: string[];
  /** An incident this contribution belongs to (the hub's incident id or the contributor's own reference). */
  incident?: string;
}

/** What a contributing instance signs. */
export interface BatchPayload {
  batch: string;
  collection_id: number;
  instance_id: string;
  signed_at: string;
  contributions: ContributionItem[];
}

/** What a contributing instance sends: the payload as the exact text it signed, and the signature. */
export interface SignedBatch {
  instance_id: string;
  payload: string;
  signature: string;
}

/** Signs a batch of contributions to a hub collection with this instance's key. */
export function signBatch(
  identity: InstanceIdentity,
  collectionId: number,
  contributions: ContributionItem[],
  batch: string = randomUUID(),
): SignedBatch {
  const payload: BatchPayload = {
    batch,
    collection_id: collectionId,
    instance_id: identity.id,
    signed_at: new Date().toISOString(),
    contributions,
  };
  const text = canonicalJson(payload as unknown as Record<string, unknown>);
  return {
    instance_id: identity.id,
    payload: text,
    signature: signRecord(payload as unknown as Record<string, unknown>, identity.privateKey),
  };
}

/** True when `signature` is the instance key's over exactly this payload text. */
export function batchSignatureHolds(payload: string, signature: string, publicKeyPem: string): boolean {
  return verifyText(payload, signature, publicKeyPem);
}

/** Reads a signed payload's fields (the signature was checked first), saying exactly what is wrong. */
export function parsePayload(text: string): BatchPayload {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch {
    throw new ValidationError('the signed payload is not JSON', 'KAI_ERR_BAD_BATCH');
  }
  const p = raw as Partial<BatchPayload> & Record<string, unknown>;
  const unknown = Object.keys(p).filter(
    (k) => !['batch', 'collection_id', 'instance_id', 'signed_at', 'contributions'].includes(k),
  );
  if (unknown.length)
    throw new ValidationError(
      `unknown field(s) in the signed payload: ${unknown.join(', ')}`,
      'KAI_ERR_BAD_BATCH',
    );
  if (typeof p.batch !== 'string' || !/^[A-Za-z0-9_-]{8,64}$/.test(p.batch))
    throw new ValidationError(
      'batch is the batch’s own id (8-64 letters, digits, _ or -)',
      'KAI_ERR_BAD_BATCH',
    );
  if (!Number.isSafeInteger(p.collection_id))
    throw new ValidationError('collection_id is the collection the batch is for', 'KAI_ERR_BAD_BATCH');
  if (
    typeof p.instance_id !== 'string' ||
    typeof p.signed_at !== 'string' ||
    Number.isNaN(Date.parse(p.signed_at))
  )
    throw new ValidationError('instance_id and signed_at (ISO 8601) are required', 'KAI_ERR_BAD_BATCH');
  if (
    !Array.isArray(p.contributions) ||
    p.contributions.length === 0 ||
    p.contributions.length > MAX_BATCH_ITEMS
  )
    throw new ValidationError(
      `contributions is a list of 1 to ${MAX_BATCH_ITEMS} items`,
      'KAI_ERR_BAD_BATCH',
    );
  p.contributions.forEach((item, i) => checkItem(item, i));
  return p as BatchPayload;
}

function checkItem(item: unknown, i: number): asserts item is ContributionItem {
  const c = item as Record<string, unknown>;
  const where = `contributions[${i}]`;
  if (typeof c !== 'object' || c === null)
    throw new ValidationError(`${where} is not an object`, 'KAI_ERR_BAD_BATCH');
  const unknown = Object.keys(c).filter(
    (k) => !['op', 'signal_type', 'value', 'labels', 'incident'].includes(k),
  );
  if (unknown.length)
    throw new ValidationError(`${where}: unknown field(s) ${unknown.join(', ')}`, 'KAI_ERR_BAD_BATCH');
  if (c.op !== 'add' && c.op !== 'retract')
    throw new ValidationError(`${where}.op is add or retract`, 'KAI_ERR_BAD_BATCH');
  if (typeof c.signal_type !== 'string' || typeof c.value !== 'string')
    throw new ValidationError(`${where} needs signal_type and value`, 'KAI_ERR_BAD_BATCH');
  if (c.labels !== undefined && (!Array.isArray(c.labels) || c.labels.some((l) => typeof l !== 'string')))
    throw new ValidationError(`${where}.labels is a list of strings`, 'KAI_ERR_BAD_BATCH');
  if (c.incident !== undefined && (typeof c.incident !== 'string' || !INCIDENT_REF.test(c.incident)))
    throw new ValidationError(
      `${where}.incident is a reference of 1-64 letters, digits, _ . : -`,
      'KAI_ERR_BAD_BATCH',
    );
}

/** Whether a feed record is the item its contributor signed (same operation, collection, signal). */
export function recordMatchesItem(
  record: { op?: unknown; signal_type?: unknown; value?: unknown; collection_id?: unknown },
  payload: BatchPayload,
  item: number,
): boolean {
  const signed = payload.contributions[item];
  if (!signed || payload.collection_id !== record.collection_id) return false;
  if ((signed.op === 'add') !== (record.op === 'upsert')) return false;
  try {
    const ours = normalizeSignal(signed.signal_type, signed.value);
    return ours.type === record.signal_type && ours.value === record.value;
  } catch {
    return false;
  }
}

export interface ReceivedBatch {
  batch: string;
  id: number;
  added: number;
  present: number;
  retracted: number;
  /** True when this batch had been received before: nothing was applied again. */
  replayed: boolean;
}

export interface ContributionDeps {
  db: Db;
  transactions: Transactions;
  banks: BankService;
  /** The per-member contribution limit (banks/contribution-limit.ts): throws a RateLimitedError past it. */
  limiter?: { take(orgId: number, bankId: number, count: number): void };
}

export class ContributionService {
  constructor(private readonly deps: ContributionDeps) {}

  /** An organisation registers (or rotates) the key of an instance it runs, to contribute from it. */
  async join(actor: string, orgId: number, instanceId: string, publicKey: string): Promise<void> {
    if (!/^[A-Za-z0-9_-]{8,64}$/.test(instanceId))
      throw new ValidationError('instance_id is the member instance’s id (GET /v1/sharing/instance on it)');
    let type: string | undefined;
    try {
      type = createPublicKey(publicKey).asymmetricKeyType;
    } catch {
      type = undefined;
    }
    if (type !== 'ed25519')
      throw new ValidationError(
        'public_key must be the instance’s Ed25519 public key in PEM',
        'KAI_ERR_BAD_KEY',
      );
    await this.deps.transactions.run(actor, async (unit) => {
      const store = new ContributionStore(unit.db);
      const before = await store.instance(orgId, instanceId);
      await store.saveInstance(orgId, instanceId, publicKey, actor);
      await unit.audit({
        orgId,
        action: before ? 'sharing.instance.rotate' : 'sharing.instance.join',
        subjectType: 'instance',
        subjectId: instanceId,
        detail: {},
      });
    });
  }

  instances(orgId: number) {
    return new ContributionStore(this.deps.db).instancesOf(orgId);
  }

  /**
   * Receives a signed batch for a collection: the signature checked against the organisation's registered key
   * (a refusal is audited), the payload checked, then every item applied in one transaction or none.
   */
  async receive(actor: string, orgId: number, bankId: number, signed: SignedBatch): Promise<ReceivedBatch> {
    if (typeof signed.payload !== 'string' || Buffer.byteLength(signed.payload) > MAX_PAYLOAD_BYTES)
      throw new ValidationError(
        `payload is the signed JSON text, at most ${MAX_PAYLOAD_BYTES} bytes`,
        'KAI_ERR_BAD_BATCH',
      );
    const bank = await this.deps.banks.assertCanContribute(orgId, bankId);
    const store = new ContributionStore(this.deps.db);
    const instance = await store.instance(orgId, signed.instance_id);
    if (!instance)
      throw new ForbiddenError(
        `instance ${signed.instance_id} has not joined for your organisation: POST /v1/sharing/join with its public key first`,
        'KAI_ERR_INSTANCE_NOT_JOINED',
      );
    if (!batchSignatureHolds(signed.payload, signed.signature, instance.publicKey)) {
      await this.refuse(
        actor,
        orgId,
        bankId,
        signed,
        'the signature does not verify with the instance’s key',
      );
      throw new ValidationError(
        'the batch’s signature does not verify with your instance’s registered key: forged or altered, nothing stored',
        'KAI_ERR_BAD_SIGNATURE',
      );
    }
    const payload = parsePayload(signed.payload);
    if (payload.instance_id !== signed.instance_id || payload.collection_id !== bankId) {
      await this.refuse(actor, orgId, bankId, signed, 'signed for another instance or collection');
      throw new ValidationError(
        `the batch was signed for collection ${payload.collection_id} by instance ${payload.instance_id}, not this one`,
        'KAI_ERR_BAD_BATCH',
      );
    }
    const previous = await store.batchByKey(payload.batch);
    if (previous) return this.replayed(previous, orgId, bankId);
    const adds = payload.contributions.filter((c) => c.op === 'add').length;
    if (bank.orgId !== orgId) this.deps.limiter?.take(orgId, bank.id, adds);
    return this.deps.transactions.run(actor, (unit) =>
      this.apply(unit, bank, orgId, signed, payload, instance.publicKey),
    );
  }

  private async apply(
    unit: UnitOfWork,
    bank: Bank,
    orgId: number,
    signed: SignedBatch,
    payload: BatchPayload,
    publicKey: string,
  ): Promise<ReceivedBatch> {
    const store = new ContributionStore(unit.db);
    const stored = await store.insertBatch({
      bankId: bank.id,
      orgId,
      instanceId: signed.instance_id,
      batchKey: payload.batch,
      payload: signed.payload,
      signature: signed.signature,
      publicKey,
      signedAt: payload.signed_at,
    });
    const links: BatchItemLink[] = [];
    const counts = { added: 0, present: 0, retracted: 0 };
    // The same rules as the API's: labels within the bank's taxonomy, and a contributor retracts only its own
    // signals (a moderator or the owner any).
    const taxonomy = await new BankTaxonomyStore(unit.db).keys(bank.id);
    const { rights } = await unit.banks.access(orgId, bank.id);
    for (const [i, item] of payload.contributions.entries()) {
      const where = `contributions[${i}]`;
      if (item.op === 'add') {
        const row = prepareEntry(
          {
            signalType: item.signal_type,
            value: item.value,
            labels: [...(item.labels ?? []), ...(item.incident ? [`incident:${item.incident}`] : [])],
          },
          {
            bankId: bank.id,
            orgId: bank.orgId,
            contributorOrgId: orgId,
            source: 'exchange',
            defaultLabels: bank.defaultLabels,
          },
        );
        assertLabelsInTaxonomy(JSON.parse(row.labels) as string[], taxonomy, bank);
        const { entry, created } = await unit.entries.add(row);
        links.push({
          batchId: stored.id,
          item: i,
          entryId: entry.id,
          op: 'add',
          outcome: created ? 'added' : 'present',
        });
        counts[created ? 'added' : 'present']++;
      } else {
        const signal = normalizeSignal(item.signal_type, item.value);
        const entry = await unit.entries.findByValue(bank.id, signal.type, signal.value);
        if (!entry)
          throw new ValidationError(
            `${where}: the collection has no such signal to retract`,
            'KAI_ERR_ENTRY_NOT_FOUND',
          );
        if (entry.contributorOrgId !== orgId && rights !== 'owner' && rights !== 'moderate')
          throw new ForbiddenError(
            `${where}: only its contributor (or a moderator) may retract a signal`,
            'KAI_ERR_NOT_YOUR_CONTRIBUTION',
          );
        await unit.entries.delete(bank.id, entry.id);
        links.push({ batchId: stored.id, item: i, entryId: entry.id, op: 'retract', outcome: 'retracted' });
        counts.retracted++;
      }
    }
    await store.linkItems(bank.id, links);
    await unit.audit({
      orgId: bank.orgId,
      action: 'contribution.receive',
      subjectType: 'bank',
      subjectId: bank.id,
      detail: { batch: payload.batch, organisation_id: orgId, instance_id: signed.instance_id, ...counts },
    });
    return { batch: payload.batch, id: stored.id, ...counts, replayed: false };
  }

  /** A batch sent again (a retry after a lost answer) changes nothing and answers what it did the first time. */
  private async replayed(previous: StoredBatch, orgId: number, bankId: number): Promise<ReceivedBatch> {
    if (previous.orgId !== orgId || previous.bankId !== bankId)
      throw new ConflictError(
        `batch ${previous.batchKey} was received before from elsewhere`,
        'KAI_ERR_BATCH_REUSED',
      );
    const items = await new ContributionStore(this.deps.db).itemsOfBatch(previous.id);
    const count = (outcome: BatchItemLink['outcome']) => items.filter((i) => i.outcome === outcome).length;
    return {
      batch: previous.batchKey,
      id: previous.id,
      added: count('added'),
      present: count('present'),
      retracted: count('retracted'),
      replayed: true,
    };
  }

  /** A refused batch is reported in the hub's audit trail (who, which instance, why); nothing of it is stored. */
  private async refuse(
    actor: string,
    orgId: number,
    bankId: number,
    signed: SignedBatch,
    why: string,
  ): Promise<void> {
    await this.deps.transactions.run(actor, (unit) =>
      unit.audit({
        orgId,
        action: 'contribution.refuse',
        subjectType: 'bank',
        subjectId: bankId,
        detail: {
          instance_id: signed.instance_id,
          reason: why,
          payload_bytes: Buffer.byteLength(signed.payload),
        },
      }),
    );
  }

  /**
   * Who contributed a signal of a bank the organisation can see: the contributing organisation, every signed batch
   * item about it (added, sent again, retracted: from which instance, under which signature), and how many
   * organisations confirmed it or said otherwise.
   */
  async provenance(orgId: number, bankId: number, entryId: number) {
    await this.deps.banks.getVisible(orgId, bankId);
    const entry = await new EntryService(this.deps.db).get(bankId, entryId);
    const items = await new ContributionStore(this.deps.db).itemsOfEntry(entryId);
    const opinions = await new SignalFeedbackStore(this.deps.db).opinions(entryId);
    return {
      entry_id: entry.id,
      contributor_organisation_id: entry.contributorOrgId,
      items: items.map((i) => this.itemView(i)),
      opinions: { confirm: opinions.confirm, false_positive: opinions.falsePositive, seen: opinions.seen },
    };
  }

  private itemView(i: BatchItemLink & { batch: StoredBatch }) {
    return {
      op: i.op,
      outcome: i.outcome,
      batch: i.batch.batchKey,
      item: i.item,
      organisation_id: i.batch.orgId,
      instance_id: i.batch.instanceId,
      signed_at: i.batch.signedAt,
      received_at: i.batch.receivedAt,
      payload: i.batch.payload,
      signature: i.batch.signature,
      public_key: i.batch.publicKey,
    };
  }
}
