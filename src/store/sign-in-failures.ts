/**
 * Failed sign-ins per account (the address tried, known or not, so the throttle does not tell which exist).
 * After FREE_FAILURES failures in a row the account is locked for a time that doubles with each further failure
 * (1 minute up to 1 hour), and while it is locked even the right password is refused. A successful sign-in or
 * an administrator's unlock (audited by the caller) clears the count.
 */
import { nowIso, type Db } from './database.js';

export const FREE_FAILURES = 5;
const FIRST_LOCK_MS = 60_000;
const MAX_LOCK_MS = 3_600_000;

export function lockMs(failures: number): number {
  if (failures < FREE_FAILURES) return 0;
  return Math.min(MAX_LOCK_MS, FIRST_LOCK_MS * 2 ** (failures - FREE_FAILURES));
}

export class SignInFailureService {
  constructor(private readonly db: Db) {}

  /** When the account is locked until (ISO time), or null. */
  async lockedUntil(account: string, now = Date.now()): Promise<string | null> {
    const row = await this.db
      .selectFrom('sign_in_failures')
      .select('locked_until')
      .where('account', '=', normalise(account))
      .executeTakeFirst();
    return row?.locked_until && Date.parse(row.locked_until) > now ? row.locked_until : null;
  }

  /** Counts a failure; returns the lock it set, if any. */
  async recordFailure(
    account: string,
    now = Date.now(),
  ): Promise<{ failures: number; lockedUntil: string | null }> {
    const key = normalise(account);
    const row = await this.db
      .selectFrom('sign_in_failures')
      .select('failures')
      .where('account', '=', key)
      .executeTakeFirst();
    const failures = (row?.failures ?? 0) + 1;
    const ms = lockMs(failures);
    const lockedUntil = ms > 0 ? new Date(now + ms).toISOString() : null;
    await this.db
      .insertInto('sign_in_failures')
      .values({ account: key, failures, locked_until: lockedUntil, last_failure_at: nowIso() })
      .onConflict((oc) =>
        oc.column('account').doUpdateSet({ failures, locked_until: lockedUntil, last_failure_at: nowIso() }),
      )
      .execute();
    return { failures, lockedUntil };
  }

  /** Clears the count (a successful sign-in, or an administrator's unlock). True if there was one. */
  async clear(account: string): Promise<boolean> {
    const result = await this.db
      .deleteFrom('sign_in_failures')
      .where('account', '=', normalise(account))
      .executeTakeFirst();
    return Number(result.numDeletedRows) > 0;
  }
}

function normalise(account: string): string {
  return account.trim().toLowerCase().slice(0, 320);
}
