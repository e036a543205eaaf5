/**
 * The model bundle: a trained CFA model as a folder that leaves the run — what anomalib calls a
 * checkpoint, but made of two plain files that any language reads:
 *
 *   <dir>/weights.safetensors   per member (`primary`, CFA++ also `companion`):
 *                                 `<role>.descriptor.weight` [D + c, D′] (φ's 1×1 CoordConv as a matrix,
 *                                 rows = input channels then coordinate channels), `<role>.descriptor.bias`
 *                                 [D′], `<role>.bank.centres` [M, D′]; float32
 *   <dir>/manifest.json          `ModelManifestSchema`: format + version, the full resolved config, the
 *                                 backbone's identity (name, tapped maps, weight-file sha256 or random
 *                                 seed, and a digest of the weights themselves), each member's view,
 *                                 grid, shapes and radius r, the input normalisation, the calibrated
 *                                 thresholds (or null) and the sha256 of the tensor file
 *
 * Both files are written atomically (`@cfa/io`), the manifest last, so a reader sees the previous
 * bundle or the new one; a tensor file that does not match its manifest is refused on load.
 * `loadModel` checks everything and names what is wrong: a newer format version, a manifest field,
 * a missing or wrong-shaped tensor, a changed tensor file, backbone weights that are not at hand or
 * are not the ones the model was fitted with. The backbone's weights are not copied into the
 * bundle (an ImageNet file is shared by every model fitted on it); `weightsPath` points a loaded
 * model at a moved file, and its sha256 must match.
 *
 * @example
 * ```ts
 * const run = await runCfaOnCategory({ config, root, category: 'weave', engine });
 * await saveModel('runs/x/model', run.model);
 * const { model, manifest } = await loadModel('runs/x/model', { engine });
 * ```
 */
import { createHash } from 'node:crypto';
import { readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { z } from 'zod';
import type { EngineSelection } from '@cfa/tensor-runtime';
import { writeFileAtomic } from '@cfa/io';
import { IMAGENET_MEAN, IMAGENET_STD, inferenceView, ViewSchema, viewOutputSize } from '@cfa/data';
import {
  type BackboneModel,
  decodeSafetensors,
  encodeSafetensors,
  featureShapesFor,
  formatShape,
  loadBackbone,
  type StateDict,
  stateDictDigest,
} from '@cfa/backbone';
import { EmbeddingLevelSchema } from '@cfa/descriptor';
import { createMemoryBank } from '@cfa/memory-bank';
import { ThresholdsSchema } from './calibration';
import { CfaConfigSchema } from './config';
import type { FittedCfa } from './fit';
import type { MemberRole, TrainedCfa, TrainedMember } from './trained-model';

export const MODEL_FORMAT = 'cfa-model';
/** Bumped when a reader of the previous version would misread a bundle; readers refuse newer ones. */
export const MODEL_FORMAT_VERSION = 1;
export const MODEL_MANIFEST_FILE = 'manifest.json';
export const MODEL_TENSORS_FILE = 'weights.safetensors';

const sha256Hex = z.string().regex(/^[0-9a-f]{64}$/, 'expected 64 lowercase hex digits');
const positiveInt = z.number().int().positive();

export const BackboneIdentitySchema = z.strictObject({
  /** Registry name (`resnet18`). */
  name: z.string().min(1),
  /** Which feature maps (`reference` or `torchvision`, docs/defaults.md): the same weights give other maps. */
  taps: z.enum(['reference', 'torchvision']),
  /** The tapped modules, in order (the definition's `featureNames`): a model fitted on other taps does not fit. */
  featureNames: z.array(z.string()).min(1),
  weights: z.discriminatedUnion('kind', [
    z.strictObject({
      kind: z.literal('random'),
      seed: z.number().int().nonnegative(),
      calibrateBatchNorm: z.boolean(),
    }),
    z.strictObject({ kind: z.literal('file'), path: z.string().min(1), sha256: sha256Hex, allowPartial: z.boolean() }),
  ]),
  /** `stateDictDigest` of the weights the model was fitted with. */
  digest: sha256Hex,
  /** The identity of these weights (`weightsSource.id`). */
  id: z.string(),
});

export const MemberManifestSchema = z.strictObject({
  role: z.enum(['primary', 'companion']),
  /** The view it was fitted on. */
  view: ViewSchema,
  /** The view new images are scored under (`inferenceView(view)`); its output side is `inputSize`. */
  inferenceView: ViewSchema,
  inputSize: positiveInt,
  /** The embedding pyramid's levels at `inputSize`, the patch grid first. */
  levels: z.array(EmbeddingLevelSchema).min(1),
  descriptor: z.strictObject({
    inChannels: positiveInt,
    coordChannels: z.union([z.literal(2), z.literal(3)]),
    outChannels: positiveInt,
  }),
  bank: z.strictObject({ size: positiveInt, dim: positiveInt }),
  /** The learned (or fixed) radius r. */
  radius: z.number(),
  epochs: z.number().int().nonnegative(),
});

export const ModelManifestSchema = z.strictObject({
  format: z.literal(MODEL_FORMAT),
  formatVersion: z.literal(MODEL_FORMAT_VERSION),
  producer: z.string(),
  createdAt: z.string(),
  /** The full resolved config of the fit. */
  config: CfaConfigSchema,
  backbone: BackboneIdentitySchema,
  /** What the backbone is fed: RGB in [0, 1] after the view's geometry, normalised with these. */
  input: z.strictObject({
    layout: z.literal('NHWC'),
    range: z.tuple([z.literal(0), z.literal(1)]),
    normalization: z.strictObject({
      mean: z.tuple([z.number(), z.number(), z.number()]),
      std: z.tuple([z.number(), z.number(), z.number()]),
    }),
  }),
  members: z.array(MemberManifestSchema).min(1).max(2),
  thresholds: ThresholdsSchema.nullable(),
  tensors: z.strictObject({ file: z.literal(MODEL_TENSORS_FILE), sha256: sha256Hex }),
});
export type ModelManifest = z.infer<typeof ModelManifestSchema>;
export type MemberManifest = z.infer<typeof MemberManifestSchema>;

/** An unusable bundle (or its backbone): names the file and what is wrong. */
export class ModelBundleError extends Error {
  constructor(
    readonly file: string,
    message: string,
  ) {
    super(`${file}: ${message}`);
    this.name = 'ModelBundleError';
  }
}

const tensorName = (role: MemberRole, part: 'descriptor.weight' | 'descriptor.bias' | 'bank.centres') =>
  `${role}.${part}`;

/** Tensor name → expected shape, from the manifest. */
function expectedTensors(manifest: ModelManifest): Map<string, number[]> {
  const out = new Map<string, number[]>();
  for (const m of manifest.members) {
    const { inChannels, coordChannels, outChannels } = m.descriptor;
    out.set(tensorName(m.role, 'descriptor.weight'), [inChannels + coordChannels, outChannels]);
    out.set(tensorName(m.role, 'descriptor.bias'), [outChannels]);
    out.set(tensorName(m.role, 'bank.centres'), [m.bank.size, m.bank.dim]);
  }
  return out;
}

function backboneIdentity(model: TrainedCfa): z.infer<typeof BackboneIdentitySchema> {
  const { backbone, config } = model;
  const source = backbone.weightsSource;
  return {
    name: backbone.definition.name,
    taps: backbone.definition.taps,
    featureNames: backbone.definition.featureNames,
    weights:
      source.kind === 'random'
        ? { kind: 'random', seed: source.seed, calibrateBatchNorm: config.backbone.calibrateBatchNorm }
        : { kind: 'file', path: source.path, sha256: source.sha256, allowPartial: config.backbone.allowPartial },
    digest: stateDictDigest(backbone.weights),
    id: source.id,
  };
}

/**
 * Writes `model` as a bundle into `dir` (created if needed; an older bundle there is replaced).
 * @returns the manifest written.
 */
export async function saveModel(dir: string, model: TrainedCfa): Promise<ModelManifest> {
  const tensors: StateDict = new Map();
  const members = model.members.map((m): MemberManifest => {
    const { params, bank, radius, history } = m.fitted;
    tensors.set(tensorName(m.role, 'descriptor.weight'), {
      shape: [params.inChannels + params.coordChannels, params.outChannels],
      data: params.weight,
    });
    tensors.set(tensorName(m.role, 'descriptor.bias'), { shape: [params.outChannels], data: params.bias });
    tensors.set(tensorName(m.role, 'bank.centres'), { shape: [bank.size, bank.dim], data: bank.centres });
    const view = inferenceView(m.view);
    return {
      role: m.role,
      view: m.view,
      inferenceView: view,
      inputSize: viewOutputSize(view),
      levels: m.levels,
      descriptor: {
        inChannels: params.inChannels,
        coordChannels: params.coordChannels as 2 | 3,
        outChannels: params.outChannels,
      },
      bank: { size: bank.size, dim: bank.dim },
      radius,
      epochs: history.length,
    };
  });
  const bytes = encodeSafetensors(tensors, {
    metadata: { format: MODEL_FORMAT, formatVersion: String(MODEL_FORMAT_VERSION) },
  });
  const manifest: ModelManifest = {
    format: MODEL_FORMAT,
    formatVersion: MODEL_FORMAT_VERSION,
    producer: 'cfa-toolkit',
    createdAt: new Date().toISOString(),
    config: model.config,
    backbone: backboneIdentity(model),
    input: {
      layout: 'NHWC',
      range: [0, 1],
      normalization: {
        mean: [...IMAGENET_MEAN] as [number, number, number],
        std: [...IMAGENET_STD] as [number, number, number],
      },
    },
    members,
    thresholds: model.thresholds ?? null,
    tensors: { file: MODEL_TENSORS_FILE, sha256: createHash('sha256').update(bytes).digest('hex') },
  };
  await writeFileAtomic(join(dir, MODEL_TENSORS_FILE), bytes, { durable: true });
  // the manifest last: its sha256 of the tensor file is what makes the pair a bundle
  await writeFileAtomic(join(dir, MODEL_MANIFEST_FILE), `${JSON.stringify(manifest, null, 2)}\n`, { durable: true });
  return manifest;
}

/** Reads and validates `manifest.json`: format, version, then every field. */
export async function readModelManifest(dir: string): Promise<ModelManifest> {
  const file = join(dir, MODEL_MANIFEST_FILE);
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    throw new ModelBundleError(
      file,
      code === 'ENOENT'
        ? `no ${MODEL_MANIFEST_FILE}: ${dir} is not a CFA model folder (train-eval writes one to <run folder>/model)`
        : `cannot read (${code ?? (error as Error).message})`,
    );
  }
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (error) {
    throw new ModelBundleError(file, `not valid JSON (${(error as Error).message}): damaged or not a manifest`);
  }
  const head = z.looseObject({ format: z.unknown(), formatVersion: z.unknown() }).safeParse(raw);
  if (!head.success || head.data.format !== MODEL_FORMAT)
    throw new ModelBundleError(file, `not a CFA model manifest (expected "format": "${MODEL_FORMAT}")`);
  const version = head.data.formatVersion;
  if (typeof version !== 'number' || !Number.isInteger(version) || version < 1)
    throw new ModelBundleError(file, `formatVersion must be a positive integer, got ${JSON.stringify(version)}`);
  if (version > MODEL_FORMAT_VERSION)
    throw new ModelBundleError(
      file,
      `format version ${version} was written by a newer cfa-toolkit; this one reads up to version ${MODEL_FORMAT_VERSION}: update the toolkit`,
    );
  const parsed = ModelManifestSchema.safeParse(raw);
  if (!parsed.success) throw new ModelBundleError(file, `invalid manifest:\n${z.prettifyError(parsed.error)}`);
  const manifest = parsed.data;
  const roles = manifest.members.map((m) => m.role);
  const expectedRoles = manifest.config.ensemble === 'cfa++' ? ['primary', 'companion'] : ['primary'];
  if (roles.join() !== expectedRoles.join())
    throw new ModelBundleError(
      file,
      `members are [${roles.join(', ')}]; ensemble '${manifest.config.ensemble}' needs [${expectedRoles.join(', ')}]`,
    );
  for (const [i, m] of manifest.members.entries()) {
    const at = `members[${i}] (${m.role})`;
    const channels = m.levels.reduce((n, l) => n + l.channels, 0);
    if (channels !== m.descriptor.inChannels)
      throw new ModelBundleError(
        file,
        `${at}: levels hold ${channels} channels, descriptor.inChannels is ${m.descriptor.inChannels}`,
      );
    if (m.bank.dim !== m.descriptor.outChannels)
      throw new ModelBundleError(
        file,
        `${at}: bank.dim ${m.bank.dim} differs from descriptor.outChannels ${m.descriptor.outChannels}`,
      );
    if (m.inputSize !== viewOutputSize(m.inferenceView))
      throw new ModelBundleError(
        file,
        `${at}: inputSize ${m.inputSize} is not the side of its inferenceView (${viewOutputSize(m.inferenceView)})`,
      );
  }
  const { mean, std } = manifest.input.normalization;
  if (mean.some((v, i) => v !== IMAGENET_MEAN[i]) || std.some((v, i) => v !== IMAGENET_STD[i]))
    throw new ModelBundleError(
      file,
      `input normalisation mean ${formatShape(mean)} std ${formatShape(std)} is not ImageNet's, the only one this toolkit applies`,
    );
  return manifest;
}

/** The tensor file, checked against the manifest: names, shapes, then its sha256. */
async function readModelTensors(dir: string, manifest: ModelManifest): Promise<StateDict> {
  const file = join(dir, manifest.tensors.file);
  let bytes: Buffer;
  try {
    bytes = await readFile(file);
  } catch (error) {
    throw new ModelBundleError(
      file,
      `cannot read (${(error as NodeJS.ErrnoException).code ?? (error as Error).message})`,
    );
  }
  const { tensors } = (() => {
    try {
      return decodeSafetensors(bytes, file);
    } catch (error) {
      throw new ModelBundleError(file, `damaged tensor file (${(error as Error).message.replace(`${file}: `, '')})`);
    }
  })();
  const expected = expectedTensors(manifest);
  for (const [name, shape] of expected) {
    const t = tensors.get(name);
    if (!t) throw new ModelBundleError(file, `missing tensor '${name}' (expected shape ${formatShape(shape)})`);
    if (t.shape.join() !== shape.join())
      throw new ModelBundleError(
        file,
        `tensor '${name}' has shape ${formatShape(t.shape)}, the manifest says ${formatShape(shape)}`,
      );
  }
  const unexpected = [...tensors.keys()].filter((n) => !expected.has(n));
  if (unexpected.length) throw new ModelBundleError(file, `unexpected tensor(s) ${unexpected.join(', ')}`);
  const sha256 = createHash('sha256').update(bytes).digest('hex');
  if (sha256 !== manifest.tensors.sha256)
    throw new ModelBundleError(
      file,
      `sha256 ${sha256} differs from the manifest's ${manifest.tensors.sha256}: the file was changed or damaged after the model was saved`,
    );
  return tensors;
}

/** The backbone the model was fitted with, from its identity; refuses other weights. */
async function loadModelBackbone(
  manifestFile: string,
  manifest: ModelManifest,
  weightsPath: string | undefined,
): Promise<BackboneModel> {
  const id = manifest.backbone;
  let backbone: BackboneModel;
  if (id.weights.kind === 'file') {
    const path = weightsPath ?? id.weights.path;
    const exists = await stat(path).then(
      (s) => s.isFile(),
      () => false,
    );
    if (!exists)
      throw new ModelBundleError(
        path,
        `the backbone weights of this model are not at hand (${id.name}, sha256 ${id.weights.sha256}, named in ${manifestFile}): pass the file with --weights`,
      );
    backbone = await loadBackbone({
      name: id.name,
      taps: id.taps,
      weightsPath: path,
      allowPartial: id.weights.allowPartial,
      seed: manifest.config.seed,
    });
    const source = backbone.weightsSource;
    if (source.kind === 'file' && source.sha256 !== id.weights.sha256)
      throw new ModelBundleError(
        path,
        `other backbone weights than the model was fitted with: sha256 ${source.sha256}, ${manifestFile} says ${id.weights.sha256}`,
      );
  } else {
    if (weightsPath)
      throw new ModelBundleError(
        weightsPath,
        `this model was fitted on a seeded random-init ${id.name} (seed ${id.weights.seed}), not on a weight file`,
      );
    backbone = await loadBackbone({
      name: id.name,
      taps: id.taps,
      seed: id.weights.seed,
      calibrateBatchNorm: id.weights.calibrateBatchNorm,
    });
  }
  if (backbone.definition.featureNames.join() !== id.featureNames.join())
    throw new ModelBundleError(
      manifestFile,
      `the model taps ${id.name} at [${id.featureNames.join(', ')}], this toolkit's ${id.name} at [${backbone.definition.featureNames.join(', ')}]`,
    );
  for (const m of manifest.members) {
    const shapes = featureShapesFor(backbone, m.inputSize);
    const built = shapes.map((f) => `${f.height}×${f.width}×${f.channels}`).join(' + ');
    const saved = m.levels.map((l) => `${l.height}×${l.width}×${l.channels}`).join(' + ');
    if (built !== saved)
      throw new ModelBundleError(
        manifestFile,
        `${m.role}: ${id.name} at ${m.inputSize}² gives feature maps ${built}, the model was fitted on ${saved}`,
      );
  }
  const digest = stateDictDigest(backbone.weights);
  if (digest !== id.digest)
    throw new ModelBundleError(
      manifestFile,
      `the ${id.name} weights built here (digest ${digest}) are not the ones the model was fitted with (${id.digest})${id.weights.kind === 'random' ? ': the random init or its BatchNorm calibration changed since' : ''}`,
    );
  return backbone;
}

export interface LoadModelOptions {
  /** The engine the loaded model will score on. */
  engine: EngineSelection;
  /** The backbone weight file, when it is no longer where the manifest says (its sha256 must match). */
  weightsPath?: string;
}

export interface LoadedModel {
  manifest: ModelManifest;
  model: TrainedCfa;
}

/**
 * Reads a bundle written by `saveModel`, checks it end to end (see the file header) and rebuilds
 * the trained model with its backbone, ready for `predictImages` and `buildOnnxModel`.
 * @throws ModelBundleError naming the file and what is wrong.
 */
export async function loadModel(dir: string, options: LoadModelOptions): Promise<LoadedModel> {
  const manifest = await readModelManifest(dir);
  const tensors = await readModelTensors(dir, manifest);
  const backbone = await loadModelBackbone(join(dir, MODEL_MANIFEST_FILE), manifest, options.weightsPath);
  const members = manifest.members.map((m): TrainedMember => {
    const data = (part: Parameters<typeof tensorName>[1]) => tensors.get(tensorName(m.role, part))!.data;
    const fitted: FittedCfa = {
      config: { ...manifest.config, view: m.view },
      engine: options.engine,
      params: { ...m.descriptor, weight: data('descriptor.weight'), bias: data('descriptor.bias') },
      bank: createMemoryBank(data('bank.centres'), m.bank.size, m.bank.dim),
      radius: m.radius,
      height: m.levels[0].height,
      width: m.levels[0].width,
      history: [],
      timings: { bankSeconds: 0, trainSeconds: 0 },
    };
    return { role: m.role, view: m.view, levels: m.levels, fitted };
  });
  return {
    manifest,
    model: {
      config: manifest.config,
      backbone,
      members,
      ...(manifest.thresholds ? { thresholds: manifest.thresholds } : {}),
    },
  };
}
