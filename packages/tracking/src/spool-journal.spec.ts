import { appendFile, mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { liveProcess } from '@cfa/io/testing';
import { MlflowError } from './errors';
import { processStartTime } from '@cfa/io';
import { SpoolJournal, type SpoolLockOwner } from './spool-journal';

const tempDir = () => mkdtemp(join(tmpdir(), 'journal-'));
const owner = async (spool: string) => JSON.parse(await readFile(`${spool}.lock`, 'utf8')) as SpoolLockOwner;
const OWED = '{"seq":1,"op":"updateRun","request":{"runId":"r","status":"FINISHED"}}\n';

describe('SpoolJournal', () => {
  it('a torn last line (a crash mid-append) is cut off; acked entries are not pending; numbering goes on', async () => {
    const spool = join(await tempDir(), 's.jsonl');
    const j1 = new SpoolJournal(spool);
    const a = await j1.add({ op: 'updateRun', request: { runId: 'r1', status: 'FINISHED' } });
    await j1.add({ op: 'updateRun', request: { runId: 'r2', status: 'FAILED' } });
    await j1.ack(a.seq);
    await j1.release();
    await appendFile(spool, '{"seq":3,"op":"updateRun","requ');
    const j2 = new SpoolJournal(spool);
    await j2.open();
    expect(j2.pending.map((e) => e.seq)).toEqual([2]);
    const c = await j2.add({ op: 'updateRun', request: { runId: 'r3', status: 'KILLED' } });
    expect(c.seq).toBe(3);
    const lines = (await readFile(spool, 'utf8'))
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { seq?: number; ack?: number });
    expect(lines.map((l) => l.seq ?? `ack ${l.ack}`)).toEqual([1, 2, 'ack 1', 3]);
    await j2.release();
  });

  it('one process at a time: a spool with entries locked by a live process is refused, a lock left by a dead one is taken over', async () => {
    const spool = join(await tempDir(), 's.jsonl');
    await writeFile(spool, '{"seq":1,"op":"updateRun","request":{"runId":"r","status":"FINISHED"}}\n');
    await writeFile(`${spool}.lock`, String(process.ppid));
    const error = await new SpoolJournal(spool, { lockWaitMs: 200 }).open().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(MlflowError);
    expect(error).toMatchObject({ errorCode: 'SPOOL_BUSY' });
    expect((error as Error).message).toContain(`process ${process.ppid}`);
    expect((error as Error).message).toMatch(/sync-runs --break-lock/);
    await writeFile(`${spool}.lock`, '2147483646');
    const journal = new SpoolJournal(spool);
    await journal.open();
    expect(await owner(spool)).toMatchObject({ pid: process.pid, host: hostname() });
    await journal.ack(1);
    await journal.compact();
    expect(await readFile(`${spool}.lock`, 'utf8').catch(() => 'released')).toBe('released');
    await journal.release();
  });

  it('a spool with nothing owed takes no lock; the first entry takes it', async () => {
    const spool = join(await tempDir(), 's.jsonl');
    const journal = new SpoolJournal(spool);
    await journal.open();
    expect(await readFile(`${spool}.lock`, 'utf8').catch(() => 'none')).toBe('none');
    await journal.add({ op: 'updateRun', request: { runId: 'r', status: 'FINISHED' } });
    expect(await owner(spool)).toMatchObject({ pid: process.pid, start: await processStartTime(process.pid) });
    await journal.release();
  });

  it('breakLock takes a lock held by a live process, and says whose it was', async () => {
    const spool = join(await tempDir(), 's.jsonl');
    await writeFile(spool, OWED);
    const other = await liveProcess();
    try {
      const held = { pid: other.pid, host: hostname(), start: await processStartTime(other.pid), token: 't' };
      await writeFile(`${spool}.lock`, JSON.stringify(held));
      const broken: SpoolLockOwner[] = [];
      const journal = new SpoolJournal(spool, {
        lockWaitMs: 200,
        breakLock: true,
        onLockBroken: (o) => broken.push(o),
      });
      await journal.open();
      expect(broken.map((o) => o.pid)).toEqual([other.pid]);
      expect((await owner(spool)).pid).toBe(process.pid);
      await journal.release();
    } finally {
      other.stop();
    }
  });

  it('damaged lines are skipped, counted, and kept in <spool>.unreadable when the spool is emptied', async () => {
    const spool = join(await tempDir(), 's.jsonl');
    await writeFile(spool, `${OWED}not json\n{"seq":"x"}\n`);
    const journal = new SpoolJournal(spool);
    await journal.open();
    expect(journal.pending.map((e) => e.seq)).toEqual([1]);
    expect(journal.skippedLines).toEqual(['not json', '{"seq":"x"}']);
    await journal.ack(1);
    await journal.compact();
    expect(await readFile(spool, 'utf8')).toBe('');
    expect(await readFile(journal.unreadablePath, 'utf8')).toBe('not json\n{"seq":"x"}\n');
    await journal.release();
  });
});
