/**
 * The jobs module: background work, scheduled or kicked after a commit, run under a lease so that with several
 * processes on one database (`serve --workers N`, several nodes) each leased job runs on one of them at a time.
 * Every run and every failure is logged; nothing in the background fails silently.
 */
import { hostname } from 'node:os';
import { randomBytes } from 'node:crypto';
import type { Logger } from '../core/logger.js';
import type { JobLeaseStore } from '../store/job-leases.js';

export interface Job {
  readonly name: string;
  /** How often it runs, in ms; 0 = only at start and when kicked. */
  readonly everyMs: number;
  /** Only one process at a time (the lease holder) runs it. Per-process work (none today) says false. */
  readonly leased: boolean;
  /** Run once as soon as the runner starts (e.g. finishing work a crash interrupted). */
  readonly atStart?: boolean;
  /** Does the work; what it returns is logged as the run's result when it is a small object or number. */
  run(): Promise<unknown>;
}

export interface JobStatus {
  name: string;
  everyMs: number;
  runs: number;
  failures: number;
  lastRunAt: string | null;
  lastError: string | null;
  /** Whether this process holds the job's lease (always true for unleased jobs). */
  holder: boolean;
}

interface JobState {
  job: Job;
  timer: NodeJS.Timeout | null;
  running: Promise<void> | null;
  again: boolean;
  /** The error last written to the shared record (null: none). */
  recordedError: string | null;
  status: JobStatus;
}

export class JobRunner {
  private readonly jobs = new Map<string, JobState>();
  private started = false;
  readonly holder = `${hostname()}:${process.pid}:${randomBytes(4).toString('hex')}`;

  constructor(
    private readonly leases: JobLeaseStore,
    private readonly log: Logger,
  ) {}

  add(job: Job): void {
    if (this.jobs.has(job.name)) throw new Error(`job "${job.name}" is added twice`);
    const status: JobStatus = {
      name: job.name,
      everyMs: job.everyMs,
      runs: 0,
      failures: 0,
      lastRunAt: null,
      lastError: null,
      holder: !job.leased,
    };
    const state: JobState = {
      job,
      timer: null,
      running: null,
      again: false,
      recordedError: null,
      status,
    };
    this.jobs.set(job.name, state);
    if (this.started) this.schedule(state);
  }

  start(): void {
    this.started = true;
    for (const state of this.jobs.values()) this.schedule(state);
  }

  private schedule(state: JobState): void {
    if (state.job.everyMs > 0) {
      state.timer = setInterval(() => void this.kick(state.job.name), state.job.everyMs);
      state.timer.unref();
    }
    if (state.job.atStart) void this.kick(state.job.name);
  }

  /**
   * Runs the job soon (after a commit that gave it work). A kick while it runs makes it run once more afterwards,
   * so work committed during a run is never left waiting for the next tick. Resolves when that run is over.
   */
  kick(name: string): Promise<void> {
    const state = this.jobs.get(name);
    if (!state) return Promise.resolve();
    if (state.running) {
      state.again = true;
      return state.running;
    }
    state.running = this.runLoop(state).finally(() => (state.running = null));
    return state.running;
  }

  private async runLoop(state: JobState): Promise<void> {
    do {
      state.again = false;
      await this.runOnce(state);
    } while (state.again && this.started);
  }

  private async runOnce(state: JobState): Promise<void> {
    const { job, status } = state;
    const started = Date.now();
    try {
      if (job.leased && !(await this.holdLease(state))) return;
      const result = await job.run();
      status.runs++;
      status.lastError = null;
      const detail = typeof result === 'number' || (result && typeof result === 'object') ? { result } : {};
      this.log.debug({ job: job.name, ms: Date.now() - started, ...detail }, `job ${job.name} ran`);
    } catch (err) {
      status.failures++;
      status.lastError = err instanceof Error ? err.message : String(err);
      this.log.error({ err, job: job.name, ms: Date.now() - started }, `job ${job.name} failed`);
    }
    const previousError = state.recordedError;
    status.lastRunAt = new Date().toISOString();
    // The shared record is written when it says something new (a failure, a recovery) or for infrequent jobs:
    // a job that runs every second would otherwise write to the store every second.
    const worthRecording = status.lastError !== previousError || job.everyMs === 0 || job.everyMs >= 60_000;
    state.recordedError = status.lastError;
    if (job.leased && status.holder && worthRecording)
      await this.leases
        .recordRun(job.name, status.lastError)
        .catch((err: unknown) => this.log.warn({ err, job: job.name }, 'could not record the job run'));
  }

  /** A job's lease (see claim); it lasts 3 periods, at least a minute. */
  private async holdLease(state: JobState): Promise<boolean> {
    const held = await this.claim(state.job.name, Math.max(60_000, state.job.everyMs * 3));
    state.status.holder = held;
    return held;
  }

  /** Leases held or last tried by this process: name → until when it is held (0: not held). */
  private readonly claims = new Map<string, number>();

  /**
   * A lease — a job's, or one on work scheduled elsewhere (a subscription's runs): true while this process holds
   * `name`, taking or renewing it when less than half of `ttlMs` is left. Another process holding it keeps it until it expires.
   */
  async claim(name: string, ttlMs: number): Promise<boolean> {
    if ((this.claims.get(name) ?? 0) - Date.now() > ttlMs / 2) return true;
    const held = await this.leases.acquire(name, this.holder, ttlMs);
    this.claims.set(name, held ? Date.now() + ttlMs : 0);
    return held;
  }

  status(): JobStatus[] {
    return [...this.jobs.values()].map((s) => ({ ...s.status }));
  }

  /** Stops the timers, lets runs under way finish, and gives the leases up for another process. */
  async stop(): Promise<void> {
    this.started = false;
    for (const state of this.jobs.values()) if (state.timer) clearInterval(state.timer);
    await Promise.all([...this.jobs.values()].map((s) => s.running));
    for (const [name, until] of this.claims)
      if (until > 0)
        await this.leases
          .release(name, this.holder)
          .catch((err: unknown) => this.log.warn({ err, lease: name }, 'could not release the lease'));
  }
}
