/**
 * `fidelity`: our `train-eval` (the default config = the reference protocol) beside the CFA
 * reference code itself on the same seeded data and weights, epoch by epoch (docs/fidelity.md) —
 * or, with a setup of `method: patchcore`, our PatchCore beside its authors' code (one row set: the
 * fitted model). The reference's numbers come from `tools/torch-reference/official_run.py` /
 * `patchcore_run.py` (Python; a dev step, results committed); this command needs no Python.
 *
 *   nx run experiments:fidelity                 # compare (exit 1 if a number leaves the spread)
 *   nx run experiments:fidelity -- --prepare    # write the data and weights, print the Python step
 *   nx run experiments:fidelity -- --setup experiments/fidelity/setup-patchcore.yaml
 */
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Command } from 'commander';
import { MemoryEmbeddingCache } from '@cfa/method-kit';
import { parse as parseYaml } from 'yaml';
import { createLogger, createPhaseProgress } from './logger';
import { addEngineOptions, engineFromOptions, type EngineOptions, timestampedRunDir } from './common-options';
import { RunConfigSchema } from '../run/run-config';
import { runCell } from '../run/run-cell';
import { finishedRun } from '../fidelity/finished-run';
import { formatConfigError } from '../run/config-errors';
import {
  type FidelityEpoch,
  type FidelitySetup,
  FidelitySetupSchema,
  type OfficialResults,
  OfficialResultsSchema,
} from '../fidelity/fidelity-files';
import { prepareFidelityInputs } from '../fidelity/fidelity-inputs';
import {
  allAgree,
  compareEpochs,
  fidelityTable,
  perSeedTable,
  FIDELITY_LEGEND,
  SIGNIFICANCE,
  SPREAD_FACTOR,
} from '../fidelity/fidelity-report';
import { cradFidelity, CradFidelityInputError } from '../fidelity/crad-fidelity';

interface FidelityOptions extends EngineOptions {
  setup: string;
  prepare?: boolean;
  seeds?: string;
  out?: string;
  markdown?: string;
  resume?: boolean;
}

class FidelityInputError extends Error {}

async function readJsonOrYaml(path: string, what: string): Promise<unknown> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    throw new FidelityInputError(`${path}: cannot read the ${what} (${(error as NodeJS.ErrnoException).code})`);
  }
  try {
    return path.endsWith('.json') ? JSON.parse(text) : parseYaml(text);
  } catch (error) {
    throw new FidelityInputError(
      `${path}: not valid ${path.endsWith('.json') ? 'JSON' : 'YAML'} (${(error as Error).message})`,
    );
  }
}

/** `0,1,2` or `0-29`. */
function parseSeeds(text: string): number[] {
  const range = /^(\d+)-(\d+)$/.exec(text);
  const seeds = range
    ? Array.from({ length: Number(range[2]) - Number(range[1]) + 1 }, (_, i) => Number(range[1]) + i)
    : text.split(',').map(Number);
  if (seeds.length === 0 || seeds.some((s) => !Number.isInteger(s) || s < 0))
    throw new FidelityInputError(`--seeds: expected non-negative integers like 0,1,2 or a range 0-29, got '${text}'`);
  return seeds;
}

function officialCommand(setup: FidelitySetup, weightsPath: string): string {
  if (setup.method === 'patchcore')
    return [
      'PATCHCORE_OFFICIAL_DIR=<checkout of amazon-science/patchcore-inspection at fcaa92f124fb> \\',
      '  CFA_OFFICIAL_DIR=<checkout of sungwool/CFA_for_anomaly_localization at 07080868be8d (for P-PRO (ref))>',
      '/usr/bin/python3 tools/torch-reference/patchcore_run.py',
      `--data-root ${setup.dataset.root} --category ${setup.dataset.category}`,
      `--weights ${weightsPath} --backbone ${setup.backbone.name} --seeds ${setup.seeds.join(',')} --threads 2`,
      `--out ${setup.official}`,
    ].join(' \\\n    ');
  return [
    'CFA_OFFICIAL_DIR=<checkout of sungwool/CFA_for_anomaly_localization at 07080868be8d>',
    '/usr/bin/python3 tools/torch-reference/official_run.py',
    `--data-root ${setup.dataset.root} --category ${setup.dataset.category}`,
    `--weights ${weightsPath} --cnn res18 --epochs ${setup.epochs} --seeds ${setup.seeds.join(',')} --untrained --threads 2`,
    `--out ${setup.official}`,
  ].join(' \\\n    ');
}

export function fidelityCommand(): Command {
  const command = new Command('fidelity')
    .description(
      "our train-eval beside the reference code's own numbers on the same data and weights, per epoch (CFA; CRAD with a `method: crad` setup)",
    )
    .option(
      '--setup <file>',
      'what is compared (data, weights, epochs, seeds, results file)',
      'experiments/fidelity/setup.yaml',
    )
    .option('--prepare', "write the dataset and the weights only, and print the reference code's command")
    .option('--seeds <list>', "our seeds: 0,1,2 or a range 0-29 (default: the setup file's)")
    .option('--out <dir>', 'where the table and our per-epoch numbers go (default runs/fidelity/<time>)')
    .option('--markdown <file>', 'also write the comparison table as markdown there (e.g. for docs/fidelity.md)')
    .option(
      '--resume',
      "reuse a seed's finished run already in --out when it was made with the same config and engine (after a stopped run; the data and weights at the setup's paths are taken to be those it was made with)",
    );
  addEngineOptions(command);
  return command.action(async (options: FidelityOptions) => {
    const log = createLogger();
    try {
      const parsed = FidelitySetupSchema.safeParse(await readJsonOrYaml(options.setup, 'fidelity setup'));
      if (!parsed.success) throw new FidelityInputError(formatConfigError(parsed.error, options.setup));
      const setup = parsed.data;
      const inputs = await prepareFidelityInputs(setup);
      log.info(
        `data ${inputs.dataRoot}/${inputs.category} (sha256 ${inputs.dataSha256.slice(0, 12)}), weights ${inputs.weightsPath} (sha256 ${inputs.weightsSha256.slice(0, 12)})`,
      );
      if (setup.method === 'crad') {
        // CRAD beside its authors' code (crad-fidelity.ts): same data and weights, its own results file
        const ok = await cradFidelity(setup, inputs, {
          prepare: options.prepare,
          seeds: options.seeds?.split(',').map(Number),
          outDir: options.out ?? timestampedRunDir('fidelity'),
          markdown: options.markdown,
          engine: () => engineFromOptions(options, log),
          log,
        });
        if (ok === false) process.exitCode = 1;
        if (ok !== undefined)
          process.stdout.write(
            ok
              ? `\nevery metric inside the reference code's mean ± 2 std or not significantly different from it (permutation p ≥ ${SIGNIFICANCE})\n`
              : `\nsome numbers differ from the reference code's (see the rows marked NO)\n`,
          );
        return;
      }
      if (options.prepare) {
        process.stdout.write(
          `inputs ready; the reference code's numbers come from:\n  ${officialCommand(setup, inputs.weightsPath)}\n`,
        );
        return;
      }
      const rawOfficial = await readJsonOrYaml(setup.official, "reference code's results").catch((error: Error) => {
        throw new FidelityInputError(
          `${error.message}\nmake it with:\n  ${officialCommand(setup, inputs.weightsPath)}`,
        );
      });
      const checked = OfficialResultsSchema.safeParse(rawOfficial);
      if (!checked.success) throw new FidelityInputError(formatConfigError(checked.error, setup.official));
      const official: OfficialResults = checked.data;
      const stale: string[] = [];
      if (official.data.sha256 !== inputs.dataSha256)
        stale.push(`the data (${official.data.sha256.slice(0, 12)} there, ${inputs.dataSha256.slice(0, 12)} here)`);
      if (official.weights.sha256 !== inputs.weightsSha256)
        stale.push(
          `the weights (${official.weights.sha256.slice(0, 12)} there, ${inputs.weightsSha256.slice(0, 12)} here)`,
        );
      if (stale.length) {
        throw new FidelityInputError(
          `${setup.official} was measured on other inputs: ${stale.join(' and ')}. Re-run the reference code:\n  ${officialCommand(setup, inputs.weightsPath)}`,
        );
      }
      const seeds = options.seeds ? parseSeeds(options.seeds) : setup.seeds;
      const engine = await engineFromOptions(options, log);
      const outDir = options.out ?? timestampedRunDir('fidelity');
      const cache = new MemoryEmbeddingCache(); // float32 features, computed once for every seed
      const ours: FidelityEpoch[][] = [];
      // the reference evaluated each seed before its first step too: ours untrained is `loss: none`
      const withUntrained = official.runs.every((r) => r.untrained);
      // PatchCore: its defaults are its authors' settings; only the backbone, weights and seed are the setup's
      const patchcoreConfig = (seed: number) =>
        RunConfigSchema.parse({
          dataset: { root: inputs.dataRoot, category: inputs.category },
          ...setup.patchcore,
          method: 'patchcore',
          backbone: { ...(setup.patchcore.backbone as object), name: setup.backbone.name, weights: inputs.weightsPath },
          seed,
          heatmaps: 0,
        });
      for (const seed of seeds) {
        const configFor = (loss?: { terms: 'none' }) =>
          RunConfigSchema.parse({
            dataset: { root: inputs.dataRoot, category: inputs.category },
            cfa: {
              ...setup.cfa,
              backbone: { ...(setup.cfa.backbone as object), name: setup.backbone.name, weights: inputs.weightsPath },
              training: { ...(setup.cfa.training as object), epochs: setup.epochs },
              ...(loss ? { loss: { ...(setup.cfa.loss as object), ...loss } } : { evaluation: { everyEpoch: true } }),
              seed,
            },
            heatmaps: 0,
          });
        const progress = createPhaseProgress();
        const run = async (config: ReturnType<typeof configFor>, folder: string) => {
          const done = options.resume ? await finishedRun(join(outDir, folder), config, engine.name) : undefined;
          if (done) {
            log.info(`seed ${seed}: reusing ${join(outDir, folder)} (same config, finished)`);
            return done;
          }
          return runCell({
            config,
            engine,
            cache,
            outDir: join(outDir, folder),
            onProgress: (e) => progress.update(`seed ${seed} ${e.phase}`, e.done, e.total, e.detail),
          });
        };
        try {
          const epochs: FidelityEpoch[] = [];
          if (setup.method === 'patchcore') {
            const fitted = await run(patchcoreConfig(seed), `seed-${seed}`);
            ours.push([{ epoch: 1, ...fitted.metrics }]);
            continue;
          }
          if (withUntrained) {
            const untrained = await run(configFor({ terms: 'none' }), `seed-${seed}-untrained`);
            epochs.push({ epoch: 0, ...untrained.metrics, radius: untrained.model.radius });
          }
          const result = await run(configFor(), `seed-${seed}`);
          for (const e of result.epochs ?? [])
            epochs.push({ epoch: e.epoch, ...e.metrics, radius: result.history[e.epoch - 1].radius });
          ours.push(epochs);
        } finally {
          progress.stop();
        }
      }
      const rows = compareEpochs(official, ours);
      const what = setup.method === 'patchcore' ? 'PatchCore (epoch 1 = the fitted model)' : `${setup.epochs} epochs`;
      const title = `${setup.backbone.name} on ${inputs.category}, ${what}: the reference code (${official.runs.length} seeds, torch ${official.torch}, commit ${official.official.commit.slice(0, 12)}) vs ours (${seeds.length} seeds, ${engine.name})`;
      const seedsLine = `per seed (%): the reference code's seeds ${official.runs.map((r) => r.seed).join(', ')}; ours ${seeds.join(', ')}`;
      const legend = FIDELITY_LEGEND;
      process.stdout.write(
        `\n${title}\n${fidelityTable(rows)}\n${legend.join('\n')}\n\n${seedsLine}\n${perSeedTable(rows)}\n`,
      );
      await mkdir(outDir, { recursive: true });
      await writeFile(
        join(outDir, 'fidelity.json'),
        `${JSON.stringify({ setup, official: setup.official, ours, comparison: rows }, null, 2)}\n`,
      );
      const markdown = `${title}\n\n${fidelityTable(rows, { markdown: true })}\n\n${legend.map((l) => `- ${l}`).join('\n')}\n\n${seedsLine}\n\n${perSeedTable(rows, { markdown: true })}\n`;
      await writeFile(join(outDir, 'fidelity.md'), markdown);
      if (options.markdown) await writeFile(options.markdown, markdown);
      const ok = allAgree(rows);
      process.stdout.write(
        ok
          ? `\nevery metric's mean and spread agree with the reference code's (inside mean ± 2 std and std within ${SPREAD_FACTOR}×, or permutation p ≥ ${SIGNIFICANCE}), r equal to 1e-6 (${outDir}/fidelity.md)\n`
          : `\nsome numbers differ from the reference code's (see the rows marked NO; ${outDir}/fidelity.md)\n`,
      );
      if (!ok) process.exitCode = 1;
    } catch (error) {
      if (!(error instanceof FidelityInputError || error instanceof CradFidelityInputError)) throw error;
      process.stderr.write(`${error.message}\n`);
      process.exitCode = 2;
    }
  });
}
