import { existsSync } from 'node:fs';
import { mkdtemp, readFile, utimes, writeFile } from 'node:fs/promises';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { liveProcess } from './testing';
import { acquireLock, LockBusyError, type LockOwner, lockOwner, processStartTime, withFileLock } from './process-lock';

const lockIn = async () => join(await mkdtemp(join(tmpdir(), 'lock-')), 'x.lock');

describe('the one lock file', () => {
  it('says who holds it, runs holders in one process one at a time, and is gone after release', async () => {
    const lock = await lockIn();
    const order: string[] = [];
    const hold = (name: string) =>
      withFileLock(
        lock,
        async () => {
          order.push(`${name} in`);
          expect(await lockOwner(lock)).toMatchObject({ pid: process.pid, host: hostname() });
          await new Promise((r) => setTimeout(r, 20));
          order.push(`${name} out`);
        },
        { waitMs: 5_000 },
      );
    await Promise.all([hold('a'), hold('b'), hold('c')]);
    for (let i = 0; i < order.length; i += 2) expect(order[i + 1]).toBe(order[i].replace('in', 'out'));
    expect(await lockOwner(lock)).toBeUndefined();
    // the spool's mode: a second taker in the holding process shares it
    const first = await acquireLock(lock);
    const second = await acquireLock(lock, { shareWithinProcess: true, waitMs: 0 });
    expect(second.owner.token).toBe(first.owner.token);
    await first.release();
  });

  it('a live holder is waited for, then named; a dead one (or an old pid-only lock of a dead pid) is taken over at once', async () => {
    const lock = await lockIn();
    const other = await liveProcess();
    try {
      await writeFile(lock, JSON.stringify({ pid: other.pid, host: hostname(), since: 'then' }));
      const busy = await acquireLock(lock, { waitMs: 150 }).catch((e: unknown) => e);
      expect(busy).toBeInstanceOf(LockBusyError);
      expect((busy as Error).message).toContain(`process ${other.pid} on ${hostname()} (since then)`);
    } finally {
      other.stop();
    }
    await writeFile(lock, '2147483646\n');
    const taken = await acquireLock(lock, { waitMs: 0 });
    expect((await lockOwner(lock))?.pid).toBe(process.pid);
    await taken.release();
  });

  it.skipIf(!existsSync('/proc/self/stat'))(
    'a lock whose pid now belongs to another live process (pid reused: another start time) is taken over',
    async () => {
      const lock = await lockIn();
      const other = await liveProcess();
      try {
        const start = await processStartTime(other.pid);
        const stale = { pid: other.pid, host: hostname(), start: String(Number(start) - 100), token: 'old' };
        await writeFile(lock, JSON.stringify(stale));
        await (await acquireLock(lock, { waitMs: 0 })).release();
        // the same pid with its real start time: that process does hold it
        await writeFile(lock, JSON.stringify({ ...stale, start }));
        await expect(acquireLock(lock, { waitMs: 100 })).rejects.toBeInstanceOf(LockBusyError);
      } finally {
        other.stop();
      }
    },
  );

  it('breakLock takes a live holder’s lock and says whose it was; another host’s is honoured unless older than staleMs', async () => {
    const lock = await lockIn();
    const other = await liveProcess();
    try {
      await writeFile(
        lock,
        JSON.stringify({ pid: other.pid, host: hostname(), start: await processStartTime(other.pid) }),
      );
      const broken: LockOwner[] = [];
      const held = await acquireLock(lock, { waitMs: 0, breakLock: true, onBroken: (o) => broken.push(o) });
      expect(broken.map((o) => o.pid)).toEqual([other.pid]);
      await held.release();
    } finally {
      other.stop();
    }
    await writeFile(lock, JSON.stringify({ pid: 2147483646, host: `not-${hostname()}` }));
    await expect(acquireLock(lock, { waitMs: 100 })).rejects.toThrow(new RegExp(`on not-${hostname()}`));
    const old = new Date(Date.now() - 60_000);
    await utimes(lock, old, old);
    await (await acquireLock(lock, { waitMs: 0, staleMs: 30_000 })).release();
  });

  it('release leaves a lock that another process took over (after breakLock) in place', async () => {
    const lock = await lockIn();
    const mine = await acquireLock(lock);
    const theirs = JSON.stringify({ pid: 1, host: hostname(), token: 'theirs' });
    await writeFile(lock, theirs);
    await mine.release();
    expect(await readFile(lock, 'utf8')).toBe(theirs);
  });
});
