import { ValidationError } from '../core/errors.js';

/** Labels: short tags such as the GIFCT behavioural categories (e.g. `graphic-violence`, `glorification`). */
export const LABEL_PATTERN = /^[A-Za-z0-9][A-Za-z0-9_.:/ -]{0,63}$/;

/**
 * Labels the crisis engine owns on an incident bank (`incident:<id>`, `crisis-active`, `after-conclusion`): they
 * are the bank's default labels and are kept on every entry whatever labels its contributor gave, so members'
 * policies ("block at upload while an incident is active") can name them.
 */
export function isCrisisLabel(label: string): boolean {
  return label.startsWith('incident:') || label === 'crisis-active' || label === 'after-conclusion';
}

export function validateLabels(labels: unknown, field = 'labels'): string[] {
  if (!Array.isArray(labels)) throw new ValidationError(`${field} must be an array of strings`);
  if (labels.length > 32) throw new ValidationError(`${field} may have at most 32 labels`);
  for (const label of labels) {
    if (typeof label !== 'string' || !LABEL_PATTERN.test(label)) {
      throw new ValidationError(
        `${field}: "${String(label)}" is not a label (1-64 letters, digits, _ . : / - or space)`,
      );
    }
  }
  return [...new Set(labels as string[])];
}

/** Labels the system itself puts on entries; a bank's taxonomy never needs to list them. */
export function isSystemLabel(label: string): boolean {
  return isCrisisLabel(label);
}

/**
 * Refuses labels outside a bank's taxonomy (null: the bank has none, every label goes). Names every label
 * refused and the labels the bank allows, so that a contributor can correct the write.
 */
export function assertLabelsInTaxonomy(
  labels: readonly string[],
  taxonomy: ReadonlySet<string> | null,
  bank: { id: number; name?: string },
): void {
  if (taxonomy === null) return;
  const outside = labels.filter((l) => !taxonomy.has(l) && !isSystemLabel(l));
  if (outside.length === 0) return;
  const named = outside.map((l) => `"${l}"`).join(', ');
  const where = bank.name ? `${bank.name} (id ${bank.id})` : String(bank.id);
  const allowed = [...taxonomy];
  const listed = allowed.length > 20 ? `${allowed.slice(0, 20).join(', ')}, ...` : allowed.join(', ');
  throw new ValidationError(
    `${outside.length > 1 ? 'labels' : 'label'} ${named} ${outside.length > 1 ? 'are' : 'is'} not in the taxonomy of bank ${where}; allowed: ${listed || 'none'}`,
    'KAI_ERR_LABEL_NOT_IN_TAXONOMY',
  );
}
