/**
 * A backbone ready to run: its definition, its (validated) weights, the BatchNorm-fused
 * convolution weights every engine uses, and where the weights came from.
 *
 * @example
 * ```ts
 * const model = await loadBackbone({ name: 'resnet18', seed: 0 });   // seeded random init
 * model.features.map((f) => f.channels);                             // [64, 128, 256]
 * model.weightsSource;                                               // { kind: 'random', seed: 0, ... }
 * ```
 */
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { extname } from 'node:path';
import { type BackboneDefinition, TAPS, type Taps } from './architectures/net-builder';
import { type ConvInfo, type FeatureShape, summarizeDefinition } from './architectures/param-spec';
import { backboneDefinition } from './registry';
import { type ConvWeights, fuseConvBatchNorm } from './weights/fuse-batch-norm';
import { calibrationImages } from '@cfa/data';
import { selectTfBackend } from '@cfa/tensor-runtime';
import { calibrateBatchNorm } from './weights/calibrate-batch-norm';
import { randomInitWeights } from './weights/random-init';
import { WeightFileError } from './weights/errors';
import { decodeSafetensors } from './weights/safetensors';
import type { StateDict } from './weights/state-dict';
import {
  checkWeights,
  describeNonFinite,
  isCompleteReport,
  nonFiniteTensors,
  WeightMismatchError,
  type WeightReport,
} from './weights/validate-weights';
import { decodeTorchCheckpoint } from './weights/torch-checkpoint';

export type WeightsSource =
  | { kind: 'random'; seed: number; id: string }
  | { kind: 'file'; path: string; sha256: string; id: string; report: WeightReport };

export interface BackboneModel {
  definition: BackboneDefinition;
  weights: StateDict;
  convs: ConvInfo[];
  /** Feature maps for a 224 input (use `featureShapesFor` for other sizes). */
  features: FeatureShape[];
  /** conv name → fused weights (OIHW) and bias. */
  fused: Map<string, ConvWeights>;
  weightsSource: WeightsSource;
  /**
   * Identity of the function image → feature maps: architecture, taps and weights. Feature caches
   * key on it (the same weight file gives other maps under other taps).
   */
  featureId: string;
}

export function buildBackboneModel(
  definition: BackboneDefinition,
  weights: StateDict,
  weightsSource: WeightsSource,
): BackboneModel {
  const summary = summarizeDefinition(definition, 224);
  const fused = new Map(summary.convs.map((c) => [c.conv, fuseConvBatchNorm(weights, c, definition.bnEps)] as const));
  const featureId = `${definition.name}|taps=${definition.taps}|${weightsSource.id}`;
  return { definition, weights, convs: summary.convs, features: summary.features, fused, weightsSource, featureId };
}

export function featureShapesFor(model: BackboneModel, inputSize: number): FeatureShape[] {
  return summarizeDefinition(model.definition, inputSize).features;
}

/** Reads `.safetensors`, or a torchvision `.pth` / `.pt` state dict (zip + pickle, nothing executed). */
export async function readWeightFile(path: string): Promise<{ tensors: StateDict; bytes: Buffer }> {
  let bytes: Buffer;
  try {
    bytes = await readFile(path);
  } catch (error) {
    throw new WeightFileError(
      path,
      `cannot read (${(error as NodeJS.ErrnoException).code ?? (error as Error).message})`,
    );
  }
  const ext = extname(path).toLowerCase();
  if (ext === '.safetensors') return { tensors: decodeSafetensors(bytes, path).tensors, bytes };
  if (ext === '.pth' || ext === '.pt' || ext === '.bin') return { tensors: decodeTorchCheckpoint(bytes, path), bytes };
  throw new WeightFileError(path, `unknown weight file extension '${ext}': expected .safetensors, .pth or .pt`);
}

export interface LoadBackboneOptions {
  name: string;
  /** Which feature maps (default 'reference': the CFA reference code's; see `Taps`). */
  taps?: Taps;
  /** A weight file with torchvision key names; without one, the seeded random init is used. */
  weightsPath?: string;
  seed?: number;
  /** Accept a file with missing parameters (filled from the random init); still reports them. */
  allowPartial?: boolean;
  /**
   * Random init only: estimate BatchNorm statistics on a fixed set of synthetic images (see
   * `calibrateBatchNorm`), so activations are normalised as in a trained network. Default true.
   */
  calibrateBatchNorm?: boolean;
}

/** Calibration batch: 16 images of every synthetic category in turn, at 128 pixels. */
export const CALIBRATION = { count: 16, size: 128 } as const;

/** Calibrated random-init models by id: a sweep loads the same one for every cell. */
const randomModels = new Map<string, Promise<BackboneModel>>();

export async function loadBackbone(options: LoadBackboneOptions): Promise<BackboneModel> {
  const taps = options.taps ?? 'reference';
  const definition = backboneDefinition(options.name, taps);
  const seed = options.seed ?? 0;
  if (!options.weightsPath) {
    if (options.calibrateBatchNorm === false)
      return buildBackboneModel(definition, randomInitWeights(definition, seed), {
        kind: 'random',
        seed,
        id: `random:${definition.name}:${taps}:${seed}`,
      });
    const id = `random-bn:${definition.name}:${taps}:${seed}`;
    let model = randomModels.get(id);
    if (!model) {
      model = (async () => {
        await selectTfBackend(); // the calibration pass runs on TensorFlow.js, once per process
        const calibrated = calibrateBatchNorm(
          definition,
          randomInitWeights(definition, seed),
          calibrationImages({ count: CALIBRATION.count, size: CALIBRATION.size }),
          CALIBRATION.count,
          CALIBRATION.size,
        );
        return buildBackboneModel(definition, calibrated, { kind: 'random', seed, id });
      })();
      randomModels.set(id, model);
    }
    return model;
  }
  const { tensors, bytes } = await readWeightFile(options.weightsPath);
  const report = checkWeights(definition, tensors);
  if (!isCompleteReport(report)) {
    if (!options.allowPartial || report.wrongShape.length || report.unexpected.length) {
      const error = new WeightMismatchError(options.weightsPath, report, { allowPartial: options.allowPartial });
      const fits = TAPS.find(
        (t) => t !== taps && isCompleteReport(checkWeights(backboneDefinition(options.name, t), tensors)),
      );
      // EfficientNet's two variants name their parameters differently
      if (fits)
        error.message += ` These are the parameter names of ${options.name} with taps '${fits}': set backbone.taps: ${fits} (--taps ${fits}).`;
      throw error;
    }
  }
  // the parameters this backbone uses (not the unused head): a NaN there would surface only as a
  // NaN loss after the memory bank is built
  const unused = new Set(report.unused);
  const nonFinite = nonFiniteTensors(
    tensors,
    [...tensors.keys()].filter((name) => !unused.has(name)),
  );
  if (nonFinite.length) throw new WeightFileError(options.weightsPath, describeNonFinite(nonFinite));
  const weights: StateDict = new Map(tensors);
  if (report.missing.length) {
    const fallback = randomInitWeights(definition, seed);
    for (const name of report.missing) weights.set(name, fallback.get(name)!);
  }
  const sha256 = createHash('sha256').update(bytes).digest('hex');
  return buildBackboneModel(definition, weights, {
    kind: 'file',
    path: options.weightsPath,
    sha256,
    id: `file:${sha256}`,
    report,
  });
}
