/**
 * The model bundle's `manifest.json`: its zod schemas and the checks that read one back
 * (`readModelManifest`). The format is method-agnostic — format + version, the method, its full
 * resolved config, the backbone's identity, the input normalisation, one entry per fitted member
 * (its view, input size and feature levels, and the method's own fields), the calibrated thresholds
 * and the sha256 of the tensor file — and the method's own parts are validated by that method
 * (`AnomalyMethod.configSchema`, `member.fields`, `member.check`).
 *
 * Version 2 names the method; version 1 (before several methods) was CFA's, and is read as
 * `method: cfa` with the same fields.
 *
 * @example
 * ```ts
 * const manifest = await readModelManifest('runs/x/model', [cfaMethod, patchcoreMethod]);
 * manifest.method; // 'cfa'
 * ```
 */
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { z } from 'zod';
import { IMAGENET_MEAN, IMAGENET_STD, ViewSchema, viewOutputSize } from '@cfa/data';
import { formatShape } from '@cfa/backbone';
import { EmbeddingLevelSchema } from '@cfa/descriptor';
import { ThresholdsSchema } from './calibration';
import type { MethodConfigBase } from './common-config';
import type { AnyMethod } from './method';

export const MODEL_FORMAT = 'cfa-model';
/** Bumped when a reader of the previous version would misread a bundle; readers refuse newer ones. */
export const MODEL_FORMAT_VERSION = 2;
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
export type BackboneIdentity = z.infer<typeof BackboneIdentitySchema>;

/** The fields every member has; the method adds its own (`AnomalyMethod.member.fields`). */
export const MEMBER_FIELDS = {
  role: z.enum(['primary', 'companion']),
  /** The view it was fitted on. */
  view: ViewSchema,
  /** The view new images are scored under (`inferenceView(view)`); its output side is `inputSize`. */
  inferenceView: ViewSchema,
  inputSize: positiveInt,
  /** The stored feature levels at `inputSize`, the patch grid first. */
  levels: z.array(EmbeddingLevelSchema).min(1),
  /** Epochs the member was trained (0 for methods that do not train). */
  epochs: z.number().int().nonnegative(),
};
/** A member's manifest entry: the shared fields, and the method's own beside them. */
export type MemberManifest = z.infer<z.ZodObject<typeof MEMBER_FIELDS>> & Record<string, unknown>;

export const InputSchema = z.strictObject({
  layout: z.literal('NHWC'),
  range: z.tuple([z.literal(0), z.literal(1)]),
  normalization: z.strictObject({
    mean: z.tuple([z.number(), z.number(), z.number()]),
    std: z.tuple([z.number(), z.number(), z.number()]),
  }),
});

/** The manifest with the method's parts left as JSON (they are checked against the method afterwards). */
export const ModelManifestSchema = z.strictObject({
  format: z.literal(MODEL_FORMAT),
  formatVersion: z.union([z.literal(1), z.literal(MODEL_FORMAT_VERSION)]),
  /** Absent in version 1, which only CFA wrote. */
  method: z.string().min(1).optional(),
  producer: z.string(),
  createdAt: z.string(),
  /** The full resolved config of the fit (the method's schema). */
  config: z.record(z.string(), z.unknown()),
  backbone: BackboneIdentitySchema,
  /** What the backbone is fed: RGB in [0, 1] after the view's geometry, normalised with these. */
  input: InputSchema,
  members: z.array(z.looseObject(MEMBER_FIELDS)).min(1).max(2),
  thresholds: ThresholdsSchema.nullable(),
  tensors: z.strictObject({ file: z.literal(MODEL_TENSORS_FILE), sha256: sha256Hex }),
});

/** A manifest checked end to end: the method resolved, its config and members validated by it. */
export type ModelManifest = Omit<z.infer<typeof ModelManifestSchema>, 'method' | 'config' | 'members'> & {
  method: string;
  config: MethodConfigBase;
  members: MemberManifest[];
};

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

/** The raw manifest JSON of a bundle folder, or a ModelBundleError naming the file. */
async function readManifestJson(dir: string): Promise<{ file: string; raw: unknown }> {
  const file = join(dir, MODEL_MANIFEST_FILE);
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    throw new ModelBundleError(
      file,
      code === 'ENOENT'
        ? `no ${MODEL_MANIFEST_FILE}: ${dir} is not a model folder (train-eval writes one to <run folder>/model)`
        : `cannot read (${code ?? (error as Error).message})`,
    );
  }
  try {
    return { file, raw: JSON.parse(text) };
  } catch (error) {
    throw new ModelBundleError(file, `not valid JSON (${(error as Error).message}): damaged or not a manifest`);
  }
}

/**
 * Reads and validates `manifest.json`: format, version, the shared fields, then the method's config
 * and member fields through the method itself, then what ties them together.
 * @param methods the methods this toolkit knows; the manifest's must be one of them.
 * @throws ModelBundleError naming the file and what is wrong.
 */
export async function readModelManifest(dir: string, methods: readonly AnyMethod[]): Promise<ModelManifest> {
  return (await readManifestAndDigest(dir, methods)).manifest;
}

/**
 * JSON with object keys sorted at every level: one text per value, whatever order a file or an
 * object literal lists its fields in — for digests and keys.
 */
export function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (value && typeof value === 'object')
    return `{${Object.keys(value)
      .sort()
      .map((k) => `${JSON.stringify(k)}:${canonicalJson((value as Record<string, unknown>)[k])}`)
      .join(',')}}`;
  return JSON.stringify(value);
}

/**
 * The digest of a manifest's content — every field but `tensors` (which holds the tensor file's
 * sha256, the other half of the pair) — recorded in the tensor file's metadata when the bundle is
 * saved, so a manifest edited afterwards (a threshold, the backbone's seed) is found on load.
 */
export function manifestDigest(manifest: object): string {
  const { tensors: _tensors, ...content } = manifest as Record<string, unknown>;
  return createHash('sha256').update(canonicalJson(content)).digest('hex');
}

/** The tensor file's metadata key that holds `manifestDigest` (bundles written before it have none). */
export const MANIFEST_DIGEST_KEY = 'manifest_sha256';

/** `readModelManifest`, and the digest of the manifest as it is on disk (`manifestDigest`). */
export async function readManifestAndDigest(
  dir: string,
  methods: readonly AnyMethod[],
): Promise<{ manifest: ModelManifest; digest: string }> {
  const { file, raw } = await readManifestJson(dir);
  const head = z.looseObject({ format: z.unknown(), formatVersion: z.unknown() }).safeParse(raw);
  if (!head.success || head.data.format !== MODEL_FORMAT)
    throw new ModelBundleError(file, `not a model manifest of this toolkit (expected "format": "${MODEL_FORMAT}")`);
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
  const shared = parsed.data;
  if (shared.formatVersion === 1 && shared.method !== undefined)
    throw new ModelBundleError(file, `format version 1 has no "method" field (CFA was the only method); found one`);
  if (shared.formatVersion > 1 && shared.method === undefined)
    throw new ModelBundleError(file, `format version ${shared.formatVersion} names its method: "method" is missing`);
  const name = shared.method ?? 'cfa';
  const method = methods.find((m) => m.name === name);
  if (!method)
    throw new ModelBundleError(
      file,
      `method '${name}' is not one this toolkit knows (${methods.map((m) => m.name).join(', ')})`,
    );
  // the method's parts, with their issues' paths from the manifest's top
  const invalid = (error: z.ZodError, at: PropertyKey[]) =>
    new ModelBundleError(
      file,
      `invalid manifest:\n${z.prettifyError(new z.ZodError(error.issues.map((i) => ({ ...i, path: [...at, ...i.path] }))))}`,
    );
  const config = method.configSchema.safeParse({ ...shared.config, method: name });
  if (!config.success) throw invalid(config.error, ['config']);
  const MemberSchema = z.strictObject({ ...MEMBER_FIELDS, ...method.member.fields });
  const members = shared.members.map((m, i) => {
    const member = MemberSchema.safeParse(m);
    if (!member.success) throw invalid(member.error, ['members', i]);
    return member.data as MemberManifest;
  });
  const manifest: ModelManifest = { ...shared, method: name, config: config.data as MethodConfigBase, members };
  checkManifestConsistency(file, manifest, method);
  return { manifest, digest: manifestDigest(raw as object) };
}

/**
 * Where the config and the fields recorded beside it disagree (fields edited by hand, one but not
 * the other): the backbone's identity, the primary member's view, the thresholds' calibration.
 */
function configDisagreements(manifest: ModelManifest): string[] {
  const { config, backbone, thresholds } = manifest;
  const out: string[] = [];
  const differ = (what: string, a: unknown, b: unknown) =>
    canonicalJson(a) !== canonicalJson(b) && out.push(`${what}: ${JSON.stringify(a)} vs ${JSON.stringify(b)}`);
  differ('config.backbone.name vs backbone.name', config.backbone.name, backbone.name);
  differ('config.backbone.taps vs backbone.taps', config.backbone.taps, backbone.taps);
  differ(
    'config.backbone.weights vs backbone.weights.kind',
    config.backbone.weights ? 'file' : 'random',
    backbone.weights.kind,
  );
  if (backbone.weights.kind === 'random') {
    differ('config.seed vs backbone.weights.seed', config.seed, backbone.weights.seed);
    differ(
      'config.backbone.calibrateBatchNorm vs backbone.weights.calibrateBatchNorm',
      config.backbone.calibrateBatchNorm,
      backbone.weights.calibrateBatchNorm,
    );
  } else
    differ(
      'config.backbone.allowPartial vs backbone.weights.allowPartial',
      config.backbone.allowPartial,
      backbone.weights.allowPartial,
    );
  differ('config.view vs members[0].view', config.view, manifest.members[0].view);
  if (thresholds) {
    if (!(config.calibration.holdout > 0))
      out.push(`thresholds are set, but config.calibration.holdout is ${config.calibration.holdout} (none held out)`);
    differ('config.calibration.imageFpr vs thresholds.imageFpr', config.calibration.imageFpr, thresholds.imageFpr);
    differ('config.calibration.pixelFpr vs thresholds.pixelFpr', config.calibration.pixelFpr, thresholds.pixelFpr);
  }
  return out;
}

/** What ties the manifest's fields together: members against the ensemble, sizes, levels, normalisation. */
function checkManifestConsistency(file: string, manifest: ModelManifest, method: AnyMethod): void {
  const disagree = configDisagreements(manifest);
  if (disagree.length)
    throw new ModelBundleError(
      file,
      `its fields disagree with each other (edited by hand?): ${disagree.join('; ')}. A bundle is written whole by train-eval: fit again rather than edit it`,
    );
  const roles = manifest.members.map((m) => m.role);
  const expectedRoles = manifest.config.ensemble === 'cfa++' ? ['primary', 'companion'] : ['primary'];
  if (roles.join() !== expectedRoles.join())
    throw new ModelBundleError(
      file,
      `members are [${roles.join(', ')}]; ensemble '${manifest.config.ensemble}' needs [${expectedRoles.join(', ')}]`,
    );
  for (const [i, m] of manifest.members.entries()) {
    const at = `members[${i}] (${m.role})`;
    if (m.inputSize !== viewOutputSize(m.inferenceView))
      throw new ModelBundleError(
        file,
        `${at}: inputSize ${m.inputSize} is not the side of its inferenceView (${viewOutputSize(m.inferenceView)})`,
      );
    const problem = method.member.check?.(m, m.levels);
    if (problem) throw new ModelBundleError(file, `${at}: ${problem}`);
  }
  const { mean, std } = manifest.input.normalization;
  if (mean.some((v, i) => v !== IMAGENET_MEAN[i]) || std.some((v, i) => v !== IMAGENET_STD[i]))
    throw new ModelBundleError(
      file,
      `input normalisation mean ${formatShape(mean)} std ${formatShape(std)} is not ImageNet's, the only one this toolkit applies`,
    );
}
