/**
 * Runs a property-based test of a file decoder (tests only) in a worker thread under a watchdog, so
 * that the three ways a decoder can fail on hostile input all fail the test with the input that
 * caused them, instead of stalling or killing the test run:
 *
 * - a wrong answer or a stray exception: the property reports it (fast-check's counterexample);
 * - a hang: the worker is stopped after `timeoutMs` — a synchronous loop cannot be interrupted in
 *   the test's own thread — and the last input it was given is reported;
 * - runaway memory: the worker's JavaScript heap is capped (`maxHeapMb`), and going past it ends
 *   the worker with that input reported.
 *
 * The property module is TypeScript, loaded in the worker through tsx (a dev dependency: nothing
 * here runs outside tests). It exports an async function taking `note(input)` — called before each
 * decode so a hang can be traced — and returning a `PropertyOutcome`.
 *
 * @example
 * ```ts
 * const outcome = await runPropertyInWorker({
 *   module: new URL('./weight-files.fuzz.ts', import.meta.url), exportName: 'safetensorsProperties', timeoutMs: 120_000,
 * });
 * expect(outcome.failures).toEqual([]);
 * ```
 */
import { Worker } from 'node:worker_threads';
import { fileURLToPath } from 'node:url';
import type * as FastCheck from 'fast-check';

export interface PropertyOutcome {
  /** One report per failed property (fast-check's counterexample, seed and path to replay it). */
  failures: string[];
  /** Property name → runs done (fewer than asked when a time limit interrupted it). */
  runs: Record<string, number>;
}

export interface PropertyWorkerOptions {
  /** The property module (a `.ts` file). */
  module: URL;
  exportName: string;
  /**
   * The whole module's time at `FUZZ_SCALE=1` (multiplied by it, as the runs and time limits of
   * `checkProperties` are); past it the worker is stopped and the run counts as a hang. The test
   * itself needs `fuzzTestTimeoutMs` of it, so that the watchdog, not the test runner, reports.
   */
  timeoutMs: number;
  /** Cap of the worker's JavaScript heap (default 512 MB). */
  maxHeapMb?: number;
}

/** `note` messages carry a short description of the input about to be decoded. */
export type NoteInput = (description: string) => void;

/** `FUZZ_SCALE` (default 1): how many times the runs of every property; time limits grow with it, never shrink. */
export function fuzzScale(): number {
  const scale = Number(process.env.FUZZ_SCALE ?? 1);
  return Number.isFinite(scale) && scale > 0 ? scale : 1;
}

/**
 * The timeout a test that calls `runPropertyInWorker` needs: the worker's scaled watchdog and a
 * margin, so that a hang is reported by the watchdog, with the input that caused it.
 */
export function fuzzTestTimeoutMs(timeoutMs: number): number {
  return timeoutMs * Math.max(1, fuzzScale()) + 15_000;
}

export async function runPropertyInWorker(options: PropertyWorkerOptions): Promise<PropertyOutcome> {
  const timeoutMs = options.timeoutMs * Math.max(1, fuzzScale());
  const worker = new Worker(new URL('./property-worker-boot.mjs', import.meta.url), {
    workerData: { module: fileURLToPath(options.module), exportName: options.exportName },
    resourceLimits: { maxOldGenerationSizeMb: options.maxHeapMb ?? 512 },
    stdout: false,
    stderr: false,
  });
  let last = '(none yet)';
  return new Promise<PropertyOutcome>((resolve, reject) => {
    const timer = setTimeout(() => {
      void worker.terminate();
      reject(new Error(`${options.exportName}: no result within ${timeoutMs / 1000} s (a hang?); last input: ${last}`));
    }, timeoutMs);
    worker.on('message', (message: { kind: 'note'; input: string } | { kind: 'done'; outcome: PropertyOutcome }) => {
      if (message.kind === 'note') last = message.input;
      else {
        clearTimeout(timer);
        void worker.terminate();
        resolve(message.outcome);
      }
    });
    worker.on('error', (error) => {
      clearTimeout(timer);
      reject(new Error(`${options.exportName}: the worker failed (${error.message}); last input: ${last}`));
    });
    worker.on('exit', (code) => {
      clearTimeout(timer);
      reject(
        new Error(`${options.exportName}: the worker exited (code ${code}) without a result; last input: ${last}`),
      );
    });
  });
}

/**
 * A fuzz spec's test body and timeout, for `it(title, ...propertiesHoldInWorker(options))`: the
 * module runs in a worker (`runPropertyInWorker`), and the test fails with fast-check's reports
 * unless every property held and ran at least once; its timeout sits past the watchdog.
 */
export function propertiesHoldInWorker(options: PropertyWorkerOptions): [() => Promise<void>, number] {
  const body = async () => {
    const { failures, runs } = await runPropertyInWorker(options);
    if (failures.length) throw new Error(`${options.exportName}: ${failures.length} failed\n${failures.join('\n\n')}`);
    const idle = Object.entries(runs).filter(([, n]) => n === 0);
    if (!Object.keys(runs).length || idle.length)
      throw new Error(`${options.exportName}: no run of ${idle.map(([name]) => name).join(', ') || 'any property'}`);
  };
  return [body, fuzzTestTimeoutMs(options.timeoutMs)];
}

/** The part of fast-check used here (passed in, so that nothing here needs it outside tests). */
export type FastCheckApi = Pick<typeof FastCheck, 'check' | 'defaultReportMessage'>;

export interface NamedProperty {
  name: string;
  property: FastCheck.IRawProperty<unknown[], boolean> | FastCheck.IRawProperty<unknown[], true>;
  /** Runs asked (× FUZZ_SCALE); default: the `runs` option of `checkProperties`. */
  runs?: number;
  /**
   * Awaited after the property's runs, before the next property starts: fast-check does not wait
   * for an async run that the time limit interrupted, so a property that damages a shared file
   * returns here the promise of its last run (which restores the file).
   */
  settled?: () => Promise<unknown>;
}

/**
 * Checks properties with fast-check, each bounded in runs and time (a loaded machine runs fewer
 * inputs, never longer): `FUZZ_SCALE` multiplies the runs (deeper runs by hand), `FUZZ_SEED` replays
 * a reported failure. Call it inside a property module; `fc` is passed in so that nothing here
 * needs fast-check outside tests.
 */
export async function checkProperties(
  fc: FastCheckApi,
  properties: NamedProperty[],
  options: { runs?: number; timeLimitMs?: number } = {},
): Promise<PropertyOutcome> {
  const scale = fuzzScale();
  const seed = process.env.FUZZ_SEED ? Number(process.env.FUZZ_SEED) : undefined;
  const outcome: PropertyOutcome = { failures: [], runs: {} };
  for (const { name, property, runs = options.runs ?? 200, settled } of properties) {
    const details = await fc.check(property, {
      numRuns: Math.max(1, Math.round(runs * scale)),
      interruptAfterTimeLimit: (options.timeLimitMs ?? 20_000) * Math.max(1, scale),
      markInterruptAsFailure: false,
      ...(seed !== undefined ? { seed } : {}),
    });
    await settled?.();
    outcome.runs[name] = details.numRuns;
    if (details.failed) {
      const error = details.errorInstance;
      const why =
        error instanceof Error ? `${error.name}: ${error.message}` : String(error ?? 'the property returned false');
      outcome.failures.push(`${name}: ${fc.defaultReportMessage(details)}\nGot: ${why}`);
    }
  }
  return outcome;
}
