/**
 * AppContext: the composition root. Everything the HTTP layer, the CLI and jobs use is built here once, from a
 * Config, with overrides for tests.
 */
import { sqlitePath, type Config } from './config/config.js';
import { Outbox, OutboxDeliverer } from './actions/outbox.js';
import { WebhookChannel, WebhookService } from './actions/webhooks.js';
import { smtpMailer } from './actions/mailer.js';
import { createLogger, type Logger } from './core/logger.js';
import { AccountWrites } from './accounts/account-writes.js';
import { BankWrites } from './banks/bank-writes.js';
import { ContributionLimiter } from './banks/contribution-limit.js';
import { SignalFeedbackService } from './banks/feedback.js';
import { JobRunner } from './jobs/runner.js';
import { SharingFeed } from './sharing/feed.js';
import { EventEmitter, once } from 'node:events';
import { JobLeaseStore } from './store/job-leases.js';
import { join } from 'node:path';
import { SignalIndexSet } from './matching/signal-index-set.js';
import { MediaStore } from './media/media-store.js';
import { BankRules } from './matching/bank-rules.js';
import { IndexSync } from './matching/index-sync.js';
import { MatchService } from './matching/match-service.js';
import { ReviewService } from './review/review-service.js';
import { enableExpiredHmaContent } from './banks/hma-expiry.js';
import { ApiKeyService } from './store/api-keys.js';
import { AuditService } from './store/audit.js';
import { DsaExporter } from './transparency/dsa-export.js';
import { BankService } from './store/banks.js';
import { BankTaxonomyStore } from './store/taxonomies.js';
import { Database, type Db } from './store/database.js';
import { Transactions, type UnitOfWork } from './store/unit-of-work.js';
import { EntryService } from './store/entries.js';
import { OrganisationService } from './store/organisations.js';
import { SignInFailureService } from './store/sign-in-failures.js';
import { SessionService, UserService } from './store/users.js';
import { OrdersService } from './orders/orders-service.js';
import { AppealsService } from './appeals/appeals-service.js';
import { TransparencyService } from './transparency/transparency-service.js';
import { OrgSettingsStore } from './store/org-settings.js';
import { ResearchService } from './research/service.js';
import { SourceRunner } from './sources/runner.js';
import { SourceScheduler } from './sources/scheduler.js';
import { SubscriptionService } from './sources/service.js';
import { ContributionService } from './sharing/contributions.js';
import { CrisisService } from './crisis/crisis-service.js';
import { CrisisActivationPeriods } from './crisis/crisis-periods.js';
import { CrisisLive } from './crisis/live.js';
import { MemberCrisisReporter } from './crisis/member-reporter.js';
import { AfterActionService } from './crisis/after-action.js';
import { DrillRuns } from './crisis/drill-runs.js';
import { CrisisNotificationChannel } from './crisis/notification-channel.js';
import { CrisisNotifications } from './crisis/notifications.js';

export type { Mutation, UnitOfWork } from './store/unit-of-work.js';

export class AppContext {
  readonly organisations: OrganisationService;
  readonly apiKeys: ApiKeyService;
  readonly users: UserService;
  readonly signInFailures: SignInFailureService;
  readonly sessions: SessionService;
  readonly banks: BankService;
  /** Banks' label taxonomies (read side; BankWrites.setTaxonomy changes them). */
  readonly taxonomies: BankTaxonomyStore;
  readonly entries: EntryService;
  /** Statements of reasons for the EU DSA Transparency Database (export, submission). */
  readonly dsa: DsaExporter;
  readonly audit: AuditService;
  readonly index = new SignalIndexSet();
  readonly bankRules: BankRules;
  readonly indexSync: IndexSync;
  readonly matcher: MatchService;
  readonly review: ReviewService;
  readonly webhooks: WebhookService;
  readonly deliverer: OutboxDeliverer;
  readonly outbox: Outbox;
  readonly jobs: JobRunner;
  /** Every change to banks, shares and entries (with its audit record and after-commit work). */
  readonly bankWrites: BankWrites;
  /** Every change to organisations, keys, people and settings. */
  readonly accounts: AccountWrites;
  /** Opinions of organisations on shared signals, and disputes. */
  readonly feedback: SignalFeedbackService;
  /** The hub side of hash sharing: signed change pages and the push stream of shared banks. */
  readonly sharingFeed: SharingFeed;
  /** Emits 'commit' after every unit of work this process committed (push streams wake on it). */
  readonly commits = new EventEmitter().setMaxListeners(0);
  readonly media: MediaStore;
  readonly orders: OrdersService;
  readonly appeals: AppealsService;
  readonly transparency: TransparencyService;
  readonly orgSettings: OrgSettingsStore;
  readonly orgSettingsFor = (db: Db) => new OrgSettingsStore(db);
  readonly research: ResearchService;
  /** Crisis response: protocols, the network, incidents and their activations. */
  readonly crisis: CrisisService;
  /** The incident-bank feed members follow, and the numbers they report back. */
  readonly crisisLive: CrisisLive;
  /** After-action reports of incidents and their findings. */
  readonly afterAction: AfterActionService;
  /** Drills started from the API, run in the background against the hub and members they name. */
  readonly drillRuns: DrillRuns;
  /** Crisis notifications with acknowledgement and escalation; intervention resources. */
  readonly crisisNotifications: CrisisNotifications;
  readonly subscriptions: SubscriptionService;
  /** Signed contributions from member instances to this hub's collections. */
  readonly contributions: ContributionService;
  readonly sourceRunner: SourceRunner;
  readonly sourceScheduler: SourceScheduler;
  readonly startedAt = new Date().toISOString();
  readonly transactions: Transactions;

  constructor(
    readonly config: Config,
    readonly database: Database,
    /** The process logger: `serve` passes the one its listeners write to; else warnings and errors only. */
    readonly logger: Logger = createLogger('json', process.env.KAITIAKI_LOG_LEVEL ?? 'warn'),
  ) {
    const db = database.db;
    this.jobs = new JobRunner(new JobLeaseStore(db), logger);
    this.transactions = new Transactions(db);
    this.transactions.afterEveryCommit(() => this.afterEntryWrite());
    this.transactions.afterEveryCommit(async () => void this.commits.emit('commit'));
    this.organisations = new OrganisationService(db);
    this.apiKeys = new ApiKeyService(db);
    this.users = new UserService(db);
    this.signInFailures = new SignInFailureService(db);
    this.sessions = new SessionService(db);
    this.banks = new BankService(db);
    this.taxonomies = new BankTaxonomyStore(db);
    this.entries = new EntryService(db);
    this.audit = new AuditService(db);
    this.bankRules = new BankRules(db);
    this.indexSync = new IndexSync(this.index, this.entries, this.bankRules);
    this.matcher = new MatchService(this.index, this.bankRules, this.entries);
    this.indexSync.onEntryChange = (id) => this.matcher.forget(id);
    this.webhooks = new WebhookService(db, this.transactions, config.webhooks);
    this.deliverer = new OutboxDeliverer(db, [
      new WebhookChannel(db, { policy: config.webhooks }),
      new CrisisNotificationChannel(db, {
        identity: () => this.sharingFeed.identity(),
        policy: config.webhooks,
        publicUrl: config.crisis.publicUrl,
        ...(config.crisis.smtpUrl
          ? { mailer: smtpMailer(config.crisis.smtpUrl, config.crisis.mailFrom) }
          : {}),
      }),
    ]);
    this.outbox = new Outbox(() => void this.jobs.kick('outbox'));
    this.accounts = new AccountWrites(this.transactions, (keyId) => this.apiKeys.forget(keyId));
    // One limit per member for every way it contributes (the API, imports, signed batches from its instance).
    const contributionLimiter = new ContributionLimiter(config.sharing.contributionsPerMinute);
    this.bankWrites = new BankWrites(this.transactions, {
      contributions: contributionLimiter,
      afterBankWrite: () => this.afterBankWrite(),
      forgetPolicies: (orgId) => this.review.forgetPolicies(orgId),
    });
    this.media = new MediaStore(join(config.dataDir, 'media'));
    // Review takes its collaborators when it is built: everything above it must exist by now.
    this.orders = new OrdersService(this);
    this.review = new ReviewService(this);
    this.appeals = new AppealsService(this);
    this.sharingFeed = new SharingFeed(db, this.banks, this.organisations);
    this.feedback = new SignalFeedbackService(
      this.transactions,
      this.banks,
      db,
      config.sharing.disputeThreshold,
    );
    // An appeal that reverses a decision caused by another organisation's signal disputes that signal.
    this.appeals.sharedSignalFeedback = {
      falsePositive: (fp, unit) =>
        this.feedback.falsePositiveFromAppeal(
          { db: unit.db, audit: (event) => unit.audit({ actor: `appeal:${fp.appealId}`, ...event }) },
          { orgId: fp.orgId, entryId: fp.entryId, reason: fp.reason },
        ),
    };
    this.orgSettings = new OrgSettingsStore(db);
    this.transparency = new TransparencyService(this);
    this.transparency.crisisPeriods = new CrisisActivationPeriods(db);
    this.research = new ResearchService(db, this.transactions, database.dialect);
    this.dsa = new DsaExporter(db, this.transactions);
    this.crisis = new CrisisService({
      db,
      transactions: this.transactions,
      afterBankWrite: () => this.afterBankWrite(),
      notifier: (...args) => this.crisisNotifications.onActivated(...args),
    });
    this.crisisNotifications = new CrisisNotifications({
      db,
      transactions: this.transactions,
      outbox: this.outbox,
      crisis: this.crisis,
      email: config.crisis.smtpUrl !== null,
    });
    this.afterAction = new AfterActionService({ db, transactions: this.transactions, crisis: this.crisis });
    this.drillRuns = new DrillRuns({
      db,
      sources: config.sources,
      log: (detail, message) => this.logger.error(detail, message),
    });
    this.sourceRunner = new SourceRunner({
      db,
      transactions: this.transactions,
      sources: config.sources,
      afterBankWrite: () => this.afterBankWrite(),
    });
    this.crisisLive = new CrisisLive({
      db,
      crisis: this.crisis,
      banks: this.banks,
      sharingFeed: this.sharingFeed,
      nextCommit: (signal) => this.nextCommit(signal),
    });
    this.subscriptions = new SubscriptionService({
      db,
      transactions: this.transactions,
      runner: this.sourceRunner,
      sources: config.sources,
      afterBankWrite: () => this.afterBankWrite(),
      scheduleChanged: () => this.sourceScheduler.refresh(),
      identity: () => this.sharingFeed.identity(),
    });
    this.contributions = new ContributionService({
      db,
      transactions: this.transactions,
      banks: this.banks,
      limiter: contributionLimiter,
    });
    this.sourceScheduler = new SourceScheduler({
      runner: this.sourceRunner,
      enabled: () => this.subscriptions.store.enabled(),
      log: (message, detail) => this.logger.error(detail, message),
      // One process of the cluster runs each subscription: a lease of three intervals (at least a minute).
      claim: (id, intervalSeconds) =>
        this.jobs.claim(`source:${id}`, Math.max(60_000, intervalSeconds * 3000)),
    });
    this.addJobs();
  }

  /** Opens the configured database (PostgreSQL if a URL is set, else the data directory's SQLite file). */
  static async open(config: Config, logger?: Logger): Promise<AppContext> {
    const database = config.databaseUrl
      ? await Database.postgres(config.databaseUrl)
      : await Database.sqlite(sqlitePath(config), { synchronous: config.sqliteSynchronous });
    return new AppContext(config, database, logger);
  }

  /** Loads the index and starts following changes; the server calls this before it listens. */
  async start(onProgress?: (entries: number) => void): Promise<{ entries: number; seconds: number }> {
    const report = await this.indexSync.load(onProgress);
    this.indexSync.follow(this.config.index.pollIntervalMs);
    this.jobs.start();
    if (this.config.sources.schedule) this.sourceScheduler.start();
    return report;
  }

  /** Runs a change, its audit records and its after-commit work as one unit (see Transactions.run). */
  mutate<T>(actor: string, fn: (unit: UnitOfWork) => Promise<T>): Promise<T> {
    return this.transactions.run(actor, fn);
  }

  /** Group-committed unit for hot paths that leave bank entries alone (see Transactions.runGrouped). */
  mutateGrouped<T>(actor: string, fn: (unit: UnitOfWork) => Promise<T>): Promise<T> {
    return this.transactions.runGrouped(actor, fn);
  }

  /** After a write through this process: bring the index and bank rules up to date before answering. */
  async afterEntryWrite(): Promise<void> {
    await this.indexSync.catchUp();
  }

  async afterBankWrite(): Promise<void> {
    await this.bankRules.reload();
    await this.indexSync.catchUp();
  }

  /** The background work of a serving process; each leased job runs on one process of the cluster at a time. */
  private addJobs(): void {
    this.jobs.add({
      name: 'outbox',
      everyMs: 1000,
      leased: true,
      run: () => this.deliverer.runOnce(),
    });
    // Submissions accepted but not yet hashed when a process stopped are finished at start.
    this.jobs.add({
      name: 'pending-hashing',
      everyMs: 0,
      leased: true,
      atStart: true,
      run: () => this.review.resumePending(),
    });
    this.jobs.add({
      name: 'retention',
      everyMs: 6 * 3_600_000,
      leased: true,
      run: () => this.review.purgeExpired(),
    });
    // Removal-order preservation (TCO Art. 6) ends: the content and its data are purged, audited.
    this.jobs.add({
      name: 'preservation',
      everyMs: 6 * 3_600_000,
      leased: true,
      run: () => this.orders.purgePreservations(),
    });
    // A member of a hub's crisis network reports its own matches and blocks on incident banks (crisis/live.ts).
    const crisisReporter = new MemberCrisisReporter({
      db: this.database.db,
      subscriptions: async () => {
        const store = this.subscriptions.store;
        return Promise.all((await store.enabled()).map((s) => store.getById(s.id)));
      },
      sources: this.config.sources,
      log: (message, detail) => this.logger.warn(detail, message),
    });
    this.jobs.add({
      name: 'crisis-telemetry',
      everyMs: this.config.crisis.telemetryIntervalMs,
      leased: true,
      run: () => crisisReporter.runOnce(),
    });
    // A crisis notification not acknowledged in time goes to the participant's next contact.
    this.jobs.add({
      name: 'crisis-escalation',
      everyMs: 30_000,
      leased: true,
      run: () => this.crisisNotifications.escalate(),
    });
    this.jobs.add({
      name: 'hma-expiry',
      everyMs: 60_000,
      leased: true,
      run: () => enableExpiredHmaContent(this),
    });
  }

  /** Flood control's dispute on a shared signal (see review/flood.ts). */
  disputeFlood(orgId: number, entryId: number, matches: number): Promise<void> {
    return this.feedback.fromFlood(orgId, entryId, matches);
  }

  /** Resolves at the next commit of this process (or when `signal` aborts). */
  nextCommit(signal: AbortSignal): Promise<void> {
    return once(this.commits, 'commit', { signal }).then(
      () => undefined,
      () => undefined,
    );
  }

  async close(): Promise<void> {
    this.sourceScheduler.stop();
    this.sourceRunner.stop();
    await this.sourceRunner.idle();
    this.indexSync.stop();
    await this.jobs.stop();
    // Actions committed just before the stop are sent now rather than at the next start.
    await this.deliverer
      .runOnce()
      .catch((err: unknown) => this.logger.error({ err }, 'outbox delivery at close failed'));
    // Writes still queued for a group commit (requests whose clients went away at shutdown) finish first.
    await this.transactions.idle();
    await this.database.close();
  }
}
