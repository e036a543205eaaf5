/**
 * The Gaussian smoothing of anomaly maps as the reference code does it with
 * `scipy.ndimage.gaussian_filter(map, sigma=4)`: kernel radius ⌊4σ + 0.5⌋ (scipy's truncate = 4),
 * weights normalised to sum 1, borders in scipy's 'reflect' mode (half-sample symmetric:
 * d c b a | a b c d | d c b a). `anomalyMaps` composes both with the bilinear upsampling into one
 * matrix per axis; the direct blur, its spec's oracle, is `gaussianBlur` in @cfa/scoring/testing.
 *
 * @example
 * ```ts
 * gaussianKernel(4); // 33 weights (radius 16), summing to 1
 * reflectIndex(-1, 5); // 0
 * ```
 */

export function gaussianKernel(sigma: number): Float64Array {
  if (!(sigma > 0)) throw new Error(`gaussianKernel: sigma must be > 0, got ${sigma}`);
  const radius = Math.floor(4 * sigma + 0.5);
  const k = new Float64Array(2 * radius + 1);
  let sum = 0;
  for (let i = -radius; i <= radius; i++) {
    k[i + radius] = Math.exp((-0.5 * i * i) / (sigma * sigma));
    sum += k[i + radius];
  }
  for (let i = 0; i < k.length; i++) k[i] /= sum;
  return k;
}

/** scipy 'reflect': index −1 → 0, −2 → 1, n → n−1, n+1 → n−2 (repeating for long kernels). */
export function reflectIndex(i: number, n: number): number {
  if (n === 1) return 0;
  const period = 2 * n;
  let m = ((i % period) + period) % period;
  if (m >= n) m = period - 1 - m;
  return m;
}
