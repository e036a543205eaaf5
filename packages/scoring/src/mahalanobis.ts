/**
 * Mahalanobis distance maps (PaDiM, Defard et al. 2021, §3.3, Eq. 2): at every patch position the
 * distance of the test embedding x_ij to that position's Gaussian,
 *
 *   M(x_ij) = sqrt((x_ij − μ_ij)ᵀ Σ_ij⁻¹ (x_ij − μ_ij)),
 *
 * as the PaDiM reference code computes it with `scipy.spatial.distance.mahalanobis` per position
 * and image (`main.py`), here batched: the [N, P, d] embeddings go position-major, (x − μ) · Σ⁻¹ is
 * one batched MatMul [P, N, d] × [P, d, d], and the row sums of its product with (x − μ) are the
 * squared distances. ONNX Runtime runs `lowerMahalanobisMaps` with the Gaussians as constants;
 * TensorFlow.js runs the same ops. The maps then go through `anomalyMaps` (bilinear upsampling,
 * σ = 4 blur) like any method's patch scores.
 *
 * Work per image: P·d² multiply-adds (ResNet-18, d = 100: 31 M); memory: the Gaussians (4·P·d²
 * bytes) once, plus [P, batch, d] per call.
 *
 * @example
 * ```ts
 * const scorer = await createMahalanobisScorer({ engine, gaussians }); // from fitPositionGaussians
 * const maps = await scorer.maps(embeddings, 4);                          // [4, P]
 * await scorer.release();
 * ```
 */
import * as tf from '@tensorflow/tfjs-core';
import { assert, attr, createOrtRunner, type EngineSelection, OnnxGraphBuilder } from '@cfa/tensor-runtime';
import type { PositionGaussians } from '@cfa/memory-bank';

/** What the distance needs of per-position Gaussians: μ [P, d] and Σ⁻¹ [P, d, d]. */
export type MahalanobisGaussians = Pick<PositionGaussians, 'positions' | 'dim' | 'mean' | 'inverse'>;

function checkGaussians(op: string, { positions: P, dim: d, mean, inverse }: MahalanobisGaussians): void {
  assert(mean.length === P * d, op, () => `mean must hold [${P}, ${d}] values, got ${mean.length}`);
  assert(inverse.length === P * d * d, op, () => `inverse must hold [${P}, ${d}, ${d}] values, got ${inverse.length}`);
}

/**
 * The graph piece: embeddings `x` [N, P, d] → distances [N, P]. The Gaussians become initializers
 * named `<name>.mean` [P, 1, d] and `<name>.inverse` [P, d, d].
 */
export function lowerMahalanobisMaps(
  g: OnnxGraphBuilder,
  x: string,
  { gaussians, name }: { gaussians: MahalanobisGaussians; name: string },
): string {
  checkGaussians('lowerMahalanobisMaps', gaussians);
  const { positions: P, dim: d, mean, inverse } = gaussians;
  const mu = g.initializer(`${name}.mean`, mean, [P, 1, d]);
  const inv = g.initializer(`${name}.inverse`, inverse, [P, d, d]);
  const positionMajor = g.node('Transpose', [x], { perm: attr.ints([1, 0, 2]) })[0]; // [P, N, d]
  const diff = g.node('Sub', [positionMajor, mu])[0];
  const weighted = g.node('MatMul', [diff, inv])[0]; // [P, N, d]
  const squared = g.node('ReduceSum', [g.node('Mul', [weighted, diff])[0], g.ints('axes', [2])], {
    keepdims: attr.int(0),
  })[0]; // [P, N]
  // a quadratic form of a positive-definite matrix is ≥ 0; float rounding can dip below
  const distance = g.node('Sqrt', [g.node('Relu', [squared])[0]])[0];
  return g.node('Transpose', [distance], { perm: attr.ints([1, 0]) })[0];
}

export interface MahalanobisScorer {
  readonly engine: 'ort' | 'tfjs';
  /** embeddings [batch, P, d] → distance maps [batch, P]. */
  maps(embeddings: Float32Array, batch: number): Promise<Float32Array>;
  release(): Promise<void>;
}

export async function createMahalanobisScorer({
  engine,
  gaussians,
}: {
  engine: EngineSelection;
  gaussians: MahalanobisGaussians;
}): Promise<MahalanobisScorer> {
  checkGaussians('createMahalanobisScorer', gaussians);
  const { positions: P, dim: d } = gaussians;
  const checkInput = (x: Float32Array, batch: number) =>
    assert(
      x.length === batch * P * d,
      'MahalanobisScorer.maps',
      () => `embeddings must hold [${batch}, ${P}, ${d}] values, got ${x.length}`,
    );
  if (engine.name === 'ort') {
    const g = new OnnxGraphBuilder('mahalanobis');
    const x = g.input('x', ['n', P, d]);
    g.namedOutput(lowerMahalanobisMaps(g, x, { gaussians, name: 'gaussians' }), 'maps', ['n', P]);
    const runner = await createOrtRunner(engine, g.toBytes(), 'Mahalanobis maps');
    return {
      engine: 'ort',
      async maps(embeddings, batch) {
        checkInput(embeddings, batch);
        return (await runner.run({ x: { data: embeddings, dims: [batch, P, d] } })).maps.data as Float32Array;
      },
      release: () => runner.release(),
    };
  }
  const mean = tf.tensor3d(gaussians.mean, [P, 1, d]);
  const inverse = tf.tensor3d(gaussians.inverse, [P, d, d]);
  return {
    engine: 'tfjs',
    async maps(embeddings, batch) {
      checkInput(embeddings, batch);
      const out = tf.tidy(() => {
        const diff = tf.sub(tf.transpose(tf.tensor3d(embeddings, [batch, P, d]), [1, 0, 2]), mean);
        const squared = tf.sum(tf.mul(tf.matMul(diff, inverse), diff), 2); // [P, batch]
        return tf.transpose(tf.sqrt(tf.relu(squared)));
      });
      const data = (await out.data()) as Float32Array;
      out.dispose();
      return data;
    },
    release: async () => tf.dispose([mean, inverse]),
  };
}
