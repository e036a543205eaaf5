/**
 * Writes what our seed draws in a default CFA fit, for `official_spread.py --draws`: per seed the
 * descriptor's initial CoordConv parameters (`createCoordConvParams`, the default init, in torch's
 * [out, in, 1, 1] layout) and each epoch's image order (`epochOrders`), so that the reference code
 * can be run from exactly our draws (issue #26: is our spread the draws' or the code's?).
 *
 *   npx tsx tools/torch-reference/our-seed-draws.ts <out.safetensors> <seeds: 0-29 or 0,1,2> <train images> <epochs> [channels=448]
 */
import { writeFile } from 'node:fs/promises';
import { encodeSafetensors, type StateDict } from '@cfa/backbone';
import { CfaConfigSchema, epochOrders } from '@cfa/cfa';
import { coordConvWeightToTorch, createCoordConvParams } from '@cfa/descriptor';

const [out, seedArg, nArg, epochsArg, channelsArg] = process.argv.slice(2);
if (!out || !seedArg || !nArg || !epochsArg)
  throw new Error(
    'usage: our-seed-draws.ts <out.safetensors> <seeds: 0-29 or 0,1,2> <train images> <epochs> [channels]',
  );
const range = /^(\d+)-(\d+)$/.exec(seedArg);
const seeds = range
  ? Array.from({ length: Number(range[2]) - Number(range[1]) + 1 }, (_, i) => Number(range[1]) + i)
  : seedArg.split(',').map(Number);
const n = Number(nArg);
const epochs = Number(epochsArg);
const inChannels = Number(channelsArg ?? 448);
const config = CfaConfigSchema.parse({});
const tensors: StateDict = new Map();
for (const seed of seeds) {
  const params = createCoordConvParams({
    inChannels,
    gammaD: config.descriptor.gammaD,
    withRadius: config.descriptor.withRadius,
    init: config.descriptor.init,
    seed,
  });
  const din = params.inChannels + params.coordChannels;
  tensors.set(`${seed}.weight`, { shape: [params.outChannels, din, 1, 1], data: coordConvWeightToTorch(params) });
  tensors.set(`${seed}.bias`, { shape: [params.outChannels], data: params.bias });
  const next = epochOrders(n, config.training, seed);
  // image indices as float32 (exact below 2^24; the writer has no integer dtype)
  tensors.set(`${seed}.orders`, {
    shape: [epochs, n],
    data: Float32Array.from(Array.from({ length: epochs }, next).flat()),
  });
}
await writeFile(
  out,
  encodeSafetensors(tensors, { metadata: { generator: 'our-seed-draws.ts', seeds: seeds.join(',') } }),
);
process.stdout.write(
  `wrote ${out}: ${seeds.length} seeds, ${inChannels}+2 → ${inChannels}, ${epochs} epoch orders of ${n}\n`,
);
