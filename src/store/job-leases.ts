/** Leases that make a scheduled job run on one process at a time (see migrations/…-jobs). */
import { sql } from 'kysely';
import type { Db } from './database.js';

export interface JobLease {
  name: string;
  holder: string;
  expiresAt: string;
  lastRunAt: string | null;
  lastError: string | null;
}

export class JobLeaseStore {
  constructor(private readonly db: Db) {}

  /**
   * Takes or renews the lease on `name` for `holder` until `now + ttlMs`; true if this holder has it. A lease held
   * by another holder is taken only once it has expired. One statement, so two processes cannot both win.
   */
  async acquire(name: string, holder: string, ttlMs: number, now = new Date()): Promise<boolean> {
    const expires = new Date(now.getTime() + ttlMs).toISOString();
    await this.db
      .insertInto('job_leases')
      .values({ name, holder, expires_at: expires, last_run_at: null, last_error: null })
      .onConflict((c) =>
        c
          .column('name')
          .doUpdateSet({ holder, expires_at: expires })
          .where(sql<boolean>`job_leases.holder = ${holder} OR job_leases.expires_at < ${now.toISOString()}`),
      )
      .execute();
    const row = await this.db
      .selectFrom('job_leases')
      .select('holder')
      .where('name', '=', name)
      .executeTakeFirst();
    return row?.holder === holder;
  }

  /** Gives the lease up (at shutdown), so another process need not wait for it to expire. */
  async release(name: string, holder: string): Promise<void> {
    await this.db
      .updateTable('job_leases')
      .set({ expires_at: new Date(0).toISOString() })
      .where('name', '=', name)
      .where('holder', '=', holder)
      .execute();
  }

  async recordRun(name: string, error: string | null, at = new Date()): Promise<void> {
    await this.db
      .updateTable('job_leases')
      .set({ last_run_at: at.toISOString(), last_error: error })
      .where('name', '=', name)
      .execute();
  }

  async list(): Promise<JobLease[]> {
    const rows = await this.db.selectFrom('job_leases').selectAll().orderBy('name').execute();
    return rows.map((r) => ({
      name: r.name,
      holder: r.holder,
      expiresAt: r.expires_at,
      lastRunAt: r.last_run_at,
      lastError: r.last_error,
    }));
  }
}
