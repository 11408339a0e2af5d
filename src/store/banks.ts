/**
 * Banks: named lists of signals owned by an organisation. An organisation sees its own banks and the banks
 * shared with it; asking for any other bank is answered exactly like asking for one that does not exist.
 */
import { ConflictError, ForbiddenError, NotFoundError, ValidationError } from '../core/errors.js';
import { getSignalType } from '../signals/registry.js';
import { nowIso, withTx, type Db } from './database.js';
import { tombstoneBankEntries } from './entries.js';
import { validateLabels } from './labels.js';
import { decodeCursor, pageLimit, toPage, type Page } from './pagination.js';
import type { BankRow } from './schema.js';

export type BankSharing = 'private' | 'shared';
/** A detection bank's matches lead to verdicts; a suppression bank's matches mean "never act on this". */
export const BANK_PURPOSES = ['detect', 'suppress'] as const;
export type BankPurpose = (typeof BANK_PURPOSES)[number];

/**
 * What an organisation may do with a bank shared with it: `read` (match, see, give feedback), `contribute` (add
 * entries, retract its own), `moderate` (contribute, retract any entry, decide disputes, edit the taxonomy).
 */
export const SHARE_RIGHTS = ['read', 'contribute', 'moderate'] as const;
export type ShareRights = (typeof SHARE_RIGHTS)[number];
/** An organisation's standing on a bank it sees: its owner, or the rights of its accepted share. */
export type BankRights = 'owner' | ShareRights;

/**
 * The rights an offer gives, from `rights` or the older `can_contribute` (true: contribute); both may be given when
 * they agree (moderate implies contribute). Neither: read.
 */
export function shareRightsOf(rights?: ShareRights, canContribute?: boolean): ShareRights {
  if (rights === undefined) return canContribute ? 'contribute' : 'read';
  if (canContribute !== undefined && canContribute !== (rights !== 'read'))
    throw new ValidationError(
      `rights "${rights}" ${rights === 'read' ? 'give no contribution' : 'include contribution'}, but can_contribute is ${canContribute}; send rights alone`,
      'KAI_ERR_SHARE_RIGHTS_INVALID',
    );
  return rights;
}

export interface BankShare {
  orgId: number;
  rights: ShareRights;
  /** Rights other than `read` (kept for clients of the older `can_contribute` field). */
  canContribute: boolean;
  /** An offer until the receiving organisation accepts it; only accepted shares are visible or matched. */
  status: 'offered' | 'accepted';
  /** What the receiver's matches on the bank do; null = review (never automatic removal unless chosen). */
  policy: string | null;
}

/** A share seen from the receiving organisation. */
export interface IncomingShare extends BankShare {
  bankId: number;
  bankName: string;
  ownerOrgId: number;
  ownerName: string;
  offeredAt: string;
  acceptedAt: string | null;
}

/** A share seen from the bank's owner: the receiving organisation's name, and when it was offered and accepted. */
export interface ShareMember extends BankShare {
  orgName: string;
  offeredAt: string;
  acceptedAt: string | null;
}

/** A bank the organisation owns or accepted, with its standing and how many organisations accepted it. */
export interface Collection {
  bank: Bank;
  ownerName: string;
  rights: BankRights;
  /** Organisations that accepted the share (the owner not counted). */
  members: number;
  /** Offers not accepted yet. */
  offers: number;
}

/** The action a receiver's matches on a shared bank take when it accepted without choosing one. */
export const DEFAULT_SHARE_POLICY = 'review';

export interface Bank {
  id: number;
  orgId: number;
  name: string;
  description: string;
  defaultLabels: string[];
  /** Signal type -> inclusive distance threshold; types not listed use the type's default. */
  thresholds: Record<string, number>;
  enabled: boolean;
  /** HMA's matching ratio, 0..1: the share of HMA lookups that match this bank; 0 exactly when disabled. */
  enabledRatio: number;
  sharing: BankSharing;
  purpose: BankPurpose;
  createdAt: string;
  updatedAt: string;
  /** Set on a read-only mirror of an external list: the subscription that writes it (`subscription:<id>`). */
  managedBy?: string;
}

export interface BankInput {
  name: string;
  description?: string;
  defaultLabels?: string[];
  thresholds?: Record<string, number>;
  enabled?: boolean;
  /** Sets `enabled` too (enabled when above 0); without it, enabling gives 1 and disabling 0. */
  enabledRatio?: number;
  sharing?: BankSharing;
  purpose?: BankPurpose;
}

export type BankUpdate = Partial<BankInput>;

/** Bank names: letters, digits, `_`, `-`, `.`; HMA's UPPER_WITH_UNDERSCORE names are a subset. */
const BANK_NAME = /^[A-Za-z0-9_][A-Za-z0-9_.-]{0,99}$/;

/**
 * Every bank and every accepted share (bank, receiving organisation): what the matcher holds in memory to decide,
 * at query time, which banks an organisation may match against.
 */
export async function bankRulesSnapshot(
  db: Db,
): Promise<{ banks: Bank[]; acceptedShares: { bankId: number; orgId: number }[] }> {
  const [bankRows, shareRows] = await Promise.all([
    db.selectFrom('banks').selectAll().execute(),
    db.selectFrom('bank_shares').select(['bank_id', 'org_id']).where('accepted_at', 'is not', null).execute(),
  ]);
  return {
    banks: bankRows.map(toBank),
    acceptedShares: shareRows.map((r) => ({ bankId: r.bank_id, orgId: r.org_id })),
  };
}

export function toBank(row: BankRow): Bank {
  return {
    id: row.id,
    orgId: row.org_id,
    name: row.name,
    description: row.description,
    defaultLabels: JSON.parse(row.default_labels) as string[],
    thresholds: JSON.parse(row.thresholds) as Record<string, number>,
    enabled: row.enabled === 1,
    enabledRatio: row.enabled === 1 ? Number(row.enabled_ratio) : 0,
    sharing: row.sharing as BankSharing,
    purpose: (row.purpose ?? 'detect') as BankPurpose,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
    ...(row.managed_by ? { managedBy: row.managed_by } : {}),
  };
}

/** Refuses a change to a bank that mirrors an external list: only its subscription writes it. */
export function assertWritable(bank: Bank): Bank {
  if (bank.managedBy)
    throw new ForbiddenError(
      `bank "${bank.name}" is a read-only mirror of ${bank.managedBy.replace(':', ' ')}; change or delete the subscription instead`,
      'KAI_ERR_BANK_READ_ONLY',
    );
  return bank;
}

function validateThresholds(thresholds: Record<string, number>): Record<string, number> {
  for (const [type, value] of Object.entries(thresholds)) {
    const signalType = getSignalType(type);
    if (!Number.isInteger(value) || value < 0 || value > signalType.maxThreshold) {
      throw new ValidationError(
        `threshold for ${type} must be an integer from 0 to ${signalType.maxThreshold}`,
        'KAI_ERR_BAD_THRESHOLD',
      );
    }
  }
  return thresholds;
}

function validateInput(input: BankUpdate): void {
  if (input.name !== undefined && !BANK_NAME.test(input.name)) {
    throw new ValidationError(
      `bank name "${input.name}" must be 1-100 letters, digits, _ . or - (starting with a letter, digit or _)`,
    );
  }
  if (input.description !== undefined && input.description.length > 2000)
    throw new ValidationError('description is too long (2000 at most)');
  if (input.purpose !== undefined && !(BANK_PURPOSES as readonly string[]).includes(input.purpose))
    throw new ValidationError(`purpose is one of ${BANK_PURPOSES.join(', ')}`);
  if (input.defaultLabels !== undefined) validateLabels(input.defaultLabels, 'defaultLabels');
  if (input.thresholds !== undefined) validateThresholds(input.thresholds);
  if (
    input.enabledRatio !== undefined &&
    !(Number.isFinite(input.enabledRatio) && input.enabledRatio >= 0 && input.enabledRatio <= 1)
  )
    throw new ValidationError('enabled ratio must be a number from 0 to 1');
  if (input.sharing !== undefined && input.sharing !== 'private' && input.sharing !== 'shared') {
    throw new ValidationError('sharing must be "private" or "shared"');
  }
}

function toShare(row: {
  org_id: number;
  rights: string;
  accepted_at: string | null;
  policy: string | null;
}): BankShare {
  return {
    orgId: row.org_id,
    rights: row.rights as ShareRights,
    canContribute: row.rights !== 'read',
    status: row.accepted_at ? 'accepted' : 'offered',
    policy: row.policy,
  };
}

/** `enabled` and `enabled_ratio` kept consistent: a ratio sets both; enabling alone keeps a ratio above 0 or gives 1. */
function enabledColumns(input: BankUpdate, currentRatio: number): { enabled: number; enabled_ratio: number } {
  const ratio = input.enabledRatio ?? (input.enabled === false ? 0 : currentRatio > 0 ? currentRatio : 1);
  return { enabled: ratio > 0 ? 1 : 0, enabled_ratio: ratio };
}

export class BankService {
  constructor(private readonly db: Db) {}

  static creator() {
    return (db: Db) => new BankService(db);
  }

  async create(orgId: number, input: BankInput): Promise<Bank> {
    validateInput(input);
    const existing = await this.db
      .selectFrom('banks')
      .select('id')
      .where('org_id', '=', orgId)
      .where('name', '=', input.name)
      .executeTakeFirst();
    if (existing)
      throw new ConflictError(
        `your organisation has a bank named "${input.name}" already`,
        'KAI_ERR_BANK_EXISTS',
      );
    const now = nowIso();
    const row = await this.db
      .insertInto('banks')
      .values({
        org_id: orgId,
        name: input.name,
        description: input.description ?? '',
        default_labels: JSON.stringify(input.defaultLabels ?? []),
        thresholds: JSON.stringify(input.thresholds ?? {}),
        ...enabledColumns(input, 1),
        sharing: input.sharing ?? 'private',
        purpose: input.purpose ?? 'detect',
        created_at: now,
        updated_at: now,
      })
      .returningAll()
      .executeTakeFirstOrThrow();
    return toBank(row);
  }

  /** Ids of every bank this organisation may match against: its own and those shared with it. */
  async visibleBankIds(orgId: number): Promise<Set<number>> {
    const rows = await this.visibleQuery(orgId).select('banks.id').execute();
    return new Set(rows.map((r) => r.id));
  }

  private visibleQuery(orgId: number) {
    return this.db
      .selectFrom('banks')
      .where((eb) =>
        eb.or([
          eb('banks.org_id', '=', orgId),
          eb.and([
            eb('banks.sharing', '=', 'shared'),
            eb.exists(
              eb
                .selectFrom('bank_shares')
                .select('bank_shares.bank_id')
                .whereRef('bank_shares.bank_id', '=', 'banks.id')
                .where('bank_shares.org_id', '=', orgId)
                .where('bank_shares.accepted_at', 'is not', null),
            ),
          ]),
        ]),
      );
  }

  /** A bank the organisation can see; NotFoundError otherwise (never revealing that it exists). */
  async getVisible(orgId: number, bankId: number): Promise<Bank> {
    const row = await this.visibleQuery(orgId)
      .selectAll('banks')
      .where('banks.id', '=', bankId)
      .executeTakeFirst();
    if (!row) throw new NotFoundError(`bank ${bankId} not found`, 'KAI_ERR_BANK_NOT_FOUND');
    return toBank(row);
  }

  /** By name, preferring the organisation's own bank over a shared one with the same name (HMA's routes use names). */
  async getVisibleByName(orgId: number, name: string): Promise<Bank> {
    const rows = await this.visibleQuery(orgId).selectAll('banks').where('banks.name', '=', name).execute();
    const row = rows.find((r) => r.org_id === orgId) ?? rows[0];
    if (!row) throw new NotFoundError(`bank "${name}" not found`, 'KAI_ERR_BANK_NOT_FOUND');
    return toBank(row);
  }

  /** A bank the organisation owns (to change or delete it); visible-but-shared banks are 403, others 404. */
  async getOwned(orgId: number, bankId: number): Promise<Bank> {
    return assertWritable(await this.getOwnedReadable(orgId, bankId));
  }

  /** Like getOwned, for reading what only the owner may see (a mirror bank's shares, say). */
  private async getOwnedReadable(orgId: number, bankId: number): Promise<Bank> {
    const bank = await this.getVisible(orgId, bankId);
    if (bank.orgId !== orgId)
      throw new ForbiddenError(`bank ${bankId} is shared with you; only its owner can change it`);
    return bank;
  }

  /** A bank the organisation sees, with its standing on it (owner, or its accepted share's rights). */
  async access(orgId: number, bankId: number): Promise<{ bank: Bank; rights: BankRights }> {
    const bank = await this.getVisible(orgId, bankId);
    if (bank.orgId === orgId) return { bank, rights: 'owner' };
    const share = await this.db
      .selectFrom('bank_shares')
      .select('rights')
      .where('bank_id', '=', bankId)
      .where('org_id', '=', orgId)
      .where('accepted_at', 'is not', null)
      .executeTakeFirstOrThrow();
    return { bank, rights: share.rights as ShareRights };
  }

  /** Whether the organisation may add entries: it owns the bank, or its share gives contribute or moderate rights. */
  async assertCanContribute(orgId: number, bankId: number): Promise<Bank> {
    const { bank, rights } = await this.access(orgId, bankId);
    assertWritable(bank);
    if (rights === 'read')
      throw new ForbiddenError(
        `bank ${bankId} is shared with you read-only; adding entries needs contribute rights`,
        'KAI_ERR_SHARE_RIGHTS',
      );
    return bank;
  }

  /**
   * Whether the organisation may moderate the bank (decide disputes, retract any entry, edit the taxonomy): it
   * owns it, or its share gives moderate rights. `what` names the act in the refusal.
   */
  async assertCanModerate(orgId: number, bankId: number, what: string): Promise<Bank> {
    const { bank, rights } = await this.access(orgId, bankId);
    assertWritable(bank);
    if (rights !== 'owner' && rights !== 'moderate')
      throw new ForbiddenError(
        `bank ${bankId} is shared with you with ${rights} rights; ${what} needs moderate rights`,
        'KAI_ERR_SHARE_RIGHTS',
      );
    return bank;
  }

  async list(orgId: number, options: { cursor?: string; limit?: number } = {}): Promise<Page<Bank>> {
    const limit = pageLimit(options.limit);
    const rows = await this.visibleQuery(orgId)
      .selectAll('banks')
      .where('banks.id', '>', decodeCursor(options.cursor))
      .orderBy('banks.id')
      .limit(limit + 1)
      .execute();
    return toPage(rows, limit, toBank);
  }

  async update(orgId: number, bankId: number, update: BankUpdate): Promise<Bank> {
    validateInput(update);
    const bank = await this.getOwned(orgId, bankId);
    if (update.name !== undefined && update.name !== bank.name) {
      const clash = await this.db
        .selectFrom('banks')
        .select('id')
        .where('org_id', '=', orgId)
        .where('name', '=', update.name)
        .executeTakeFirst();
      if (clash)
        throw new ConflictError(
          `your organisation has a bank named "${update.name}" already`,
          'KAI_ERR_BANK_EXISTS',
        );
    }
    const row = await this.db
      .updateTable('banks')
      .set({
        ...(update.name !== undefined ? { name: update.name } : {}),
        ...(update.description !== undefined ? { description: update.description } : {}),
        ...(update.defaultLabels !== undefined
          ? { default_labels: JSON.stringify(update.defaultLabels) }
          : {}),
        ...(update.thresholds !== undefined ? { thresholds: JSON.stringify(update.thresholds) } : {}),
        ...(update.enabled !== undefined || update.enabledRatio !== undefined
          ? enabledColumns(update, bank.enabledRatio)
          : {}),
        ...(update.sharing !== undefined ? { sharing: update.sharing } : {}),
        ...(update.purpose !== undefined ? { purpose: update.purpose } : {}),
        updated_at: nowIso(),
      })
      .where('id', '=', bankId)
      .returningAll()
      .executeTakeFirstOrThrow();
    return toBank(row);
  }

  /** Deletes the bank and its entries, leaving tombstones so every process's index drops them too. */
  async delete(orgId: number, bankId: number): Promise<void> {
    await this.getOwned(orgId, bankId);
    await withTx(this.db, async (tx) => {
      await tombstoneBankEntries(tx, bankId);
      await tx.deleteFrom('banks').where('id', '=', bankId).execute();
    });
  }

  /** Offers the bank to another organisation with these rights (or changes the rights of an offer or share). */
  async share(
    orgId: number,
    bankId: number,
    withOrgId: number,
    rights: ShareRights = 'read',
  ): Promise<BankShare[]> {
    if (!(SHARE_RIGHTS as readonly string[]).includes(rights))
      throw new ValidationError(
        `rights are one of ${SHARE_RIGHTS.join(', ')}`,
        'KAI_ERR_SHARE_RIGHTS_INVALID',
      );
    const canContribute = rights === 'read' ? 0 : 1;
    await this.getOwned(orgId, bankId);
    if (withOrgId === orgId)
      throw new ValidationError('a bank is always visible to its owner; share it with another organisation');
    const org = await this.db
      .selectFrom('organisations')
      .select('id')
      .where('id', '=', withOrgId)
      .executeTakeFirst();
    if (!org) throw new NotFoundError(`organisation ${withOrgId} not found`);
    await this.db
      .insertInto('bank_shares')
      .values({
        bank_id: bankId,
        org_id: withOrgId,
        can_contribute: canContribute,
        rights,
        created_at: nowIso(),
      })
      .onConflict((oc) =>
        oc.columns(['bank_id', 'org_id']).doUpdateSet({ can_contribute: canContribute, rights }),
      )
      .execute();
    await this.db
      .updateTable('banks')
      .set({ sharing: 'shared', updated_at: nowIso() })
      .where('id', '=', bankId)
      .execute();
    return this.shares(orgId, bankId);
  }

  async unshare(orgId: number, bankId: number, withOrgId: number): Promise<BankShare[]> {
    await this.getOwned(orgId, bankId);
    await this.db
      .deleteFrom('bank_shares')
      .where('bank_id', '=', bankId)
      .where('org_id', '=', withOrgId)
      .execute();
    return this.shares(orgId, bankId);
  }

  async shares(orgId: number, bankId: number): Promise<BankShare[]> {
    await this.getOwnedReadable(orgId, bankId);
    const rows = await this.db
      .selectFrom('bank_shares')
      .selectAll()
      .where('bank_id', '=', bankId)
      .orderBy('org_id')
      .execute();
    return rows.map(toShare);
  }

  /** The organisations a bank you own is offered to or shared with, by name, with their rights. */
  async members(orgId: number, bankId: number): Promise<ShareMember[]> {
    await this.getOwnedReadable(orgId, bankId);
    const rows = await this.db
      .selectFrom('bank_shares')
      .innerJoin('organisations', 'organisations.id', 'bank_shares.org_id')
      .selectAll('bank_shares')
      .select('organisations.name as org_name')
      .where('bank_shares.bank_id', '=', bankId)
      .orderBy('bank_shares.org_id')
      .execute();
    return rows.map((r) => ({
      ...toShare(r),
      orgName: r.org_name,
      offeredAt: r.created_at,
      acceptedAt: r.accepted_at,
    }));
  }

  /** Banks the organisation owns and shares it accepted, with its rights and each bank's member count. */
  async collections(orgId: number): Promise<Collection[]> {
    const rows = await this.visibleQuery(orgId)
      .innerJoin('organisations', 'organisations.id', 'banks.org_id')
      .selectAll('banks')
      .select((eb) => [
        'organisations.name as owner_name',
        eb
          .selectFrom('bank_shares as mine')
          .select('mine.rights')
          .whereRef('mine.bank_id', '=', 'banks.id')
          .where('mine.org_id', '=', orgId)
          .as('my_rights'),
        eb
          .selectFrom('bank_shares as m')
          .select((m) => m.fn.countAll<number>().as('n'))
          .whereRef('m.bank_id', '=', 'banks.id')
          .where('m.accepted_at', 'is not', null)
          .as('members'),
        eb
          .selectFrom('bank_shares as o')
          .select((o) => o.fn.countAll<number>().as('n'))
          .whereRef('o.bank_id', '=', 'banks.id')
          .where('o.accepted_at', 'is', null)
          .as('offers'),
      ])
      .orderBy('banks.id')
      .execute();
    return rows.map((r) => ({
      bank: toBank(r),
      ownerName: r.owner_name,
      rights: r.org_id === orgId ? 'owner' : ((r.my_rights ?? 'read') as ShareRights),
      members: Number(r.members ?? 0),
      offers: Number(r.offers ?? 0),
    }));
  }

  /** Offers and accepted shares of other organisations' banks, for the receiving organisation. */
  async incoming(orgId: number): Promise<IncomingShare[]> {
    const rows = await this.db
      .selectFrom('bank_shares')
      .innerJoin('banks', 'banks.id', 'bank_shares.bank_id')
      .innerJoin('organisations', 'organisations.id', 'banks.org_id')
      .select([
        'bank_shares.bank_id',
        'bank_shares.org_id',
        'bank_shares.rights',
        'bank_shares.created_at',
        'bank_shares.accepted_at',
        'bank_shares.policy',
        'banks.name as bank_name',
        'banks.org_id as owner_org_id',
        'organisations.name as owner_name',
      ])
      .where('bank_shares.org_id', '=', orgId)
      .orderBy('bank_shares.bank_id')
      .execute();
    return rows.map((r) => ({
      ...toShare(r),
      bankId: r.bank_id,
      bankName: r.bank_name,
      ownerOrgId: r.owner_org_id,
      ownerName: r.owner_name,
      offeredAt: r.created_at,
      acceptedAt: r.accepted_at,
    }));
  }

  /** The receiver accepts an offer (or changes the policy of a share it accepted). */
  async acceptShare(orgId: number, bankId: number, policy: string): Promise<IncomingShare> {
    const result = await this.db
      .updateTable('bank_shares')
      .set((eb) => ({ accepted_at: eb.fn.coalesce('accepted_at', eb.val(nowIso())), policy }))
      .where('bank_id', '=', bankId)
      .where('org_id', '=', orgId)
      .executeTakeFirst();
    if (Number(result.numUpdatedRows) === 0)
      throw new NotFoundError(
        `no bank ${bankId} has been offered to your organisation`,
        'KAI_ERR_SHARE_NOT_FOUND',
      );
    return (await this.incoming(orgId)).find((s) => s.bankId === bankId)!;
  }

  /** The receiver declines an offer or leaves a share; the owner can offer it again. */
  async leaveShare(orgId: number, bankId: number): Promise<void> {
    const result = await this.db
      .deleteFrom('bank_shares')
      .where('bank_id', '=', bankId)
      .where('org_id', '=', orgId)
      .executeTakeFirst();
    if (Number(result.numDeletedRows) === 0)
      throw new NotFoundError(
        `no bank ${bankId} has been offered to your organisation`,
        'KAI_ERR_SHARE_NOT_FOUND',
      );
  }

  /** Accepted shares' policies for the receiving organisation: bank id -> policy action. */
  async sharePolicies(orgId: number): Promise<Map<number, string>> {
    const rows = await this.db
      .selectFrom('bank_shares')
      .select(['bank_id', 'policy'])
      .where('org_id', '=', orgId)
      .where('accepted_at', 'is not', null)
      .execute();
    return new Map(rows.map((r) => [r.bank_id, r.policy ?? DEFAULT_SHARE_POLICY]));
  }

  /** Every bank, for the in-memory index's filters (enabled flags and thresholds). */
  async all(): Promise<Bank[]> {
    const rows = await this.db.selectFrom('banks').selectAll().orderBy('id').execute();
    return rows.map(toBank);
  }
}
