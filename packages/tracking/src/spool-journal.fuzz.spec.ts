/**
 * Property tests of the spool journal's reader: a valid journal (entries of every kind, acks) is
 * replaced by random bytes, a truncation, point mutations or a hostile text, and `open()` must
 * give entries that are all valid, or an `MlflowCorruptStoreError` naming the spool: never a
 * TypeError or RangeError, never a hang. A truncated journal (a crash mid-append) must read as
 * exactly the whole lines before the cut. Bounded: at most `RUNS` cases or `TIME_LIMIT_MS`.
 */
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { beforeAll, describe, expect, it } from 'vitest';
import { MlflowCorruptStoreError } from './errors';
import { SpoolEntrySchema, SpoolJournal } from './spool-journal';
import { damaged, HOSTILE_TEXTS } from './testing/fuzz-bytes';

const RUNS = 200;
const TIME_LIMIT_MS = 8_000;
const HANG_MS = 5_000;

let spool: string;
let valid: Uint8Array;

beforeAll(async () => {
  spool = join(await mkdtemp(join(tmpdir(), 'fuzz-spool-')), 'spool.jsonl');
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
  valid = new Uint8Array(await readFile(spool));
});

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

describe('spool journal reader under damaged files (fast-check)', () => {
  it('random bytes, truncations, mutations, hostile lines: valid entries or an error naming the spool', async () => {
    await fc.assert(
      fc.asyncProperty(damaged(valid, HOSTILE_TEXTS), async (damage) => {
        await writeFile(spool, damage.bytes);
        const journal = new SpoolJournal(spool, { lockWaitMs: 100 });
        try {
          await Promise.race([
            journal.open(),
            new Promise((_, reject) => setTimeout(() => reject(new Error(`open() hung for ${HANG_MS} ms`)), HANG_MS)),
          ]);
          for (const entry of journal.pending) expect(SpoolEntrySchema.safeParse(entry).success).toBe(true);
          // whatever the bytes, only a torn last line is cut, at the last newline byte
          const keep = Buffer.from(damage.bytes.subarray(0, damage.bytes.lastIndexOf(0x0a) + 1));
          expect(Buffer.compare(await readFile(spool), keep)).toBe(0);
          if (damage.kind === 'truncated') {
            const text = Buffer.from(damage.bytes).toString('utf8');
            const whole = text.slice(0, text.lastIndexOf('\n') + 1);
            expect(journal.pending.map((e) => e.seq)).toEqual(expectedPending(whole));
            // the torn tail is cut from the file, yet kept for .unreadable and reported as lost
            const tail = text.slice(whole.length);
            expect(journal.skippedLines).toEqual(tail.trim() ? [tail] : []);
          }
        } catch (error) {
          if (!(error instanceof MlflowCorruptStoreError) || !error.message.includes(spool)) throw error;
        } finally {
          await journal.release();
          await rm(`${spool}.lock`, { force: true });
        }
      }),
      { numRuns: RUNS, interruptAfterTimeLimit: TIME_LIMIT_MS, markInterruptAsFailure: false },
    );
  });
});
