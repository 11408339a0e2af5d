/**
 * Group commit: writes that arrive while a transaction is committing wait and then commit together in the next
 * one, so a burst of small durable writes pays for one fsync per batch instead of one each. Every caller still
 * gets its own result only after its write is durable. If a batch fails, its writes are retried one by one, so
 * one bad write cannot fail the others.
 */
export type TransactionRunner<M> = (work: (m: M) => Promise<void>) => Promise<void>;

interface Pending<M> {
  work: (m: M) => Promise<unknown>;
  resolve: (value: unknown) => void;
  reject: (err: unknown) => void;
}

export class GroupCommitter<M> {
  private queue: Pending<M>[] = [];
  private committing = false;
  private draining: Promise<void> = Promise.resolve();

  constructor(
    private readonly runTransaction: TransactionRunner<M>,
    private readonly maxBatch = 256,
  ) {}

  run<T>(work: (m: M) => Promise<T>): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      this.queue.push({ work, resolve: resolve as (value: unknown) => void, reject });
      if (!this.committing) this.draining = this.drain();
    });
  }

  /** Resolves once every write queued so far has committed or failed (before the store is closed). */
  async idle(): Promise<void> {
    while (this.committing) await this.draining;
  }

  private async drain(): Promise<void> {
    this.committing = true;
    try {
      while (this.queue.length > 0) {
        const batch = this.queue.splice(0, this.maxBatch);
        await this.commit(batch);
      }
    } finally {
      this.committing = false;
    }
  }

  private async commit(batch: Pending<M>[]): Promise<void> {
    const results: unknown[] = [];
    try {
      await this.runTransaction(async (m) => {
        results.length = 0;
        for (const item of batch) results.push(await item.work(m));
      });
      batch.forEach((item, i) => item.resolve(results[i]));
    } catch {
      if (batch.length === 1) {
        await this.single(batch[0]);
        return;
      }
      for (const item of batch) await this.single(item);
    }
  }

  private async single(item: Pending<M>): Promise<void> {
    try {
      let result: unknown;
      await this.runTransaction(async (m) => {
        result = await item.work(m);
      });
      item.resolve(result);
    } catch (err) {
      item.reject(err);
    }
  }
}
