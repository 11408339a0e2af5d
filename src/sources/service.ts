/**
 * Subscriptions as a domain module: each write is one unit of work (the write, its audit record, and after the
 * commit the bank rules, the index and the scheduler brought up to date). HTTP routes, the HMA facade and the CLI call
 * these methods and nothing else of the kind.
 */
import { ValidationError } from '../core/errors.js';
import type { Db } from '../store/database.js';
import type { Page } from '../store/pagination.js';
import { SubscriptionStore, type QuarantinedRecord, type Subscription } from '../store/sources.js';
import type { Transactions } from '../store/unit-of-work.js';
import type { ContributionItem, ReceivedBatch } from '../sharing/contributions.js';
import type { InstanceIdentity } from '../store/sharing-feed.js';
import { contributeToHub, hubIdentity, joinHub } from './hub-contributor.js';
import { parseHubConnection } from './kaitiaki-hub.js';
import { getSourceKind } from './registry.js';
import type { SourceRunner, TickResult } from './runner.js';
import type { SourceDeps } from './source.js';

/** Subscription names are bank names (the mirror bank takes it): letters, digits, `_`, `-`, `.`. */
const NAME = /^[A-Za-z0-9_][A-Za-z0-9_.-]{0,99}$/;
export const MIN_INTERVAL_SECONDS = 30;
/** Any Ed25519 key: lets the hub URL and API key be checked before the hub's own key is known. */
const PLACEHOLDER_KEY =
  '-----BEGIN PUBLIC KEY-----\nMCowBQYDK2VwAyEAGb9ECWmEzf6FQbrBZ9w7lshQhqowtrbLDFw4rXAxZuE=\n-----END PUBLIC KEY-----\n';
export const MAX_INTERVAL_SECONDS = 7 * 86_400;

export interface NewSubscription {
  name: string;
  kind: string;
  config: unknown;
  intervalSeconds?: number;
  enabled?: boolean;
}

/** A subscription as its owner sees it: secrets redacted, lag computed. */
export interface SubscriptionStatus {
  subscription: Subscription;
  /** The kind's canonical name (an alias such as `tat` is stored as `tcap`). */
  kind: string;
  config: Record<string, unknown>;
  /** Records the source still has after the last page, when it says. */
  lagRecords: number | null;
  /** Seconds since a run last reached the end of the source (null: never yet). */
  lagSeconds: number | null;
}

export interface SubscriptionServiceDeps {
  /** For reads. */
  db: Db;
  /** Every write is one unit of work. */
  transactions: Transactions;
  runner: SourceRunner;
  sources: SourceDeps;
  /** After a commit that created or deleted a mirror bank. */
  afterBankWrite(): Promise<void>;
  /** After a subscription was added, changed or removed: the scheduler picks it up. */
  scheduleChanged(): Promise<void>;
  /** This instance's signing identity (contributions to hubs are signed with it). */
  identity(): Promise<InstanceIdentity>;
}

export class SubscriptionService {
  readonly store: SubscriptionStore;

  constructor(private readonly deps: SubscriptionServiceDeps) {
    this.store = new SubscriptionStore(deps.db);
  }

  status(subscription: Subscription, now = Date.now()): SubscriptionStatus {
    const kind = getSourceKind(subscription.kind);
    let config: Record<string, unknown>;
    try {
      config = kind.redact(kind.parseConfig(subscription.config, this.deps.sources));
    } catch {
      config = { invalid: true };
    }
    return {
      subscription,
      kind: kind.name,
      config,
      lagRecords: subscription.lagRecords,
      lagSeconds: subscription.caughtUpAt
        ? Math.max(0, Math.round((now - Date.parse(subscription.caughtUpAt)) / 1000))
        : null,
    };
  }

  async create(actor: string, orgId: number, input: NewSubscription): Promise<Subscription> {
    if (!NAME.test(input.name))
      throw new ValidationError(
        `subscription name "${input.name}" must be 1-100 letters, digits, _ . or - (it names the mirror bank too)`,
      );
    const kind = getSourceKind(input.kind);
    kind.parseConfig(input.config ?? {}, this.deps.sources);
    const intervalSeconds = input.intervalSeconds ?? kind.defaultIntervalSeconds;
    // External lists are asked at most every 30 s; another Kaitiaki (one cheap page after a cursor) may be asked every second.
    const minimum = kind.minIntervalSeconds ?? MIN_INTERVAL_SECONDS;
    if (
      !Number.isInteger(intervalSeconds) ||
      intervalSeconds < minimum ||
      intervalSeconds > MAX_INTERVAL_SECONDS
    )
      throw new ValidationError(
        `interval_seconds must be an integer from ${minimum} to ${MAX_INTERVAL_SECONDS}`,
      );
    // Stored as given (secrets included) once the kind accepted it; the runner parses it again on each run.
    const stored = input.config ?? {};
    return this.deps.transactions.run(actor, async (unit) => {
      const store = new SubscriptionStore(unit.db);
      let subscription = await store.create(orgId, {
        name: input.name,
        kind: kind.name,
        config: stored,
        intervalSeconds,
        createdBy: actor,
      });
      if (input.enabled === false) subscription = await store.setEnabled(orgId, subscription.id, false);
      await unit.audit({
        orgId,
        action: 'subscription.create',
        subjectType: 'subscription',
        subjectId: subscription.id,
        detail: {
          name: input.name,
          kind: kind.name,
          bank_id: subscription.bankId,
          interval_seconds: intervalSeconds,
        },
      });
      unit.onCommit(() => this.deps.afterBankWrite());
      unit.onCommit(() => this.deps.scheduleChanged());
      return subscription;
    });
  }

  async setEnabled(actor: string, orgId: number, id: number, enabled: boolean): Promise<Subscription> {
    return this.deps.transactions.run(actor, async (unit) => {
      const subscription = await new SubscriptionStore(unit.db).setEnabled(orgId, id, enabled);
      await unit.audit({
        orgId,
        action: enabled ? 'subscription.enable' : 'subscription.disable',
        subjectType: 'subscription',
        subjectId: id,
      });
      unit.onCommit(() => this.deps.scheduleChanged());
      return subscription;
    });
  }

  /** Deletes the subscription and its mirror bank (its signals stop matching at once). */
  async delete(actor: string, orgId: number, id: number): Promise<Subscription> {
    return this.deps.transactions.run(actor, async (unit) => {
      const subscription = await new SubscriptionStore(unit.db).delete(orgId, id);
      await unit.audit({
        orgId,
        action: 'subscription.delete',
        subjectType: 'subscription',
        subjectId: id,
        detail: { name: subscription.name, bank_id: subscription.bankId },
      });
      unit.onCommit(() => this.deps.afterBankWrite());
      unit.onCommit(() => this.deps.scheduleChanged());
      return subscription;
    });
  }

  /**
   * Joins a collection on a hub: pins the hub's public key (given, or as the hub states it, trusted on first use),
   * follows the collection with a `kaitiaki` subscription, and registers this instance's public key with the hub
   * so that its contributions are accepted. Answers the subscription and the hub key it pinned.
   */
  async joinHub(
    actor: string,
    orgId: number,
    input: { name: string; hubUrl: string; collectionId: number; apiKey: string; hubPublicKey?: string },
  ): Promise<{
    subscription: Subscription;
    hub: { id: string | null; publicKey: string; pinned: 'given' | 'first use' };
  }> {
    const { hubUrl } = parseHubConnection({
      hub_url: input.hubUrl,
      api_key: input.apiKey,
      hub_public_key: input.hubPublicKey ?? PLACEHOLDER_KEY,
    });
    const stated = input.hubPublicKey ? null : await hubIdentity(hubUrl, input.apiKey, this.deps.sources);
    const hubPublicKey = input.hubPublicKey ?? stated!.public_key;
    const subscription = await this.create(actor, orgId, {
      name: input.name,
      kind: 'kaitiaki',
      intervalSeconds: 1,
      config: {
        hub_url: hubUrl,
        collection_id: input.collectionId,
        api_key: input.apiKey,
        hub_public_key: hubPublicKey,
      },
    });
    await joinHub(hubUrl, input.apiKey, await this.deps.identity(), this.deps.sources);
    return {
      subscription,
      hub: {
        id: stated?.id ?? null,
        publicKey: hubPublicKey,
        pinned: input.hubPublicKey ? 'given' : 'first use',
      },
    };
  }

  /**
   * Sends signals to the hub collection a `kaitiaki` subscription follows, signed with this instance's key (see
   * hub-contributor.ts); the hub's answer is recorded in this instance's audit trail. The signals come back through
   * the subscription like everyone else's, with the hub's and this instance's signatures.
   */
  async contribute(
    actor: string,
    orgId: number,
    id: number,
    items: ContributionItem[],
  ): Promise<ReceivedBatch> {
    const subscription = await this.store.get(orgId, id);
    const received = await contributeToHub(
      subscription,
      items,
      await this.deps.identity(),
      this.deps.sources,
    );
    await this.deps.transactions.run(actor, (unit) =>
      unit.audit({
        orgId,
        action: 'subscription.contribute',
        subjectType: 'subscription',
        subjectId: id,
        detail: {
          batch: received.batch,
          items: items.length,
          added: received.added,
          present: received.present,
          retracted: received.retracted,
        },
      }),
    );
    return received;
  }

  /** Runs the subscription now until the source has nothing more ready; answers each page's outcome. */
  async syncNow(orgId: number, id: number): Promise<TickResult[]> {
    await this.store.get(orgId, id);
    return this.deps.runner.catchUp(id);
  }

  get(orgId: number, id: number): Promise<Subscription> {
    return this.store.get(orgId, id);
  }

  getByName(orgId: number, name: string): Promise<Subscription> {
    return this.store.getByName(orgId, name);
  }

  list(orgId: number, options: { cursor?: string; limit?: number } = {}): Promise<Page<Subscription>> {
    return this.store.list(orgId, options);
  }

  quarantined(
    orgId: number,
    id: number,
    options: { cursor?: string; limit?: number } = {},
  ): Promise<Page<QuarantinedRecord>> {
    return this.store.quarantined(orgId, id, options);
  }
}
