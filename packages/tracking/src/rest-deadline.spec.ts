/**
 * Bounded waits against a server that accepts connections and never answers (a socket that reads
 * and stays silent): every call ends by its deadline, a spooling store spools after one deadline
 * and then at once, and a spool replay bounded by a time returns by then. The bounds asserted are
 * the deadlines themselves plus a few seconds of slack for a loaded machine — behaviour, not speed.
 */
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MlflowUnavailableError } from './errors';
import { RestTrackingStore } from './rest-store';
import { SpoolingTrackingStore } from './spooling-store';
import { type SilentServer, startSilentServer } from './testing/silent-server';

const SLACK_MS = 4_000;

async function timed<T>(fn: () => Promise<T>): Promise<{ ms: number; value?: T; error?: unknown }> {
  const start = Date.now();
  try {
    const value = await fn();
    return { ms: Date.now() - start, value };
  } catch (error) {
    return { ms: Date.now() - start, error };
  }
}

describe('a server that accepts and never answers', () => {
  let silent: SilentServer;
  beforeAll(async () => {
    silent = await startSilentServer();
  });
  afterAll(() => silent.close());

  it('a call ends by its deadline (retries included) with DEADLINE_EXCEEDED naming the server and the operation', async () => {
    const store = new RestTrackingStore({ uri: silent.url, deadlineMs: 1_500, requestTimeoutMs: 600 });
    const { ms, error } = await timed(() => store.getExperimentByName('x'));
    expect(error).toBeInstanceOf(MlflowUnavailableError);
    expect(error).toMatchObject({ errorCode: 'DEADLINE_EXCEEDED' });
    expect((error as Error).message).toContain(silent.url);
    expect((error as Error).message).toMatch(/experiments\/search.*within 1\.5 s/);
    // one 600 ms attempt at least; no backoff that would end past the deadline is started
    expect(ms).toBeGreaterThanOrEqual(550);
    expect(ms).toBeLessThan(1_500 + SLACK_MS);
    const closing = await timed(() => store.close());
    expect(closing.ms).toBeLessThan(SLACK_MS);
  });

  it('until(t) bounds every call of the view by t, whatever its own deadline', async () => {
    const store = new RestTrackingStore({ uri: silent.url, deadlineMs: 60_000 });
    const { ms, error } = await timed(() => store.until(Date.now() + 1_000).getRun('a'.repeat(32)));
    expect(error).toMatchObject({ errorCode: 'DEADLINE_EXCEEDED' });
    expect(ms).toBeLessThan(1_000 + SLACK_MS);
    await store.close();
  });

  it('a spooling store waits one deadline, then spools every later write at once; a bounded replay returns by its time', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'silent-spool-'));
    const rest = new RestTrackingStore({ uri: silent.url, deadlineMs: 1_000 });
    const store = new SpoolingTrackingStore(rest, join(dir, 'spool.jsonl'), { retryIntervalMs: 60_000 });
    const first = await timed(() => store.updateRun({ runId: 'a'.repeat(32), status: 'RUNNING' }));
    expect(first.error).toBeUndefined();
    expect(first.ms).toBeLessThan(1_000 + SLACK_MS);
    const later = await timed(async () => {
      for (let step = 0; step < 20; step++) await store.logMetric('a'.repeat(32), 'loss', 1 / (step + 1), step);
    });
    // queued behind the spooled write: no request, no wait
    expect(later.ms).toBeLessThan(SLACK_MS);
    expect(store.backlog).toBe(21);
    const replay = await timed(() => store.flush({ deadlineAt: Date.now() + 1_500 }));
    expect(replay.value).toBe(false);
    expect(replay.ms).toBeLessThan(1_500 + SLACK_MS);
    expect(store.backlog).toBe(21);
    const closing = await timed(() => store.close({ flush: false }));
    expect(closing.ms).toBeLessThan(SLACK_MS);
  });
});
