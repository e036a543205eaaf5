/**
 * FYD's member in the one-graph ONNX export (@cfa/method-kit `buildOnnxModel`), from the stage
 * packages' graph pieces: `lowerFydInput` is the image-level spatial transformer the export applies
 * before the shared backbone; `lowerFydMap` takes the backbone's maps through each level's
 * transformer, the upsampled concatenation, the adaptor and the Mahalanobis distance, back onto
 * the input's grid through the inverse of the poses, to the anomaly map — the same maths as
 * `predictFyd`.
 */
import {
  attr,
  lowerAffineGrid,
  lowerComposeAffine,
  lowerGridSample,
  lowerInvertAffine,
  type OnnxGraphBuilder,
} from '@cfa/tensor-runtime';
import { lowerAdaptor, lowerSpatialTransformer, lowerUpsampledConcat, transformerTheta } from '@cfa/descriptor';
import { lowerAnomalyMaps, lowerMahalanobisMaps } from '@cfa/scoring';
import type { LowerInputContext, LowerMapContext } from '@cfa/method-kit';
import type { FydConfig } from './config';
import { type FittedFyd, poseBounds } from './fit';

/** The image-level transformer's name in the graph: `lowerFydMap` reads its poses back. */
const imageStnName = (member: string) => `${member}.image_stn`;

export function lowerFydInput(
  g: OnnxGraphBuilder,
  { model, image, inputSize, name }: LowerInputContext<FydConfig, FittedFyd>,
): string {
  if (!model.imageStn) return image;
  return lowerSpatialTransformer(g, image, {
    params: model.imageStn,
    bounds: poseBounds(model.config, 'image'),
    height: inputSize,
    width: inputSize,
    name: imageStnName(name),
  });
}

export function lowerFydMap(
  g: OnnxGraphBuilder,
  { model, maps, inputSize, name }: LowerMapContext<FydConfig, FittedFyd>,
): string {
  const { levels, featureStns } = model;
  const bounds = poseBounds(model.config, 'feature');
  const warped = maps.map((m, l) =>
    featureStns
      ? lowerSpatialTransformer(g, m, {
          params: featureStns[l],
          bounds,
          height: levels[l].height,
          width: levels[l].width,
          name: `${name}.feature_stn.${l}`,
        })
      : m,
  );
  const { height, width } = levels[0];
  const embedding = lowerUpsampledConcat(g, warped, levels); // [n, Σ C, H, W]
  const rows = g.node('Reshape', [
    g.node('Transpose', [embedding], { perm: attr.ints([0, 2, 3, 1]) })[0],
    g.ints('shape', [-1, height * width, model.head.inChannels]),
  ])[0];
  const z = lowerAdaptor(g, rows, model.head, name);
  const distances = lowerMahalanobisMaps(g, z, { gaussians: model.gaussians, name: `${name}.gaussians` });
  // back onto the input's grid (`scoresOnInputGrid`): sample at (θᵢ∘θ₀)⁻¹, θᵢ from `lowerFydInput`
  const imageTheta = model.imageStn ? transformerTheta(imageStnName(name)) : undefined;
  const featureTheta = featureStns ? transformerTheta(`${name}.feature_stn.0`) : undefined;
  const chain =
    imageTheta && featureTheta
      ? lowerComposeAffine(g, imageTheta, featureTheta, `${name}.pose_chain`)
      : (imageTheta ?? featureTheta);
  const scores = chain
    ? lowerGridSample(
        g,
        g.node('Reshape', [distances, g.ints('shape', [-1, 1, height, width])])[0],
        lowerAffineGrid(g, lowerInvertAffine(g, chain), { height, width, name: `${name}.input_grid` }),
        { padding: 'border' },
      )
    : distances;
  return lowerAnomalyMaps(g, scores, { height, width, outputSize: inputSize, sigma: model.config.scoring.sigma });
}
