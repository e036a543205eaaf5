/**
 * What one run (one sweep cell) is: a dataset category, a CFA config and how to execute it. A run
 * is a pure function of this validated object, so sweeps, queues and resumption can all key on it.
 */
import { z } from 'zod';
import { CfaConfigSchema } from '@cfa/cfa';

/** Where the embedded synthetic dataset lives unless `dataset.root` says otherwise. */
export const DEFAULT_SYNTHETIC_ROOT = 'data/synthetic';

export const DatasetConfigSchema = z.strictObject({
  /** An MVTec AD folder; absent = the embedded synthetic dataset (generated on first use). */
  root: z.string().optional(),
  category: z.string().min(1),
});

/** What of the trained model a run writes beside its results (and a tracked run logs as artifacts). */
export const ModelOutputSchema = z.strictObject({
  /** `model/`: the bundle (manifest.json + weights.safetensors) that `predict` and `export` read. */
  bundle: z.boolean().default(true),
  /** `mlflow-model/`: the model as one ONNX graph in an MLflow Model folder (MLmodel, model.onnx, requirements). */
  mlflow: z.boolean().default(true),
});

export const RunConfigSchema = z.strictObject({
  dataset: DatasetConfigSchema,
  cfa: CfaConfigSchema.default(CfaConfigSchema.parse({})),
  /** Heatmap panels written for the highest-scoring, lowest-scoring and defect images. */
  heatmaps: z.number().int().nonnegative().default(6),
  model: ModelOutputSchema.default(ModelOutputSchema.parse({})),
});

export type RunConfigInput = z.input<typeof RunConfigSchema>;
export type RunConfig = z.infer<typeof RunConfigSchema>;
