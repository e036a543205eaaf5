/**
 * Seeded uniform random numbers for the property tests (mulberry32): the same seed gives the same
 * cases on every run and machine, so a failure can be replayed.
 *
 * @example
 * ```ts
 * import { seededRandom } from './testing/seeded-random';
 * const random = seededRandom(1);
 * random(); // a number in [0, 1), the same one for seed 1 on every run
 * ```
 */
export function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 2 ** 32;
  };
}

/** An integer in [0, n). */
export function randomInt(random: () => number, n: number): number {
  return Math.floor(random() * n);
}
