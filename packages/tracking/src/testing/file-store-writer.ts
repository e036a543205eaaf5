/**
 * A separate process writing to a shared file store, for the cross-process test in
 * file-store.spec.ts: gets or creates one experiment (all writers race for it), then writes its own
 * run — 50 params, 200 metric steps in small batches, FINISHED — and prints the run id.
 *
 * @example
 * ```sh
 * node --import tsx src/testing/file-store-writer.ts /tmp/mlruns shared-exp 3
 * ```
 */
import { FileTrackingStore } from '../file-store';

const [root, experimentName, writer] = process.argv.slice(2);
const store = new FileTrackingStore(root);
const experimentId = await store.getOrCreateExperiment(experimentName);
const run = await store.createRun({ experimentId, runName: `writer ${writer}` });
await store.logBatch(run.info.runId, {
  params: Array.from({ length: 50 }, (_, i) => ({ key: `p${i}`, value: `${writer}-${i}` })),
});
for (let step = 0; step < 200; step += 10) {
  await store.logBatch(run.info.runId, {
    metrics: Array.from({ length: 10 }, (_, i) => ({
      key: 'loss',
      value: 1 / (step + i + 1),
      timestamp: Date.now(),
      step: step + i,
    })),
  });
}
await store.updateRun({ runId: run.info.runId, status: 'FINISHED', endTime: Date.now() });
process.stdout.write(`${run.info.runId}\n`);
