/**
 * The jobs module on a real database: a leased job runs on one of two processes (runners) at a time, the other
 * takes over once the lease is released or expired, a failure is logged with the job's name and never stops the
 * job, and a kick during a run makes it run once more.
 */
import { Writable } from 'node:stream';
import { pino } from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { JobRunner } from '../../src/jobs/runner.js';
import { JobLeaseStore } from '../../src/store/job-leases.js';
import { freshDatabase, TEST_DIALECTS, type TestDatabase } from '../helpers/databases.js';

function capturingLogger() {
  const lines: Record<string, unknown>[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _encoding, done) {
      lines.push(JSON.parse(chunk.toString()) as Record<string, unknown>);
      done();
    },
  });
  return { log: pino({ level: 'debug' }, stream), lines };
}

describe.each(TEST_DIALECTS)('jobs with leases, on %s', (dialect) => {
  let test: TestDatabase;
  afterEach(async () => {
    await test?.cleanup();
  });

  it('runs a leased job on one runner only; the other takes over after a release', async () => {
    test = await freshDatabase(dialect);
    const runs: string[] = [];
    const runners = ['a', 'b'].map((name) => {
      const runner = new JobRunner(new JobLeaseStore(test.db.db), capturingLogger().log);
      runner.add({ name: 'sweep', everyMs: 0, leased: true, run: async () => void runs.push(name) });
      return runner;
    });
    for (let i = 0; i < 3; i++) {
      await runners[0].kick('sweep');
      await runners[1].kick('sweep');
    }
    expect(runs).toEqual(['a', 'a', 'a']);
    expect(runners[1].status()[0].holder).toBe(false);

    await runners[0].stop();
    await runners[1].kick('sweep');
    expect(runs).toEqual(['a', 'a', 'a', 'b']);
    const leases = await new JobLeaseStore(test.db.db).list();
    expect(leases).toHaveLength(1);
    expect(leases[0]).toMatchObject({ name: 'sweep', holder: runners[1].holder, lastError: null });
    expect(leases[0].lastRunAt).not.toBeNull();
    await runners[1].stop();
  });

  it('takes an expired lease from a process that died holding it', async () => {
    test = await freshDatabase(dialect);
    const store = new JobLeaseStore(test.db.db);
    expect(await store.acquire('sweep', 'dead-process', 60_000, new Date(Date.now() - 120_000))).toBe(true);
    const runner = new JobRunner(store, capturingLogger().log);
    let ran = 0;
    runner.add({ name: 'sweep', everyMs: 0, leased: true, run: async () => void ran++ });
    await runner.kick('sweep');
    expect(ran).toBe(1);
    // A live holder keeps it: a second process does not steal a lease that has not expired.
    expect(await store.acquire('sweep', 'another-process', 60_000)).toBe(false);
    await runner.stop();
  });

  it('logs a failure with the job name, records it, and keeps the job running', async () => {
    test = await freshDatabase(dialect);
    const { log, lines } = capturingLogger();
    const runner = new JobRunner(new JobLeaseStore(test.db.db), log);
    let calls = 0;
    runner.add({
      name: 'flaky',
      everyMs: 0,
      leased: true,
      run: async () => {
        if (++calls === 1) throw new Error('source answered 500');
        return { fetched: 3 };
      },
    });
    await runner.kick('flaky');
    const failure = lines.find((l) => l.msg === 'job flaky failed');
    expect(failure).toMatchObject({ level: 50, job: 'flaky' });
    expect((failure?.err as { message: string }).message).toBe('source answered 500');
    expect(runner.status()[0]).toMatchObject({ failures: 1, lastError: 'source answered 500' });
    expect((await new JobLeaseStore(test.db.db).list())[0].lastError).toBe('source answered 500');

    await runner.kick('flaky');
    expect(runner.status()[0]).toMatchObject({ runs: 1, failures: 1, lastError: null });
    expect(lines.find((l) => l.msg === 'job flaky ran')).toMatchObject({ result: { fetched: 3 } });
    await runner.stop();
  });

  it('runs once more when kicked during a run, so work committed meanwhile is not left waiting', async () => {
    test = await freshDatabase(dialect);
    const runner = new JobRunner(new JobLeaseStore(test.db.db), capturingLogger().log);
    runner.start();
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    let runs = 0;
    runner.add({
      name: 'outbox',
      everyMs: 0,
      leased: true,
      run: async () => {
        runs++;
        if (runs === 1) await gate;
      },
    });
    const first = runner.kick('outbox');
    await new Promise((r) => setTimeout(r, 20));
    const second = runner.kick('outbox');
    const third = runner.kick('outbox'); // kicks during one run collapse into one more run
    release();
    await Promise.all([first, second, third]);
    expect(runs).toBe(2);
    await runner.stop();
  });
});
