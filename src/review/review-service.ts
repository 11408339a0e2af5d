/**
 * The review capability, put together: policies, submissions (intake, background hashing, idempotency), cases,
 * decisions with their actions and statements of reasons, and retention — each a service of its own with its
 * own collaborators (see those files). This class only builds them and offers their methods under one name, so
 * that the HTTP layer and the CLI have one door to review.
 */
import type { Outbox } from '../actions/outbox.js';
import type { Config } from '../config/config.js';
import type { Logger } from '../core/logger.js';
import type { MatchService } from '../matching/match-service.js';
import type { MediaStore } from '../media/media-store.js';
import type { BankService } from '../store/banks.js';
import type { OrdersService } from '../orders/orders-service.js';
import type { StoreAccess, UnitOfWork } from '../store/unit-of-work.js';
import { CaseService } from './cases.js';
import { DecisionService } from './decisions.js';
import { PolicyService } from './policies.js';
import { RetentionService } from './retention.js';
import { SubmissionService } from './submissions.js';

export { CLAIM_MS, type CaseFilter, type CaseView, type ReportInput } from './cases.js';
export type { DecisionInput } from './decisions.js';
export {
  assertIdempotencyKey,
  type SubmissionInput,
  type SubmissionResult,
  type Verdict,
} from './submissions.js';

/** The collaborators of review (the composition root passes itself, which has them all). */
export interface ReviewDeps extends StoreAccess {
  readonly config: Config;
  readonly media: MediaStore;
  readonly matcher: MatchService;
  readonly banks: BankService;
  readonly outbox: Outbox;
  readonly logger: Logger;
  readonly orders: OrdersService;
  mutateGrouped<T>(actor: string, fn: (unit: UnitOfWork) => Promise<T>): Promise<T>;
}

export class ReviewService {
  /** The services review is made of, each with its own collaborators. */
  readonly parts: {
    readonly policies: PolicyService;
    readonly cases: CaseService;
    readonly decisions: DecisionService;
    readonly submissions: SubmissionService;
    readonly retention: RetentionService;
  };

  constructor(deps: ReviewDeps) {
    const store = { database: deps.database, mutate: deps.mutate.bind(deps) };
    const policies = new PolicyService({ ...store, banks: deps.banks });
    const cases = new CaseService(store);
    const decisions = new DecisionService({ ...store, outbox: deps.outbox, banks: deps.banks, cases });
    const submissions = new SubmissionService({
      ...store,
      mutateGrouped: deps.mutateGrouped.bind(deps),
      config: deps.config,
      media: deps.media,
      matcher: deps.matcher,
      banks: deps.banks,
      outbox: deps.outbox,
      logger: deps.logger,
      policies,
      cases,
      decisions,
    });
    const retention = new RetentionService({
      ...store,
      config: deps.config,
      media: deps.media,
      orders: deps.orders,
    });
    this.parts = { policies, cases, decisions, submissions, retention };
  }

  policies(...args: Parameters<PolicyService['policies']>): ReturnType<PolicyService['policies']> {
    return this.parts.policies.policies(...args);
  }
  effectivePolicies(
    ...args: Parameters<PolicyService['effectivePolicies']>
  ): ReturnType<PolicyService['effectivePolicies']> {
    return this.parts.policies.effectivePolicies(...args);
  }
  forgetPolicies(
    ...args: Parameters<PolicyService['forgetPolicies']>
  ): ReturnType<PolicyService['forgetPolicies']> {
    return this.parts.policies.forgetPolicies(...args);
  }
  setPolicies(...args: Parameters<PolicyService['setPolicies']>): ReturnType<PolicyService['setPolicies']> {
    return this.parts.policies.setPolicies(...args);
  }
  getSubmission(...args: Parameters<CaseService['getSubmission']>): ReturnType<CaseService['getSubmission']> {
    return this.parts.cases.getSubmission(...args);
  }
  report(...args: Parameters<CaseService['report']>): ReturnType<CaseService['report']> {
    return this.parts.cases.report(...args);
  }
  reports(...args: Parameters<CaseService['reports']>): ReturnType<CaseService['reports']> {
    return this.parts.cases.reports(...args);
  }
  listCases(...args: Parameters<CaseService['listCases']>): ReturnType<CaseService['listCases']> {
    return this.parts.cases.listCases(...args);
  }
  countCases(...args: Parameters<CaseService['countCases']>): ReturnType<CaseService['countCases']> {
    return this.parts.cases.countCases(...args);
  }
  claim(...args: Parameters<CaseService['claim']>): ReturnType<CaseService['claim']> {
    return this.parts.cases.claim(...args);
  }
  release(...args: Parameters<CaseService['release']>): ReturnType<CaseService['release']> {
    return this.parts.cases.release(...args);
  }
  next(...args: Parameters<CaseService['next']>): ReturnType<CaseService['next']> {
    return this.parts.cases.next(...args);
  }
  displayNames(...args: Parameters<CaseService['displayNames']>): ReturnType<CaseService['displayNames']> {
    return this.parts.cases.displayNames(...args);
  }
  sourcesOf(...args: Parameters<CaseService['sourcesOf']>): ReturnType<CaseService['sourcesOf']> {
    return this.parts.cases.sourcesOf(...args);
  }
  entryNotes(...args: Parameters<CaseService['entryNotes']>): ReturnType<CaseService['entryNotes']> {
    return this.parts.cases.entryNotes(...args);
  }
  uploaderHistory(
    ...args: Parameters<CaseService['uploaderHistory']>
  ): ReturnType<CaseService['uploaderHistory']> {
    return this.parts.cases.uploaderHistory(...args);
  }
  getCase(...args: Parameters<CaseService['getCase']>): ReturnType<CaseService['getCase']> {
    return this.parts.cases.getCase(...args);
  }
  assign(...args: Parameters<CaseService['assign']>): ReturnType<CaseService['assign']> {
    return this.parts.cases.assign(...args);
  }
  decisions(...args: Parameters<DecisionService['decisions']>): ReturnType<DecisionService['decisions']> {
    return this.parts.decisions.decisions(...args);
  }
  decide(...args: Parameters<DecisionService['decide']>): ReturnType<DecisionService['decide']> {
    return this.parts.decisions.decide(...args);
  }
  decideMany(...args: Parameters<DecisionService['decideMany']>): ReturnType<DecisionService['decideMany']> {
    return this.parts.decisions.decideMany(...args);
  }
  statements(...args: Parameters<DecisionService['statements']>): ReturnType<DecisionService['statements']> {
    return this.parts.decisions.statements(...args);
  }
  statement(...args: Parameters<DecisionService['statement']>): ReturnType<DecisionService['statement']> {
    return this.parts.decisions.statement(...args);
  }
  submit(...args: Parameters<SubmissionService['submit']>): ReturnType<SubmissionService['submit']> {
    return this.parts.submissions.submit(...args);
  }
  submitMedia(
    ...args: Parameters<SubmissionService['submitMedia']>
  ): ReturnType<SubmissionService['submitMedia']> {
    return this.parts.submissions.submitMedia(...args);
  }
  processPending(
    ...args: Parameters<SubmissionService['processPending']>
  ): ReturnType<SubmissionService['processPending']> {
    return this.parts.submissions.processPending(...args);
  }
  submitUrl(...args: Parameters<SubmissionService['submitUrl']>): ReturnType<SubmissionService['submitUrl']> {
    return this.parts.submissions.submitUrl(...args);
  }
  resumePending(
    ...args: Parameters<SubmissionService['resumePending']>
  ): ReturnType<SubmissionService['resumePending']> {
    return this.parts.submissions.resumePending(...args);
  }
  purgeExpired(
    ...args: Parameters<RetentionService['purgeExpired']>
  ): ReturnType<RetentionService['purgeExpired']> {
    return this.parts.retention.purgeExpired(...args);
  }
}
