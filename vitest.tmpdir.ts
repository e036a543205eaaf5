/**
 * Every test run gets its own temporary folder, removed when the run ends: TMPDIR points into it
 * for the run, and the test workers and every process they start inherit it, so `os.tmpdir()` and
 * `mkdtemp` land there. The specs make their folders with `mkdtemp` and do not remove them one by
 * one; before this, each `npm test` left about 1.5 GB under /tmp (41 GB after a day of runs).
 * `CFA_KEEP_TEST_TMP=1` keeps the folder and prints where it is. Every project's vitest.config.ts
 * names this file as its `globalSetup`.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export default async function setup(): Promise<() => Promise<void>> {
  const root = await mkdtemp(join(tmpdir(), 'cfa-test-'));
  const previous = process.env.TMPDIR;
  process.env.TMPDIR = root;
  return async () => {
    if (previous === undefined) delete process.env.TMPDIR;
    else process.env.TMPDIR = previous;
    if (process.env.CFA_KEEP_TEST_TMP) {
      console.log(`test files kept in ${root}`);
      return;
    }
    await rm(root, { recursive: true, force: true, maxRetries: 5 });
  };
}
