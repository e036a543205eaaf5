/**
 * A multivariate Gaussian per patch position (PaDiM, Defard et al. 2021, §3.2): over the N train
 * images, the mean μ_ij and covariance Σ_ij = (1/(N−1)) Σ_k (x_ij^k − μ_ij)(x_ij^k − μ_ij)ᵀ + εI
 * of the embedding at every position (i, j), and Σ_ij⁻¹ — what scoring's Mahalanobis distance
 * keeps. The PaDiM reference code (xiahaifeng1995/PaDiM-Anomaly-Detection-Localization-master,
 * `main.py`) computes `np.cov(x, rowvar=False) + 0.01 * I` per position (ddof 1) and inverts each
 * with `np.linalg.inv` at test time; anomalib's `MultiVariateGaussian` does the same in torch.
 *
 * Here the images stream through a running sum of x and of x xᵀ (lower triangle, float64), so the
 * train set is read once and never held; float64 keeps the one-pass formula
 * (Σ x xᵀ − N μ μᵀ)/(N − 1) as exact as numpy's centred float64 `np.cov` for float32 features.
 * Each Σ + εI is inverted through its Cholesky factor (Σ = L Lᵀ, Σ⁻¹ = L⁻ᵀ L⁻¹) in float64: about
 * d³ multiply-adds per position, the stored inverse float32.
 *
 * Memory: the running sums hold P·d(d+1)/2 float64 and the inverses P·d² float32 — for ResNet-18
 * at 224 (P = 56·56, d = 100) 127 MB + 125 MB; for WRN50-2 with d = 550, 3.8 GB + 15 GB, which is
 * why a method states a budget (`gaussianBytes`) and refuses before any work.
 *
 * @example
 * ```ts
 * const acc = new PositionGaussianAccumulator(3136, 100);
 * for (const batch of trainBatches) acc.add(batch, batchSize);   // [B, 3136, 100]
 * const { mean, inverse } = acc.finish({ epsilon: 0.01 });        // [3136, 100], [3136, 100, 100]
 * ```
 */

/** Per-position Gaussians: float32, position-major. */
export interface PositionGaussians {
  positions: number;
  dim: number;
  /** Train images the statistics were taken over. */
  count: number;
  /** Regularisation added to every covariance's diagonal. */
  epsilon: number;
  /** μ [P, d]. */
  mean: Float32Array;
  /** (Σ + εI)⁻¹ [P, d, d]. */
  inverse: Float32Array;
  /** Σ + εI [P, d, d], when asked for (`keepCovariance`). */
  covariance?: Float32Array;
  /**
   * The share of the features' spread that lies within positions (`withinPositionShare`), taken
   * over the train images when the Gaussians were fitted; absent on Gaussians read back from a file.
   */
  withinPositionShare?: number;
}

/** `{ withinPositionShare }` where the Gaussians carry it (a method's summary), else nothing. */
export function withinPositionShareOf(gaussians: PositionGaussians): { withinPositionShare?: number } {
  return gaussians.withinPositionShare === undefined ? {} : { withinPositionShare: gaussians.withinPositionShare };
}

/** Bytes of the float32 mean and inverse that scoring keeps: 4·P·(d + d²). */
export function gaussianBytes(positions: number, dim: number): number {
  return 4 * positions * (dim + dim * dim);
}

/** Bytes the fit holds at its peak: the float64 running sums and the float32 result. */
export function gaussianFitBytes(positions: number, dim: number): number {
  return 8 * positions * (dim + (dim * (dim + 1)) / 2) + gaussianBytes(positions, dim);
}

export class PositionGaussianAccumulator {
  private readonly sum: Float64Array;
  /** Lower triangles of Σ x xᵀ, packed row by row: position p's (i, j ≤ i) at p·T + i(i+1)/2 + j. */
  private readonly outer: Float64Array;
  private readonly triangle: number;
  private n = 0;

  constructor(
    readonly positions: number,
    readonly dim: number,
  ) {
    if (!(Number.isInteger(positions) && positions > 0 && Number.isInteger(dim) && dim > 0))
      throw new Error(
        `PositionGaussianAccumulator: positions and dim must be positive integers, got ${positions}, ${dim}`,
      );
    this.triangle = (dim * (dim + 1)) / 2;
    this.sum = new Float64Array(positions * dim);
    this.outer = new Float64Array(positions * this.triangle);
  }

  get count(): number {
    return this.n;
  }

  /**
   * Adds `batch` images' embeddings [batch, P, d]. Position by position, so each position's d×d
   * sums stay in cache while the batch's vectors are added.
   */
  add(embeddings: Float32Array, batch: number): void {
    const { positions: P, dim: d, triangle: T } = this;
    if (embeddings.length !== batch * P * d)
      throw new Error(
        `PositionGaussianAccumulator.add: expected [${batch}, ${P}, ${d}] = ${batch * P * d} values, got ${embeddings.length}`,
      );
    const x = new Float64Array(d);
    for (let p = 0; p < P; p++) {
      const so = p * d,
        to = p * T;
      for (let b = 0; b < batch; b++) {
        const o = (b * P + p) * d;
        for (let i = 0; i < d; i++) {
          const v = embeddings[o + i];
          if (!Number.isFinite(v))
            throw new Error(
              `PositionGaussianAccumulator.add: image ${this.n + b} holds ${v} at position ${p}, channel ${i}`,
            );
          x[i] = v;
          this.sum[so + i] += v;
        }
        for (let i = 0, r = to; i < d; r += ++i) axpy(this.outer, r, x[i], x, 0, i + 1);
      }
    }
    this.n += batch;
  }

  /**
   * The Gaussians: μ, (Σ + εI)⁻¹ and, when `keepCovariance`, Σ + εI. Needs two images at least
   * (the covariance divides by N − 1, as `np.cov`).
   */
  finish({
    epsilon,
    keepCovariance = false,
    onProgress,
  }: {
    epsilon: number;
    keepCovariance?: boolean;
    onProgress?: (done: number, total: number) => void;
  }): PositionGaussians {
    const { positions: P, dim: d, triangle: T, n } = this;
    if (n < 2) throw new Error(`fitPositionGaussians: a covariance needs at least 2 images, got ${n}`);
    if (!(epsilon >= 0)) throw new Error(`fitPositionGaussians: epsilon must be ≥ 0, got ${epsilon}`);
    const mean = new Float32Array(P * d);
    const inverse = new Float32Array(P * d * d);
    const covariance = keepCovariance ? new Float32Array(P * d * d) : undefined;
    const cov = new Float64Array(d * d),
      scratch = choleskyScratch(d);
    const mu = new Float64Array(d);
    const step = Math.max(1, Math.floor(P / 100));
    const withinPositionShare = this.withinPositionShare();
    for (let p = 0; p < P; p++) {
      for (let i = 0; i < d; i++) {
        mu[i] = this.sum[p * d + i] / n;
        mean[p * d + i] = mu[i];
      }
      for (let i = 0, r = p * T; i < d; r += ++i) {
        for (let j = 0; j <= i; j++) {
          const c = (this.outer[r + j] - n * mu[i] * mu[j]) / (n - 1) + (i === j ? epsilon : 0);
          cov[i * d + j] = c;
          cov[j * d + i] = c;
        }
      }
      covariance?.set(cov, p * d * d);
      choleskyInverse(cov, d, inverse.subarray(p * d * d, (p + 1) * d * d), scratch, p);
      if ((p + 1) % step === 0 || p + 1 === P) onProgress?.(p + 1, P);
    }
    return {
      positions: P,
      dim: d,
      count: n,
      epsilon,
      mean,
      inverse,
      ...(covariance ? { covariance } : {}),
      withinPositionShare,
    };
  }

  /**
   * W / T: the sum of squares of every image's feature about its own position's mean (W, the
   * covariances' traces times N − 1, without ε), over the sum of squares about the mean of all
   * positions and images (T) — 1 − R² of the position. 0 when every image has the same feature at
   * each position; near 1 when where a feature is says nothing about it. It is what FYD's "dense
   * and compact distribution" of normal features (Zheng et al. 2022, abstract; docs/methods/fyd.md)
   * asks to lower, and it does not change with the features' scale. 0 when T is 0.
   */
  private withinPositionShare(): number {
    const { positions: P, dim: d, triangle: T, n } = this;
    let within = 0,
      squares = 0;
    const overall = new Float64Array(d);
    for (let p = 0; p < P; p++)
      for (let i = 0; i < d; i++) {
        const s = this.sum[p * d + i];
        const diagonal = this.outer[p * T + (i * (i + 1)) / 2 + i];
        squares += diagonal;
        within += diagonal - (s * s) / n;
        overall[i] += s;
      }
    let total = squares;
    for (let i = 0; i < d; i++) total -= (overall[i] * overall[i]) / (n * P);
    return total > 0 ? Math.min(1, Math.max(0, within / total)) : 0;
  }
}

/**
 * y[yo + j] += a · x[xo + j] for j < n, four at a time: the inner loop of every step here
 * (measured ≈ 1.4× faster than the plain loop in V8).
 */
function axpy(y: Float64Array, yo: number, a: number, x: Float64Array, xo: number, n: number): void {
  let j = 0;
  for (; j + 3 < n; j += 4) {
    y[yo + j] += a * x[xo + j];
    y[yo + j + 1] += a * x[xo + j + 1];
    y[yo + j + 2] += a * x[xo + j + 2];
    y[yo + j + 3] += a * x[xo + j + 3];
  }
  for (; j < n; j++) y[yo + j] += a * x[xo + j];
}

/** Σ_k<n x[xo + k] · y[yo + k], in four partial sums. */
function dot(x: Float64Array, xo: number, y: Float64Array, yo: number, n: number): number {
  let s0 = 0,
    s1 = 0,
    s2 = 0,
    s3 = 0,
    k = 0;
  for (; k + 3 < n; k += 4) {
    s0 += x[xo + k] * y[yo + k];
    s1 += x[xo + k + 1] * y[yo + k + 1];
    s2 += x[xo + k + 2] * y[yo + k + 2];
    s3 += x[xo + k + 3] * y[yo + k + 3];
  }
  for (; k < n; k++) s0 += x[xo + k] * y[yo + k];
  return s0 + s1 + (s2 + s3);
}

interface CholeskyScratch {
  L: Float64Array;
  W: Float64Array;
  S: Float64Array;
}

function choleskyScratch(d: number): CholeskyScratch {
  return { L: new Float64Array(d * d), W: new Float64Array(d * d), S: new Float64Array(d * d) };
}

/**
 * The inverse of a symmetric positive-definite d×d matrix `a` (row-major, float64) through its
 * Cholesky factor: a = L Lᵀ (Cholesky–Banachiewicz), W = L⁻¹ (forward substitution, row by row),
 * a⁻¹ = Wᵀ W. Every inner loop runs along a row. Writes `out` (d×d); throws when `a` is not
 * positive definite, naming `position` when given.
 */
export function choleskyInverse(
  a: Float64Array,
  d: number,
  out: Float32Array | Float64Array,
  scratch: CholeskyScratch = choleskyScratch(d),
  position?: number,
): void {
  const { L, W, S } = scratch;
  L.fill(0);
  W.fill(0);
  S.fill(0);
  for (let i = 0; i < d; i++) {
    const ri = i * d;
    for (let j = 0; j <= i; j++) {
      const rj = j * d;
      const t = a[ri + j] - dot(L, ri, L, rj, j);
      if (i === j) {
        if (!(t > 0))
          throw new Error(
            `choleskyInverse: the covariance${position === undefined ? '' : ` at position ${position}`} is not positive definite (pivot ${i}: ${t}); raise epsilon`,
          );
        L[ri + i] = Math.sqrt(t);
      } else {
        L[ri + j] = t / L[rj + j];
      }
    }
  }
  for (let i = 0; i < d; i++) {
    const ri = i * d;
    for (let k = 0; k < i; k++) axpy(W, ri, -L[ri + k], W, k * d, k + 1);
    const pivot = 1 / L[ri + i];
    for (let j = 0; j < i; j++) W[ri + j] *= pivot;
    W[ri + i] = pivot;
  }
  // Wᵀ W, lower triangle accumulated row of W by row of W, then mirrored
  for (let k = 0; k < d; k++) {
    const rk = k * d;
    for (let i = 0; i <= k; i++) axpy(S, i * d, W[rk + i], W, rk, i + 1);
  }
  for (let i = 0; i < d; i++)
    for (let j = 0; j <= i; j++) {
      out[i * d + j] = S[i * d + j];
      out[j * d + i] = S[i * d + j];
    }
}

export interface FitPositionGaussiansParams {
  /** How many images. */
  count: number;
  positions: number;
  dim: number;
  /** Image i's embedding [P, d] (e.g. read from the feature cache). */
  read: (index: number) => Promise<Float32Array>;
  /** εI added to every covariance (the PaDiM reference: 0.01). */
  epsilon: number;
  /** Images added to the running sums at once. */
  batchSize?: number;
  keepCovariance?: boolean;
  /** `phase` 'add' per image, then 'invert' per position. */
  onProgress?: (phase: 'add' | 'invert', done: number, total: number) => void;
}

/** The per-position Gaussians of `count` images, read in batches (see the file header). */
export async function fitPositionGaussians(params: FitPositionGaussiansParams): Promise<PositionGaussians> {
  const { count, positions, dim, read, epsilon, batchSize = 16, keepCovariance, onProgress } = params;
  const acc = new PositionGaussianAccumulator(positions, dim);
  const per = positions * dim;
  for (let start = 0; start < count; start += batchSize) {
    const indices = Array.from({ length: Math.min(batchSize, count - start) }, (_, i) => start + i);
    const images = await Promise.all(indices.map(read));
    const batch = new Float32Array(indices.length * per);
    images.forEach((x, i) => {
      if (x.length !== per)
        throw new Error(
          `fitPositionGaussians: image ${indices[i]} holds ${x.length} values, expected [${positions}, ${dim}]`,
        );
      batch.set(x, i * per);
    });
    acc.add(batch, indices.length);
    onProgress?.('add', start + indices.length, count);
  }
  return acc.finish({ epsilon, keepCovariance, onProgress: (done, total) => onProgress?.('invert', done, total) });
}
