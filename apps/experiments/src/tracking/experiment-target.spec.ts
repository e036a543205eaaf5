import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FileTrackingStore } from '@cfa/tracking';
import { describe, expect, it } from 'vitest';
import { resolveExperiment } from './experiment-target';

describe("the experiment a command logs to, as MLflow's fluent API picks it", () => {
  it("the command's own name; MLFLOW_EXPERIMENT_NAME (created when missing); MLFLOW_EXPERIMENT_ID (must exist; must agree with the name)", async () => {
    const store = new FileTrackingStore(join(await mkdtemp(join(tmpdir(), 'exp-target-')), 'mlruns'));
    const own = await resolveExperiment(store, 'ablation-loss', {}, {});
    expect((await store.getExperiment(own)).name).toBe('ablation-loss');
    const named = await resolveExperiment(store, 'ablation-loss', {}, { MLFLOW_EXPERIMENT_NAME: 'team-cfa' });
    expect((await store.getExperiment(named)).name).toBe('team-cfa');
    expect(await resolveExperiment(store, 'ablation-loss', {}, { MLFLOW_EXPERIMENT_ID: named })).toBe(named);
    expect(
      await resolveExperiment(store, 'x', {}, { MLFLOW_EXPERIMENT_ID: named, MLFLOW_EXPERIMENT_NAME: 'team-cfa' }),
    ).toBe(named);
    await expect(
      resolveExperiment(store, 'x', {}, { MLFLOW_EXPERIMENT_ID: named, MLFLOW_EXPERIMENT_NAME: 'other' }),
    ).rejects.toThrow(/MLFLOW_EXPERIMENT_ID=\d+ names the experiment 'team-cfa', but MLFLOW_EXPERIMENT_NAME='other'/);
    await expect(resolveExperiment(store, 'x', {}, { MLFLOW_EXPERIMENT_ID: '123456789012345678' })).rejects.toThrow(
      /MLFLOW_EXPERIMENT_ID=123456789012345678: .* has no experiment with this id/,
    );
  });
});
