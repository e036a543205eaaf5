/**
 * A trained model of any method as ONE self-contained ONNX graph, from the image tensor to the
 * anomaly map and the image score — for deployment anywhere ONNX Runtime runs, with no TypeScript
 * at all. This file only composes ONNX lowerings of the stage packages and of the method; none of
 * the maths is written here:
 *
 *   ImageNet normalisation   @cfa/data        lowerImageNetNormalization
 *   the method's input stage its package      `AnomalyMethod.lowerInput`, where it has one (FYD: the
 *                                             image-level spatial transformer)
 *   backbone                 @cfa/backbone    nhwcInputToNchw, lowerBackboneToOnnx (BatchNorm fused)
 *   the method's scoring     its package      `AnomalyMethod.lowerMap`: backbone maps → anomaly map
 *                                             (CFA: patch embedding, φ, nearest centres, softmin,
 *                                             upsampling and blur, each from its stage package)
 *   image score              @cfa/scoring     lowerImageScores (the map's maximum), or the member's own
 *                                             where its method scores images otherwise (`imageScoreRule`:
 *                                             PatchCore's largest patch score)
 *                                             or the method's own reduction of its map
 *                                             (`AnomalyMethod.lowerImageScores`: CRAD's window mean)
 *
 * An ensemble adds the companion member on its own input (the whole image resized to the crop
 * size), runs the shared backbone once on both inputs stacked on the batch axis, moves the
 * companion's map onto the primary's grid with the operator of @cfa/data's `alignCompanionMap`
 * (read off that function itself, so there is no second copy of it) and averages the two maps.
 *
 * Input `image`: float32 [batch, S, S, 3], NHWC, RGB in [0, 1], S = the view's output side, after
 * the view's geometry (center-crop view: the short side resized to R with the view's filter —
 * Pillow's Lanczos by default — then the centre S×S crop: `viewRasters` of @cfa/data); the
 * ImageNet normalisation is inside the graph.
 * An ensemble also takes `companion_image` (the whole image resized to S×S). Outputs: `anomaly_map`
 * [batch, S, S] and `image_score` [batch]; any batch size of at least 1 (an empty batch kills
 * ONNX Runtime's process with SIGFPE in its TopK kernel, so the input's doc string says so; our own
 * runner refuses one). The model's `metadata_props` carry the
 * method, the config, the views, and the calibrated thresholds.
 *
 * @example
 * ```ts
 * const onnx = buildOnnxModel(run.model);
 * await writeFile('model.onnx', onnx.bytes);
 * onnx.inputs; // [{ name: 'image', shape: ['n', 224, 224, 3], view: {...}, description: '…' }]
 * ```
 */
import { attr, OnnxGraphBuilder } from '@cfa/tensor-runtime';
import {
  alignCompanionMap,
  inferenceView,
  lowerImageNetNormalization,
  type View,
  viewKey,
  viewOutputSize,
} from '@cfa/data';
import { featureShapesFor, lowerBackboneToOnnx, nhwcInputToNchw } from '@cfa/backbone';
import { lowerImageScores } from '@cfa/scoring';
import type { TrainedModel } from './trained-model';

/** Bumped when the graph's inputs, outputs or their meaning change. */
export const ONNX_EXPORT_VERSION = 1;

export interface OnnxInputDescription {
  name: string;
  shape: [string, number, number, number];
  /** The (deterministic) view whose geometry the caller applies before feeding. */
  view: View;
  description: string;
}

export interface OnnxExport {
  bytes: Uint8Array;
  inputs: OnnxInputDescription[];
  outputs: { name: string; shape: (string | number)[]; description: string }[];
}

function describeInput(view: View, size: number): string {
  const filter = view.filter === 'bilinear' ? 'antialiased bilinear' : "Pillow's Lanczos on the 8-bit image";
  const geometry =
    view.kind === 'center-crop'
      ? `the image's short side resized to ${view.resize} (${filter}; a square image to ${view.resize}×${view.resize}) and centre-cropped to ${size}×${size}`
      : `the image resized to ${size}×${size} (${filter})`;
  return `float32 [batch ≥ 1, ${size}, ${size}, 3], NHWC, RGB in [0, 1]: ${geometry}; an empty batch crashes ONNX Runtime (SIGFPE), so feed at least one image; ImageNet normalisation (mean 0.485/0.456/0.406, std 0.229/0.224/0.225) is applied inside the graph`;
}

/**
 * `alignCompanionMap` is linear and separable (bilinear resampling, then a crop): its row and
 * column operators [size, side] are read off by aligning maps that are constant along one axis.
 */
function alignmentOperators(primaryView: View, side: number): { rows: Float32Array; cols: Float32Array } {
  const size = viewOutputSize(primaryView);
  const rows = new Float32Array(size * side),
    cols = new Float32Array(size * side);
  const probe = new Float32Array(side * side);
  for (let j = 0; j < side; j++) {
    probe.fill(0);
    probe.fill(1, j * side, (j + 1) * side); // row j of ones: the aligned map's column 0 is Rows[:, j]
    const byRow = alignCompanionMap({ map: probe, side, primary: primaryView, sampleId: 'export' });
    for (let i = 0; i < size; i++) rows[i * side + j] = byRow[i * size];
    probe.fill(0);
    for (let r = 0; r < side; r++) probe[r * side + j] = 1; // column j of ones: row 0 is Cols[:, j]
    const byCol = alignCompanionMap({ map: probe, side, primary: primaryView, sampleId: 'export' });
    for (let i = 0; i < size; i++) cols[i * side + j] = byCol[i];
  }
  return { rows, cols };
}

/** The companion's map [n, side, side] on the primary's grid [n, size, size]: Rows · M · Colsᵀ. */
function lowerAlignment(g: OnnxGraphBuilder, map: string, primaryView: View, side: number): string {
  const size = viewOutputSize(primaryView);
  const { rows, cols } = alignmentOperators(primaryView, side);
  const colsT = new Float32Array(side * size);
  for (let i = 0; i < size; i++) for (let j = 0; j < side; j++) colsT[j * size + i] = cols[i * side + j];
  const r = g.initializer('companion.align_rows', rows, [size, side]);
  const c = g.initializer('companion.align_cols_t', colsT, [side, size]);
  return g.node('MatMul', [g.node('MatMul', [r, map])[0], c])[0];
}

/** The whole model as one ONNX graph (see the file header for its inputs and outputs). */
export function buildOnnxModel(model: TrainedModel): OnnxExport {
  const { method, backbone, members, config } = model;
  const [primary, companion] = members;
  const g = new OnnxGraphBuilder(`${method.name}-${backbone.definition.name}`);
  const inputs: OnnxInputDescription[] = members.map((m) => {
    const view = inferenceView(m.view);
    const size = viewOutputSize(view);
    return {
      name: m.role === 'primary' ? 'image' : 'companion_image',
      shape: ['n', size, size, 3],
      view,
      description: describeInput(view, size),
    };
  });
  const size = inputs[0].shape[1];
  if (inputs.some((i) => i.shape[1] !== size))
    throw new Error(
      `buildOnnxModel: the members' inputs are ${inputs.map((i) => `${i.shape[1]}²`).join(' and ')}; one graph shares the backbone only between inputs of one size`,
    );
  // a method's own image-level stage (FYD's image-level alignment) runs on each member's input
  const normalised = inputs.map((i, k) => {
    const image = lowerImageNetNormalization(g, nhwcInputToNchw(g, i.name, size, i.description));
    const member = members[k];
    return method.lowerInput
      ? method.lowerInput(g, { model: member.fitted, config, image, inputSize: size, name: member.role })
      : image;
  });
  // CFA++: the shared backbone runs once on both inputs, stacked on the batch axis
  const stacked = normalised.length === 1 ? normalised[0] : g.node('Concat', normalised, { axis: attr.int(0) })[0];
  const maps = lowerBackboneToOnnx(g, backbone, stacked);
  const shapes = featureShapesFor(backbone, size);
  const memberMap = (member: (typeof members)[number], memberMaps: string[]) => {
    const lowered = method.lowerMap(g, {
      model: member.fitted,
      config,
      backbone,
      maps: memberMaps,
      shapes,
      inputSize: viewOutputSize(inferenceView(member.view)),
      name: member.role,
    });
    return typeof lowered === 'string' ? { map: lowered, imageScore: undefined } : lowered;
  };
  let map: string;
  let imageScore: string | undefined;
  if (!companion) {
    ({ map, imageScore } = memberMap(primary, maps));
  } else {
    // the batch holds the primary's images, then the companion's: each member scores its half
    const n = g.node('Slice', [g.node('Shape', [normalised[0]])[0], g.ints('start', [0]), g.ints('end', [1])])[0];
    const zero = g.ints('zero', [0]);
    const toEnd = g.ints('to_end', [Number.MAX_SAFE_INTEGER]);
    const batchAxis = g.ints('axes', [0]);
    const half = (starts: string, ends: string) => maps.map((m) => g.node('Slice', [m, starts, ends, batchAxis])[0]);
    // an ensemble's image score is its mean map's maximum (`combineViewPredictions`), whatever the method's
    const primaryMap = memberMap(primary, half(zero, n)).map;
    const companionMap = memberMap(companion, half(n, toEnd)).map;
    const aligned = lowerAlignment(g, companionMap, inferenceView(primary.view), size);
    const mean = g.initializer(g.fresh('half'), new Float32Array([0.5]), []);
    map = g.node('Mul', [g.node('Add', [primaryMap, aligned])[0], mean])[0];
  }
  const outputs = [
    {
      name: 'anomaly_map',
      shape: ['n', size, size],
      description: `float32 [batch, ${size}, ${size}]: the anomaly map on the input's grid (higher = more anomalous)`,
    },
    {
      name: 'image_score',
      shape: ['n'],
      description: `float32 [batch]: the image score, ${
        method.lowerImageScores
          ? `${method.label}'s reduction of its map`
          : companion
            ? 'the maximum of its map'
            : (method.imageScoreRule ?? 'the maximum of its map')
      }`,
    },
  ];
  g.node('Identity', [map], {}, ['anomaly_map']);
  const score =
    imageScore ?? (method.lowerImageScores ? method.lowerImageScores(g, map, size, config) : lowerImageScores(g, map));
  g.node('Identity', [score], {}, ['image_score']);
  for (const o of outputs) g.output(o.name, o.shape, 'float', o.description);
  const bytes = g.toBytes({
    docString: `${method.label}${companion ? ' (CFA++ two-view ensemble)' : ''} anomaly localisation (${method.description}), ${backbone.definition.name}; cfa-toolkit ONNX export version ${ONNX_EXPORT_VERSION}. ${inputs.map((i) => `Input ${i.name}: ${i.description}.`).join(' ')} ${outputs.map((o) => `Output ${o.name}: ${o.description}.`).join(' ')}`,
    metadata: {
      'cfa.export_version': String(ONNX_EXPORT_VERSION),
      'cfa.method': method.name,
      'cfa.backbone': backbone.definition.name,
      'cfa.backbone_weights': backbone.weightsSource.id,
      'cfa.views': members.map((m) => viewKey(inferenceView(m.view))).join(' + '),
      'cfa.inputs': JSON.stringify(inputs),
      'cfa.thresholds': JSON.stringify(model.thresholds ?? null),
      'cfa.config': JSON.stringify(config),
    },
  });
  return { bytes, inputs, outputs };
}
