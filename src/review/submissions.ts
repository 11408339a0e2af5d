/**
 * Submissions: content a platform sends for a verdict. A submission with signals gets its verdict in the same
 * request: no match, matched and acted on (a `block` policy), queued for review, or logged. Uploaded videos and
 * URLs are hashed in the background (pending work survives a restart); idempotency keys make retries safe.
 */

/**
 * Submissions, cases, decisions, actions and statements of reasons. A submission with signals gets its verdict
 * in the same request: no match, matched and acted on (a `block` policy), queued for review, or logged. Every
 * decision becomes an action in the outbox and a statement of reasons in the same transaction as the decision,
 * so a crash can lose neither; the outbox delivers it once the transaction commits.
 */
import { createHash, randomUUID } from 'node:crypto';
import { ConflictError, MediaError, ValidationError } from '../core/errors.js';
import { checkFetchable, fetchMedia } from '../media/fetch-media.js';
import type { Outbox } from '../actions/outbox.js';
import { logFailure, type Logger } from '../core/logger.js';
import type { Config } from '../config/config.js';
import type { MatchService } from '../matching/match-service.js';
import type { MediaStore } from '../media/media-store.js';
import type { BankService } from '../store/banks.js';
import type { Mutation, StoreAccess, UnitOfWork } from '../store/unit-of-work.js';
import type { MatchEvidence, SignalInput } from '../matching/match-service.js';
import { canonicalJson } from '../store/audit.js';
import { nowIso } from '../store/database.js';
import { SubmissionStore } from '../store/submissions.js';
import { hashBuffer } from '../hashing/hash-file.js';
import { actionForMatches, type PolicyAction, verdictOf, type Verdict } from './policy.js';
import { signalsOf } from '../signals/registry.js';
import type { PolicyService } from './policies.js';
import type { CaseService } from './cases.js';
import type { DecisionService } from './decisions.js';
import type { FloodGuard } from './flood.js';

export type { Verdict };

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

const DEFAULT_TERMS_GROUND = 'Terms of service: terrorist and violent extremist content';

/** Idempotency keys are 1-200 visible ASCII characters, whatever the body's format. */
export function assertIdempotencyKey(key: string): void {
  if (!/^[\x21-\x7e]{1,200}$/.test(key))
    throw new ValidationError(
      'Idempotency-Key must be 1-200 visible ASCII characters',
      'KAI_ERR_BAD_IDEMPOTENCY_KEY',
    );
}

export interface SubmissionDeps extends StoreAccess {
  readonly config: Config;
  readonly media: MediaStore;
  readonly matcher: MatchService;
  readonly banks: BankService;
  readonly outbox: Outbox;
  readonly logger: Logger;
  readonly policies: PolicyService;
  readonly cases: CaseService;
  readonly decisions: DecisionService;
  readonly flood: FloodGuard;
  mutateGrouped<T>(actor: string, fn: (unit: UnitOfWork) => Promise<T>): Promise<T>;
}

export class SubmissionService {
  constructor(private readonly ctx: SubmissionDeps) {}

  private get db() {
    return this.ctx.database.db;
  }

  /**
   * What the organisation's policies do with these matches: shared signals that flood its uploads are left out
   * (flood.ts), and a suppression bank's match means no verdict at all.
   */
  private async policyActionFor(orgId: number, matches: MatchEvidence[]): Promise<PolicyAction | null> {
    const acting = await this.ctx.flood.screen(orgId, matches);
    return actionForMatches(
      acting.map((m) => ({
        bankId: m.bank.id,
        labels: m.entry.labels,
        signalType: m.signalType,
        distance: m.distance,
        suppress: m.bank.purpose === 'suppress',
      })),
      await this.ctx.policies.effectivePolicies(orgId),
    );
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
    const policyAction = await this.policyActionFor(orgId, matches);
    const verdict = verdictOf(policyAction);
    if (media) await this.ctx.media.put(orgId, media);
    try {
      return await this.ctx.mutateGrouped(actor, async (m) => {
        const createdAt = nowIso();
        const submissionId = await new SubmissionStore(m.db).insert({
          orgId,
          externalId: input.externalId,
          idempotencyKey: idempotencyKey ?? null,
          requestHash,
          signals: input.signals,
          uploaderId: input.uploaderId ?? null,
          context: { ...(input.context ?? {}), content_type: input.contentType ?? null },
          verdict,
          createdAt,
          mediaSha256,
          answer: { action: policyAction, matches },
        });
        const caseId = await this.applyVerdict(
          m,
          orgId,
          submissionId,
          input.externalId,
          matches,
          policyAction,
        );
        await m.audit({
          orgId,
          action: 'submission.create',
          subjectType: 'submission',
          subjectId: submissionId,
          detail: { external_id: input.externalId, verdict, matches: matches.length },
        });
        return {
          id: submissionId,
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
  async replayOnConflict(
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
  async applyVerdict(
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
    const caseId = await this.ctx.cases.openCase(m, orgId, submissionId, externalId, priority, matches);
    await new SubmissionStore(m.db).setCase(submissionId, caseId);
    if (verdict === 'actioned') {
      const banks = [...new Set(matches.map((x) => x.bank.name))].join(', ');
      await this.ctx.decisions.recordDecision(
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
  async insertPending(
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
        const submissionId = await new SubmissionStore(m.db).insert({
          orgId,
          externalId: input.externalId,
          idempotencyKey: idempotencyKey ?? null,
          requestHash,
          signals: [],
          uploaderId: input.uploaderId ?? null,
          context: { ...(input.context ?? {}), content_type: input.contentType ?? null },
          verdict: 'pending',
          createdAt,
          mediaSha256,
        });
        await m.audit({
          orgId,
          action: 'submission.create',
          subjectType: 'submission',
          subjectId: submissionId,
          detail: { external_id: input.externalId, verdict: 'pending' },
        });
        return {
          id: submissionId,
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
    void this.processPending(result.id).catch(
      logFailure(this.ctx.logger, 'hashing a submission', { submission: result.id }),
    );
    return result;
  }

  private readonly processing = new Set<number>();

  /** Hashes and matches one pending submission, records its verdict and tells the platform. */
  async processPending(id: number): Promise<Verdict | null> {
    if (this.processing.has(id)) return null;
    this.processing.add(id);
    try {
      const row = await new SubmissionStore(this.db).byId(id);
      if (!row || row.verdict !== 'pending') return null;
      let signals: SignalInput[] = [];
      let failure: string | null = null;
      try {
        const bytes = await this.pendingMedia(
          row.id,
          row.orgId,
          row.mediaSha256,
          row.context as { url?: string },
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
      const matches = failure ? [] : await this.ctx.matcher.match(row.orgId, signals);
      const policyAction = failure ? null : await this.policyActionFor(row.orgId, matches);
      const verdict: Verdict = failure ? 'failed' : verdictOf(policyAction);
      await this.ctx.mutate('system:hasher', async (m) => {
        const recorded = await new SubmissionStore(m.db).recordVerdict(id, signals, verdict);
        if (!recorded) return; // another process got there first
        const caseId = await this.applyVerdict(m, row.orgId, id, row.externalId, matches, policyAction);
        const now = nowIso();
        const actionId = randomUUID();
        const payload = {
          action_id: actionId,
          type: 'submission.verdict',
          submission_id: id,
          external_id: row.externalId,
          verdict,
          case_id: caseId,
          matches: matches.length,
          ...(failure ? { error: failure } : {}),
          created_at: now,
        };
        // A verdict is not a decision: it has no decision, and a case only when one was opened.
        await this.ctx.outbox.enqueue(m, {
          id: actionId,
          orgId: row.orgId,
          caseId: caseId ?? null,
          decisionId: null,
          type: payload.type,
          payload,
          now,
        });
        await m.audit({
          orgId: row.orgId,
          action: 'submission.verdict',
          subjectType: 'submission',
          subjectId: id,
          detail: { verdict, matches: matches.length, ...(failure ? { error: failure } : {}) },
        });
      });
      return verdict;
    } finally {
      this.processing.delete(id);
    }
  }

  fetchPolicy() {
    return {
      allowedHosts: this.ctx.config.fetch.allowedHosts,
      maxBytes: this.ctx.config.http.maxUploadBytes,
    };
  }

  /** The stored upload, or for a URL submission the fetched media (stored, so review can show it). */
  async pendingMedia(
    id: number,
    orgId: number,
    sha256: string | null,
    context: { url?: string },
  ): Promise<Buffer> {
    if (sha256) return (await this.ctx.media.get(orgId, sha256)).bytes;
    if (!context.url) throw new MediaError('nothing to hash: no media and no URL', 'KAI_ERR_MEDIA_MISSING');
    const bytes = await fetchMedia(context.url, this.fetchPolicy());
    const stored = await this.ctx.media.put(orgId, bytes);
    await new SubmissionStore(this.db).setMedia(id, stored);
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
    const ids = await new SubmissionStore(this.db).pendingIds();
    for (const id of ids) await this.processPending(id);
    return ids.length;
  }

  async replay(orgId: number, key: string, requestHash: string): Promise<SubmissionResult | null> {
    const row = await new SubmissionStore(this.db).byIdempotencyKey(orgId, key);
    if (!row) return null;
    if (row.requestHash !== requestHash) {
      throw new ConflictError(
        'this Idempotency-Key was used before with a different request body',
        'KAI_ERR_IDEMPOTENCY_MISMATCH',
      );
    }
    const answer = row.answer as { action: PolicyAction | null; matches: MatchEvidence[] } | null;
    const evidence = answer
      ? answer.matches
      : row.caseId
        ? ((await this.ctx.cases.getCase(orgId, row.caseId)).evidence as MatchEvidence[])
        : [];
    return {
      id: row.id,
      externalId: row.externalId,
      verdict: row.verdict as Verdict,
      action: answer?.action ?? null,
      caseId: row.caseId,
      matches: evidence,
      createdAt: row.createdAt,
      replayed: true,
    };
  }
}
