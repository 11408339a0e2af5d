/**
 * Label taxonomies of banks: the labels a bank's entries may carry, each with a description and a group, and the
 * preset the bank was seeded from. A bank without a taxonomy accepts any well-formed label.
 */
import { ValidationError } from '../core/errors.js';
import { nowIso, type Db } from './database.js';
import { LABEL_PATTERN } from './labels.js';

export interface BankLabel {
  key: string;
  description: string;
  group: string;
}

export interface BankTaxonomy {
  bankId: number;
  preset: string | null;
  labels: BankLabel[];
  updatedBy: string;
  updatedAt: string;
}

/** The most labels one taxonomy holds. */
export const MAX_TAXONOMY_LABELS = 500;

/** Refuses a malformed or repeated label key, and over-long texts; returns the labels as given. */
export function validateTaxonomyLabels(labels: readonly BankLabel[]): BankLabel[] {
  if (labels.length > MAX_TAXONOMY_LABELS)
    throw new ValidationError(`a taxonomy has at most ${MAX_TAXONOMY_LABELS} labels`, 'KAI_ERR_TAXONOMY');
  const seen = new Set<string>();
  for (const l of labels) {
    if (!LABEL_PATTERN.test(l.key))
      throw new ValidationError(
        `"${l.key}" is not a label (1-64 letters, digits, _ . : / - or space)`,
        'KAI_ERR_TAXONOMY',
      );
    if (seen.has(l.key)) throw new ValidationError(`label "${l.key}" is listed twice`, 'KAI_ERR_TAXONOMY');
    seen.add(l.key);
    if (l.description.length > 500 || l.group.length > 64)
      throw new ValidationError(
        `label "${l.key}": a description has at most 500 characters, a group 64`,
        'KAI_ERR_TAXONOMY',
      );
  }
  return [...labels];
}

export class BankTaxonomyStore {
  constructor(private readonly db: Db) {}

  /** The bank's taxonomy, or null when it has none. */
  async get(bankId: number): Promise<BankTaxonomy | null> {
    const head = await this.db
      .selectFrom('bank_taxonomies')
      .selectAll()
      .where('bank_id', '=', bankId)
      .executeTakeFirst();
    if (!head) return null;
    const rows = await this.db
      .selectFrom('bank_labels')
      .select(['key', 'description', 'label_group'])
      .where('bank_id', '=', bankId)
      .orderBy('position')
      .execute();
    return {
      bankId,
      preset: head.preset,
      labels: rows.map((r) => ({ key: r.key, description: r.description, group: r.label_group })),
      updatedBy: head.updated_by,
      updatedAt: head.updated_at,
    };
  }

  /** The label keys a bank allows, or null when it has no taxonomy (every label goes). */
  async keys(bankId: number): Promise<Set<string> | null> {
    const rows = await this.db
      .selectFrom('bank_taxonomies')
      .leftJoin('bank_labels', 'bank_labels.bank_id', 'bank_taxonomies.bank_id')
      .select('bank_labels.key')
      .where('bank_taxonomies.bank_id', '=', bankId)
      .execute();
    if (rows.length === 0) return null;
    return new Set(rows.flatMap((r) => (r.key === null ? [] : [r.key])));
  }

  /** Which of these banks have a taxonomy: bank id -> preset (or null for labels given by hand). */
  async presets(bankIds: readonly number[]): Promise<Map<number, string | null>> {
    if (bankIds.length === 0) return new Map();
    const rows = await this.db
      .selectFrom('bank_taxonomies')
      .select(['bank_id', 'preset'])
      .where('bank_id', 'in', [...bankIds])
      .execute();
    return new Map(rows.map((r) => [r.bank_id, r.preset]));
  }

  /** Replaces the bank's taxonomy; no labels at all removes it (the bank accepts any label again). */
  async replace(
    bankId: number,
    input: { preset: string | null; labels: readonly BankLabel[] },
    actor: string,
  ): Promise<BankTaxonomy | null> {
    const labels = validateTaxonomyLabels(input.labels);
    await this.db.deleteFrom('bank_labels').where('bank_id', '=', bankId).execute();
    await this.db.deleteFrom('bank_taxonomies').where('bank_id', '=', bankId).execute();
    if (labels.length === 0) return null;
    await this.db
      .insertInto('bank_taxonomies')
      .values({ bank_id: bankId, preset: input.preset, updated_by: actor, updated_at: nowIso() })
      .execute();
    for (let start = 0; start < labels.length; start += 100)
      await this.db
        .insertInto('bank_labels')
        .values(
          labels.slice(start, start + 100).map((l, i) => ({
            bank_id: bankId,
            key: l.key,
            description: l.description,
            label_group: l.group,
            position: start + i,
          })),
        )
        .execute();
    return this.get(bankId);
  }
}
