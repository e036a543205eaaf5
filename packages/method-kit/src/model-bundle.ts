/**
 * The model bundle: a trained model of any method as a folder that leaves the run — what anomalib
 * calls a checkpoint, but made of two plain files that any language reads:
 *
 *   <dir>/weights.safetensors   per member (`primary`, ensembles also `companion`) the method's
 *                                tensors as `<role>.<name>`, float32 (CFA: `<role>.descriptor.weight`
 *                                [D + c, D′], `<role>.descriptor.bias` [D′], `<role>.bank.centres` [M, D′])
 *   <dir>/manifest.json          `ModelManifestSchema` (bundle-manifest.ts): format + version, the
 *                                method, its full resolved config, the backbone's identity (name,
 *                                tapped maps, weight-file sha256 or random seed, and a digest of the
 *                                weights themselves), each member's view, levels and the method's
 *                                fields, the input normalisation, the calibrated thresholds (or null)
 *                                and the sha256 of the tensor file
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
 * const run = await runMethodOnCategory({ method: cfaMethod, config, root, category: 'weave', engine });
 * await saveModel('runs/x/model', run.model);
 * const { model, manifest } = await loadModel('runs/x/model', { engine, methods: [cfaMethod] });
 * ```
 */
import { createHash } from 'node:crypto';
import { readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import type { EngineSelection } from '@cfa/tensor-runtime';
import { writeFileAtomic } from '@cfa/io';
import { IMAGENET_MEAN, IMAGENET_STD, inferenceView, viewOutputSize } from '@cfa/data';
import {
  type BackboneModel,
  decodeSafetensors,
  encodeSafetensors,
  formatShape,
  loadBackbone,
  type StateDict,
  stateDictDigest,
} from '@cfa/backbone';
import {
  type BackboneIdentity,
  type MemberManifest,
  MODEL_FORMAT,
  MODEL_FORMAT_VERSION,
  MODEL_MANIFEST_FILE,
  MODEL_TENSORS_FILE,
  MANIFEST_DIGEST_KEY,
  manifestDigest,
  ModelBundleError,
  type ModelManifest,
  readManifestAndDigest,
} from './bundle-manifest';
import type { MethodConfigBase } from './common-config';
import type { AnyMethod } from './method';
import type { MemberRole, TrainedMember, TrainedModel } from './trained-model';

const tensorName = (role: MemberRole, name: string) => `${role}.${name}`;

/** Tensor name → expected shape, from the manifest and its method. */
function expectedTensors(manifest: ModelManifest, method: AnyMethod): Map<string, number[]> {
  const out = new Map<string, number[]>();
  for (const m of manifest.members)
    for (const [name, shape] of method.member.tensorShapes(m)) out.set(tensorName(m.role, name), shape);
  return out;
}

function backboneIdentity(model: TrainedModel): BackboneIdentity {
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
export async function saveModel<C extends MethodConfigBase, F>(
  dir: string,
  model: TrainedModel<C, F>,
): Promise<ModelManifest> {
  const { method } = model;
  const tensors: StateDict = new Map();
  const members = model.members.map((m): MemberManifest => {
    const state = method.member.save(m.fitted);
    for (const [name, tensor] of state.tensors) tensors.set(tensorName(m.role, name), tensor);
    const view = inferenceView(m.view);
    return {
      role: m.role,
      view: m.view,
      inferenceView: view,
      inputSize: viewOutputSize(view),
      levels: m.levels,
      ...state.fields,
      epochs: method.history(m.fitted).length,
    };
  });
  const content: Omit<ModelManifest, 'tensors'> = {
    format: MODEL_FORMAT,
    formatVersion: MODEL_FORMAT_VERSION,
    method: method.name,
    producer: 'cfa-toolkit',
    createdAt: new Date().toISOString(),
    config: model.config,
    backbone: backboneIdentity(model as TrainedModel),
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
  };
  // the pair is tied both ways: the tensor file records the manifest's digest, the manifest the file's sha256
  const bytes = encodeSafetensors(tensors, {
    metadata: {
      format: MODEL_FORMAT,
      formatVersion: String(MODEL_FORMAT_VERSION),
      method: method.name,
      [MANIFEST_DIGEST_KEY]: manifestDigest(JSON.parse(JSON.stringify(content)) as object),
    },
  });
  const manifest: ModelManifest = {
    ...content,
    tensors: { file: MODEL_TENSORS_FILE, sha256: createHash('sha256').update(bytes).digest('hex') },
  };
  await writeFileAtomic(join(dir, MODEL_TENSORS_FILE), bytes, { durable: true });
  // the manifest last: its sha256 of the tensor file is what makes the pair a bundle
  await writeFileAtomic(join(dir, MODEL_MANIFEST_FILE), `${JSON.stringify(manifest, null, 2)}\n`, { durable: true });
  return manifest;
}

/**
 * The tensor file, checked against the manifest: names, shapes, its sha256, then the manifest's
 * digest it recorded (`manifestDigest`, absent in bundles written before it).
 */
async function readModelTensors(
  dir: string,
  manifest: ModelManifest,
  manifestSha: string,
  method: AnyMethod,
): Promise<StateDict> {
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
  const { tensors, metadata } = (() => {
    try {
      return decodeSafetensors(bytes, file);
    } catch (error) {
      throw new ModelBundleError(file, `damaged tensor file (${(error as Error).message.replace(`${file}: `, '')})`);
    }
  })();
  const expected = expectedTensors(manifest, method);
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
  const recorded = metadata[MANIFEST_DIGEST_KEY];
  if (recorded !== undefined && recorded !== manifestSha)
    throw new ModelBundleError(
      join(dir, MODEL_MANIFEST_FILE),
      `was changed after the model was saved: its content no longer matches the digest ${recorded} recorded in ${manifest.tensors.file} (a hand edit? thresholds belong to --threshold / --image-threshold of predict, a moved weight file to --weights); restore it or fit again`,
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
  /** The methods this toolkit knows: the bundle's must be one of them. */
  methods: readonly AnyMethod[];
  /** The backbone weight file, when it is no longer where the manifest says (its sha256 must match). */
  weightsPath?: string;
}

export interface LoadedModel {
  manifest: ModelManifest;
  model: TrainedModel;
}

/**
 * Reads a bundle written by `saveModel`, checks it end to end (see the file header) and rebuilds
 * the trained model with its backbone, ready for `createImagePredictor` and `buildOnnxModel`.
 * @throws ModelBundleError naming the file and what is wrong.
 */
export async function loadModel(dir: string, options: LoadModelOptions): Promise<LoadedModel> {
  const { manifest, digest } = await readManifestAndDigest(dir, options.methods);
  const method = options.methods.find((m) => m.name === manifest.method)!;
  const tensors = await readModelTensors(dir, manifest, digest, method);
  const manifestFile = join(dir, MODEL_MANIFEST_FILE);
  const backbone = await loadModelBackbone(manifestFile, manifest, options.weightsPath);
  await checkMemberFeatures(manifestFile, manifest, method, backbone, options.engine);
  const members = manifest.members.map((m): TrainedMember => {
    const prefix = `${m.role}.`;
    const own: StateDict = new Map(
      [...tensors].filter(([name]) => name.startsWith(prefix)).map(([name, t]) => [name.slice(prefix.length), t]),
    );
    const fitted = method.member.load({
      fields: m,
      tensors: own,
      config: { ...manifest.config, view: m.view },
      engine: options.engine,
      levels: m.levels,
    });
    return { role: m.role, view: m.view, levels: m.levels, fitted };
  });
  return {
    manifest,
    model: {
      method,
      config: manifest.config,
      backbone,
      members,
      ...(manifest.thresholds ? { thresholds: manifest.thresholds } : {}),
    },
  };
}

/** The features the method reads off this backbone at each member's size are the ones it was fitted on. */
async function checkMemberFeatures(
  manifestFile: string,
  manifest: ModelManifest,
  method: AnyMethod,
  backbone: BackboneModel,
  engine: EngineSelection,
): Promise<void> {
  for (const m of manifest.members) {
    const extractor = await method.createExtractor({
      engine,
      backbone,
      inputSize: m.inputSize,
      config: manifest.config,
    });
    try {
      const built = extractor.levels.map((l) => `${l.height}×${l.width}×${l.channels}`).join(' + ');
      const saved = m.levels.map((l) => `${l.height}×${l.width}×${l.channels}`).join(' + ');
      if (built !== saved)
        throw new ModelBundleError(
          manifestFile,
          `${m.role}: ${manifest.backbone.name} at ${m.inputSize}² gives ${method.label} features ${built}, the model was fitted on ${saved}`,
        );
    } finally {
      await extractor.release();
    }
  }
}
