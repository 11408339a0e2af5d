/**
 * A flood of contributions from one member must not swamp a shared collection (and every member following it):
 * each organisation may add at most `perMinute` signals a minute to each bank it does not own. Counted per process
 * in fixed one-minute windows; past the limit the write is refused with 429 and Retry-After, nothing applied.
 */
import { RateLimitedError } from '../core/errors.js';

const WINDOW_MS = 60_000;

export class ContributionLimiter {
  private readonly windows = new Map<string, { start: number; used: number }>();

  constructor(
    private readonly perMinute: number,
    private readonly now: () => number = Date.now,
  ) {}

  /** Takes `count` contributions of `orgId` to `bankId`, or throws without taking any. */
  take(orgId: number, bankId: number, count: number): void {
    const at = this.now();
    const key = `${orgId}:${bankId}`;
    let window = this.windows.get(key);
    if (!window || at - window.start >= WINDOW_MS) {
      window = { start: at, used: 0 };
      this.windows.set(key, window);
      if (this.windows.size > 10_000) this.forgetOld(at);
    }
    if (window.used + count > this.perMinute)
      throw new RateLimitedError(
        `organisation ${orgId} may contribute at most ${this.perMinute} signals a minute to bank ${bankId}; try again later`,
        (window.start + WINDOW_MS - at) / 1000,
        'KAI_ERR_CONTRIBUTION_RATE',
      );
    window.used += count;
  }

  private forgetOld(at: number): void {
    for (const [key, window] of this.windows) if (at - window.start >= WINDOW_MS) this.windows.delete(key);
  }
}
