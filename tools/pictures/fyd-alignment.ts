/**
 * What FYD's image-level coarse alignment does to a category's train images, as one picture: the
 * first `--count` train images as viewed (top row) and after the fitted image transformer (bottom
 * row). Fits only that stage (`alignment: image`, no training of the rest) at the reduced
 * ablation's view (128 → 112), on the embedded default. docs/methods/fyd.md shows bolt's.
 *
 *   npx tsx tools/pictures/fyd-alignment.ts --category bolt --out docs/pictures/fyd-bolt-alignment.png
 */
import { writeFile } from 'node:fs/promises';
import { parseArgs } from 'node:util';
import { loadBackbone } from '@cfa/backbone';
import {
  denormalizeToRgb8,
  encodePng,
  ensureSyntheticDataset,
  indexCategory,
  loadSamples,
  ViewSchema,
} from '@cfa/data';
import { spatialTransform } from '@cfa/descriptor';
import { FydConfigSchema, fitFyd, poseBounds } from '@cfa/fyd';
import { memoryEmbeddingSet } from '@cfa/method-kit';
import { selectEngine } from '@cfa/tensor-runtime';

const { values } = parseArgs({
  options: {
    category: { type: 'string', default: 'bolt' },
    epochs: { type: 'string', default: '60' },
    'loss-size': { type: 'string', default: '32' },
    count: { type: 'string', default: '10' },
    seed: { type: 'string', default: '0' },
    out: { type: 'string', default: 'runs/fyd-alignment.png' },
  },
});
const root = 'data/synthetic';
const category = values.category!;
await ensureSyntheticDataset({ root, categories: [category] });
const view = ViewSchema.parse({ kind: 'center-crop', resize: 128, crop: 112 });
const train = await loadSamples((await indexCategory({ root, category })).train, view);
const size = train[0].width;
const config = FydConfigSchema.parse({
  alignment: 'image',
  view,
  seed: Number(values.seed),
  imageAlignment: { epochs: Number(values.epochs), lossSize: Number(values['loss-size']) },
  training: { epochs: 0 },
});
const model = await fitFyd({
  config,
  engine: await selectEngine({ requested: 'ort' }),
  backbone: await loadBackbone({ name: 'resnet18', taps: 'torchvision', seed: config.seed }),
  train: memoryEmbeddingSet(
    train.map((_, i) => `train/${i}`),
    train.map((s) => s.image),
    [{ height: size, width: size, channels: 3 }],
  ),
});
const bounds = poseBounds(config, 'image');
const shown = train.slice(0, Number(values.count)).map((s) => s.image);
const aligned = shown.map((x) => spatialTransform({ x, shape: [1, size, size, 3], params: model.imageStn!, bounds }));
const cols = shown.length;
const width = cols * size;
const pixels = new Uint8Array(width * 2 * size * 3);
[...shown, ...aligned.map((a) => a.y)].forEach((image, k) => {
  const rgb = denormalizeToRgb8(image, size, size);
  const top = Math.floor(k / cols) * size;
  const left = (k % cols) * size;
  for (let y = 0; y < size; y++)
    pixels.set(rgb.subarray(y * size * 3, (y + 1) * size * 3), ((top + y) * width + left) * 3);
});
await writeFile(values.out!, await encodePng({ data: pixels, width, height: 2 * size, channels: 3 }));
const first = model.imageHistory[0]?.loss ?? Number.NaN;
const last = model.imageHistory.at(-1)?.loss ?? Number.NaN;
const turns = aligned.map((a) => ((a.pose.raw[0] * 180) / Math.PI).toFixed(0));
console.log(
  `${category}: pairwise image loss ${first.toFixed(4)} → ${last.toFixed(4)} over ${model.imageHistory.length} epochs`,
);
console.log(`turn of each shown image (degrees): ${turns.join(' ')}`);
console.log(`wrote ${values.out}`);
