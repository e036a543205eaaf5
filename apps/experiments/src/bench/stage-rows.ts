/**
 * The stage kernels' rows, timed through their packages' public runners as the PyTorch reference
 * times its modules: the descriptor's forward and weight gradient on one batch of pyramids, and
 * the stand-alone nearest-centre search (distance + top-6) on its φ against HW/γc random centres.
 * These are the parts that the method rows (bench-rows.ts) time together; the cfa package has no
 * API for a stage alone, so these rows use the stages' own.
 */
import { createRng, type EngineSelection } from '@cfa/tensor-runtime';
import {
  createCoordConvParams,
  createDescriptorGradient,
  createDescriptorRunner,
  type EmbeddingLevel,
} from '@cfa/descriptor';
import { createMemoryBank, createNearestSearch } from '@cfa/memory-bank';
import { type BenchRow, median } from './timing';

export interface StageRowsOptions {
  engine: EngineSelection;
  /** One batch of embedding pyramids (4 in the table). */
  pyramids: Float32Array[];
  levels: EmbeddingLevel[];
  /** φ outputs = outMultiplier · D (the backbone's embedding setting). */
  outMultiplier: number;
  gammas: readonly number[];
}

export async function stageRows({
  engine,
  pyramids,
  levels,
  outMultiplier,
  gammas,
}: StageRowsOptions): Promise<BenchRow[]> {
  const rows: BenchRow[] = [];
  const batch = pyramids.length;
  const { height, width } = levels[0];
  const hw = height * width;
  const inChannels = levels.reduce((n, l) => n + l.channels, 0);
  const params = createCoordConvParams({ inChannels, gammaD: 1, seed: 0, outMultiplier });
  const descriptor = await createDescriptorRunner({ engine, height, width, params, levels });
  const gradient = await createDescriptorGradient({ engine, height, width, params, levels });
  const forward = async () => {
    const phi = new Float32Array(batch * hw * params.outChannels);
    for (const [b, p] of pyramids.entries())
      phi.set(await descriptor.forwardPyramid(p, params), b * hw * params.outChannels);
    return phi;
  };
  // ∂loss/∂φ stands in as φ itself: the products are the same size (the reference backpropagates sum(φ))
  rows.push({
    key: 'descriptor_ms',
    label: 'descriptor forward+backward',
    unit: 'ms/img',
    value: (await median(async () => gradient.computePyramids(pyramids, await forward()))) / batch,
  });
  const phi = await forward();
  await Promise.all([descriptor.release(), gradient.release()]);
  const search = await createNearestSearch({ engine, dim: params.outChannels });
  const rng = createRng(1);
  for (const g of gammas) {
    const m = Math.floor(hw / g);
    const bank = createMemoryBank(
      Float32Array.from({ length: m * params.outChannels }, () => rng.normal()),
      m,
      params.outChannels,
    );
    rows.push({
      key: `distance_ms_g${g}`,
      label: `distance + top-k, γc=${g}`,
      unit: 'ms/img',
      value: (await median(() => search.nearest(phi, batch * hw, bank, 6))) / batch,
    });
  }
  await search.release();
  return rows;
}
