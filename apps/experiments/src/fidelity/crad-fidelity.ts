/**
 * The fidelity check for CRAD (issue #24, docs/fidelity.md section 4): our CRAD beside the CRAD
 * reference code itself — `tools/torch-reference/crad_run.py` drives its own model, data loader,
 * criterion, optimiser groups and evaluator — on the same seeded data and the same exported
 * random-init EfficientNet-B4 weights, after every epoch, per seed. A setup with `method: crad`
 * (experiments/fidelity/setup-crad.yaml) takes this path in the `fidelity` command.
 *
 * What is compared: I-AUROC and P-AUROC of the evaluator's maps (×8 upsampled, 21 × 21 box) and
 * image scores (largest 32 × 32 window mean), unflipped — the reference's evaluator replaces an AUC
 * below 0.5 by 1 − AUC, a choice made with the test labels; its flipped numbers are in the results
 * file too — and MVTec's P-AUPRO of the same maps; the mean training loss is shown beside them. The
 * verdict per metric is `compareMetric`'s, as for CFA. The seeds cannot match (torch's RNG — the
 * CRAD module's init, the shuffles, the coordinate noise — is not ours): only spreads compare.
 */
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { z } from 'zod';
import { viewOutputSize } from '@cfa/data';
import { MemoryEmbeddingCache } from '@cfa/method-kit';
import type { EngineSelection } from '@cfa/tensor-runtime';
import { type RunConfig, RunConfigSchema } from '../run/run-config';
import { runCell } from '../run/run-cell';
import { formatConfigError } from '../run/config-errors';
import { formatTable } from '../report/text-table';
import { createPhaseProgress, type Logger } from '../cli/logger';
import { EpochSchema, type FidelitySetup, REFERENCE_INPUT_FIELDS } from './fidelity-files';
import type { FidelityInputs } from './fidelity-inputs';
import {
  compareMetric,
  FIDELITY_LEGEND,
  type MetricComparison,
  pct,
  pm,
  type Spread,
  spread,
  VERDICT_HEADERS,
  verdictCells,
} from './fidelity-report';

export const CRAD_FIDELITY_METRICS = ['imageAuroc', 'pixelAuroc', 'pixelAupro'] as const;
export type CradFidelityMetric = (typeof CRAD_FIDELITY_METRICS)[number];

const TITLES: Record<CradFidelityMetric, string> = {
  imageAuroc: 'I-AUROC',
  pixelAuroc: 'P-AUROC',
  pixelAupro: 'P-AUPRO',
};

const CradEpochSchema = EpochSchema.pick({ imageAuroc: true, pixelAuroc: true, pixelAupro: true }).extend({
  epoch: z.number().int().positive(),
  /** The mean training loss of the epoch (FeatureMSELoss). */
  loss: z.number(),
});
export type CradEpoch = z.infer<typeof CradEpochSchema>;

/** What crad_run.py writes. */
export const CradReferenceResultsSchema = z.object({
  official: z.object({ repository: z.literal('tae-mo/CRAD'), commit: z.string(), patches: z.array(z.string()) }),
  torch: z.string(),
  settings: z.object({
    category: z.string(),
    size: z.number().int(),
    layers: z.number().int(),
    expansion: z.number().int(),
    batchSize: z.number().int(),
    epochs: z.number().int(),
  }),
  ...REFERENCE_INPUT_FIELDS,
  runs: z
    .array(
      z.object({
        seed: z.number(),
        epochs: z
          .array(CradEpochSchema.extend({ evaluatorImageAuroc: z.number(), evaluatorPixelAuroc: z.number() }))
          .min(1),
      }),
    )
    .min(1),
});
export type CradReferenceResults = z.infer<typeof CradReferenceResultsSchema>;

/** Bad or stale inputs: the command says so and exits 2. */
export class CradFidelityInputError extends Error {}

/** Our run for one seed: CRAD's defaults, the setup's overrides, the exported weights, per-epoch evaluation. */
export function cradRunConfig(setup: FidelitySetup, inputs: FidelityInputs, seed: number): RunConfig {
  const o = setup.crad as Record<string, Record<string, unknown> | undefined>;
  return RunConfigSchema.parse({
    ...o,
    method: 'crad',
    dataset: { root: inputs.dataRoot, category: inputs.category },
    backbone: { ...o.backbone, name: setup.backbone.name, weights: inputs.weightsPath },
    training: { ...o.training, epochs: setup.epochs },
    evaluation: { ...o.evaluation, everyEpoch: true },
    seed,
    heatmaps: 0,
    model: { bundle: false, mlflow: false },
  });
}

/** The Python step that makes the reference's results for this setup. */
export function cradReferenceCommand(setup: FidelitySetup, inputs: FidelityInputs): string {
  const c = cradRunConfig(setup, inputs, 0);
  if (c.method !== 'crad') throw new Error('unreachable');
  return [
    'CRAD_OFFICIAL_DIR=<checkout of tae-mo/CRAD at b5a1c4721034>',
    '/usr/bin/python3 tools/torch-reference/crad_run.py',
    `--data-root ${inputs.dataRoot} --category ${inputs.category} --weights ${inputs.weightsPath}`,
    `--size ${viewOutputSize(c.view)} --layers ${c.decoder.layers} --expansion ${c.decoder.expansion} --batch-size ${c.training.batchSize}`,
    `--epochs ${setup.epochs} --seeds ${setup.seeds.join(',')} --threads 1 --out ${setup.official}`,
  ].join(' \\\n    ');
}

/** Where the results file was measured on other inputs or sizes than this setup's (empty: none). */
export function staleReference(reference: CradReferenceResults, inputs: FidelityInputs, config: RunConfig): string[] {
  const out: string[] = [];
  if (reference.data.sha256 !== inputs.dataSha256)
    out.push(`the data (${reference.data.sha256.slice(0, 12)} there, ${inputs.dataSha256.slice(0, 12)} here)`);
  if (reference.weights.sha256 !== inputs.weightsSha256)
    out.push(`the weights (${reference.weights.sha256.slice(0, 12)} there, ${inputs.weightsSha256.slice(0, 12)} here)`);
  if (config.method !== 'crad') return out;
  const ours = {
    // the reference resizes every image to size × size (TestBaseTransform)
    size: config.view.kind === 'resize' ? config.view.size : `${config.view.kind} view`,
    layers: config.decoder.layers,
    expansion: config.decoder.expansion,
    batchSize: config.training.batchSize,
  };
  for (const [k, v] of Object.entries(ours)) {
    const theirs = reference.settings[k as keyof typeof ours];
    if (theirs !== v) out.push(`${k} (${theirs} there, ${v} here)`);
  }
  return out;
}

export interface CradEpochComparison {
  epoch: number;
  metrics: Record<CradFidelityMetric, MetricComparison>;
  loss: { official: Spread; ours: Spread };
}

/** Per epoch both sides have: each metric's verdict, and the training loss's spreads. */
export function compareCradEpochs(reference: CradReferenceResults, ours: CradEpoch[][]): CradEpochComparison[] {
  const epochs = Math.min(...reference.runs.map((r) => r.epochs.length), ...ours.map((r) => r.length));
  return Array.from({ length: epochs }, (_, e) => {
    const theirs = reference.runs.map((r) => r.epochs[e]);
    const mine = ours.map((r) => r[e]);
    const metrics = Object.fromEntries(
      CRAD_FIDELITY_METRICS.map((m) => [
        m,
        compareMetric(
          theirs.map((t) => t[m]),
          mine.map((t) => t[m]),
        ),
      ]),
    ) as Record<CradFidelityMetric, MetricComparison>;
    return {
      epoch: theirs[0].epoch,
      metrics,
      loss: { official: spread(theirs.map((t) => t.loss)), ours: spread(mine.map((t) => t.loss)) },
    };
  });
}

export function cradFidelityTable(rows: CradEpochComparison[], options: { markdown?: boolean } = {}): string {
  const body: string[][] = [];
  for (const r of rows) {
    for (const m of CRAD_FIDELITY_METRICS) {
      const c = r.metrics[m];
      body.push([
        String(r.epoch),
        TITLES[m],
        pm(c.official),
        `${pm(c.ours)} (${pct(c.ours.min)}–${pct(c.ours.max)})`,
        ...verdictCells(c),
      ]);
    }
    const l = r.loss;
    body.push([
      String(r.epoch),
      'train loss',
      `${l.official.mean.toPrecision(4)} ± ${l.official.std.toPrecision(2)}`,
      `${l.ours.mean.toPrecision(4)} ± ${l.ours.std.toPrecision(2)}`,
      ...VERDICT_HEADERS.map(() => ''),
    ]);
  }
  return formatTable(
    ['epoch', 'metric', 'reference code: mean ± std', 'ours: mean ± std (min–max)', ...VERDICT_HEADERS],
    body,
    options,
  );
}

async function readReference(path: string): Promise<CradReferenceResults> {
  let raw: unknown;
  try {
    raw = JSON.parse(await readFile(path, 'utf8'));
  } catch (error) {
    const e = error as NodeJS.ErrnoException;
    throw new CradFidelityInputError(
      `${path}: ${e.code ? `cannot read the CRAD reference code's results (${e.code})` : `not valid JSON (${e.message})`}`,
    );
  }
  const checked = CradReferenceResultsSchema.safeParse(raw);
  if (!checked.success) throw new CradFidelityInputError(formatConfigError(checked.error, path));
  return checked.data;
}

export interface CradFidelityOptions {
  prepare?: boolean;
  seeds?: number[];
  outDir: string;
  markdown?: string;
  engine: () => Promise<EngineSelection>;
  log: Logger;
}

/** The `fidelity` command for a `method: crad` setup; true when every metric agrees (undefined for --prepare). */
export async function cradFidelity(
  setup: FidelitySetup,
  inputs: FidelityInputs,
  options: CradFidelityOptions,
): Promise<boolean | undefined> {
  const command = cradReferenceCommand(setup, inputs);
  if (options.prepare) {
    process.stdout.write(`inputs ready; the CRAD reference code's numbers come from:\n  ${command}\n`);
    return undefined;
  }
  const reference = await readReference(setup.official).catch((error: Error) => {
    throw new CradFidelityInputError(`${error.message}\nmake it with:\n  ${command}`);
  });
  const stale = staleReference(reference, inputs, cradRunConfig(setup, inputs, 0));
  if (stale.length)
    throw new CradFidelityInputError(
      `${setup.official} was measured on other inputs: ${stale.join(', ')}. Re-run the reference code:\n  ${command}`,
    );
  const seeds = options.seeds ?? setup.seeds;
  const engine = await options.engine();
  const cache = new MemoryEmbeddingCache(); // the backbone's features, computed once for every seed
  const ours: CradEpoch[][] = [];
  for (const seed of seeds) {
    const progress = createPhaseProgress();
    try {
      const result = await runCell({
        config: cradRunConfig(setup, inputs, seed),
        engine,
        cache,
        outDir: join(options.outDir, `seed-${seed}`),
        onProgress: (e) => progress.update(`seed ${seed} ${e.phase}`, e.done, e.total, e.detail),
      });
      const epochs = (result.epochs ?? []).map((e) => ({
        epoch: e.epoch,
        imageAuroc: e.metrics.imageAuroc,
        pixelAuroc: e.metrics.pixelAuroc,
        pixelAupro: e.metrics.pixelAupro,
        loss: result.history[e.epoch - 1].loss,
      }));
      options.log.info(
        `seed ${seed}: ${epochs.map((e) => `epoch ${e.epoch} I ${pct(e.imageAuroc)} P ${pct(e.pixelAuroc)} PRO ${pct(e.pixelAupro)} loss ${e.loss.toPrecision(4)}`).join('; ')}`,
      );
      ours.push(epochs);
    } finally {
      progress.stop();
    }
  }
  const rows = compareCradEpochs(reference, ours);
  const title = `CRAD (${setup.backbone.name}, ${reference.settings.size} px, ${reference.settings.layers}×${reference.settings.expansion} bottlenecks) on ${inputs.category}, ${setup.epochs} epochs: the reference code (${reference.runs.length} seeds, torch ${reference.torch}, commit ${reference.official.commit.slice(0, 12)}) vs ours (${seeds.length} seeds, ${engine.name})`;
  process.stdout.write(`\n${title}\n${cradFidelityTable(rows)}\n${FIDELITY_LEGEND.join('\n')}\n`);
  await mkdir(options.outDir, { recursive: true });
  await writeFile(
    join(options.outDir, 'fidelity.json'),
    `${JSON.stringify({ setup, official: setup.official, ours, comparison: rows }, null, 2)}\n`,
  );
  const markdown = `${title}\n\n${cradFidelityTable(rows, { markdown: true })}\n\n${FIDELITY_LEGEND.map((l) => `- ${l}`).join('\n')}\n`;
  await writeFile(join(options.outDir, 'fidelity.md'), markdown);
  if (options.markdown) await writeFile(options.markdown, markdown);
  return rows.every((r) => CRAD_FIDELITY_METRICS.every((m) => r.metrics[m].agrees));
}
