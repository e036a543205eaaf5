import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse as parseYaml } from 'yaml';
import {
  type CradEpoch,
  type CradReferenceResults,
  CradReferenceResultsSchema,
  compareCradEpochs,
  cradFidelityTable,
  cradReferenceCommand,
  cradRunConfig,
  staleReference,
} from './crad-fidelity';
import { FidelitySetupSchema } from './fidelity-files';
import type { FidelityInputs } from './fidelity-inputs';

const ROOT = join(__dirname, '../../../..');

const epoch = (e: number, v: number, loss = 0.07): CradEpoch => ({
  epoch: e,
  imageAuroc: v,
  pixelAuroc: v,
  pixelAupro: v,
  loss,
});

function reference(values: number[]): CradReferenceResults {
  return {
    official: { repository: 'tae-mo/CRAD', commit: 'b'.repeat(40), patches: [] },
    torch: '1.13.0',
    settings: { category: 'fleece', size: 128, layers: 4, expansion: 216, batchSize: 16, epochs: 1 },
    weights: { file: 'w', sha256: 'a'.repeat(64) },
    data: { category: 'fleece', sha256: 'c'.repeat(64) },
    runs: values.map((v, seed) => ({
      seed,
      epochs: [{ ...epoch(1, v), evaluatorImageAuroc: Math.max(v, 1 - v), evaluatorPixelAuroc: v }],
    })),
  };
}

const inputs: FidelityInputs = {
  dataRoot: 'data/x',
  category: 'fleece',
  dataSha256: 'c'.repeat(64),
  weightsPath: 'w.safetensors',
  weightsSha256: 'a'.repeat(64),
};

async function committedSetup() {
  const text = await readFile(join(ROOT, 'experiments/fidelity/setup-crad.yaml'), 'utf8');
  return FidelitySetupSchema.parse(parseYaml(text));
}

describe('CRAD fidelity', () => {
  it('per metric: our mean inside the reference mean ± 2 std, or the permutation test cannot tell them apart', () => {
    const theirs = reference([0.5, 0.52, 0.54, 0.56, 0.58]); // mean 0.54, std 0.0316
    const near = compareCradEpochs(
      theirs,
      [0.53, 0.55, 0.57].map((v) => [epoch(1, v)]),
    );
    expect(near).toHaveLength(1);
    expect(near[0].metrics.imageAuroc.inside).toBe(true);
    expect(near[0].metrics.imageAuroc.agrees).toBe(true);
    const far = compareCradEpochs(
      theirs,
      [0.7, 0.71, 0.72, 0.73, 0.74].map((v) => [epoch(1, v)]),
    );
    expect(far[0].metrics.pixelAupro.inside).toBe(false);
    expect(far[0].metrics.pixelAupro.pValue).toBeLessThan(0.05);
    expect(far[0].metrics.pixelAupro.agrees).toBe(false);
    expect(cradFidelityTable(far)).toMatch(/OUTSIDE .* NO/);
    expect(far[0].loss.ours.mean).toBeCloseTo(0.07, 12);
    // the spread verdict is printed as for CFA: our std ÷ theirs (0.0158 / 0.0316 = 0.50×) and its p
    const table = cradFidelityTable(far);
    expect(table).toMatch(/std ratio +spread p +agrees/);
    expect(table).toMatch(
      /P-AUPRO +54\.0 ± 3\.2 +72\.0 ± 1\.6 \(70\.0–74\.0\) +OUTSIDE +0\.\d\d +0\.50× +\d\.\d\d +NO/,
    );
  });

  it('refuses a results file measured on other data, weights or sizes, naming each', () => {
    const config = cradRunConfig(
      FidelitySetupSchema.parse({
        method: 'crad',
        dataset: { root: 'data/x', category: 'fleece', synthetic: {} },
        backbone: { name: 'efficientnet_b4', weightsFile: 'w.safetensors' },
        epochs: 1,
        seeds: [0],
        official: 'r.json',
        crad: { view: { kind: 'resize', size: 128 }, decoder: { layers: 4, expansion: 216 } },
      }),
      inputs,
      0,
    );
    expect(staleReference(reference([0.5]), inputs, config)).toEqual([]);
    const other = reference([0.5]);
    other.data.sha256 = 'd'.repeat(64);
    other.settings.expansion = 864;
    expect(staleReference(other, inputs, config)).toEqual([
      expect.stringMatching(/^the data \(dddddddddddd there, cccccccccccc here\)/),
      'expansion (864 there, 216 here)',
    ]);
  });

  it('the committed setup runs our CRAD at the reference run’s sizes, and its results file is the reference’s', async () => {
    const setup = await committedSetup();
    const config = cradRunConfig(setup, inputs, 3);
    expect(config).toMatchObject({
      method: 'crad',
      seed: 3,
      view: { kind: 'resize', size: 128 },
      decoder: { layers: 4, expansion: 216 },
      backbone: { name: 'efficientnet_b4', weights: 'w.safetensors' },
      training: { epochs: setup.epochs },
      evaluation: { everyEpoch: true },
      model: { bundle: false, mlflow: false },
    });
    expect(cradReferenceCommand(setup, inputs)).toMatch(/--size 128 --layers 4 --expansion 216 --batch-size 16/);
    const results = CradReferenceResultsSchema.parse(JSON.parse(await readFile(join(ROOT, setup.official), 'utf8')));
    expect(
      staleReference(
        results,
        { ...inputs, dataSha256: results.data.sha256, weightsSha256: results.weights.sha256 },
        config,
      ),
    ).toEqual([]);
    expect(results.runs.length).toBeGreaterThanOrEqual(5);
    expect(results.runs.every((r) => r.epochs.length === setup.epochs)).toBe(true);
    // a CFA results file is not a CRAD one
    const cfa = JSON.parse(await readFile(join(ROOT, 'experiments/fidelity/official-resnet18-weave.json'), 'utf8'));
    expect(CradReferenceResultsSchema.safeParse(cfa).success).toBe(false);
  });
});
