/**
 * A sweep's models into the Model Registry (fake server): every finished cell's logged model a
 * version, tagged with its cell and test metrics; an alias on the only version, or on the best on
 * the test set only when asked by that name (and tagged so); a second registration adds nothing;
 * a cell without a logged model is reported, not registered; options that cannot work are refused.
 */
import { ModelRegistryClient, RestTrackingStore } from '@cfa/tracking';
import { type FakeMlflowServer, startFakeMlflowServer } from '@cfa/tracking/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ALIAS_SELECTION_TAG, aliasProblem, registerSweepModels } from './register-models';

describe('registerSweepModels', () => {
  let fake: FakeMlflowServer;
  let store: RestTrackingStore;
  let registry: ModelRegistryClient;
  let experimentId: string;
  let parentRunId: string;
  const cellRuns: string[] = [];

  beforeAll(async () => {
    fake = await startFakeMlflowServer();
    store = new RestTrackingStore({ uri: fake.url, retry: { attempts: 1 } });
    registry = new ModelRegistryClient(store.transport);
    experimentId = await store.getOrCreateExperiment('sweep');
    parentRunId = (await store.createRun({ experimentId, runName: 'sweep' })).info.runId;
    for (const [i, auroc] of [0.6, 0.9, 0.7, undefined].entries()) {
      const { runId } = (
        await store.createRun({ experimentId, runName: `cell ${i}`, parentRunId, startTime: 1_700_000_000_000 + i })
      ).info;
      cellRuns.push(runId);
      if (auroc !== undefined) {
        const model = await store.createLoggedModel({
          experimentId,
          name: `cell-${i}`,
          sourceRunId: runId,
          tags: { 'cfa.category': 'oak', 'cfa.cell.key': `k${i}` },
        });
        await store.logOutputs(runId, [{ modelId: model.modelId, step: 0 }]);
        await store.logBatch(runId, {
          metrics: [
            {
              key: 'image_auroc',
              value: auroc,
              timestamp: 1,
              step: 0,
              modelId: model.modelId,
              datasetName: 'oak',
              datasetDigest: 'd',
            },
          ],
        });
        await store.finalizeLoggedModel(model.modelId, 'READY');
      } else await store.setTag(runId, 'cfa.logged_model.error', 'the server went away');
      await store.updateRun({ runId, status: 'FINISHED', endTime: 1_700_000_001_000 });
    }
  });
  afterAll(async () => {
    await store.close();
    await fake.close();
  });

  const register = (extra: { alias?: string; aliasBestOnTest?: string }) =>
    registerSweepModels({ store, registry, experimentId, parentRunId, sweepName: 'sweep', name: 'cfa-oak', ...extra });

  it('every model a version with its tags; the alias on the best image_auroc, tagged as a pick on the test set', async () => {
    const r = await register({ alias: 'champion', aliasBestOnTest: 'image_auroc' });
    expect(r.versions.map((v) => [v.cell, v.version, v.created])).toEqual([
      ['cell 0', '1', true],
      ['cell 1', '2', true],
      ['cell 2', '3', true],
    ]);
    expect(r.skipped).toEqual([{ cell: 'cell 3', reason: expect.stringMatching(/the server went away.*sync-runs/) }]);
    expect(r.alias).toEqual({ alias: 'champion', version: '2', cell: 'cell 1', selection: 'best-on-test:image_auroc' });
    const champion = await registry.getModelVersionByAlias('cfa-oak', 'champion');
    expect(champion.tags).toMatchObject({
      'cfa.category': 'oak',
      'cfa.cell.key': 'k1',
      image_auroc: '0.9',
      'cfa.test_dataset': 'oak@d',
      [ALIAS_SELECTION_TAG]: 'champion best-on-test:image_auroc',
    });
    expect((await store.getRun(cellRuns[1])).data.tags[ALIAS_SELECTION_TAG]).toBe(
      'cfa-oak@champion best-on-test:image_auroc',
    );
  });

  it('a second registration keeps the versions; an alias with several versions and no rule is refused', async () => {
    const again = await register({});
    expect(again.versions.map((v) => v.created)).toEqual([false, false, false]);
    expect(await registry.searchModelVersions('cfa-oak')).toHaveLength(3);
    await expect(register({ alias: 'prod' })).rejects.toThrow(/3 versions were registered; say which one/);
  });

  it('options that cannot work, before anything runs', () => {
    expect(aliasProblem({ alias: 'champion' })).toMatch(/--alias needs --register/);
    expect(aliasProblem({ register: 'm', alias: 'v2' })).toMatch(/reserves/);
    expect(aliasProblem({ register: 'm', aliasBestOnTest: 'image_auroc' })).toMatch(/needs --alias/);
    expect(aliasProblem({ register: 'm', alias: 'a', aliasBestOnTest: 'loss' })).toMatch(/expected one of image_auroc/);
    expect(aliasProblem({ register: 'm', alias: 'a', aliasBestOnTest: 'pixel_aupro' })).toBeUndefined();
  });
});
