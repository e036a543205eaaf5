/**
 * The small interface through which a method supplies its pieces to the method-agnostic code of
 * this package — one run on a category (`runMethodOnCategory`), view ensembles, thresholds, the
 * model bundle, scoring new images and the one-graph ONNX export — in the way anomalib's models
 * each supply a `torch_model` and an `anomaly_map` to one Lightning loop (shared/style-anchors.md §5),
 * except that here the pre- and post-processing path is one for all methods, not one per model.
 *
 * A method is the five things that make it different: which features it reads off the backbone
 * (`createExtractor`, what the feature cache stores), how it fits on them (`fit`), how it scores
 * them (`predict`), what of the fit it keeps (`member`: tensors + a few manifest fields), and the
 * same scoring as an ONNX graph piece (`lowerMap`). Everything else is shared. Methods live in
 * their own packages (`@cfa/cfa`, `@cfa/patchcore`, …) and never import each other.
 *
 * @example
 * ```ts
 * const run = await runMethodOnCategory({ method: cfaMethod, config, root, category: 'fleece', engine });
 * await saveModel('runs/x/model', run.model);
 * ```
 */
import type { z } from 'zod';
import type { EngineSelection, OnnxGraphBuilder } from '@cfa/tensor-runtime';
import type { BackboneModel, FeatureShape, StateDict } from '@cfa/backbone';
import type { EmbeddingLevel } from '@cfa/descriptor';
import type { MethodConfigBase } from './common-config';
import type { EmbeddingSet } from './embedding-set';
import type { Prediction } from './prediction';

/**
 * Images → per-image features, the unit the feature cache stores: each image's backbone maps after
 * the method's own patch aggregation, one flat array of `levels` laid out level by level.
 */
export interface FeatureExtractor {
  /**
   * What the features are beyond the backbone's identity (`featureId`), for the cache key: two
   * methods reading the same backbone differently must not share entries. CFA's pooled pyramid is ''.
   */
  readonly kind: string;
  readonly inputSize: number;
  /** The stored levels, the patch grid first. */
  readonly levels: EmbeddingLevel[];
  /** images [batch, S, S, 3] (NHWC, ImageNet-normalised) → one feature array per image. */
  embedPyramids(images: Float32Array, batch: number): Promise<Float32Array[]>;
  release(): Promise<void>;
}

/**
 * One epoch of a method's training as plain numbers: `loss` and `seconds` always, anything else the
 * method records (CFA: `lossAtt`, `lossRep`, `radius`) beside them; tracking logs each as
 * `train/<snake_case key>` at step = epoch.
 */
export interface EpochRecord {
  epoch: number;
  loss: number;
  seconds: number;
  readonly [value: string]: number;
}

export interface FitProgress {
  /** 'bank': building what is kept (memory bank, Gaussians, coreset); 'train': the epochs. */
  phase: 'bank' | 'train';
  done: number;
  total: number;
  detail?: string;
}

export interface FitContext<C, F> {
  config: C;
  engine: EngineSelection;
  backbone: BackboneModel;
  /** The train images' features, as the method's extractor gave them. */
  train: EmbeddingSet;
  onProgress?: (event: FitProgress) => void;
  onEpoch?: (record: EpochRecord) => void;
  /** After every epoch, a snapshot of the model, for per-epoch evaluation; awaited before the next. */
  onEpochModel?: (model: F, record: EpochRecord) => Promise<void>;
}

export interface PredictContext<F> {
  model: F;
  test: EmbeddingSet;
  /** Map side: the view's output size. */
  inputSize: number;
  batchSize?: number;
  onProgress?: (done: number, total: number) => void;
}

/** What a fitted member keeps beyond the shared manifest fields, as a bundle stores it. */
export interface MemberState {
  /** JSON fields of the member's manifest entry (validated by `member.fields` on load). */
  fields: Record<string, unknown>;
  /** Tensors, named without the member's role prefix (the bundle adds `<role>.`). */
  tensors: StateDict;
}

export interface MemberLoadContext<C> {
  fields: Record<string, unknown>;
  tensors: StateDict;
  config: C;
  engine: EngineSelection;
  /** The model's backbone (checked against the manifest), for members that run it themselves (FYD). */
  backbone: BackboneModel;
  /** The member's stored feature levels at its input size. */
  levels: EmbeddingLevel[];
}

export interface LowerMapContext<C, F> {
  model: F;
  config: C;
  backbone: BackboneModel;
  /** The backbone's tapped maps, ONNX value names [n, C, h, w] (NCHW). */
  maps: string[];
  shapes: FeatureShape[];
  /** The map's side (the view's output size). */
  inputSize: number;
  /** Prefix for initializer names (the member's role): two members in one graph must not clash. */
  name: string;
}

export interface LowerInputContext<C, F> {
  model: F;
  config: C;
  /** The member's ImageNet-normalised input, an ONNX value name [n, 3, S, S] (NCHW). */
  image: string;
  /** S, the input's side. */
  inputSize: number;
  /** Prefix for initializer names (the member's role). */
  name: string;
}

/** A member's scoring in a graph when its image score is not its map's maximum (PatchCore: the largest patch score). */
export interface LoweredMember {
  /** Anomaly map [n, S, S]. */
  map: string;
  /** Image score [n]. */
  imageScore: string;
}

/** The feature space of paper Fig. 3 for methods that adapt features (optional). */
export interface FeatureSpaceProjector {
  /** Per-image patch features before adaptation (the initial parameters) and after: [H·W, dim]. */
  before(features: Float32Array): Promise<Float32Array>;
  after(features: Float32Array): Promise<Float32Array>;
  /** The reference points the picture's PCA is fitted on (CFA: the memory bank), [count, dim]. */
  centres: { rows: Float32Array; count: number; dim: number };
  /** Legend and title words: what the features and the centres are called. */
  names: { features: string; centres: string };
  release(): Promise<void>;
}

export interface AnomalyMethod<C extends MethodConfigBase = MethodConfigBase, F = unknown> {
  /** The config's `method` value (`cfa`, `patchcore`, …). */
  readonly name: string;
  /** For tables, logs and pictures (`CFA`, `PatchCore`). */
  readonly label: string;
  /** One line: the paper and what the method keeps. */
  readonly description: string;
  /** The method's strict config (its `method` literal, the common fields, its own). */
  readonly configSchema: z.ZodType<C>;
  /** The config's top-level fields, to tell a user whose field a misplaced one is. */
  readonly configFields: readonly string[];
  /** One short line of the settings that matter for pictures and logs (`loss att+rep · 3 epochs`). */
  describeConfig(config: C): string;
  /**
   * Before any image is embedded: whether the config can work on this feature grid (CFA: enough
   * memory-bank centres for K + J neighbours). Throws naming the field.
   */
  checkGrid?(config: C, grid: { height: number; width: number; label: string }): void;
  /**
   * The unified (multi-class) setting (CRAD's `training.unified`): one model fitted on the train
   * images of several categories together and evaluated on each (`runMethodOnCategory`'s
   * `trainCategories`). Absent or false: one model per category.
   */
  unified?(config: C): boolean;
  createExtractor(options: {
    engine: EngineSelection;
    backbone: BackboneModel;
    inputSize: number;
    config: C;
  }): Promise<FeatureExtractor>;
  fit(context: FitContext<C, F>): Promise<F>;
  predict(context: PredictContext<F>): Promise<Prediction>;
  /** The epochs the fit ran (empty for methods that do not train). */
  history(model: F): EpochRecord[];
  /** Seconds spent building what the model keeps, and training. */
  fitSeconds(model: F): { bankSeconds: number; trainSeconds: number };
  /**
   * Numbers that describe the fitted model for results and logs; `bankBytes` (what scoring keeps in
   * memory per model, float32) always, `bankSize` where the model keeps a set of vectors.
   */
  summary(model: F): { bankBytes: number; bankSize?: number } & Record<string, number>;
  /** How a fitted member is stored in a bundle, and read back. */
  readonly member: {
    /** The zod shape of the member's own manifest fields (merged, strict, with the shared ones). */
    readonly fields: z.ZodRawShape;
    save(model: F): MemberState;
    /** Tensor name → shape the fields imply (every one must be present, no other). */
    tensorShapes(fields: Record<string, unknown>): Map<string, number[]>;
    /** Cross-field checks of a manifest entry (e.g. channels against levels); a message, or undefined. */
    check?(fields: Record<string, unknown>, levels: EmbeddingLevel[]): string | undefined;
    load(context: MemberLoadContext<C>): F;
  };
  /**
   * The member's scoring as an ONNX graph piece: backbone maps → anomaly map [n, S, S] (a value
   * name), or the map and the member's image score [n] where the method's image score is not the
   * map's maximum (`imageScoreRule`).
   */
  lowerMap(g: OnnxGraphBuilder, context: LowerMapContext<C, F>): string | LoweredMember;
  /**
   * How `predict` scores an image, for the export's description; absent = 'the maximum of its
   * map'. A method that says otherwise returns its image score from `lowerMap`.
   */
  readonly imageScoreRule?: string;
  /**
   * Methods with a fitted image-level stage before the backbone (FYD's image-level coarse
   * alignment): the normalised input [n, 3, S, S] → the image the backbone sees, same shape. The
   * export applies it to each member's input before the shared backbone; the method's own
   * `predict` applies the same stage (its extractor then stores the viewed images, not backbone maps).
   */
  lowerInput?(g: OnnxGraphBuilder, context: LowerInputContext<C, F>): string;
  /**
   * How an image's score is read off its map, when not by the map's maximum (CRAD: the largest
   * 32 × 32 window mean): maps [count, size, size] → [count]. Two-view ensembles score their
   * combined map with it, and the export's `image_score` uses `lowerImageScores`.
   */
  imageScores?(maps: Float32Array, count: number, size: number, config: C): Float32Array;
  /** `imageScores` in a graph: maps [n, S, S] → [n]. */
  lowerImageScores?(g: OnnxGraphBuilder, maps: string, size: number, config: C): string;
  /** Paper Fig. 3's picture, for methods that adapt features. */
  featureSpace?(options: {
    model: F;
    config: C;
    backbone: BackboneModel;
    engine: EngineSelection;
    levels: EmbeddingLevel[];
  }): Promise<FeatureSpaceProjector>;
}

/** Any method, whatever its config and fitted types (the registry's element type). */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type AnyMethod = AnomalyMethod<any, any>;

/** The config type of a method. */
export type ConfigOf<M> = M extends AnomalyMethod<infer C, unknown> ? C : never;
