import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { MetricUndefinedError } from './errors';
import { pixelProReference, rescaleFloat32 } from './pro-reference';
import { naivePartition } from './testing/naive-partition';
import { decodeSafetensorsForTests } from './testing/read-safetensors';
import { randomInt, seededRandom } from './testing/seeded-random';

/**
 * Reference straight from `pro_auc_pxl`'s loop: for each of the `steps` thresholds (float32, as
 * NumPy computes them from float32 maps) compare every pixel, average the regions' fractions, count
 * false positives; keep FPR ≤ limit; min-max rescale both axes; trapezoid.
 */
function naiveProReference(
  maps: Float32Array,
  masks: ArrayLike<number>,
  count: number,
  height: number,
  width: number,
  steps = 200,
  fprLimit = 0.3,
): number {
  const f = Math.fround;
  const pixels = height * width;
  const regions: number[][] = [];
  for (let n = 0; n < count; n++) {
    const label = naivePartition(Array.from(masks).slice(n * pixels, (n + 1) * pixels), height, width, 8);
    for (const id of new Set(label.filter((v) => v)))
      regions.push(label.flatMap((v, i) => (v === id ? [n * pixels + i] : [])));
  }
  const max = Math.max(...maps);
  const min = Math.min(...maps);
  const delta = f(f(max - min) / steps);
  const fprs: number[] = [];
  const pros: number[] = [];
  const normals = Array.from(masks).filter((m) => m === 0).length;
  for (let s = 0; s < steps; s++) {
    const t = f(max - f(s * delta));
    const on = (i: number) => maps[i] > t;
    const fpr = Array.from(masks).filter((m, i) => m === 0 && on(i)).length / normals;
    const pro = regions.reduce((sum, r) => sum + r.filter(on).length / r.length, 0) / regions.length;
    if (fpr <= fprLimit) {
      fprs.push(fpr);
      pros.push(pro);
    }
  }
  const scale = (v: number[]) => v.map((x) => (x - Math.min(...v)) / (Math.max(...v) - Math.min(...v)));
  // sklearn's auc needs two points; a constant axis rescales to NaN
  if (fprs.length < 2) return NaN;
  const x = scale(fprs);
  const y = scale(pros);
  let area = 0;
  for (let i = 1; i < x.length; i++) area += ((x[i] - x[i - 1]) * (y[i] + y[i - 1])) / 2;
  return area;
}

describe('pixelProReference', () => {
  // 1×4: region = pixels 0–1 (.8, .5), normals .5 and .1. steps 4: Δ = .175, thresholds .8, .625,
  // .45, .275 → (FPR, PRO) = (0, 0), (0, ½), (½, 1), (½, 1).
  const maps = Float32Array.of(0.8, 0.5, 0.5, 0.1);
  const masks = Uint8Array.of(1, 1, 0, 0);
  const shape = { count: 1, height: 1, width: 4 };

  it('hand-worked: limit .5 keeps all four points; rescaled x 0,0,1,1 and y 0,½,1,1 → area ¾', () => {
    expect(pixelProReference({ maps, masks, ...shape, steps: 4, fprLimit: 0.5 })).toBeCloseTo(0.75, 14);
  });

  it('the rescaling makes it differ from an area: limit 1 gives the same ¾ (MVTec AUPRO would not)', () => {
    expect(pixelProReference({ maps, masks, ...shape, steps: 4, fprLimit: 1 })).toBeCloseTo(0.75, 14);
  });

  it('a kept curve at one FPR has no value: limit .3 keeps (0, 0), (0, ½) only → MetricUndefinedError', () => {
    expect(() => pixelProReference({ maps, masks, ...shape, steps: 4, fprLimit: 0.3 })).toThrow(MetricUndefinedError);
  });

  it('the maximum is never "on" (score > max is false) and the minimum never reached (s < steps)', () => {
    // region pixel at the minimum: never on, so PRO stays at ½ of the region {.9, .1}
    const m = Float32Array.of(0.9, 0.1, 0.5, 0.3);
    const area = pixelProReference({ maps: m, masks: Uint8Array.of(1, 1, 0, 0), ...shape, steps: 4, fprLimit: 1 });
    expect(area).toBeCloseTo(naiveProReference(m, [1, 1, 0, 0], 1, 1, 4, 4, 1), 14);
  });

  it('no region, or no normal pixel → MetricUndefinedError naming the metric', () => {
    expect(() => pixelProReference({ maps, masks: Uint8Array.of(0, 0, 0, 0), ...shape })).toThrow(
      /P-PRO \(ref\).*no region/,
    );
    expect(() => pixelProReference({ maps, masks: Uint8Array.of(1, 1, 1, 1), ...shape })).toThrow(/normal pixels/);
  });

  it('equals the brute-force loop on 40 random stacks (8-connected regions, ties, several images)', () => {
    const random = seededRandom(17);
    for (let trial = 0; trial < 40; trial++) {
      const count = 1 + randomInt(random, 3);
      const height = 2 + randomInt(random, 6);
      const width = 2 + randomInt(random, 6);
      const n = count * height * width;
      // coarse values make ties and exact threshold hits likely
      const levels = 2 + randomInt(random, 12);
      const m = Float32Array.from({ length: n }, () => randomInt(random, levels) / levels);
      const k = Uint8Array.from({ length: n }, () => (random() < 0.3 ? 1 : 0));
      k[0] = 1;
      k[n - 1] = 0;
      const steps = 2 + randomInt(random, 30);
      let expected: number;
      try {
        expected = naiveProReference(m, k, count, height, width, steps, 0.3);
      } catch {
        continue;
      }
      const call = () => pixelProReference({ maps: m, masks: k, count, height, width, steps });
      if (!Number.isFinite(expected)) expect(call).toThrow(MetricUndefinedError);
      else expect(call(), `trial ${trial}`).toBeCloseTo(expected, 12);
    }
  });

  it('equals the CFA reference code’s pro_auc_pxl on its own fixtures (raw and min-max rescaled maps)', () => {
    const path = new URL('./__fixtures__/pro-reference.official.safetensors', import.meta.url);
    const { tensors, metadata } = decodeSafetensorsForTests(readFileSync(path));
    const cases = JSON.parse(metadata.cases) as { case: number; pro: number; proOfRescaled: number }[];
    expect(cases.length).toBe(4);
    for (const c of cases) {
      const mapsT = tensors.get(`case${c.case}.scores`)!;
      const [count, height, width] = mapsT.shape;
      const masksT = tensors.get(`case${c.case}.masks`)!;
      const input = { maps: mapsT.data, masks: masksT.data, count, height, width };
      expect(pixelProReference(input), `case ${c.case}`).toBeCloseTo(c.pro, 9);
      expect(pixelProReference({ ...input, maps: rescaleFloat32(input.maps) }), `case ${c.case} rescaled`).toBeCloseTo(
        c.proOfRescaled,
        9,
      );
    }
  });
});

describe('rescaleFloat32', () => {
  it('maps the minimum to 0 and the maximum to 1, in float32', () => {
    expect(Array.from(rescaleFloat32([2, 4, 3]))).toEqual([0, 1, 0.5]);
    expect(rescaleFloat32(Float32Array.of(0.1, 0.7))[1]).toBe(1);
  });
});
