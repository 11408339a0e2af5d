/**
 * AppContext: the composition root. Everything the HTTP layer, the CLI and jobs use is built here once, from a
 * Config, with overrides for tests.
 */
import { sqlitePath, type Config } from './config/config.js';
import { ActionDeliverer, WebhookService } from './actions/webhooks.js';
import { join } from 'node:path';
import { SignalIndexSet } from './index/signal-index.js';
import { MediaStore } from './media/media-store.js';
import { BankRules } from './matching/bank-rules.js';
import { IndexSync } from './matching/index-sync.js';
import { MatchService } from './matching/match-service.js';
import { ReviewService } from './review/review-service.js';
import { GroupCommitter } from './core/group-commit.js';
import { enableExpiredHmaContent } from './hma/disable-until.js';
import { ApiKeyService } from './store/api-keys.js';
import { AuditService, type AuditEvent } from './store/audit.js';
import { BankService } from './store/banks.js';
import { Database, type Db } from './store/database.js';
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

/** Services bound to one transaction, plus the audit trail of that transaction. */
export interface Mutation {
  /** The transaction itself, for services that write several tables at once. */
  db: Db;
  organisations: OrganisationService;
  apiKeys: ApiKeyService;
  users: UserService;
  signInFailures: SignInFailureService;
  banks: BankService;
  entries: EntryService;
  /** Records an audit event in the same transaction as the change it describes. */
  audit(event: Omit<AuditEvent, 'actor'> & { actor?: string }): Promise<void>;
}

export class AppContext {
  readonly organisations: OrganisationService;
  readonly apiKeys: ApiKeyService;
  readonly users: UserService;
  readonly signInFailures: SignInFailureService;
  readonly sessions: SessionService;
  readonly banks: BankService;
  readonly entries: EntryService;
  readonly audit: AuditService;
  readonly index = new SignalIndexSet();
  readonly bankRules: BankRules;
  readonly indexSync: IndexSync;
  readonly matcher: MatchService;
  readonly review: ReviewService;
  readonly webhooks: WebhookService;
  readonly deliverer: ActionDeliverer;
  readonly media: MediaStore;
  readonly orders: OrdersService;
  readonly appeals: AppealsService;
  readonly transparency: TransparencyService;
  readonly orgSettings: OrgSettingsStore;
  readonly orgSettingsFor = (db: Db) => new OrgSettingsStore(db);
  readonly research: ResearchService;
  readonly subscriptions: SubscriptionService;
  readonly sourceRunner: SourceRunner;
  readonly sourceScheduler: SourceScheduler;
  readonly startedAt = new Date().toISOString();

  constructor(
    readonly config: Config,
    readonly database: Database,
  ) {
    const db = database.db;
    this.organisations = new OrganisationService(db);
    this.apiKeys = new ApiKeyService(db);
    this.users = new UserService(db);
    this.signInFailures = new SignInFailureService(db);
    this.sessions = new SessionService(db);
    this.banks = new BankService(db);
    this.entries = new EntryService(db);
    this.audit = new AuditService(db);
    this.bankRules = new BankRules(db);
    this.indexSync = new IndexSync(this.index, this.entries, this.bankRules);
    this.matcher = new MatchService(this.index, this.bankRules, this.entries);
    this.indexSync.onEntryChange = (id) => this.matcher.forget(id);
    this.review = new ReviewService(this);
    this.webhooks = new WebhookService(db, config.webhooks);
    this.deliverer = new ActionDeliverer(db, { policy: config.webhooks });
    this.media = new MediaStore(join(config.dataDir, 'media'));
    this.orders = new OrdersService(this);
    this.appeals = new AppealsService(this);
    this.orgSettings = new OrgSettingsStore(db);
    this.transparency = new TransparencyService(this);
    this.research = new ResearchService(db, this.audit, database.dialect);
    this.sourceRunner = new SourceRunner({
      db,
      audit: this.audit,
      sources: config.sources,
      afterWrite: (bankCreated) => (bankCreated ? this.afterBankWrite() : this.afterEntryWrite()),
    });
    this.subscriptions = new SubscriptionService({
      db,
      audit: this.audit,
      runner: this.sourceRunner,
      sources: config.sources,
      afterBankWrite: () => this.afterBankWrite(),
      scheduleChanged: () => this.sourceScheduler.refresh(),
    });
    this.sourceScheduler = new SourceScheduler({
      runner: this.sourceRunner,
      enabled: () => this.subscriptions.store.enabled(),
      log: (message, detail) =>
        process.stderr.write(
          JSON.stringify({ level: 'error', time: Date.now(), msg: message, ...detail }) + '\n',
        ),
    });
  }

  /** Opens the configured database (PostgreSQL if a URL is set, else the data directory's SQLite file). */
  static async open(config: Config): Promise<AppContext> {
    const database = config.databaseUrl
      ? await Database.postgres(config.databaseUrl)
      : await Database.sqlite(sqlitePath(config), { synchronous: config.sqliteSynchronous });
    return new AppContext(config, database);
  }

  /** Loads the index and starts following changes; the server calls this before it listens. */
  async start(onProgress?: (entries: number) => void): Promise<{ entries: number; seconds: number }> {
    const report = await this.indexSync.load(onProgress);
    this.indexSync.follow(this.config.index.pollIntervalMs);
    this.deliverer.start();
    void this.review.resumePending().catch(() => undefined);
    this.retentionTimer = setInterval(
      () => void this.review.purgeExpired().catch(() => undefined),
      6 * 3_600_000,
    );
    this.retentionTimer.unref();
    this.hmaExpiryTimer = setInterval(
      () => void enableExpiredHmaContent(this).catch(() => undefined),
      60_000,
    );
    this.hmaExpiryTimer.unref();
    if (this.config.sources.schedule) this.sourceScheduler.start();
    return report;
  }

  /**
   * Runs a change and its audit records in one transaction: either both are stored or neither is. `actor` is who
   * did it (`key:12`, `user:3`, `cli`). The index catches up after the commit (bank routes also reload the bank
   * rules, with afterBankWrite).
   */
  async mutate<T>(actor: string, fn: (m: Mutation) => Promise<T>): Promise<T> {
    const result = await this.database.db.transaction().execute((tx: Db) => fn(this.mutation(tx, actor)));
    await this.afterEntryWrite();
    return result;
  }

  /**
   * Like mutate, but committed together with other writes that arrive at the same time (group commit): for hot
   * paths such as submissions, where a platform sends a burst and each write must be durable before it is answered.
   * Only for writes that leave bank entries alone.
   */
  async mutateGrouped<T>(actor: string, fn: (m: Mutation) => Promise<T>): Promise<T> {
    // Grouped writes (submissions) never change bank entries, so the index has nothing to catch up on.
    return this.groupCommitter.run((m) => fn({ ...m, audit: (event) => m.audit({ actor, ...event }) }));
  }

  private readonly groupCommitter = new GroupCommitter<Mutation>((work) =>
    this.database.db.transaction().execute((tx: Db) => work(this.mutation(tx, 'system'))),
  );

  private mutation(tx: Db, actor: string): Mutation {
    return {
      db: tx,
      organisations: new OrganisationService(tx),
      apiKeys: new ApiKeyService(tx),
      users: new UserService(tx),
      signInFailures: new SignInFailureService(tx),
      banks: new BankService(tx),
      entries: new EntryService(tx),
      audit: async (event) => {
        await this.audit.append(tx, { actor, ...event });
      },
    };
  }

  /** After a write through this process: bring the index and bank rules up to date before answering. */
  async afterEntryWrite(): Promise<void> {
    await this.indexSync.catchUp();
  }

  async afterBankWrite(): Promise<void> {
    await this.bankRules.reload();
    await this.indexSync.catchUp();
  }

  private retentionTimer: NodeJS.Timeout | null = null;
  private hmaExpiryTimer: NodeJS.Timeout | null = null;

  async close(): Promise<void> {
    if (this.retentionTimer) clearInterval(this.retentionTimer);
    if (this.hmaExpiryTimer) clearInterval(this.hmaExpiryTimer);
    this.sourceScheduler.stop();
    await this.sourceRunner.idle();
    this.indexSync.stop();
    this.deliverer.stop();
    await this.deliverer.runOnce().catch(() => undefined);
    await this.database.close();
  }
}
