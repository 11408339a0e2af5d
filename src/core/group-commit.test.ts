import { describe, expect, it } from 'vitest';
import { GroupCommitter } from './group-commit.js';

/** A fake transaction runner that records batches and can be told to fail a batch. */
function recorder() {
  const committed: string[][] = [];
  let failWhen: (items: string[]) => boolean = () => false;
  const runner = async (work: (m: string[]) => Promise<void>) => {
    const items: string[] = [];
    await new Promise((r) => setTimeout(r, 5)); // the commit takes a while, so writes pile up
    await work(items);
    if (failWhen(items)) throw new Error('constraint violated');
    committed.push(items);
  };
  return { committed, runner, fail: (f: (items: string[]) => boolean) => (failWhen = f) };
}

describe('GroupCommitter', () => {
  it('commits writes that arrive together in one transaction, each caller getting its own result', async () => {
    const r = recorder();
    const group = new GroupCommitter<string[]>(r.runner);
    const results = await Promise.all(
      Array.from({ length: 10 }, (_, i) => group.run(async (items) => (items.push(`w${i}`), i * 2))),
    );
    expect(results).toEqual(Array.from({ length: 10 }, (_, i) => i * 2));
    expect(r.committed.flat().sort()).toEqual(Array.from({ length: 10 }, (_, i) => `w${i}`).sort());
    expect(r.committed.length).toBeLessThan(10);
  });

  it('retries a failed batch one by one, so only the bad write fails', async () => {
    const r = recorder();
    r.fail((items) => items.includes('bad'));
    const group = new GroupCommitter<string[]>(r.runner);
    const outcomes = await Promise.allSettled(
      ['a', 'bad', 'c'].map((name) => group.run(async (items) => (items.push(name), name))),
    );
    expect(outcomes.map((o) => o.status)).toEqual(['fulfilled', 'rejected', 'fulfilled']);
    expect(r.committed.flat().sort()).toEqual(['a', 'c']);
  });

  it('idle() waits for every queued write to commit, so the store can then be closed safely', async () => {
    const r = recorder();
    const group = new GroupCommitter<string[]>(r.runner, 2);
    const writes = ['a', 'b', 'c', 'd', 'e'].map((name) => group.run(async (items) => items.push(name)));
    await group.idle();
    expect(r.committed.flat().sort()).toEqual(['a', 'b', 'c', 'd', 'e']);
    await Promise.all(writes);
    await group.idle(); // nothing queued: at once
  });
});
