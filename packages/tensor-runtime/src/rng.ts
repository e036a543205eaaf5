/**
 * Seeded pseudo-random numbers (xoshiro128**, seeded through SplitMix32), so that synthetic data,
 * random-init weights, descriptor init, k-means++ and batch order are reproducible from one seed.
 *
 * @example
 * ```ts
 * const rng = createRng(42);
 * rng.next();          // uniform in [0, 1)
 * rng.normal();        // standard normal
 * rng.fork('kmeans');  // an independent stream derived from the label
 * ```
 */

export interface Rng {
  /** Uniform in [0, 1). */
  next(): number;
  /** Integer in [0, n). */
  int(n: number): number;
  /** Uniform in [lo, hi). */
  uniform(lo: number, hi: number): number;
  /** Standard normal (Box–Muller). */
  normal(): number;
  /** Fisher–Yates shuffle of 0..n-1. */
  permutation(n: number): number[];
  /** An independent stream whose seed is derived from this stream's seed and the label. */
  fork(label: string | number): Rng;
  readonly seed: number;
}

function splitmix32(state: number): () => number {
  let s = state >>> 0;
  return () => {
    s = (s + 0x9e3779b9) >>> 0;
    let z = s;
    z = Math.imul(z ^ (z >>> 16), 0x85ebca6b) >>> 0;
    z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35) >>> 0;
    return (z ^ (z >>> 16)) >>> 0;
  };
}

/** FNV-1a of a string, for turning labels into seeds. */
export function hashString(text: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h >>> 0;
}

export function createRng(seed: number): Rng {
  if (!Number.isFinite(seed)) throw new Error(`createRng: seed must be a finite number, got ${seed}`);
  const init = splitmix32((Math.floor(seed) >>> 0) ^ Math.floor(seed / 2 ** 32));
  let a = init(),
    b = init(),
    c = init(),
    d = init();
  let spare: number | undefined;
  const nextU32 = (): number => {
    const result = Math.imul(rotl(Math.imul(b, 5) >>> 0, 7), 9) >>> 0;
    const t = (b << 9) >>> 0;
    c ^= a;
    d ^= b;
    b ^= c;
    a ^= d;
    c ^= t;
    d = rotl(d, 11);
    return result;
  };
  const rng: Rng = {
    seed,
    next: () => nextU32() / 2 ** 32,
    int: (n) => Math.floor(rng.next() * n),
    uniform: (lo, hi) => lo + (hi - lo) * rng.next(),
    normal: () => {
      if (spare !== undefined) {
        const v = spare;
        spare = undefined;
        return v;
      }
      let u = 0;
      while (u === 0) u = rng.next();
      const v = rng.next();
      const r = Math.sqrt(-2 * Math.log(u));
      spare = r * Math.sin(2 * Math.PI * v);
      return r * Math.cos(2 * Math.PI * v);
    },
    permutation: (n) => {
      const p = Array.from({ length: n }, (_, i) => i);
      for (let i = n - 1; i > 0; i--) {
        const j = rng.int(i + 1);
        [p[i], p[j]] = [p[j], p[i]];
      }
      return p;
    },
    fork: (label) => createRng((hashString(`${seed}:${label}`) ^ Math.imul(seed | 0, 0x27d4eb2d)) >>> 0),
  };
  return rng;
}

function rotl(x: number, k: number): number {
  return ((x << k) | (x >>> (32 - k))) >>> 0;
}
