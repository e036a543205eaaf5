/**
 * Property-based tests of the spool journal's reader (run by spool-journal.fuzz.spec.ts in a
 * worker under a watchdog and a heap cap): a valid journal (entries of every kind, acks) is
 * replaced by random bytes, a truncation, point mutations or a hostile text.
 *
 * The property: `open()` gives entries that are all valid, or an `MlflowCorruptStoreError` naming
 * the spool — never a TypeError or RangeError, never a hang; only a torn last line is cut (at the
 * last newline byte), and a truncated journal (a crash mid-append) reads as exactly the whole lines
 * before the cut, its torn tail reported as lost.
 */
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { checkProperties, type NoteInput, type PropertyOutcome } from '@cfa/io/testing';
import { MlflowCorruptStoreError } from './errors';
import { SpoolEntrySchema, SpoolJournal } from './spool-journal';
import { damaged, HOSTILE_TEXTS } from './testing/fuzz-bytes';

/** One `open()`'s limit: past it the case is a hang (the worker's watchdog catches synchronous ones). */
const HANG_MS = 5_000;

/** A journal with entries of every kind, one of them acknowledged. */
async function validJournal(spool: string): Promise<Uint8Array> {
  const journal = new SpoolJournal(spool);
  const create = await journal.add({
    op: 'createRun',
    placeholder: 'pending-0123',
    request: { experimentId: '1', runName: 'cell', startTime: 1_700_000_000_000, tags: { a: 'b' } },
  });
  await journal.add({
    op: 'logBatch',
    runId: 'pending-0123',
    batch: { metrics: [{ key: 'loss', value: 'NaN', timestamp: 1, step: 0 }], params: [{ key: 'lr', value: '1' }] },
  });
  await journal.ack(create.seq, { runId: 'f'.repeat(32) });
  await journal.add({ op: 'logArtifact', runId: 'f'.repeat(32), path: 'a/b.txt', base64: 'aGk=' });
  await journal.add({
    op: 'logInputs',
    runId: 'f'.repeat(32),
    datasets: [{ dataset: { name: 'weave', digest: 'd', sourceType: 'local', source: '{}' }, tags: {} }],
  });
  await journal.add({ op: 'updateRun', request: { runId: 'f'.repeat(32), status: 'FINISHED', endTime: 2 } });
  await journal.release();
  return new Uint8Array(await readFile(spool));
}

/** The entries a reader must find in the whole lines of `text`: those without a later ack. */
function expectedPending(text: string): number[] {
  const pending = new Map<number, true>();
  for (const line of text.split('\n').slice(0, -1)) {
    const v = JSON.parse(line) as { seq?: number; ack?: number };
    if (v.ack !== undefined) pending.delete(v.ack);
    else pending.set(v.seq!, true);
  }
  return [...pending.keys()].sort((a, b) => a - b);
}

const sameList = (a: number[], b: number[]) => a.length === b.length && a.every((v, i) => v === b[i]);

export async function spoolJournalProperties(note: NoteInput): Promise<PropertyOutcome> {
  const spool = join(await mkdtemp(join(tmpdir(), 'fuzz-spool-')), 'spool.jsonl');
  const valid = await validJournal(spool);
  const property = fc.asyncProperty(damaged(valid, HOSTILE_TEXTS), async (damage) => {
    note(`${damage.kind}: ${Buffer.from(damage.bytes.subarray(0, 300)).toString('hex')}`);
    await writeFile(spool, damage.bytes);
    const journal = new SpoolJournal(spool, { lockWaitMs: 100 });
    try {
      await Promise.race([
        journal.open(),
        new Promise((_, reject) => setTimeout(() => reject(new Error(`open() hung for ${HANG_MS} ms`)), HANG_MS)),
      ]);
      for (const entry of journal.pending)
        if (!SpoolEntrySchema.safeParse(entry).success)
          throw new Error(`an invalid entry was read: ${JSON.stringify(entry)}`);
      // whatever the bytes, only a torn last line is cut, at the last newline byte
      const keep = Buffer.from(damage.bytes.subarray(0, damage.bytes.lastIndexOf(0x0a) + 1));
      if (Buffer.compare(await readFile(spool), keep) !== 0) throw new Error('more than a torn last line was cut');
      if (damage.kind === 'truncated') {
        const text = Buffer.from(damage.bytes).toString('utf8');
        const whole = text.slice(0, text.lastIndexOf('\n') + 1);
        const expected = expectedPending(whole);
        const read = journal.pending.map((e) => e.seq);
        if (!sameList(read, expected)) throw new Error(`pending ${read} where the whole lines hold ${expected}`);
        // the torn tail is cut from the file, yet kept for .unreadable and reported as lost
        const tail = text.slice(whole.length);
        const skipped = JSON.stringify(journal.skippedLines);
        if (skipped !== JSON.stringify(tail.trim() ? [tail] : []))
          throw new Error(`a truncation reported ${skipped} as skipped, its torn tail being ${JSON.stringify(tail)}`);
      }
    } catch (error) {
      if (!(error instanceof MlflowCorruptStoreError) || !error.message.includes(spool)) throw error;
    } finally {
      await journal.release();
      await rm(`${spool}.lock`, { force: true });
    }
  });
  return checkProperties(fc, [{ name: 'damaged journal', property }], { runs: 200, timeLimitMs: 8_000 });
}
