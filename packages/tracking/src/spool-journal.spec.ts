import { appendFile, mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { MlflowError } from './errors';
import { SpoolJournal } from './spool-journal';

const tempDir = () => mkdtemp(join(tmpdir(), 'journal-'));

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
    expect((error as Error).message).toContain(String(process.ppid));
    await writeFile(`${spool}.lock`, '2147483646');
    const journal = new SpoolJournal(spool);
    await journal.open();
    expect(await readFile(`${spool}.lock`, 'utf8')).toBe(String(process.pid));
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
    expect(await readFile(`${spool}.lock`, 'utf8')).toBe(String(process.pid));
    await journal.release();
  });
});
