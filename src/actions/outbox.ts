/**
 * The outbox: actions (a removal, a restore, a verdict, a notice) are enqueued in the transaction of the decision
 * that causes them, so a crash loses neither, and delivered after the commit through every ActionChannel
 * (webhooks first). Failures are retried with exponential backoff (5 s doubling, at most 1 h apart) for 48
 * hours, then the action is dead-lettered.
 */
import type { OutboxRow } from '../store/outbox.js';
import { OutboxStore, type NewOutboxAction } from '../store/outbox.js';
import type { Db } from '../store/database.js';
import type { UnitOfWork } from '../store/unit-of-work.js';

const FIRST_RETRY_MS = 5_000;
const MAX_RETRY_GAP_MS = 3_600_000;
export const DELIVERY_WINDOW_MS = 48 * 3_600_000;
/** A claimed action is invisible to other deliverers for this long (several processes may run deliverers). */
const CLAIM_MS = 60_000;

export function backoffMs(attempts: number): number {
  return Math.min(MAX_RETRY_GAP_MS, FIRST_RETRY_MS * 2 ** Math.max(0, attempts - 1));
}

/** An action as a channel receives it. */
export type OutboxAction = Pick<OutboxRow, 'id' | 'org_id' | 'type' | 'payload' | 'attempts' | 'created_at'>;

export interface ChannelOutcome {
  delivered: boolean;
  /** Why not, when not delivered (e.g. "no webhook configured", "https://…: answered 500"). */
  error?: string;
}

/** Extension point: a way to tell an organisation's systems of an action (webhook today; e-mail, queue…). */
export interface ActionChannel {
  readonly name: string;
  /**
   * The action types this channel alone delivers (a crisis notification goes to its contact's address, not to
   * the organisation's webhooks). Without it, a channel delivers every type no other channel claims.
   */
  readonly types?: readonly string[];
  /** Delivers one action (attempt number `attempt`); retried until every channel delivered it. */
  deliver(action: OutboxAction, attempt: number): Promise<ChannelOutcome>;
}

/** Enqueues actions within a unit of work and has them delivered once it commits. */
export class Outbox {
  constructor(private readonly afterCommit: () => unknown = () => undefined) {}

  async enqueue(unit: UnitOfWork, action: Omit<NewOutboxAction, 'now'> & { now?: string }): Promise<void> {
    await new OutboxStore(unit.db).insert({ ...action, now: action.now ?? new Date().toISOString() });
    unit.onCommit(this.afterCommit);
  }
}

/** Sends due actions through every channel; the outbox job runs it on a timer and after commits. */
export class OutboxDeliverer {
  private running: Promise<number> | null = null;
  private readonly store: OutboxStore;

  constructor(
    db: Db,
    private readonly channels: readonly ActionChannel[],
  ) {
    this.store = new OutboxStore(db);
  }

  /** Delivers every due action once; returns how many were delivered. Concurrent calls share one run. */
  runOnce(): Promise<number> {
    this.running ??= this.deliverDue().finally(() => (this.running = null));
    return this.running;
  }

  private async deliverDue(): Promise<number> {
    const now = new Date();
    let delivered = 0;
    for (const row of await this.store.due(now, 50)) {
      if (!(await this.store.claim(row, new Date(now.getTime() + CLAIM_MS)))) continue;
      if (await this.deliver(row)) delivered++;
    }
    return delivered;
  }

  private channelsFor(type: string): readonly ActionChannel[] {
    const dedicated = this.channels.filter((c) => c.types?.includes(type));
    return dedicated.length > 0 ? dedicated : this.channels.filter((c) => !c.types);
  }

  private async deliver(action: OutboxRow): Promise<boolean> {
    const attempt = action.attempts + 1;
    const errors: string[] = [];
    for (const channel of this.channelsFor(action.type)) {
      const outcome = await channel.deliver(action, attempt);
      if (!outcome.delivered) errors.push(outcome.error ?? `${channel.name} did not deliver`);
    }
    const now = Date.now();
    if (errors.length === 0) {
      await this.store.markDelivered(action.id, attempt, new Date(now));
      return true;
    }
    const dead = now - Date.parse(action.created_at) > DELIVERY_WINDOW_MS;
    await this.store.markFailed(
      action.id,
      attempt,
      new Date(now + backoffMs(attempt)),
      errors.join('; '),
      dead,
    );
    return false;
  }
}
