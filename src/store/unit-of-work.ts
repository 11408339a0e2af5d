/**
 * The unit of work: one transaction, the store services bound to it, the audit trail of that transaction, and
 * the work to do once it has committed. Every write in Kaitiaki goes through `Transactions.run`: a domain
 * method opens the unit, writes, appends its audit record, and registers what must follow the commit (refresh
 * the bank rules, forget a cached key, kick the outbox) with `onCommit`. A method that needs a transaction takes a
 * `UnitOfWork` (or its `TxDb`), which a bare connection is not.
 */
import type { Transaction } from 'kysely';
import { GroupCommitter } from '../core/group-commit.js';
import { ApiKeyService } from './api-keys.js';
import { AuditService, type AuditEvent } from './audit.js';
import { BankService } from './banks.js';
import type { Db } from './database.js';
import { EntryService } from './entries.js';
import { OrganisationService } from './organisations.js';
import type { Schema } from './schema.js';
import { SignInFailureService } from './sign-in-failures.js';
import { UserService } from './users.js';

/** A connection inside a transaction (Kysely's Transaction: a plain Db is not one). */
export type TxDb = Transaction<Schema>;

export interface UnitOfWork {
  /** The transaction itself, for services that write several tables at once. */
  db: TxDb;
  organisations: OrganisationService;
  apiKeys: ApiKeyService;
  users: UserService;
  signInFailures: SignInFailureService;
  banks: BankService;
  entries: EntryService;
  /** Records an audit event in the same transaction as the change it describes. */
  audit(event: Omit<AuditEvent, 'actor'> & { actor?: string }): Promise<void>;
  /** Work to run after the transaction committed (never if it rolled back), in the order registered. */
  onCommit(work: () => unknown): void;
}

/** The older name of the unit of work, kept for the services that speak of "a mutation". */
export type Mutation = UnitOfWork;

export class Transactions {
  private readonly afterEvery: (() => Promise<void>)[] = [];
  private readonly audit: AuditService;
  private readonly grouped: GroupCommitter<UnitOfWork>;

  constructor(private readonly db: Db) {
    this.audit = new AuditService(db);
    this.grouped = new GroupCommitter<UnitOfWork>((work) =>
      this.db.transaction().execute((tx) => work(this.bind(tx, 'system', []))),
    );
  }

  /** Work that follows every committed unit (the index catching up on entries written by it). */
  afterEveryCommit(work: () => Promise<void>): void {
    this.afterEvery.push(work);
  }

  /**
   * Runs a change and its audit records in one transaction: either both are stored or neither is. `actor` is who
   * did it (`key:12`, `user:3`, `cli`). Then the work registered with onCommit runs, before the caller is answered.
   */
  async run<T>(actor: string, fn: (unit: UnitOfWork) => Promise<T>): Promise<T> {
    const pending: (() => unknown)[] = [];
    const result = await this.db.transaction().execute((tx) => fn(this.bind(tx, actor, pending)));
    for (const work of this.afterEvery) await work();
    for (const work of pending) await work();
    return result;
  }

  /**
   * Like run, but committed together with other writes that arrive at the same time (group commit): for hot paths
   * such as submissions, where a platform sends a burst and each write must be durable before it is answered.
   * Only for writes that leave bank entries alone (the index has nothing to catch up on).
   */
  async runGrouped<T>(actor: string, fn: (unit: UnitOfWork) => Promise<T>): Promise<T> {
    let pending: (() => unknown)[] = [];
    const result = await this.grouped.run((unit) => {
      pending = []; // a batch that failed is retried write by write: only the committed attempt's work runs
      return fn({
        ...unit,
        audit: (event) => unit.audit({ actor, ...event }),
        onCommit: (w) => pending.push(w),
      });
    });
    for (const work of pending) await work();
    return result;
  }

  /** Resolves when the grouped writes queued so far are committed (called before the database is closed). */
  idle(): Promise<void> {
    return this.grouped.idle();
  }

  private bind(tx: TxDb, actor: string, pending: (() => unknown)[]): UnitOfWork {
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
      onCommit: (work) => pending.push(work),
    };
  }
}

/** What a domain service needs of the store: the connection for reads, and units of work for writes. */
export interface StoreAccess {
  readonly database: { readonly db: Db };
  mutate<T>(actor: string, fn: (unit: UnitOfWork) => Promise<T>): Promise<T>;
}
