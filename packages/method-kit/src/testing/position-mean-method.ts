/**
 * A second, deliberately small method for the kit's own tests (not a method of the toolkit): the
 * anomaly score of a patch is its Euclidean distance to the mean of the train features at the same
 * grid position — the simplest member of PaDiM's family (a per-position Gaussian with identity
 * covariance). It reads CFA's pooled embedding pyramid under its own extractor kind, fits without
 * epochs, and lowers to ONNX, so a run, an ensemble, a bundle and an export of it show that the
 * kit's code paths work for a method that is not CFA.
 */
import { z } from 'zod';
import { attr } from '@cfa/tensor-runtime';
import { createPatchEmbedder, lowerPatchEmbeddingToOnnx } from '@cfa/descriptor';
import { anomalyMaps, imageScores, lowerAnomalyMaps } from '@cfa/scoring';
import { backboneConfigSchema, checkCommonFields, commonConfigFields, methodLiteral } from '../common-config';
import type { AnomalyMethod } from '../method';

const Schema = z
  .strictObject({
    method: methodLiteral('position-mean'),
    backbone: backboneConfigSchema({ taps: 'torchvision' }),
    /** Gaussian σ of the map smoothing. */
    sigma: z.number().nonnegative().default(1),
    ...commonConfigFields(),
  })
  .superRefine(checkCommonFields);
export type PositionMeanConfig = z.infer<typeof Schema>;

export interface FittedPositionMean {
  /** Mean feature per position, [H·W, D]. */
  mean: Float32Array;
  height: number;
  width: number;
  channels: number;
  sigma: number;
  seconds: number;
}

const Fields = {
  grid: z.strictObject({ height: z.number().int(), width: z.number().int(), channels: z.number().int() }),
};

export const positionMeanMethod: AnomalyMethod<PositionMeanConfig, FittedPositionMean> = {
  name: 'position-mean',
  label: 'PositionMean',
  description: "the kit's test method: distance to the per-position train mean",
  configSchema: Schema,
  configFields: ['method', 'backbone', 'sigma', 'view', 'calibration', 'ensemble', 'seed'],
  describeConfig: (c) => `σ ${c.sigma}`,
  createExtractor: async ({ engine, backbone, inputSize }) => {
    const embedder = await createPatchEmbedder({ engine, backbone, inputSize });
    return {
      kind: 'test:position-mean',
      inputSize,
      levels: embedder.levels,
      embedPyramids: (images, batch) => embedder.embedPyramids(images, batch),
      release: () => embedder.release(),
    };
  },
  async fit({ config, train, onProgress }) {
    const start = performance.now();
    const { height, width, channels } = train;
    const mean = new Float64Array(height * width * channels);
    for (let i = 0; i < train.ids.length; i++) {
      const x = await train.get(i);
      for (let j = 0; j < mean.length; j++) mean[j] += x[j] / train.ids.length;
      onProgress?.({ phase: 'bank', done: i + 1, total: train.ids.length });
    }
    const seconds = (performance.now() - start) / 1000;
    return { mean: Float32Array.from(mean), height, width, channels, sigma: config.sigma, seconds };
  },
  async predict({ model, test, inputSize }) {
    const start = performance.now();
    const { height, width, channels, mean } = model;
    const hw = height * width;
    const scores = new Float32Array(test.ids.length * hw);
    for (let i = 0; i < test.ids.length; i++) {
      const x = await test.get(i);
      for (let p = 0; p < hw; p++) {
        let sum = 0;
        for (let c = 0; c < channels; c++) sum += (x[p * channels + c] - mean[p * channels + c]) ** 2;
        scores[i * hw + p] = Math.sqrt(sum);
      }
    }
    const n = test.ids.length;
    const maps = anomalyMaps({ scores, count: n, height, width, outputSize: inputSize, sigma: model.sigma });
    return {
      maps,
      patchScores: scores,
      imageScores: imageScores({ maps, count: n, size: inputSize }),
      size: inputSize,
      ids: test.ids,
      seconds: (performance.now() - start) / 1000,
    };
  },
  history: () => [],
  fitSeconds: (model) => ({ bankSeconds: model.seconds, trainSeconds: 0 }),
  summary: (model) => ({ bankBytes: 4 * model.mean.length }),
  member: {
    fields: Fields,
    save: (model) => ({
      fields: { grid: { height: model.height, width: model.width, channels: model.channels } },
      tensors: new Map([['mean', { shape: [model.height * model.width, model.channels], data: model.mean }]]),
    }),
    tensorShapes: (fields) => {
      const { grid } = fields as z.infer<z.ZodObject<typeof Fields>>;
      return new Map([['mean', [grid.height * grid.width, grid.channels]]]);
    },
    load: ({ fields, tensors, config }) => {
      const { grid } = fields as z.infer<z.ZodObject<typeof Fields>>;
      return { mean: tensors.get('mean')!.data, ...grid, sigma: config.sigma, seconds: 0 };
    },
  },
  lowerMap(g, { model, backbone, maps, shapes, inputSize, name }) {
    const { height, width, channels } = model;
    const embedding = lowerPatchEmbeddingToOnnx(g, maps, shapes, backbone.definition.embedding.scaleByChannels);
    const x = g.node('Reshape', [
      g.node('Transpose', [embedding], { perm: attr.ints([0, 2, 3, 1]) })[0],
      g.ints('shape', [-1, height * width, channels]),
    ])[0];
    const mean = g.initializer(`${name}.mean`, model.mean, [height * width, channels]);
    const distance = g.node('ReduceL2', [g.node('Sub', [x, mean])[0]], {
      axes: attr.ints([2]),
      keepdims: attr.int(0),
    })[0];
    return lowerAnomalyMaps(g, distance, { height, width, outputSize: inputSize, sigma: model.sigma });
  },
};
