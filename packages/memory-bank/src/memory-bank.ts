/**
 * The memory bank C: M centres of dimension D′ (paper §3.2), fixed while the descriptor trains.
 * Squared norms ‖c‖² are computed once here and reused by every distance computation.
 */

export interface MemoryBank {
  /** [M, D′] row-major. */
  readonly centres: Float32Array;
  readonly size: number;
  readonly dim: number;
  /** ‖c_m‖², [M]. */
  readonly squaredNorms: Float32Array;
  /** Cᵀ [D′, M], the layout the distance product wants; built once. */
  readonly transposed: Float32Array;
}

export function createMemoryBank(centres: Float32Array, size: number, dim: number): MemoryBank {
  if (centres.length !== size * dim) {
    throw new Error(
      `createMemoryBank: centres must hold [${size}, ${dim}] = ${size * dim} values, got ${centres.length}`,
    );
  }
  const squaredNorms = new Float32Array(size);
  const transposed = new Float32Array(size * dim);
  for (let m = 0; m < size; m++) {
    let s = 0;
    for (let j = 0; j < dim; j++) {
      const v = centres[m * dim + j];
      s += v * v;
      transposed[j * size + m] = v;
    }
    squaredNorms[m] = s;
  }
  return { centres, size, dim, squaredNorms, transposed };
}

/**
 * How many centres a bank compressed by γc holds for HW patch locations: ⌊HW/γc⌋ (paper §3.2,
 * Table 6), all HW when γc ≤ 1. Zero when γc > HW: callers check it against the K + J neighbours
 * the loss and scoring need before building anything.
 */
export function centreCount(hw: number, gammaC: number): number {
  return gammaC <= 1 ? hw : Math.floor(hw / gammaC);
}
