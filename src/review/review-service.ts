/**
 * Submissions, cases, decisions, actions and statements of reasons. A submission with signals gets its verdict
 * in the same request: no match, matched and acted on (a `block` policy), queued for review, or logged. Every
 * decision becomes an action in the outbox and a statement of reasons in the same transaction as the decision,
 * so a crash can lose neither; the webhook deliverer sends the outbox.
 */
import { createHash, randomUUID } from 'node:crypto';
import { ConflictError, KaitiakiError, MediaError, NotFoundError, ValidationError } from '../core/errors.js';
import { checkFetchable, fetchMedia } from '../media/fetch-media.js';
import type { AppContext, Mutation } from '../context.js';
import type { MatchEvidence, SignalInput } from '../matching/match-service.js';
import { canonicalJson } from '../store/audit.js';
import { nowIso } from '../store/database.js';
import { prepareEntry } from '../store/entries.js';
import { hashBuffer, signalsOf } from '../hashing/hash-file.js';
import { pageLimit, type Page } from '../store/pagination.js';
import { sql, type Selectable } from 'kysely';
import type { CasesTable } from '../store/schema.js';
import { actionForMatches, POLICY_ACTIONS, type Policy, type PolicyAction } from './policy.js';
import { statementOfReasons, type Decision, type GroundType } from './statements.js';
import { signAppealToken } from '../appeals/links.js';
import { recordDecisionFact } from '../transparency/facts.js';
import { OrgSettingsStore } from '../store/org-settings.js';

export type Verdict = 'no-match' | 'actioned' | 'queued' | 'logged' | 'pending' | 'failed';

export interface SubmissionInput {
  externalId: string;
  signals: SignalInput[];
  uploaderId?: string;
  contentType?: 'photo' | 'video' | 'other';
  context?: { surface?: string; time?: string; country?: string; url?: string };
  /** The uploaded file, kept for review when the platform sent it. */
  media?: Buffer;
}

export interface SubmissionResult {
  id: number;
  externalId: string;
  verdict: Verdict;
  action: PolicyAction | null;
  caseId: number | null;
  matches: MatchEvidence[];
  createdAt: string;
  /** True when this answer is the stored one for a repeated Idempotency-Key. */
  replayed: boolean;
}

export interface CaseView {
  id: number;
  orgId: number;
  submissionId: number | null;
  externalId: string | null;
  status: string;
  priority: string;
  dueAt: string;
  assignee: string | null;
  evidence: unknown[];
  createdAt: string;
  updatedAt: string;
  /** Goes up on every change a reviewer should see; a decision names the version it was made on. */
  version: number;
  /** Who has the case open now (null when nobody, or the claim has run out), and until when. */
  claimedBy: string | null;
  claimExpiresAt: string | null;
}

/** The queue's filters (all optional; combined with AND). */
export interface CaseFilter {
  status?: 'open' | 'decided';
  priority?: 'urgent' | 'normal';
  /** Where the case came from: a hash match, a user report, or an alert. */
  source?: 'match' | 'report' | 'alert';
  bankId?: number;
  label?: string;
  /** A person's label (`user:4`), `me` resolved by the caller, or `none` for unclaimed cases. */
  claimedBy?: string;
  /** The platform's content id, exactly. */
  externalId?: string;
}

/** How long opening a case keeps it for one reviewer (renewed while the case stays open on their screen). */
export const CLAIM_MS = 10 * 60_000;

export interface ReportInput {
  kind: 'report' | 'alert';
  /** The platform's content id (reports), or absent for a URL alert about content not yet known. */
  externalId?: string;
  url?: string;
  /** Who says so: 'user', or an alert source such as 'tcap'. */
  source: string;
  /** E.g. a GIFCT behavioural label, or the group an alert attributes. */
  category?: string;
  detail?: Record<string, unknown>;
}

export interface DecisionInput {
  decision: Decision;
  groundType: GroundType;
  ground: string;
  reason: string;
  /** Hash the submission's signals into this bank, so one decision protects everyone downstream. */
  addToBankId?: number;
  /** The case version the reviewer saw; a decision on a case changed since then is refused. */
  version?: number;
}

/** Review deadlines: urgent cases within an hour (the TCO Regulation's removal-order deadline), others a day. */
const SLA_MS: Record<string, number> = { urgent: 3_600_000, normal: 86_400_000 };
const DEFAULT_TERMS_GROUND = 'Terms of service: terrorist and violent extremist content';

function toCase(row: Selectable<CasesTable>, now = nowIso()): CaseView {
  const claimed = row.claimed_by !== null && row.claim_expires_at !== null && row.claim_expires_at > now;
  return {
    id: row.id,
    orgId: row.org_id,
    submissionId: row.submission_id,
    externalId: row.external_id,
    status: row.status,
    priority: row.priority,
    dueAt: row.due_at,
    assignee: row.assignee,
    evidence: JSON.parse(row.evidence) as unknown[],
    createdAt: row.created_at,
    updatedAt: row.updated_at,
    version: Number(row.version),
    claimedBy: claimed ? row.claimed_by : null,
    claimExpiresAt: claimed ? row.claim_expires_at : null,
  };
}

/** The queue's order: urgent before normal ('urgent' > 'normal'), then the earliest due, then the oldest case. */
interface QueueCursor {
  p: string;
  d: string;
  i: number;
}

function encodeQueueCursor(c: CaseView): string {
  return Buffer.from(JSON.stringify({ p: c.priority, d: c.dueAt, i: c.id })).toString('base64url');
}

function decodeQueueCursor(cursor: string): QueueCursor {
  try {
    const c = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')) as Partial<QueueCursor>;
    if (
      typeof c.p === 'string' &&
      typeof c.d === 'string' &&
      typeof c.i === 'number' &&
      Number.isSafeInteger(c.i)
    )
      return { p: c.p, d: c.d, i: c.i };
  } catch {
    // fall through to the error below
  }
  throw new ValidationError(
    'cursor is not one this server issued; start again without a cursor',
    'KAI_ERR_BAD_CURSOR',
  );
}

/** A LIKE pattern that finds a literal string (for the JSON evidence column). */
function likeLiteral(text: string): string {
  return text.replace(/[!%_]/g, (c) => `!${c}`);
}

function verdictOf(action: PolicyAction | null): Verdict {
  if (action === null) return 'no-match';
  if (action === 'block') return 'actioned';
  return action === 'log' ? 'logged' : 'queued';
}

/** Idempotency keys are 1-200 visible ASCII characters, whatever the body's format. */
export function assertIdempotencyKey(key: string): void {
  if (!/^[\x21-\x7e]{1,200}$/.test(key))
    throw new ValidationError(
      'Idempotency-Key must be 1-200 visible ASCII characters',
      'KAI_ERR_BAD_IDEMPOTENCY_KEY',
    );
}

export class ReviewService {
  constructor(private readonly ctx: AppContext) {}

  private get db() {
    return this.ctx.database.db;
  }

  /** Policies per organisation, kept briefly: every submission reads them. */
  private readonly policyCache = new Map<number, { own: Policy[]; effective: Policy[]; until: number }>();

  /** The organisation's own policies (as set through the API). */
  async policies(orgId: number): Promise<Policy[]> {
    return (await this.cachedPolicies(orgId)).own;
  }

  /** What matching applies: the own policies plus the policy chosen for each accepted share. */
  async effectivePolicies(orgId: number): Promise<Policy[]> {
    return (await this.cachedPolicies(orgId)).effective;
  }

  private async cachedPolicies(orgId: number) {
    const cached = this.policyCache.get(orgId);
    if (cached && cached.until > Date.now()) return cached;
    const loaded = { ...(await this.loadPolicies(orgId)), until: Date.now() + 5_000 };
    this.policyCache.set(orgId, loaded);
    return loaded;
  }

  private async loadPolicies(orgId: number): Promise<{ own: Policy[]; effective: Policy[] }> {
    const rows = await this.db
      .selectFrom('policies')
      .selectAll()
      .where('org_id', '=', orgId)
      .orderBy('id')
      .execute();
    const own = rows.map((r) => ({ bankId: r.bank_id, label: r.label, action: r.action as PolicyAction }));
    // Another organisation's bank acts here only as the receiver chose when it accepted the share (a bank policy,
    // so it outranks the receiver's any-bank policies; a bank-and-label policy of its own still wins).
    const shared = [...(await this.ctx.banks.sharePolicies(orgId))]
      .filter(([bankId]) => !own.some((p) => p.bankId === bankId && p.label === null))
      .map(([bankId, action]) => ({ bankId, label: null, action: action as PolicyAction }));
    return { own, effective: [...own, ...shared] };
  }

  /** Drops cached policies (after a share was accepted, changed or left). */
  forgetPolicies(orgId: number): void {
    this.policyCache.delete(orgId);
  }

  /** Replaces the organisation's policies (an empty list restores the defaults). */
  async setPolicies(actor: string, orgId: number, policies: Policy[]): Promise<Policy[]> {
    for (const p of policies) {
      if (!(POLICY_ACTIONS as readonly string[]).includes(p.action))
        throw new ValidationError(`policy action must be one of ${POLICY_ACTIONS.join(', ')}`);
      if (p.bankId !== null) await this.ctx.banks.getVisible(orgId, p.bankId);
    }
    await this.ctx.mutate(actor, async (m) => {
      await m.db.deleteFrom('policies').where('org_id', '=', orgId).execute();
      if (policies.length > 0) {
        await m.db
          .insertInto('policies')
          .values(
            policies.map((p) => ({
              org_id: orgId,
              bank_id: p.bankId,
              label: p.label,
              action: p.action,
              created_at: nowIso(),
            })),
          )
          .execute();
      }
      await m.audit({
        orgId,
        action: 'policies.set',
        subjectType: 'organisation',
        subjectId: orgId,
        detail: { policies },
      });
    });
    this.policyCache.delete(orgId);
    return this.policies(orgId);
  }

  async submit(
    actor: string,
    orgId: number,
    input: SubmissionInput,
    idempotencyKey?: string,
  ): Promise<SubmissionResult> {
    if (idempotencyKey !== undefined) assertIdempotencyKey(idempotencyKey);
    const { media, ...described } = input;
    const mediaSha256 = media ? createHash('sha256').update(media).digest('hex') : null;
    const requestHash = createHash('sha256')
      .update(canonicalJson({ ...described, mediaSha256 }))
      .digest('hex');
    // A repeated Idempotency-Key is caught by the unique index when the write commits (see the catch below):
    // retries are rare, so the common path costs no extra read.
    const matches = await this.ctx.matcher.match(orgId, input.signals);
    const policyAction = actionForMatches(
      matches.map((m) => ({
        bankId: m.bank.id,
        labels: m.entry.labels,
        signalType: m.signalType,
        distance: m.distance,
      })),
      await this.effectivePolicies(orgId),
    );
    const verdict = verdictOf(policyAction);
    if (media) await this.ctx.media.put(orgId, media);
    try {
      return await this.ctx.mutateGrouped(actor, async (m) => {
        const createdAt = nowIso();
        const submission = await m.db
          .insertInto('submissions')
          .values({
            org_id: orgId,
            external_id: input.externalId,
            idempotency_key: idempotencyKey ?? null,
            request_hash: requestHash,
            signals: JSON.stringify(input.signals),
            uploader_id: input.uploaderId ?? null,
            context: JSON.stringify({ ...(input.context ?? {}), content_type: input.contentType ?? null }),
            verdict,
            case_id: null,
            created_at: createdAt,
            media_sha256: mediaSha256,
            answer: JSON.stringify({ action: policyAction, matches }),
          })
          .returning('id')
          .executeTakeFirstOrThrow();
        const caseId = await this.applyVerdict(
          m,
          orgId,
          submission.id,
          input.externalId,
          matches,
          policyAction,
        );
        await m.audit({
          orgId,
          action: 'submission.create',
          subjectType: 'submission',
          subjectId: submission.id,
          detail: { external_id: input.externalId, verdict, matches: matches.length },
        });
        return {
          id: submission.id,
          externalId: input.externalId,
          verdict,
          action: policyAction,
          caseId,
          matches,
          createdAt,
          replayed: false,
        };
      });
    } catch (err) {
      return this.replayOnConflict(err, orgId, idempotencyKey, requestHash);
    }
  }

  /**
   * A write refused by the unique (organisation, Idempotency-Key) index is a retry, or a race between two
   * retries: answer with the stored result (or refuse a different body under the same key).
   */
  private async replayOnConflict(
    err: unknown,
    orgId: number,
    idempotencyKey: string | undefined,
    requestHash: string,
  ): Promise<SubmissionResult> {
    if (idempotencyKey && /unique|constraint/i.test(err instanceof Error ? err.message : '')) {
      const replay = await this.replay(orgId, idempotencyKey, requestHash);
      if (replay) return replay;
    }
    throw err;
  }

  /** Opens a case for a queued or actioned verdict, and acts automatically on a block; returns the case id. */
  private async applyVerdict(
    m: Mutation,
    orgId: number,
    submissionId: number,
    externalId: string,
    matches: MatchEvidence[],
    policyAction: PolicyAction | null,
  ): Promise<number | null> {
    const verdict = verdictOf(policyAction);
    if (verdict !== 'queued' && verdict !== 'actioned') return null;
    const priority = policyAction === 'review-urgent' || policyAction === 'block' ? 'urgent' : 'normal';
    const caseId = await this.openCase(m, orgId, submissionId, externalId, priority, matches);
    await m.db.updateTable('submissions').set({ case_id: caseId }).where('id', '=', submissionId).execute();
    if (verdict === 'actioned') {
      const banks = [...new Set(matches.map((x) => x.bank.name))].join(', ');
      await this.recordDecision(
        m,
        orgId,
        caseId,
        {
          decision: 'remove',
          groundType: 'terms',
          ground: DEFAULT_TERMS_GROUND,
          reason: `Identical or near-identical to known content in ${banks}.`,
        },
        'system:policy',
        true,
      );
    }
    return caseId;
  }

  /**
   * A video upload: stored, answered at once with verdict `pending`, then hashed (vPDQ, MD5, SHA-256) and
   * matched in the background; the verdict goes to the platform's webhooks as a `submission.verdict` action.
   * Pending work survives a restart: `resumePending` picks it up at start-up.
   */
  async submitMedia(
    actor: string,
    orgId: number,
    input: Omit<SubmissionInput, 'signals'> & { media: Buffer },
    idempotencyKey?: string,
  ): Promise<SubmissionResult> {
    const { media, ...described } = input;
    const mediaSha256 = await this.ctx.media.put(orgId, media);
    return this.insertPending(actor, orgId, described, mediaSha256, idempotencyKey);
  }

  /** Records a submission whose signals are still to be computed, answers `pending`, and starts the work. */
  private async insertPending(
    actor: string,
    orgId: number,
    input: Omit<SubmissionInput, 'signals' | 'media'>,
    mediaSha256: string | null,
    idempotencyKey?: string,
  ): Promise<SubmissionResult> {
    const requestHash = createHash('sha256')
      .update(canonicalJson({ ...input, signals: [], mediaSha256 }))
      .digest('hex');
    let result: SubmissionResult;
    try {
      result = await this.ctx.mutateGrouped(actor, async (m) => {
        const createdAt = nowIso();
        const submission = await m.db
          .insertInto('submissions')
          .values({
            org_id: orgId,
            external_id: input.externalId,
            idempotency_key: idempotencyKey ?? null,
            request_hash: requestHash,
            signals: '[]',
            uploader_id: input.uploaderId ?? null,
            context: JSON.stringify({ ...(input.context ?? {}), content_type: input.contentType ?? null }),
            verdict: 'pending',
            case_id: null,
            created_at: createdAt,
            media_sha256: mediaSha256,
          })
          .returning('id')
          .executeTakeFirstOrThrow();
        await m.audit({
          orgId,
          action: 'submission.create',
          subjectType: 'submission',
          subjectId: submission.id,
          detail: { external_id: input.externalId, verdict: 'pending' },
        });
        return {
          id: submission.id,
          externalId: input.externalId,
          verdict: 'pending' as Verdict,
          action: null,
          caseId: null,
          matches: [],
          createdAt,
          replayed: false,
        };
      });
    } catch (err) {
      return this.replayOnConflict(err, orgId, idempotencyKey, requestHash);
    }
    void this.processPending(result.id).catch(() => undefined);
    return result;
  }

  private readonly processing = new Set<number>();

  /** Hashes and matches one pending submission, records its verdict and tells the platform. */
  async processPending(id: number): Promise<Verdict | null> {
    if (this.processing.has(id)) return null;
    this.processing.add(id);
    try {
      const row = await this.db.selectFrom('submissions').selectAll().where('id', '=', id).executeTakeFirst();
      if (!row || row.verdict !== 'pending') return null;
      let signals: SignalInput[] = [];
      let failure: string | null = null;
      try {
        const bytes = await this.pendingMedia(
          row.id,
          row.org_id,
          row.media_sha256,
          JSON.parse(row.context) as { url?: string },
        );
        const config = this.ctx.config;
        signals = signalsOf(
          await hashBuffer(bytes, {
            maxPixels: config.hashing.maxPixels,
            maxVideoSeconds: config.hashing.maxVideoSeconds,
          }),
        );
      } catch (err) {
        failure = err instanceof Error ? err.message : String(err);
      }
      const matches = failure ? [] : await this.ctx.matcher.match(row.org_id, signals);
      const policyAction = failure
        ? null
        : actionForMatches(
            matches.map((x) => ({
              bankId: x.bank.id,
              labels: x.entry.labels,
              signalType: x.signalType,
              distance: x.distance,
            })),
            await this.effectivePolicies(row.org_id),
          );
      const verdict: Verdict = failure ? 'failed' : verdictOf(policyAction);
      await this.ctx.mutate('system:hasher', async (m) => {
        const updated = await m.db
          .updateTable('submissions')
          .set({ signals: JSON.stringify(signals), verdict })
          .where('id', '=', id)
          .where('verdict', '=', 'pending')
          .executeTakeFirst();
        if (Number(updated.numUpdatedRows) === 0) return; // another process got there first
        const caseId = await this.applyVerdict(m, row.org_id, id, row.external_id, matches, policyAction);
        const now = nowIso();
        const actionId = randomUUID();
        const payload = {
          action_id: actionId,
          type: 'submission.verdict',
          submission_id: id,
          external_id: row.external_id,
          verdict,
          case_id: caseId,
          matches: matches.length,
          ...(failure ? { error: failure } : {}),
          created_at: now,
        };
        // A verdict is not a decision: case and decision ids are 0 when there is none.
        await m.db
          .insertInto('actions')
          .values({
            id: actionId,
            org_id: row.org_id,
            case_id: caseId ?? 0,
            decision_id: 0,
            type: payload.type,
            payload: JSON.stringify(payload),
            status: 'pending',
            attempts: 0,
            next_attempt_at: now,
            last_error: null,
            created_at: now,
            delivered_at: null,
          })
          .execute();
        await m.audit({
          orgId: row.org_id,
          action: 'submission.verdict',
          subjectType: 'submission',
          subjectId: id,
          detail: { verdict, matches: matches.length, ...(failure ? { error: failure } : {}) },
        });
      });
      void this.ctx.deliverer.runOnce().catch(() => undefined);
      return verdict;
    } finally {
      this.processing.delete(id);
    }
  }

  private fetchPolicy() {
    return {
      allowedHosts: this.ctx.config.fetch.allowedHosts,
      maxBytes: this.ctx.config.http.maxUploadBytes,
    };
  }

  /** The stored upload, or for a URL submission the fetched media (stored, so review can show it). */
  private async pendingMedia(
    id: number,
    orgId: number,
    sha256: string | null,
    context: { url?: string },
  ): Promise<Buffer> {
    if (sha256) return (await this.ctx.media.get(orgId, sha256)).bytes;
    if (!context.url) throw new MediaError('nothing to hash: no media and no URL', 'KAI_ERR_MEDIA_MISSING');
    const bytes = await fetchMedia(context.url, this.fetchPolicy());
    const stored = await this.ctx.media.put(orgId, bytes);
    await this.db.updateTable('submissions').set({ media_sha256: stored }).where('id', '=', id).execute();
    return bytes;
  }

  /**
   * A URL submission: checked against the allowed media hosts now, fetched, hashed and matched in the background
   * like a video upload, with the verdict by webhook.
   */
  async submitUrl(
    actor: string,
    orgId: number,
    input: Omit<SubmissionInput, 'signals'> & { url: string },
    idempotencyKey?: string,
  ): Promise<SubmissionResult> {
    checkFetchable(input.url, this.fetchPolicy());
    return this.insertPending(
      actor,
      orgId,
      { ...input, context: { ...(input.context ?? {}), url: input.url } as SubmissionInput['context'] },
      null,
      idempotencyKey,
    );
  }

  /** At start-up: finish the media submissions a stop or crash interrupted. */
  async resumePending(): Promise<number> {
    const rows = await this.db
      .selectFrom('submissions')
      .select('id')
      .where('verdict', '=', 'pending')
      .orderBy('id')
      .execute();
    for (const row of rows) await this.processPending(row.id);
    return rows.length;
  }

  private async replay(orgId: number, key: string, requestHash: string): Promise<SubmissionResult | null> {
    const row = await this.db
      .selectFrom('submissions')
      .selectAll()
      .where('org_id', '=', orgId)
      .where('idempotency_key', '=', key)
      .executeTakeFirst();
    if (!row) return null;
    if (row.request_hash !== requestHash) {
      throw new ConflictError(
        'this Idempotency-Key was used before with a different request body',
        'KAI_ERR_IDEMPOTENCY_MISMATCH',
      );
    }
    const answer = row.answer
      ? (JSON.parse(row.answer) as { action: PolicyAction | null; matches: MatchEvidence[] })
      : null;
    const evidence = answer
      ? answer.matches
      : row.case_id
        ? ((await this.getCase(orgId, row.case_id)).evidence as MatchEvidence[])
        : [];
    return {
      id: row.id,
      externalId: row.external_id,
      verdict: row.verdict as Verdict,
      action: answer?.action ?? null,
      caseId: row.case_id,
      matches: evidence,
      createdAt: row.created_at,
      replayed: true,
    };
  }

  async getSubmission(orgId: number, id: number) {
    const row = await this.db
      .selectFrom('submissions')
      .selectAll()
      .where('org_id', '=', orgId)
      .where('id', '=', id)
      .executeTakeFirst();
    if (!row) throw new NotFoundError(`submission ${id} not found`, 'KAI_ERR_SUBMISSION_NOT_FOUND');
    return {
      id: row.id,
      externalId: row.external_id,
      verdict: row.verdict as Verdict,
      caseId: row.case_id,
      signals: JSON.parse(row.signals) as SignalInput[],
      uploaderId: row.uploader_id,
      context: JSON.parse(row.context) as Record<string, unknown>,
      createdAt: row.created_at,
      mediaSha256: row.media_purged_at ? null : row.media_sha256,
      mediaPurgedAt: row.media_purged_at,
    };
  }

  /**
   * Retention: media and uploader ids of submissions older than the retention period are deleted (files removed,
   * ids cleared), with one audit record per run. Signals, verdicts, decisions and statements stay: they are the
   * record that transparency reports and appeals rely on.
   */
  async purgeExpired(now = new Date()): Promise<{ media: number; uploaderIds: number; cutoff: string }> {
    const cutoff = new Date(now.getTime() - this.ctx.config.retention.mediaDays * 86_400_000).toISOString();
    // Content removed after a removal order stays while its TCO Art. 6 preservation (maybe extended) runs.
    const preserved = await this.ctx.orders.preservedContent(now);
    const due = (
      await this.db
        .selectFrom('submissions')
        .select(['id', 'org_id', 'external_id', 'media_sha256', 'uploader_id'])
        .where('created_at', '<', cutoff)
        .where('media_purged_at', 'is', null)
        .where((eb) => eb.or([eb('media_sha256', 'is not', null), eb('uploader_id', 'is not', null)]))
        .limit(10_000)
        .execute()
    ).filter((r) => !preserved.get(r.org_id)?.has(r.external_id));
    let media = 0;
    let uploaderIds = 0;
    for (const row of due) {
      if (row.media_sha256) {
        // The same file may belong to a newer submission still within the period: keep it then.
        const newer = await this.db
          .selectFrom('submissions')
          .select('id')
          .where('org_id', '=', row.org_id)
          .where('media_sha256', '=', row.media_sha256)
          .where('created_at', '>=', cutoff)
          .executeTakeFirst();
        if (!newer && (await this.ctx.media.delete(row.org_id, row.media_sha256))) media++;
      }
      if (row.uploader_id) uploaderIds++;
    }
    if (due.length > 0) {
      await this.ctx.mutate('system:retention', async (m) => {
        await m.db
          .updateTable('submissions')
          .set({ media_purged_at: now.toISOString(), uploader_id: null })
          .where(
            'id',
            'in',
            due.map((r) => r.id),
          )
          .execute();
        await m.audit({
          orgId: null,
          action: 'retention.purge',
          subjectType: 'submissions',
          subjectId: `before ${cutoff}`,
          detail: {
            submissions: due.length,
            media,
            uploader_ids: uploaderIds,
            retention_days: this.ctx.config.retention.mediaDays,
          },
        });
      });
    }
    return { media, uploaderIds, cutoff };
  }

  private async openCase(
    m: Mutation,
    orgId: number,
    submissionId: number,
    externalId: string,
    priority: string,
    evidence: MatchEvidence[],
  ): Promise<number> {
    const now = new Date();
    const row = await m.db
      .insertInto('cases')
      .values({
        org_id: orgId,
        submission_id: submissionId,
        external_id: externalId,
        status: 'open',
        priority,
        due_at: new Date(now.getTime() + SLA_MS[priority]).toISOString(),
        assignee: null,
        evidence: JSON.stringify(evidence),
        created_at: now.toISOString(),
        updated_at: now.toISOString(),
      })
      .returning('id')
      .executeTakeFirstOrThrow();
    await m.audit({
      orgId,
      action: 'case.open',
      subjectType: 'case',
      subjectId: row.id,
      detail: { submission_id: submissionId, priority },
    });
    return row.id;
  }

  /**
   * A user report or an alert: added to the open case for the same content when there is one, else a new case.
   * Alerts are urgent (a hub or authority flagged the URL); user reports are normal priority.
   */
  async report(
    actor: string,
    orgId: number,
    input: ReportInput,
  ): Promise<{ reportId: number; caseId: number; newCase: boolean }> {
    if (!input.externalId && !input.url)
      throw new ValidationError('a report names the content: external_id or url');
    return this.ctx.mutate(actor, async (m) => {
      const ref = input.externalId ?? input.url!;
      const open = await m.db
        .selectFrom('cases')
        .select('id')
        .where('org_id', '=', orgId)
        .where('external_id', '=', ref)
        .where('status', '=', 'open')
        .executeTakeFirst();
      const priority = input.kind === 'alert' ? 'urgent' : 'normal';
      let caseId = open?.id;
      if (caseId === undefined) {
        const now = new Date();
        const created = await m.db
          .insertInto('cases')
          .values({
            org_id: orgId,
            submission_id: null,
            external_id: ref,
            status: 'open',
            priority,
            due_at: new Date(now.getTime() + SLA_MS[priority]).toISOString(),
            assignee: null,
            evidence: '[]',
            created_at: now.toISOString(),
            updated_at: now.toISOString(),
          })
          .returning('id')
          .executeTakeFirstOrThrow();
        caseId = created.id;
        await m.audit({
          orgId,
          action: 'case.open',
          subjectType: 'case',
          subjectId: caseId,
          detail: { from: input.kind, priority },
        });
      } else if (priority === 'urgent') {
        await m.db
          .updateTable('cases')
          .set({ priority: 'urgent', updated_at: nowIso(), version: sql`version + 1` })
          .where('id', '=', caseId)
          .execute();
      } else {
        // New evidence on a case someone may have open: a decision made without seeing it is refused.
        await m.db
          .updateTable('cases')
          .set({ updated_at: nowIso(), version: sql`version + 1` })
          .where('id', '=', caseId)
          .execute();
      }
      const report = await m.db
        .insertInto('reports')
        .values({
          org_id: orgId,
          case_id: caseId,
          kind: input.kind,
          external_id: input.externalId ?? null,
          url: input.url ?? null,
          source: input.source,
          category: input.category ?? null,
          detail: JSON.stringify(input.detail ?? {}),
          created_at: nowIso(),
        })
        .returning('id')
        .executeTakeFirstOrThrow();
      await m.audit({
        orgId,
        action: `${input.kind}.create`,
        subjectType: input.kind,
        subjectId: report.id,
        detail: { case_id: caseId, source: input.source, category: input.category ?? null },
      });
      return { reportId: report.id, caseId, newCase: open === undefined };
    });
  }

  async reports(orgId: number, caseId: number) {
    const rows = await this.db
      .selectFrom('reports')
      .selectAll()
      .where('org_id', '=', orgId)
      .where('case_id', '=', caseId)
      .orderBy('id')
      .execute();
    return rows.map((r) => ({
      id: r.id,
      kind: r.kind,
      external_id: r.external_id,
      url: r.url,
      source: r.source,
      category: r.category,
      detail: JSON.parse(r.detail) as unknown,
      created_at: r.created_at,
    }));
  }

  /** The filters as a WHERE clause on `cases` (one of them left out, for the counts of its buttons). */
  private filtered(orgId: number, filter: CaseFilter, without: 'status' | 'priority' | null = null) {
    let query = this.db.selectFrom('cases').where('cases.org_id', '=', orgId);
    if (filter.status && without !== 'status') query = query.where('cases.status', '=', filter.status);
    if (filter.priority && without !== 'priority')
      query = query.where('cases.priority', '=', filter.priority);
    if (filter.externalId !== undefined) query = query.where('cases.external_id', '=', filter.externalId);
    if (filter.source === 'match') query = query.where('cases.evidence', '!=', '[]');
    if (filter.source === 'report' || filter.source === 'alert') {
      const kind = filter.source;
      query = query.where((eb) =>
        eb.exists(
          eb
            .selectFrom('reports')
            .select('reports.id')
            .whereRef('reports.case_id', '=', 'cases.id')
            .where('reports.kind', '=', kind),
        ),
      );
    }
    if (filter.bankId !== undefined) {
      const pattern = `%"bank":{"id":${filter.bankId},%`;
      query = query.where(sql<boolean>`cases.evidence like ${pattern}`);
    }
    if (filter.label !== undefined) {
      const pattern = `%"labels":[%${likeLiteral(JSON.stringify(filter.label))}%`;
      query = query.where(sql<boolean>`cases.evidence like ${pattern} escape '!'`);
    }
    if (filter.claimedBy === 'none') {
      const now = nowIso();
      query = query.where((eb) =>
        eb.or([eb('cases.claimed_by', 'is', null), eb('cases.claim_expires_at', '<=', now)]),
      );
    } else if (filter.claimedBy !== undefined) {
      query = query
        .where('cases.claimed_by', '=', filter.claimedBy)
        .where('cases.claim_expires_at', '>', nowIso());
    }
    return query;
  }

  /**
   * The review queue: urgent before normal, then the earliest due, then the oldest; keyset paging on that
   * order (no OFFSET), so page 20 of a long queue costs what page 1 does.
   */
  async listCases(
    orgId: number,
    options: CaseFilter & { cursor?: string; limit?: number } = {},
  ): Promise<Page<CaseView>> {
    const limit = pageLimit(options.limit);
    let query = this.filtered(orgId, options).selectAll('cases');
    if (options.cursor) {
      const after = decodeQueueCursor(options.cursor);
      query = query.where((eb) =>
        eb.or([
          eb('cases.priority', '<', after.p),
          eb.and([
            eb('cases.priority', '=', after.p),
            eb.or([
              eb('cases.due_at', '>', after.d),
              eb.and([eb('cases.due_at', '=', after.d), eb('cases.id', '>', after.i)]),
            ]),
          ]),
        ]),
      );
    }
    const rows = await query
      .orderBy('cases.priority', 'desc')
      .orderBy('cases.due_at')
      .orderBy('cases.id')
      .limit(limit + 1)
      .execute();
    const now = nowIso();
    const items = rows.slice(0, limit).map((r) => toCase(r, now));
    return {
      items,
      nextCursor: rows.length > limit ? encodeQueueCursor(items[items.length - 1]) : null,
    };
  }

  /** Counts for the queue's filter buttons: per status (under the other filters) and per priority. */
  async countCases(orgId: number, filter: CaseFilter = {}): Promise<Record<string, number>> {
    const byStatus = await this.filtered(orgId, filter, 'status')
      .select(['cases.status as key', (eb) => eb.fn.countAll<number>().as('n')])
      .groupBy('cases.status')
      .execute();
    const byPriority = await this.filtered(orgId, filter, 'priority')
      .select(['cases.priority as key', (eb) => eb.fn.countAll<number>().as('n')])
      .groupBy('cases.priority')
      .execute();
    return Object.fromEntries([...byStatus, ...byPriority].map((r) => [r.key, Number(r.n)]));
  }

  /**
   * Claims a case for one reviewer for CLAIM_MS (again by the same reviewer: renewed). Refused with 409 while
   * someone else's claim runs, or when the case is no longer open.
   */
  async claim(actor: string, orgId: number, caseId: number): Promise<CaseView> {
    const now = new Date();
    const updated = await this.db
      .updateTable('cases')
      .set({ claimed_by: actor, claim_expires_at: new Date(now.getTime() + CLAIM_MS).toISOString() })
      .where('org_id', '=', orgId)
      .where('id', '=', caseId)
      .where('status', '=', 'open')
      .where((eb) =>
        eb.or([
          eb('claimed_by', 'is', null),
          eb('claimed_by', '=', actor),
          eb('claim_expires_at', '<=', now.toISOString()),
        ]),
      )
      .executeTakeFirst();
    const current = await this.getCase(orgId, caseId);
    if (Number(updated.numUpdatedRows) === 0) throw await this.whyNotYours(orgId, current, actor);
    return current;
  }

  /** Gives a claim back (leaving the case, or signing out); another reviewer's claim is left alone. */
  async release(actor: string, orgId: number, caseId: number): Promise<CaseView> {
    await this.db
      .updateTable('cases')
      .set({ claimed_by: null, claim_expires_at: null })
      .where('org_id', '=', orgId)
      .where('id', '=', caseId)
      .where('claimed_by', '=', actor)
      .execute();
    return this.getCase(orgId, caseId);
  }

  /**
   * The next case for a reviewer: the most urgent open case nobody else has claimed (their own claim first,
   * e.g. after a reload), claimed for them. Null when the queue is empty.
   */
  async next(actor: string, orgId: number, skip: number[] = []): Promise<CaseView | null> {
    for (let attempt = 0; attempt < 5; attempt++) {
      const now = nowIso();
      let query = this.db
        .selectFrom('cases')
        .select('id')
        .where('org_id', '=', orgId)
        .where('status', '=', 'open')
        .where((eb) =>
          eb.or([
            eb('claimed_by', 'is', null),
            eb('claimed_by', '=', actor),
            eb('claim_expires_at', '<=', now),
          ]),
        );
      if (skip.length > 0) query = query.where('id', 'not in', skip);
      const candidate = await query
        .orderBy('priority', 'desc')
        .orderBy('due_at')
        .orderBy('id')
        .limit(1)
        .executeTakeFirst();
      if (!candidate) return null;
      try {
        return await this.claim(actor, orgId, candidate.id);
      } catch (err) {
        if (!(err instanceof ConflictError)) throw err; // taken meanwhile: try the next one
      }
    }
    return null;
  }

  /** The conflict to answer when a reviewer may not act on a case: closed, or claimed by someone else. */
  private async whyNotYours(orgId: number, current: CaseView, actor: string): Promise<ConflictError> {
    if (current.status !== 'open')
      return new ConflictError(
        `case ${current.id} is ${current.status}, not open: someone decided it already`,
        'KAI_ERR_CASE_CLOSED',
      );
    if (current.claimedBy !== null && current.claimedBy !== actor) {
      const names = await this.displayNames(orgId, [current.claimedBy]);
      return new ConflictError(
        `case ${current.id} is being reviewed by ${names[current.claimedBy]} until ${current.claimExpiresAt}`,
        'KAI_ERR_CASE_CLAIMED',
      );
    }
    return new ConflictError(
      `case ${current.id} changed since you opened it (now version ${current.version}): look at it again before deciding`,
      'KAI_ERR_CASE_STALE',
    );
  }

  /** People's names for actor labels (`user:4` → their display name, `key:2` → the key's name). */
  async displayNames(orgId: number, labels: string[]): Promise<Record<string, string>> {
    const ids = (prefix: string) =>
      [...new Set(labels)]
        .map((l) => (l.startsWith(prefix) ? Number(l.slice(prefix.length)) : NaN))
        .filter((n) => Number.isSafeInteger(n));
    const names: Record<string, string> = Object.fromEntries(labels.map((l) => [l, l]));
    const userIds = ids('user:');
    if (userIds.length > 0)
      for (const u of await this.db
        .selectFrom('users')
        .select(['id', 'display_name', 'email'])
        .where('org_id', '=', orgId)
        .where('id', 'in', userIds)
        .execute())
        names[`user:${u.id}`] = u.display_name || u.email;
    const keyIds = ids('key:');
    if (keyIds.length > 0)
      for (const k of await this.db
        .selectFrom('api_keys')
        .select(['id', 'name'])
        .where('org_id', '=', orgId)
        .where('id', 'in', keyIds)
        .execute())
        names[`key:${k.id}`] = `API key "${k.name}"`;
    return names;
  }

  /** Where each case came from: `match` (hash evidence), `report`, `alert` (for the queue's source column). */
  async sourcesOf(orgId: number, cases: CaseView[]): Promise<Map<number, string[]>> {
    const sources = new Map(cases.map((c) => [c.id, c.evidence.length > 0 ? ['match'] : []]));
    if (cases.length === 0) return sources;
    const kinds = await this.db
      .selectFrom('reports')
      .select(['case_id', 'kind'])
      .distinct()
      .where('org_id', '=', orgId)
      .where(
        'case_id',
        'in',
        cases.map((c) => c.id),
      )
      .orderBy('case_id')
      .orderBy('kind')
      .execute();
    for (const k of kinds) sources.get(k.case_id)?.push(k.kind);
    return sources;
  }

  /** The notes of bank entries that matched (evidence keeps ids only; the note may have been edited since). */
  async entryNotes(entryIds: number[]): Promise<Map<number, string | null>> {
    if (entryIds.length === 0) return new Map();
    const rows = await this.db
      .selectFrom('entries')
      .select(['id', 'note'])
      .where('id', 'in', [...new Set(entryIds)])
      .execute();
    return new Map(rows.map((r) => [r.id, r.note]));
  }

  /** The uploader's other cases in this organisation, newest first, with their last decision. */
  async uploaderHistory(orgId: number, uploaderId: string, exceptCaseId: number) {
    const rows = await this.db
      .selectFrom('submissions')
      .innerJoin('cases', 'cases.id', 'submissions.case_id')
      .select(['cases.id as case_id', 'cases.status', 'cases.external_id', 'cases.created_at'])
      .where('submissions.org_id', '=', orgId)
      .where('submissions.uploader_id', '=', uploaderId)
      .where('cases.id', '!=', exceptCaseId)
      .orderBy('cases.id', 'desc')
      .limit(20)
      .execute();
    const decisions =
      rows.length === 0
        ? []
        : await this.db
            .selectFrom('decisions')
            .select(['case_id', 'decision', 'id'])
            .where('org_id', '=', orgId)
            .where(
              'case_id',
              'in',
              rows.map((r) => r.case_id),
            )
            .orderBy('id')
            .execute();
    const last = new Map(decisions.map((d) => [d.case_id, d.decision]));
    return rows.map((r) => ({ ...r, decision: last.get(r.case_id) ?? null }));
  }

  async getCase(orgId: number, id: number): Promise<CaseView> {
    const row = await this.db
      .selectFrom('cases')
      .selectAll()
      .where('org_id', '=', orgId)
      .where('id', '=', id)
      .executeTakeFirst();
    if (!row) throw new NotFoundError(`case ${id} not found`, 'KAI_ERR_CASE_NOT_FOUND');
    return toCase(row);
  }

  async decisions(orgId: number, caseId: number) {
    return this.db
      .selectFrom('decisions')
      .selectAll()
      .where('org_id', '=', orgId)
      .where('case_id', '=', caseId)
      .orderBy('id')
      .execute();
  }

  /** A person's decision on an open case: recorded with its action, statement and audit records in one transaction. */
  async decide(
    actor: string,
    orgId: number,
    caseId: number,
    input: DecisionInput,
  ): Promise<{ decisionId: number; actionId: string | null; statementId: string | null }> {
    const current = await this.getCase(orgId, caseId);
    if (current.status !== 'open')
      throw new ConflictError(`case ${caseId} is ${current.status}, not open`, 'KAI_ERR_CASE_CLOSED');
    if (
      (input.version !== undefined && input.version !== current.version) ||
      (current.claimedBy !== null && current.claimedBy !== actor)
    )
      throw await this.whyNotYours(orgId, current, actor);
    if (input.reason.trim().length < 3) throw new ValidationError('a decision needs a reason');
    const bank =
      input.addToBankId !== undefined
        ? await this.ctx.banks.assertCanContribute(orgId, input.addToBankId)
        : null;
    const submission = current.submissionId ? await this.getSubmission(orgId, current.submissionId) : null;
    return this.ctx.mutate(actor, async (m) => {
      // The guard that counts: only one decision moves the case from the version it was seen at (a concurrent
      // one waits on the row and then finds the version moved), and never while someone else holds the claim.
      const now = nowIso();
      const guard = await m.db
        .updateTable('cases')
        .set({ version: sql`version + 1` })
        .where('id', '=', caseId)
        .where('org_id', '=', orgId)
        .where('status', '=', 'open')
        .where('version', '=', input.version ?? current.version)
        .where((eb) =>
          eb.or([
            eb('claimed_by', 'is', null),
            eb('claimed_by', '=', actor),
            eb('claim_expires_at', '<=', now),
          ]),
        )
        .executeTakeFirst();
      if (Number(guard.numUpdatedRows) === 0)
        throw await this.whyNotYours(orgId, await this.getCase(orgId, caseId), actor);
      const result = await this.recordDecision(m, orgId, caseId, input, actor, false);
      if (bank && submission) {
        for (const signal of submission.signals) {
          const row = prepareEntry(
            {
              signalType: signal.type,
              value: signal.value,
              note: `from case ${caseId}`,
              externalId: submission.externalId,
            },
            {
              bankId: bank.id,
              orgId: bank.orgId,
              contributorOrgId: orgId,
              source: 'submission',
              defaultLabels: bank.defaultLabels,
            },
          );
          const { entry, created } = await m.entries.add(row);
          if (created)
            await m.audit({
              orgId: bank.orgId,
              action: 'entry.create',
              subjectType: 'entry',
              subjectId: entry.id,
              detail: { bank_id: bank.id, case_id: caseId },
            });
        }
      }
      return result;
    });
  }

  /**
   * One decision applied to several cases (a selection in the queue): each case is decided on its own, with its
   * own version check, action and statement of reasons, so one refused case (changed, claimed, closed) does not
   * stop or undo the others. Answers per case.
   */
  async decideMany(
    actor: string,
    orgId: number,
    cases: { id: number; version: number }[],
    input: Omit<DecisionInput, 'version' | 'addToBankId'>,
  ): Promise<
    (
      | { id: number; decided: true; decisionId: number; statementId: string | null }
      | { id: number; decided: false; code: string; error: string }
    )[]
  > {
    if (new Set(cases.map((c) => c.id)).size !== cases.length)
      throw new ValidationError('each case may appear once in a bulk decision');
    const results = [];
    for (const c of cases) {
      try {
        const r = await this.decide(actor, orgId, c.id, { ...input, version: c.version });
        results.push({
          id: c.id,
          decided: true as const,
          decisionId: r.decisionId,
          statementId: r.statementId,
        });
      } catch (err) {
        if (!(err instanceof KaitiakiError) || err.httpStatus >= 500) throw err;
        results.push({ id: c.id, decided: false as const, code: err.code, error: err.message });
      }
    }
    return results;
  }

  private async recordDecision(
    m: Mutation,
    orgId: number,
    caseId: number,
    input: DecisionInput,
    decidedBy: string,
    automated: boolean,
  ) {
    const now = nowIso();
    const decision = await m.db
      .insertInto('decisions')
      .values({
        case_id: caseId,
        org_id: orgId,
        decision: input.decision,
        ground_type: input.groundType,
        ground: input.ground,
        reason: input.reason,
        automated: automated ? 1 : 0,
        decided_by: decidedBy,
        created_at: now,
      })
      .returning('id')
      .executeTakeFirstOrThrow();
    await recordDecisionFact(m.db, decision.id);
    const status = input.decision === 'escalate' ? 'open' : 'decided';
    await m.db
      .updateTable('cases')
      .set({
        status,
        priority: input.decision === 'escalate' ? 'urgent' : undefined,
        updated_at: now,
        version: sql`version + 1`,
        claimed_by: null,
        claim_expires_at: null,
      })
      .where('id', '=', caseId)
      .execute();
    await m.audit({
      orgId,
      action: 'case.decide',
      subjectType: 'case',
      subjectId: caseId,
      detail: { decision: input.decision, ground_type: input.groundType, ground: input.ground, automated },
    });
    if (input.decision === 'escalate' || input.decision === 'no-violation')
      return { decisionId: decision.id, actionId: null, statementId: null };

    const caseRow = await m.db
      .selectFrom('cases')
      .selectAll()
      .where('id', '=', caseId)
      .executeTakeFirstOrThrow();
    const submission = caseRow.submission_id
      ? await m.db
          .selectFrom('submissions')
          .selectAll()
          .where('id', '=', caseRow.submission_id)
          .executeTakeFirst()
      : undefined;
    const context = submission
      ? (JSON.parse(submission.context) as { content_type?: 'photo' | 'video' | 'other'; country?: string })
      : {};
    const evidence = JSON.parse(caseRow.evidence) as MatchEvidence[];
    const org = await m.organisations.get(orgId);
    const actionId = randomUUID();
    const statementId = randomUUID();
    const statement = statementOfReasons({
      statementId,
      decision: input.decision,
      groundType: input.groundType,
      ground: input.ground,
      reason: input.reason,
      automatedDetection: evidence.length > 0,
      automatedDecision: automated ? 'fully' : evidence.length > 0 ? 'partially' : 'not',
      contentType: context.content_type ?? 'other',
      contentId: caseRow.external_id ?? String(caseId),
      labels: [...new Set(evidence.flatMap((e) => e.entry.labels))],
      territorialScope: context.country ? [context.country] : ['EU'],
      decidedAt: now,
      contentDate: submission?.created_at ?? now,
      platformName: org.name,
    });
    // The signed appeal link (POST /v1/appeals/by-link with this token) travels with the statement.
    const appealSecret = await new OrgSettingsStore(m.db).appealSecret(orgId);
    statement.appeal_token = signAppealToken(appealSecret, { orgId, decisionId: decision.id });
    const payload = {
      action_id: actionId,
      type: `content.${input.decision}`,
      case_id: caseId,
      content: { external_id: caseRow.external_id, uploader_id: submission?.uploader_id ?? null },
      decision: {
        id: decision.id,
        decision: input.decision,
        ground_type: input.groundType,
        ground: input.ground,
        automated,
      },
      statement_id: statementId,
      statement_text: statement.plain_language,
      appeal_token: statement.appeal_token,
      created_at: now,
    };
    await m.db
      .insertInto('actions')
      .values({
        id: actionId,
        org_id: orgId,
        case_id: caseId,
        decision_id: decision.id,
        type: payload.type,
        payload: JSON.stringify(payload),
        status: 'pending',
        attempts: 0,
        next_attempt_at: now,
        last_error: null,
        created_at: now,
        delivered_at: null,
      })
      .execute();
    await m.db
      .insertInto('statements')
      .values({
        id: statementId,
        org_id: orgId,
        case_id: caseId,
        decision_id: decision.id,
        action_id: actionId,
        body: JSON.stringify(statement),
        created_at: now,
      })
      .execute();
    await m.audit({
      orgId,
      action: 'action.create',
      subjectType: 'action',
      subjectId: actionId,
      detail: { case_id: caseId, type: payload.type, statement_id: statementId },
    });
    return { decisionId: decision.id, actionId, statementId };
  }

  async assign(actor: string, orgId: number, caseId: number, assignee: string | null): Promise<CaseView> {
    await this.getCase(orgId, caseId);
    await this.ctx.mutate(actor, async (m) => {
      await m.db
        .updateTable('cases')
        .set({ assignee, updated_at: nowIso() })
        .where('id', '=', caseId)
        .execute();
      await m.audit({
        orgId,
        action: 'case.assign',
        subjectType: 'case',
        subjectId: caseId,
        detail: { assignee },
      });
    });
    return this.getCase(orgId, caseId);
  }

  /** Every statement of the organisation in creation order, in batches (for the transparency database). */
  async *statements(orgId: number, since = ''): AsyncGenerator<Record<string, unknown>[]> {
    let after = { createdAt: since, id: '' };
    for (;;) {
      const rows = await this.db
        .selectFrom('statements')
        .select(['id', 'body', 'created_at'])
        .where('org_id', '=', orgId)
        .where((eb) =>
          eb.or([
            eb('created_at', '>', after.createdAt),
            eb.and([eb('created_at', '=', after.createdAt), eb('id', '>', after.id)]),
          ]),
        )
        .orderBy('created_at')
        .orderBy('id')
        .limit(1000)
        .execute();
      if (rows.length === 0) return;
      const last = rows[rows.length - 1];
      after = { createdAt: last.created_at, id: last.id };
      yield rows.map((r) => JSON.parse(r.body) as Record<string, unknown>);
    }
  }

  async statement(orgId: number, id: string): Promise<Record<string, unknown>> {
    const row = await this.db
      .selectFrom('statements')
      .selectAll()
      .where('org_id', '=', orgId)
      .where('id', '=', id)
      .executeTakeFirst();
    if (!row) throw new NotFoundError(`statement ${id} not found`, 'KAI_ERR_STATEMENT_NOT_FOUND');
    return JSON.parse(row.body) as Record<string, unknown>;
  }
}
