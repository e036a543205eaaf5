/**
 * k nearest centres of every query row, by squared Euclidean distance computed as
 * ‖f‖² + ‖c‖² − 2 f·c (one matrix product per block, as the reference code does), followed by a
 * top-k of the smallest. Queries are processed in blocks of `blockRows`, so memory stays at
 * O(blockRows · M) whatever the number of patches. Used by k-means (k = 1), the loss (k = K+J)
 * and the anomaly score (k = K).
 *
 * @example
 * ```ts
 * const search = await createNearestSearch({ engine, dim: 448 });
 * const { distances, indices } = await search.nearest(phi, 3136, bank, 6); // [3136, 6] each, ascending
 * ```
 */
import * as tf from '@tensorflow/tfjs-core';
import { assert, createOrtRunner, type EngineSelection, OnnxGraphBuilder, type OrtRunner } from '@cfa/tensor-runtime';
import type { MemoryBank } from './memory-bank';
import { lowerNearest, lowerSquaredDistances, memoryBankFeeds, memoryBankInputs } from './nearest-onnx';

export interface NearestResult {
  /** Squared distances [P, k], ascending along each row. */
  distances: Float32Array;
  /** Centre indices [P, k]. */
  indices: Int32Array;
}

export interface NearestSearch {
  readonly engine: 'ort' | 'tfjs';
  nearest(queries: Float32Array, count: number, bank: MemoryBank, k: number): Promise<NearestResult>;
  /** The full squared-distance matrix [P, M] (only for small problems: Algorithm 1's matching). */
  distanceMatrix(queries: Float32Array, count: number, bank: MemoryBank): Promise<Float32Array>;
  release(): Promise<void>;
}

export interface NearestSearchOptions {
  engine: EngineSelection;
  dim: number;
  /** Query rows per block (bounds memory at blockRows × M floats). */
  blockRows?: number;
}

export const DEFAULT_BLOCK_ROWS = 4096;

function checkArgs(queries: Float32Array, count: number, dim: number, bank: MemoryBank, k?: number): void {
  assert(
    queries.length === count * dim,
    'nearest',
    () => `queries must hold [${count}, ${dim}] = ${count * dim} values, got ${queries.length}`,
  );
  assert(bank.dim === dim, 'nearest', () => `bank has dimension ${bank.dim}, queries ${dim}`);
  if (k !== undefined)
    assert(k >= 1 && k <= bank.size, 'nearest', () => `k must be in [1, ${bank.size}] (the bank size), got ${k}`);
}

/** Runs `fn` over row blocks and writes each block's rows into the output arrays. */
async function forBlocks(
  count: number,
  blockRows: number,
  fn: (start: number, rows: number) => Promise<void>,
): Promise<void> {
  for (let start = 0; start < count; start += blockRows) await fn(start, Math.min(blockRows, count - start));
}

function distanceGraph(g: OnnxGraphBuilder, dim: number): string {
  const q = g.input('q', ['p', dim]);
  const { ct, cn } = memoryBankInputs(g, dim);
  return lowerSquaredDistances(g, q, ct, cn);
}

async function createOrtNearestSearch(engine: EngineSelection, dim: number, blockRows: number): Promise<NearestSearch> {
  const topkRunners = new Map<number, OrtRunner>();
  let matrixRunner: OrtRunner | undefined;
  const topkRunner = async (k: number): Promise<OrtRunner> => {
    let r = topkRunners.get(k);
    if (!r) {
      const g = new OnnxGraphBuilder(`nearest-k${k}`);
      const q = g.input('q', ['p', dim]);
      const { ct, cn } = memoryBankInputs(g, dim);
      const [values, indices] = lowerNearest(g, q, ct, cn, k);
      g.namedOutput(values, 'values', ['p', k]);
      g.namedOutput(indices, 'indices', ['p', k], 'int64');
      r = await createOrtRunner(engine, g.toBytes(), `nearest k=${k}`);
      topkRunners.set(k, r);
    }
    return r;
  };
  const feeds = (queries: Float32Array, start: number, rows: number, bank: MemoryBank) => ({
    q: { data: queries.subarray(start * dim, (start + rows) * dim), dims: [rows, dim] },
    ...memoryBankFeeds(bank),
  });
  return {
    engine: 'ort',
    async nearest(queries, count, bank, k) {
      checkArgs(queries, count, dim, bank, k);
      const runner = await topkRunner(k);
      const distances = new Float32Array(count * k);
      const indices = new Int32Array(count * k);
      await forBlocks(count, blockRows, async (start, rows) => {
        const out = await runner.run(feeds(queries, start, rows, bank));
        distances.set(out.values.data as Float32Array, start * k);
        const idx = out.indices.data as BigInt64Array;
        for (let i = 0; i < idx.length; i++) indices[start * k + i] = Number(idx[i]);
      });
      return { distances, indices };
    },
    async distanceMatrix(queries, count, bank) {
      checkArgs(queries, count, dim, bank);
      if (!matrixRunner) {
        const g = new OnnxGraphBuilder('distance-matrix');
        g.namedOutput(distanceGraph(g, dim), 'd', ['p', 'm']);
        matrixRunner = await createOrtRunner(engine, g.toBytes(), 'distance matrix');
      }
      const runner = matrixRunner;
      const out = new Float32Array(count * bank.size);
      await forBlocks(count, blockRows, async (start, rows) => {
        out.set((await runner.run(feeds(queries, start, rows, bank))).d.data as Float32Array, start * bank.size);
      });
      return out;
    },
    async release() {
      for (const r of topkRunners.values()) await r.release();
      await matrixRunner?.release();
    },
  };
}

/** TensorFlow.js distances for one block: [rows, M]. Caller disposes. */
function tfDistances(
  queries: Float32Array,
  start: number,
  rows: number,
  dim: number,
  bank: MemoryBank,
  ct: tf.Tensor2D,
  cn: tf.Tensor1D,
): tf.Tensor2D {
  return tf.tidy(() => {
    const q = tf.tensor2d(queries.subarray(start * dim, (start + rows) * dim), [rows, dim]);
    const qn = tf.sum(tf.square(q), 1, true);
    return tf.sub(tf.add(qn, cn), tf.mul(tf.matMul(q, ct), 2)) as tf.Tensor2D;
  });
}

function createTfNearestSearch(dim: number, blockRows: number): NearestSearch {
  const bankTensors = new WeakMap<MemoryBank, { ct: tf.Tensor2D; cn: tf.Tensor1D }>();
  const held: { ct: tf.Tensor2D; cn: tf.Tensor1D }[] = [];
  const tensorsOf = (bank: MemoryBank) => {
    let t = bankTensors.get(bank);
    if (!t) {
      t = { ct: tf.tensor2d(bank.transposed, [dim, bank.size]), cn: tf.tensor1d(bank.squaredNorms) };
      bankTensors.set(bank, t);
      held.push(t);
    }
    return t;
  };
  return {
    engine: 'tfjs',
    async nearest(queries, count, bank, k) {
      checkArgs(queries, count, dim, bank, k);
      const { ct, cn } = tensorsOf(bank);
      const distances = new Float32Array(count * k);
      const indices = new Int32Array(count * k);
      await forBlocks(count, blockRows, async (start, rows) => {
        const [values, idx] = tf.tidy(() => {
          const top = tf.topk(tf.neg(tfDistances(queries, start, rows, dim, bank, ct, cn)), k, true);
          return [tf.neg(top.values), top.indices];
        });
        distances.set((await values.data()) as Float32Array, start * k);
        indices.set((await idx.data()) as Int32Array, start * k);
        tf.dispose([values, idx]);
      });
      return { distances, indices };
    },
    async distanceMatrix(queries, count, bank) {
      checkArgs(queries, count, dim, bank);
      const { ct, cn } = tensorsOf(bank);
      const out = new Float32Array(count * bank.size);
      await forBlocks(count, blockRows, async (start, rows) => {
        const d = tfDistances(queries, start, rows, dim, bank, ct, cn);
        out.set((await d.data()) as Float32Array, start * bank.size);
        d.dispose();
      });
      return out;
    },
    async release() {
      for (const t of held.splice(0)) tf.dispose([t.ct, t.cn]);
    },
  };
}

export async function createNearestSearch(options: NearestSearchOptions): Promise<NearestSearch> {
  const blockRows = options.blockRows ?? DEFAULT_BLOCK_ROWS;
  return options.engine.name === 'ort'
    ? createOrtNearestSearch(options.engine, options.dim, blockRows)
    : createTfNearestSearch(options.dim, blockRows);
}
