/**
 * What FYD's image-level coarse alignment does to a category's train images, as one picture: the
 * first `--count` train images as viewed (top row) and after the fitted image transformer (bottom
 * row). Fits only that stage (`fitImageAlignment`: no backbone, nothing else trained) at the
 * reduced ablation's view (128 → 112), on the embedded default. docs/methods/fyd.md shows bolt's
 * and washer's.
 *
 * It also measures the alignment against the generator's own poses (`syntheticNormalPose`) over
 * every train image: how concentrated the objects' turns are before and after (mean resultant
 * length of k times the angle: R₁ for the direction, R₂ for the axis, R₄ up to a quarter turn as
 * for a four-tab washer — 1: all alike, about 0.14 on average for 40 uniform draws) and how far
 * the object centres scatter (RMS distance to their mean, in % of the side).
 *
 *   npx tsx tools/pictures/fyd-alignment.ts --category bolt --out docs/pictures/fyd-bolt-alignment.png
 */
import { writeFile } from 'node:fs/promises';
import { parseArgs } from 'node:util';
import {
  denormalizeToRgb8,
  encodePng,
  ensureSyntheticDataset,
  indexCategory,
  loadSamples,
  SyntheticConfigSchema,
  syntheticNormalPose,
  viewPlacement,
  ViewSchema,
} from '@cfa/data';
import { spatialTransform } from '@cfa/descriptor';
import { FydConfigSchema, fitImageAlignment, poseBounds } from '@cfa/fyd';
import { invertAffine } from '@cfa/tensor-runtime';

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
// The generator's poses (read before the fit: a texture has none), in the view's normalised
// coordinates (x right, y down, −1..1 across the crop)
const generated = SyntheticConfigSchema.parse({}).imageSize;
const truth = train.map((_, index) => {
  const p = syntheticNormalPose({ category, split: 'train', index });
  if (!p) throw new Error(`${category} is a texture: its images have no pose`);
  const at = viewPlacement(view, `train/${index}`);
  const toView = (c: number, resized: number, offset: number) => ((c * resized) / generated - offset) / at.size;
  return {
    angle: p.angle,
    x: 2 * toView(p.cx, at.resizeWidth, at.left) - 1,
    y: 2 * toView(p.cy, at.resizeHeight, at.top) - 1,
  };
});
const { params: stn, history } = fitImageAlignment(
  train.map((s) => s.image),
  size,
  { config },
);
const bounds = poseBounds(config, 'image');
const aligned = train.map((s) => spatialTransform({ x: s.image, shape: [1, size, size, 3], params: stn, bounds }));
const poses = aligned.map((a) => a.pose);
/** Mean resultant length of k·angle: k = 1 the direction, 2 the axis, 4 up to a quarter turn. */
const resultant = (angles: number[], k: number) =>
  Math.hypot(
    angles.reduce((s, a) => s + Math.cos(k * a), 0),
    angles.reduce((s, a) => s + Math.sin(k * a), 0),
  ) / angles.length;
/** RMS distance of points to their mean, in % of the side (normalised units span 2). */
const scatter = (points: [number, number][]) => {
  const [mx, my] = [0, 1].map((k) => points.reduce((s, p) => s + p[k], 0) / points.length);
  return 50 * Math.sqrt(points.reduce((s, [x, y]) => s + (x - mx) ** 2 + (y - my) ** 2, 0) / points.length);
};
// θ maps an output point to where it samples the input: an object at angle α shows at α − φ, its
// centre c at θ⁻¹ c
const afterAngles = truth.map((t, i) => t.angle - (bounds.rotation ? poses[i].raw[0] : 0));
const afterCentres = truth.map((t, i): [number, number] => {
  const inv = invertAffine(poses[i].theta, 1);
  return [inv[0] * t.x + inv[1] * t.y + inv[2], inv[3] * t.x + inv[4] * t.y + inv[5]];
});
const count = Math.min(Number(values.count), train.length);
const shown = train.slice(0, count).map((s) => s.image);
const cols = shown.length;
const width = cols * size;
const pixels = new Uint8Array(width * 2 * size * 3);
[...shown, ...aligned.slice(0, count).map((a) => a.y)].forEach((image, k) => {
  const rgb = denormalizeToRgb8(image, size, size);
  const top = Math.floor(k / cols) * size;
  const left = (k % cols) * size;
  for (let y = 0; y < size; y++)
    pixels.set(rgb.subarray(y * size * 3, (y + 1) * size * 3), ((top + y) * width + left) * 3);
});
await writeFile(values.out!, await encodePng({ data: pixels, width, height: 2 * size, channels: 3 }));
const first = history[0]?.loss ?? Number.NaN;
const last = history.at(-1)?.loss ?? Number.NaN;
const turns = poses.slice(0, count).map((pose) => ((pose.raw[0] * 180) / Math.PI).toFixed(0));
console.log(`${category}: pairwise image loss ${first.toFixed(4)} → ${last.toFixed(4)} over ${history.length} epochs`);
console.log(`turn of each shown image (degrees): ${turns.join(' ')}`);
const before = truth.map((t) => t.angle);
console.log(
  `${train.length} train images against the generator's poses — ${[1, 2, 4].map((k) => `R${'₀₁₂₃₄'[k]} ${resultant(before, k).toFixed(2)} → ${resultant(afterAngles, k).toFixed(2)}`).join(', ')}, centre scatter ${scatter(truth.map((t) => [t.x, t.y])).toFixed(1)} % → ${scatter(afterCentres).toFixed(1)} % of the side`,
);
console.log(`wrote ${values.out}`);
