/**
 * What one run (one sweep cell) is: a dataset category, a method's config and what of the trained
 * model to write. A run is a pure function of this validated object, so sweeps, queues and
 * resumption can all key on it.
 *
 * The method's config sits at the top level beside `dataset`, `heatmaps` and `model`:
 * `{ method: patchcore, backbone: { name: wide_resnet50_2 }, dataset: { category: vial } }`. A file
 * written before methods had its CFA config under `cfa:`; that is read as the same run.
 */
import { z } from 'zod';
import { type MethodConfig, MethodConfigSchema } from '../methods/registry';
import type { MethodConfigBase } from '@cfa/method-kit';

/** Where the embedded synthetic dataset lives unless `dataset.root` says otherwise. */
export const DEFAULT_SYNTHETIC_ROOT = 'data/synthetic';

export const DatasetConfigSchema = z.strictObject({
  /** An MVTec AD folder; absent = the embedded synthetic dataset (generated on first use). */
  root: z.string().optional(),
  category: z.string().min(1),
  /**
   * The unified setting (a method's `unified`, CRAD's `training.unified`): the categories whose
   * train images the one model is fitted on; `category` is the one evaluated. A sweep sets it to
   * its categories; absent with `unified` on = every standard category of the data root.
   */
  trainCategories: z.array(z.string().min(1)).min(1).optional(),
});

/** What of the trained model a run writes beside its results (and a tracked run logs as artifacts). */
export const ModelOutputSchema = z.strictObject({
  /** `model/`: the bundle (manifest.json + weights.safetensors) that `predict` and `export` read. */
  bundle: z.boolean().default(true),
  /** `mlflow-model/`: the model as one ONNX graph in an MLflow Model folder (MLmodel, model.onnx, requirements). */
  mlflow: z.boolean().default(true),
});

/** The fields of a run that are not the method's. */
const RunFieldsSchema = z.strictObject({
  dataset: DatasetConfigSchema,
  /** Heatmap panels written for the highest-scoring, lowest-scoring and defect images. */
  heatmaps: z.number().int().nonnegative().default(6),
  model: ModelOutputSchema.default(ModelOutputSchema.parse({})),
});
const RUN_FIELDS = Object.keys(RunFieldsSchema.shape);

type RunFields = z.infer<typeof RunFieldsSchema>;
/**
 * One method's config and the run's fields. `training` and `evaluation` are read by the shared
 * code (epoch counts, per-epoch evaluation) as `MethodConfigBase` declares them — optional, absent
 * for a method that does not train; a method's other fields need `config.method === '…'` first.
 */
export type RunConfig = MethodConfig & RunFields & Pick<MethodConfigBase, 'training' | 'evaluation'>;

/** What a config file may write: the run's fields, and the method's (or, as before methods, `cfa: {…}`). */
export type RunConfigInput = Partial<z.input<typeof RunFieldsSchema>> & { cfa?: Record<string, unknown> } & Record<
    string,
    unknown
  >;

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

export const RunConfigSchema: z.ZodType<RunConfig, RunConfigInput> = z.unknown().transform((input, ctx) => {
  if (!isObject(input)) {
    ctx.addIssue({ code: 'custom', message: `a run config is an object, got ${JSON.stringify(input)}` });
    return z.NEVER;
  }
  const { cfa: legacy, ...rest } = input;
  const own = Object.fromEntries(Object.entries(rest).filter(([k]) => RUN_FIELDS.includes(k)));
  let methodInput: unknown = Object.fromEntries(Object.entries(rest).filter(([k]) => !RUN_FIELDS.includes(k)));
  if (legacy !== undefined) {
    // a run config from before methods: its CFA config under `cfa`
    if (Object.keys(methodInput as object).length || !isObject(legacy)) {
      ctx.addIssue({
        code: 'custom',
        path: ['cfa'],
        message:
          '`cfa:` is the layout of run configs before methods: put its fields at the top level (with `method: cfa`), and nothing else beside it',
      });
      return z.NEVER;
    }
    methodInput = { method: 'cfa', ...legacy };
  }
  const run = RunFieldsSchema.safeParse(own);
  const method = MethodConfigSchema.safeParse(methodInput);
  for (const issue of [...(run.error?.issues ?? []), ...(method.error?.issues ?? [])])
    ctx.addIssue({
      ...issue,
      path: legacy !== undefined && method.error?.issues.includes(issue) ? ['cfa', ...issue.path] : issue.path,
    } as never);
  if (!run.success || !method.success) return z.NEVER;
  return { ...method.data, ...run.data } as RunConfig;
}) as never;

/** The method's part of a run config (what a sweep's base and axes address, and a bundle stores). */
export function methodConfigOf(config: RunConfig): MethodConfig {
  const { dataset: _dataset, heatmaps: _heatmaps, model: _model, ...method } = config;
  return method as MethodConfig;
}
