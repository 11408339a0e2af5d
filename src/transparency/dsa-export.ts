/**
 * Export of statements of reasons to the EU DSA Transparency Database (POST /api/v1/statements, at most 100 per
 * request, all-or-nothing), in its exact field names and enumerations. TCO removal orders are left out: DSA
 * Art. 17(5) excludes orders under Art. 9 from statements of reasons (TCO Art. 11 governs the user's information).
 * No personal data goes out (Art. 24(5)): the uploader id and our plain-language text stay home.
 */
import { ValidationError } from '../core/errors.js';
import { DsaStore, type StatementForExport } from '../store/dsa.js';
import type { Db } from '../store/database.js';
import type { Period } from '../store/transparency.js';
import type { Transactions } from '../store/unit-of-work.js';

export const DSA_BATCH_MAX = 100;
export const EU_27 = [
  'AT',
  'BE',
  'BG',
  'CY',
  'CZ',
  'DE',
  'DK',
  'EE',
  'ES',
  'FI',
  'FR',
  'GR',
  'HR',
  'HU',
  'IE',
  'IT',
  'LT',
  'LU',
  'LV',
  'MT',
  'NL',
  'PL',
  'PT',
  'RO',
  'SE',
  'SI',
  'SK',
];
export const EEA = [...EU_27, 'IS', 'LI', 'NO'].sort();
export const DECISION_VISIBILITIES = [
  'DECISION_VISIBILITY_CONTENT_REMOVED',
  'DECISION_VISIBILITY_CONTENT_DISABLED',
  'DECISION_VISIBILITY_CONTENT_DEMOTED',
  'DECISION_VISIBILITY_CONTENT_AGE_RESTRICTED',
  'DECISION_VISIBILITY_CONTENT_INTERACTION_RESTRICTED',
  'DECISION_VISIBILITY_CONTENT_LABELLED',
  'DECISION_VISIBILITY_OTHER',
];
export const DECISION_GROUNDS = ['DECISION_GROUND_ILLEGAL_CONTENT', 'DECISION_GROUND_INCOMPATIBLE_CONTENT'];
export const CONTENT_TYPES = [
  'CONTENT_TYPE_APP',
  'CONTENT_TYPE_AUDIO',
  'CONTENT_TYPE_IMAGE',
  'CONTENT_TYPE_PRODUCT',
  'CONTENT_TYPE_SYNTHETIC_MEDIA',
  'CONTENT_TYPE_TEXT',
  'CONTENT_TYPE_VIDEO',
  'CONTENT_TYPE_OTHER',
];
export const SOURCE_TYPES = [
  'SOURCE_ARTICLE_16',
  'SOURCE_TRUSTED_FLAGGER',
  'SOURCE_TYPE_OTHER_NOTIFICATION',
  'SOURCE_VOLUNTARY',
];
export const AUTOMATED_DECISIONS = [
  'AUTOMATED_DECISION_FULLY',
  'AUTOMATED_DECISION_PARTIALLY',
  'AUTOMATED_DECISION_NOT_AUTOMATED',
];
/** Terrorist content: "Risk for public security" with the keyword "Terrorist content" (schema of 1 July 2025). */
export const TVEC_CATEGORY = 'STATEMENT_CATEGORY_RISK_FOR_PUBLIC_SECURITY';
export const TVEC_KEYWORD = 'KEYWORD_TERRORIST_CONTENT';

export interface DsaStatement {
  decision_visibility: string[];
  decision_ground: string;
  illegal_content_legal_ground?: string;
  illegal_content_explanation?: string;
  incompatible_content_ground?: string;
  incompatible_content_explanation?: string;
  content_type: string[];
  category: string;
  category_specification: string[];
  territorial_scope: string[];
  content_date: string;
  application_date: string;
  decision_facts: string;
  source_type: string;
  automated_detection: 'Yes' | 'No';
  automated_decision: string;
  puid: string;
}

/** Our stored values to the database's keys (older statements wrote AUTOMATED_DECISION_NOT). */
const AUTOMATED: Record<string, string> = {
  AUTOMATED_DECISION_FULLY: 'AUTOMATED_DECISION_FULLY',
  AUTOMATED_DECISION_PARTIALLY: 'AUTOMATED_DECISION_PARTIALLY',
  AUTOMATED_DECISION_NOT: 'AUTOMATED_DECISION_NOT_AUTOMATED',
  AUTOMATED_DECISION_NOT_AUTOMATED: 'AUTOMATED_DECISION_NOT_AUTOMATED',
};
const clip = (value: unknown, max: number) => String(value ?? '').slice(0, max);

/** Maps our stored statement to the database's body; null when nothing is to be sent (with the reason). */
export function toDsaStatement(row: StatementForExport): { statement: DsaStatement } | { excluded: string } {
  if (row.origin === 'removal_order') return { excluded: 'removal order (DSA Art. 17(5))' };
  const body = JSON.parse(row.body) as Record<string, unknown>;
  const visibility = (body.decision_visibility as string[] | undefined) ?? [];
  if (visibility.length === 0) return { excluded: 'no restriction' };
  const illegal = body.decision_ground === 'DECISION_GROUND_ILLEGAL_CONTENT';
  const scope = ((body.territorial_scope as string[] | undefined) ?? []).filter((c) => EEA.includes(c));
  const source =
    row.origin === 'referral'
      ? 'SOURCE_TYPE_OTHER_NOTIFICATION'
      : row.origin === 'alert'
        ? 'SOURCE_TYPE_OTHER_NOTIFICATION'
        : row.origin === 'report'
          ? row.flagSource === 'trusted_flagger'
            ? 'SOURCE_TRUSTED_FLAGGER'
            : 'SOURCE_ARTICLE_16'
          : 'SOURCE_VOLUNTARY';
  const explanation = clip(
    illegal ? body.illegal_content_explanation : body.incompatible_content_explanation,
    2000,
  );
  const ground = clip(illegal ? body.illegal_content_legal_ground : body.incompatible_content_ground, 500);
  return {
    statement: {
      decision_visibility: visibility,
      decision_ground: illegal ? 'DECISION_GROUND_ILLEGAL_CONTENT' : 'DECISION_GROUND_INCOMPATIBLE_CONTENT',
      ...(illegal
        ? { illegal_content_legal_ground: ground, illegal_content_explanation: explanation }
        : { incompatible_content_ground: ground, incompatible_content_explanation: explanation }),
      content_type: (body.content_type as string[] | undefined) ?? ['CONTENT_TYPE_OTHER'],
      category: TVEC_CATEGORY,
      category_specification: [TVEC_KEYWORD],
      territorial_scope: scope.length > 0 ? scope : EU_27,
      content_date: clip(body.content_date, 10),
      application_date: clip(body.application_date, 10),
      decision_facts: clip(body.decision_facts, 5000),
      source_type: source,
      automated_detection: body.automated_detection === 'Yes' ? 'Yes' : 'No',
      automated_decision: AUTOMATED[String(body.automated_decision)] ?? 'AUTOMATED_DECISION_NOT_AUTOMATED',
      puid: row.id,
    },
  };
}

/** The database's own rules (StatementStoreRequest), checked before sending so that a batch is not refused whole. */
export function dsaProblems(s: DsaStatement): string[] {
  const problems: string[] = [];
  const inList = (field: string, value: unknown, list: string[]) => {
    if (typeof value !== 'string' || !list.includes(value))
      problems.push(`${field}: "${String(value)}" is not allowed`);
  };
  s.decision_visibility.forEach((v) => inList('decision_visibility', v, DECISION_VISIBILITIES));
  inList('decision_ground', s.decision_ground, DECISION_GROUNDS);
  if (s.content_type.length === 0) problems.push('content_type: required');
  s.content_type.forEach((v) => inList('content_type', v, CONTENT_TYPES));
  s.territorial_scope.forEach((v) => inList('territorial_scope', v, EEA));
  inList('source_type', s.source_type, SOURCE_TYPES);
  inList('automated_decision', s.automated_decision, AUTOMATED_DECISIONS);
  for (const field of ['content_date', 'application_date'] as const)
    if (!/^\d{4}-\d{2}-\d{2}$/.test(s[field])) problems.push(`${field}: must be Y-m-d`);
  if (s.decision_facts.length === 0) problems.push('decision_facts: required');
  if (!/^[a-zA-Z0-9-_]+$/.test(s.puid) || s.puid.length > 500)
    problems.push('puid: only letters, digits, - and _');
  if (s.decision_ground === 'DECISION_GROUND_ILLEGAL_CONTENT' && !s.illegal_content_legal_ground)
    problems.push('illegal_content_legal_ground: required for illegal content');
  if (s.decision_ground === 'DECISION_GROUND_INCOMPATIBLE_CONTENT' && !s.incompatible_content_ground)
    problems.push('incompatible_content_ground: required for content incompatible with the terms');
  return problems;
}

export function batches<T>(items: T[], size = DSA_BATCH_MAX): T[][] {
  if (size < 1 || size > DSA_BATCH_MAX)
    throw new ValidationError(`a batch holds 1 to ${DSA_BATCH_MAX} statements`);
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
  return out;
}

export interface DsaEndpoint {
  /** Base URL, e.g. https://transparency.dsa.ec.europa.eu (the sandbox first). */
  baseUrl: string;
  token: string;
  /** Attempts per batch for 429, 5xx and network errors. */
  attempts?: number;
  backoffMs?: number;
  fetch?: typeof fetch;
}

export interface SubmitResult {
  accepted: number;
  excluded: number;
  invalid: { puid: string; problems: string[] }[];
  refused: { puids: string[]; status: number; body: string }[];
  requests: number;
}

/** Sends one batch; retries what may pass later, not what the database refused (422 stores nothing). */
async function sendBatch(endpoint: DsaEndpoint, statements: DsaStatement[], counter: { requests: number }) {
  const attempts = endpoint.attempts ?? 4;
  const doFetch = endpoint.fetch ?? fetch;
  let last = '';
  for (let attempt = 1; attempt <= attempts; attempt++) {
    counter.requests++;
    try {
      const res = await doFetch(new URL('/api/v1/statements', endpoint.baseUrl), {
        method: 'POST',
        headers: {
          authorization: `Bearer ${endpoint.token}`,
          accept: 'application/json',
          'content-type': 'application/json',
        },
        body: JSON.stringify({ statements }),
        signal: AbortSignal.timeout(30_000),
      });
      const text = await res.text();
      if (res.status === 201 || res.status === 200) return { ok: true as const };
      if (res.status !== 429 && res.status < 500)
        return { ok: false as const, status: res.status, body: text.slice(0, 2000) };
      last = `HTTP ${res.status}`;
    } catch (err) {
      last = err instanceof Error ? err.message : String(err);
    }
    if (attempt < attempts)
      await new Promise((r) => setTimeout(r, (endpoint.backoffMs ?? 1000) * 2 ** (attempt - 1)));
  }
  return { ok: false as const, status: 0, body: `gave up after ${attempts} attempts: ${last}` };
}

export class DsaExporter {
  constructor(
    private readonly db: Db,
    /** What was sent (or left out) is recorded in a unit of work with its audit record. */
    private readonly transactions: Transactions,
  ) {}

  /** Marks statements accepted by the database (or excluded), with an audit record of the batch. */
  private record(
    actor: string,
    orgId: number,
    statementIds: string[],
    status: 'accepted' | 'excluded',
    endpoint: DsaEndpoint,
  ): Promise<void> {
    if (statementIds.length === 0) return Promise.resolve();
    return this.transactions.run(actor, async (unit) => {
      await new DsaStore(unit.db).mark(orgId, statementIds, status, new Date().toISOString());
      await unit.audit({
        orgId,
        action: status === 'accepted' ? 'dsa.submit' : 'dsa.exclude',
        subjectType: 'dsa_statements',
        subjectId: statementIds[0],
        detail: {
          statements: statementIds.length,
          first: statementIds[0],
          last: statementIds[statementIds.length - 1],
          ...(status === 'accepted' ? { endpoint: new URL(endpoint.baseUrl).origin } : {}),
        },
      });
    });
  }

  /** The statements of the period that would be sent, mapped and checked (for review or a dry run). */
  async preview(orgId: number, period: Period, limit = 10_000) {
    const rows = await new DsaStore(this.db).pending(orgId, period.from, period.to, limit);
    return rows.map((row) => ({ id: row.id, ...toDsaStatement(row) }));
  }

  /** Sends everything not yet accepted in the period, in batches of at most 100, and records what was accepted. */
  async submit(
    actor: string,
    orgId: number,
    period: Period,
    endpoint: DsaEndpoint,
    batchSize = DSA_BATCH_MAX,
  ): Promise<SubmitResult> {
    const store = new DsaStore(this.db);
    const result: SubmitResult = { accepted: 0, excluded: 0, invalid: [], refused: [], requests: 0 };
    const skip = new Set<string>();
    for (;;) {
      const rows = (await store.pending(orgId, period.from, period.to, 1000 + skip.size)).filter(
        (r) => !skip.has(r.id),
      );
      if (rows.length === 0) return result;
      const ready: DsaStatement[] = [];
      const excluded: string[] = [];
      for (const row of rows) {
        const mapped = toDsaStatement(row);
        if ('excluded' in mapped) {
          excluded.push(row.id);
          continue;
        }
        const problems = dsaProblems(mapped.statement);
        if (problems.length > 0) {
          result.invalid.push({ puid: row.id, problems });
          skip.add(row.id);
        } else ready.push(mapped.statement);
      }
      await this.record(actor, orgId, excluded, 'excluded', endpoint);
      result.excluded += excluded.length;
      for (const batch of batches(ready, batchSize)) {
        const sent = await sendBatch(endpoint, batch, result);
        if (sent.ok) {
          await this.record(
            actor,
            orgId,
            batch.map((s) => s.puid),
            'accepted',
            endpoint,
          );
          result.accepted += batch.length;
        } else {
          result.refused.push({ puids: batch.map((s) => s.puid), status: sent.status, body: sent.body });
          for (const s of batch) skip.add(s.puid);
        }
      }
    }
  }
}
