/**
 * The audit trail: append-only and hash-chained. Each record carries the SHA-256 of the previous record's hash
 * and its own canonical content, so changing, removing or reordering any record breaks every hash after it;
 * verify() walks the chain and names the first record that does not fit.
 */
import { createHash } from 'node:crypto';
import { nowIso, type Db, type Tx } from './database.js';
import { decodeCursor, pageLimit, toPage, type Page } from './pagination.js';
import type { AuditRow } from './schema.js';

export const GENESIS_HASH = '0'.repeat(64);

export interface AuditEvent {
  orgId: number | null;
  /** Who: `key:12`, `user:3`, `system`, `cli`. */
  actor: string;
  /** What, as a verb phrase: `bank.create`, `entry.delete`, `key.revoke`... */
  action: string;
  subjectType: string;
  subjectId: string | number;
  detail?: Record<string, unknown>;
}

export interface AuditRecord extends Required<Omit<AuditEvent, 'subjectId'>> {
  id: number;
  subjectId: string;
  createdAt: string;
  prevHash: string;
  hash: string;
}

/** JSON with object keys sorted at every level: the same content always hashes the same. */
export function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) {
    let out = '[';
    for (let i = 0; i < value.length; i++) out += (i ? ',' : '') + canonicalJson(value[i]);
    return out + ']';
  }
  if (value && typeof value === 'object') {
    // Spelled out (no entries/filter/map arrays): the feed signs and members check every shared record with it.
    const object = value as Record<string, unknown>;
    const keys = Object.keys(object).sort();
    let out = '{';
    for (const key of keys) {
      const v = object[key];
      if (v === undefined) continue;
      out += (out.length > 1 ? ',' : '') + JSON.stringify(key) + ':' + canonicalJson(v);
    }
    return out + '}';
  }
  return JSON.stringify(value ?? null);
}

export function recordHash(
  prevHash: string,
  row: Omit<AuditRow, 'id' | 'hash' | 'prev_hash'> & { id: number },
): string {
  const content = canonicalJson({
    id: row.id,
    org_id: row.org_id,
    actor: row.actor,
    action: row.action,
    subject_type: row.subject_type,
    subject_id: row.subject_id,
    detail: JSON.parse(row.detail) as unknown,
    created_at: row.created_at,
  });
  return createHash('sha256').update(prevHash).update('\n').update(content).digest('hex');
}

function toRecord(row: AuditRow): AuditRecord {
  return {
    id: row.id,
    orgId: row.org_id,
    actor: row.actor,
    action: row.action,
    subjectType: row.subject_type,
    subjectId: row.subject_id,
    detail: JSON.parse(row.detail) as Record<string, unknown>,
    createdAt: row.created_at,
    prevHash: row.prev_hash,
    hash: row.hash,
  };
}

/** The chain's head as last appended: kept apart from the log so that removing its newest records shows. */
export interface AuditHead {
  seq: number;
  hash: string;
}

export type VerifyResult =
  | { ok: true; records: number; lastHash: string; head: AuditHead }
  | { ok: false; records: number; firstBadId: number; reason: string; head?: AuditHead };

export class AuditService {
  constructor(private readonly db: Db) {}

  /**
   * Appends one record inside the caller's transaction (so the record and the change it describes commit
   * together).
   */
  async append(tx: Tx, event: AuditEvent): Promise<AuditRecord> {
    // Taking the next number locks the counter row until commit: appenders queue, and the chain stays a chain.
    const counter = await tx
      .updateTable('counters')
      .set((eb) => ({ value: eb('value', '+', 1) }))
      .where('name', '=', 'audit_chain')
      .returning('value')
      .executeTakeFirstOrThrow();
    const id = Number(counter.value);
    const last = await tx
      .selectFrom('audit_log')
      .select(['id', 'hash'])
      .where('id', '=', id - 1)
      .executeTakeFirst();
    const prevHash = last?.hash ?? GENESIS_HASH;
    const row = {
      id,
      org_id: event.orgId,
      actor: event.actor,
      action: event.action,
      subject_type: event.subjectType,
      subject_id: String(event.subjectId),
      detail: canonicalJson(event.detail ?? {}),
      created_at: nowIso(),
    };
    const hash = recordHash(prevHash, row);
    await tx
      .insertInto('audit_log')
      .values({ ...row, prev_hash: prevHash, hash })
      .execute();
    await tx
      .updateTable('audit_head')
      .set({ seq: id, hash, updated_at: row.created_at })
      .where('name', '=', 'audit_chain')
      .execute();
    return toRecord({ ...row, prev_hash: prevHash, hash });
  }

  /** Records in id order; an organisation's own records, or every record for instance administrators (orgId null). */
  async list(
    orgId: number | null,
    options: { cursor?: string; limit?: number; order?: 'asc' | 'desc' } = {},
  ): Promise<Page<AuditRecord>> {
    const limit = pageLimit(options.limit);
    const after = decodeCursor(options.cursor);
    const newestFirst = options.order === 'desc';
    let query = this.db.selectFrom('audit_log').selectAll();
    // Oldest first (the chain's order) by default; newest first pages backwards from the head.
    if (newestFirst) {
      if (options.cursor) query = query.where('id', '<', after);
    } else query = query.where('id', '>', after);
    if (orgId !== null) query = query.where('org_id', '=', orgId);
    return toPage(
      await query
        .orderBy('id', newestFirst ? 'desc' : 'asc')
        .limit(limit + 1)
        .execute(),
      limit,
      toRecord,
    );
  }

  async head(): Promise<AuditHead> {
    const row = await this.db
      .selectFrom('audit_head')
      .select(['seq', 'hash'])
      .where('name', '=', 'audit_chain')
      .executeTakeFirst();
    return row ? { seq: Number(row.seq), hash: row.hash } : { seq: 0, hash: GENESIS_HASH };
  }

  /**
   * Walks the whole chain, then holds its end against the stored head (and against a head kept elsewhere, when
   * given): a chain that stops short of its head lost its newest records.
   */
  async verify(onProgress?: (records: number) => void, expected?: AuditHead): Promise<VerifyResult> {
    const walked = await this.walk(onProgress);
    if (!walked.ok) return walked;
    for (const [head, where] of [
      [await this.head(), 'the stored head'],
      ...(expected ? [[expected, 'the head you kept'] as const] : []),
    ] as const) {
      if (head.seq > walked.records)
        return {
          ok: false,
          records: walked.records,
          firstBadId: walked.records + 1,
          reason: `the chain ends at record ${walked.records} but ${where} is record ${head.seq}: records ${walked.records + 1} to ${head.seq} were removed`,
          head,
        };
      if (head.seq === walked.records && head.hash !== walked.lastHash)
        return {
          ok: false,
          records: walked.records,
          firstBadId: head.seq,
          reason: `record ${head.seq} does not have the hash ${where} names (${head.hash})`,
          head,
        };
    }
    return { ...walked, head: { seq: walked.records, hash: walked.lastHash } };
  }

  /** Walks the whole chain in batches; the first record whose links or content do not fit is reported. */
  private async walk(
    onProgress?: (records: number) => void,
  ): Promise<
    | { ok: true; records: number; lastHash: string }
    | { ok: false; records: number; firstBadId: number; reason: string }
  > {
    let prevHash = GENESIS_HASH;
    let expectedId = 1;
    let count = 0;
    for (;;) {
      const rows = await this.db
        .selectFrom('audit_log')
        .selectAll()
        .where('id', '>=', expectedId)
        .orderBy('id')
        .limit(5000)
        .execute();
      if (rows.length === 0) return { ok: true, records: count, lastHash: prevHash };
      for (const row of rows) {
        if (row.id !== expectedId)
          return {
            ok: false,
            records: count,
            firstBadId: expectedId,
            reason: `record ${expectedId} is missing (next is ${row.id})`,
          };
        if (row.prev_hash !== prevHash)
          return {
            ok: false,
            records: count,
            firstBadId: row.id,
            reason: 'its link to the previous record does not match',
          };
        if (recordHash(prevHash, row) !== row.hash)
          return {
            ok: false,
            records: count,
            firstBadId: row.id,
            reason: 'its content does not match its hash (it was changed)',
          };
        prevHash = row.hash;
        expectedId++;
        count++;
      }
      onProgress?.(count);
    }
  }
}
