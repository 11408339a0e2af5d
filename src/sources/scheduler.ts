/**
 * Runs each enabled subscription on its own timer (its interval), catching up page after page while the source
 * has more. The list of subscriptions is read again every `refreshMs` (5 s: a subscription the CLI adds to the store
 * of a running server starts soon), and at once after a change through this
 * process (`refresh`), so new, disabled and deleted subscriptions are picked up. Failures are stored on the
 * subscription (last_error) by the runner and reported through `log`.
 * Each run takes the subscription's lease first (`claim`, from the jobs module), so that with several processes
 * on one database one of them runs each subscription.
 */
import { errorMessage } from '../core/errors.js';
import type { SourceRunner, TickResult } from './runner.js';

export interface SchedulerDeps {
  runner: SourceRunner;
  /** Enabled subscriptions now: id and interval. */
  enabled(): Promise<{ id: number; intervalSeconds: number }[]>;
  log(message: string, detail: Record<string, unknown>): void;
  /** True when this process may run the subscription now (holds its lease); default: always. */
  claim?(id: number, intervalSeconds: number): Promise<boolean>;
}

export class SourceScheduler {
  private readonly timers = new Map<number, { timer: NodeJS.Timeout; intervalSeconds: number }>();
  private refreshTimer: NodeJS.Timeout | null = null;
  /** Until start(): refresh() does nothing (a CLI process never runs subscriptions in the background). */
  private stopped = true;
  /** Subscriptions whose catch-up is under way: the next interval does not start a second one. */
  private readonly busy = new Set<number>();

  constructor(private readonly deps: SchedulerDeps) {}

  start(refreshMs = 5_000): void {
    this.stopped = false;
    void this.refresh();
    this.refreshTimer = setInterval(() => void this.refresh(), refreshMs);
    this.refreshTimer.unref();
  }

  /** Starts timers for new subscriptions (running them once at once), stops those of removed or disabled ones. */
  async refresh(): Promise<void> {
    if (this.stopped) return;
    let wanted: { id: number; intervalSeconds: number }[];
    try {
      wanted = await this.deps.enabled();
    } catch (err) {
      this.deps.log('listing subscriptions failed', { err: errorMessage(err) });
      return;
    }
    if (this.stopped) return;
    const ids = new Set(wanted.map((w) => w.id));
    for (const [id, entry] of this.timers)
      if (!ids.has(id)) {
        clearInterval(entry.timer);
        this.timers.delete(id);
      }
    for (const { id, intervalSeconds } of wanted) {
      const current = this.timers.get(id);
      if (current?.intervalSeconds === intervalSeconds) continue;
      if (current) clearInterval(current.timer);
      const timer = setInterval(() => void this.run(id, intervalSeconds), intervalSeconds * 1000);
      timer.unref();
      this.timers.set(id, { timer, intervalSeconds });
      if (!current) void this.run(id, intervalSeconds);
    }
  }

  private async run(id: number, intervalSeconds: number): Promise<void> {
    if (this.stopped) return;
    try {
      // The lease is renewed at every interval, also while a long catch-up (or a long poll) is still under way.
      if (this.deps.claim && !(await this.deps.claim(id, intervalSeconds))) return;
      if (this.busy.has(id)) return;
      this.busy.add(id);
      const results: TickResult[] = await this.deps.runner
        .catchUp(id, 100, true)
        .finally(() => this.busy.delete(id));
      for (const r of results)
        if (r.status === 'failed')
          this.deps.log('subscription run failed', { subscription: id, err: r.error });
    } catch (err) {
      this.deps.log('subscription run failed', { subscription: id, err: errorMessage(err) });
    }
  }

  stop(): void {
    this.stopped = true;
    if (this.refreshTimer) clearInterval(this.refreshTimer);
    for (const { timer } of this.timers.values()) clearInterval(timer);
    this.timers.clear();
  }
}
