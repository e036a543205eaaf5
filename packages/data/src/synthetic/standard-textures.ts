/**
 * The standard set's five textures, in the spirit of MVTec AD's (carpet, grid, leather, tile,
 * wood) with names of our own: a fleece of short fibres, a woven wire lattice (grayscale), a
 * grained suede, a speckled granite and a ring-grained oak. Each normal image varies in phase,
 * orientation, tone and lighting, so a model must learn the texture's statistics rather than one
 * picture; the defects (`subtle-defects.ts`) are faint, small or thin.
 */
import type { Rng } from '@cfa/tensor-runtime';
import { createCanvas, paint } from './canvas';
import type { NormalImage, SyntheticCategory } from './category-types';
import { createCellular, createNoise, fractal, hypot } from './noise';
import { strokePolyline, wanderingPath } from './strokes';
import { subtleDefective } from './subtle-defects';

type Rgb = [number, number, number];

const whole = (size: number) => new Uint8Array(size * size).fill(1);
const shadeOf = (colour: Rgb, k: number): Rgb => [colour[0] * k, colour[1] * k, colour[2] * k];

function texture(
  definition: Omit<SyntheticCategory, 'kind' | 'defective' | 'render'> & {
    render(rng: Rng, size: number): NormalImage;
  },
): SyntheticCategory {
  const category: SyntheticCategory = {
    ...definition,
    kind: 'texture',
    render: (rng, size) => definition.render(rng, size),
    defective: (rng, size, defect) => subtleDefective(category, rng, size, defect),
  };
  return category;
}

/** Carpet-like: thousands of short fibres, mostly along one direction that changes per image. */
const fleece = texture({
  name: 'fleece',
  description: 'short-fibre fleece (fibres; like carpet)',
  grayscale: false,
  defects: ['thread', 'spot', 'colour', 'crack'],
  render(rng, size) {
    const canvas = createCanvas(size);
    const s = size / 256;
    const tone = rng.uniform(0.93, 1.07);
    const base: Rgb = [0.5 * tone, 0.17 * tone, 0.21 * tone];
    const light = createNoise(rng.fork('light'));
    const shade = (x: number, y: number) => 0.85 + 0.3 * fractal(light, x / (90 * s), y / (90 * s), 3);
    paint(canvas, (x, y) => shadeOf(base, 0.5 * shade(x, y)));
    const flow = rng.uniform(0, Math.PI);
    const count = Math.round((size * size) / 26);
    const { rgb } = canvas;
    for (let f = 0; f < count; f++) {
      const path = wanderingPath(rng, {
        start: [rng.uniform(-4, size + 4), rng.uniform(-4, size + 4)],
        heading: flow + 0.6 * rng.normal(),
        segments: 3,
        step: rng.uniform(2.5, 4.5) * s,
        turn: 0.5,
      });
      const brightness = rng.uniform(0.7, 1.3);
      strokePolyline(size, path, Math.max(1, rng.uniform(1.1, 1.9) * s), (i) => {
        const k = brightness * shade(i % size, Math.floor(i / size));
        rgb[i * 3] = base[0] * k;
        rgb[i * 3 + 1] = base[1] * k;
        rgb[i * 3 + 2] = base[2] * k;
      });
    }
    return { canvas, region: whole(size), background: () => [0.1, 0.04, 0.05] };
  },
});

/** Grid-like, grayscale: a woven wire mesh over a dark ground, turned and shifted a little per image. */
const lattice = texture({
  name: 'lattice',
  description: 'woven wire lattice, grayscale (woven; like grid)',
  grayscale: true,
  defects: ['crack', 'spot', 'colour', 'thread'],
  render(rng, size) {
    const canvas = createCanvas(size);
    const angle = rng.uniform(-0.06, 0.06);
    const period = (size / 15) * rng.uniform(0.97, 1.03);
    const ox = rng.uniform(0, period),
      oy = rng.uniform(0, period);
    const half = 0.17; // half the wire width, in periods
    const grain = createNoise(rng.fork('grain'));
    const dirt = createNoise(rng.fork('dirt'));
    const level = rng.uniform(0.92, 1.08);
    const c = Math.cos(angle),
      s = Math.sin(angle);
    paint(canvas, (x, y) => {
      const u = (c * x + s * y + ox) / period,
        v = (-s * x + c * y + oy) / period;
      const iu = Math.floor(u),
        iv = Math.floor(v);
      const fu = u - iu - 0.5,
        fv = v - iv - 0.5;
      const onH = Math.abs(fv) < half,
        onV = Math.abs(fu) < half;
      const hOver = ((iu + iv) & 1) === 0;
      let value: number;
      if (!onH && !onV) {
        value = 0.08 + 0.08 * fractal(dirt, x / 12, y / 12, 2);
      } else {
        const horizontal = onH && (!onV || hOver);
        const d = horizontal ? fv : fu;
        const along = horizontal ? fu : fv;
        const profile = Math.sqrt(Math.max(0, 1 - (d / half) ** 2));
        // the wire dips under its neighbour next to a crossing it does not cover
        const under = horizontal !== hOver && Math.abs(along) < half + 0.12 ? 0.7 : 1;
        value = (0.3 + 0.45 * profile) * under * level;
      }
      value += 0.05 * (grain(x / 1.5, y / 1.5) - 0.5);
      return [value, value, value];
    });
    return { canvas, region: whole(size), background: () => [0.08, 0.08, 0.08] };
  },
});

/** Leather-like: a grain of small cells with soft creases between them. */
const suede = texture({
  name: 'suede',
  description: 'grained suede (grain; like leather)',
  grayscale: false,
  defects: ['scratch', 'spot', 'colour', 'crack'],
  render(rng, size) {
    const canvas = createCanvas(size);
    const s = size / 256;
    const tone = rng.uniform(0.94, 1.06);
    const base: Rgb = [0.55 * tone, 0.38 * tone, 0.25 * tone];
    const cells = createCellular(rng.fork('cells'));
    const fine = createNoise(rng.fork('fine'));
    const light = createNoise(rng.fork('light'));
    const cell = 9 * s * rng.uniform(0.95, 1.05);
    const ox = rng.uniform(0, 100),
      oy = rng.uniform(0, 100);
    paint(canvas, (x, y) => {
      const { f1, f2 } = cells(x / cell + ox, y / cell + oy);
      const crease = 1 - Math.exp(-((f2 - f1) ** 2) / 0.03);
      const k =
        0.78 +
        0.17 * crease +
        0.08 * (fine(x / 1.3, y / 1.3) - 0.5) +
        0.12 * (fractal(light, x / (80 * s), y / (80 * s), 2) - 0.5);
      return shadeOf(base, k);
    });
    return { canvas, region: whole(size), background: () => [0.08, 0.05, 0.03] };
  },
});

/** Tile-like stone: grains of four minerals at two scales. */
const granite = texture({
  name: 'granite',
  description: 'speckled granite (stone; like tile)',
  grayscale: false,
  defects: ['crack', 'spot', 'colour', 'scratch'],
  render(rng, size) {
    const canvas = createCanvas(size);
    const s = size / 256;
    const minerals: Rgb[] = [
      [0.76, 0.74, 0.72],
      [0.56, 0.54, 0.53],
      [0.24, 0.24, 0.25],
      [0.74, 0.58, 0.52],
    ];
    const mineral = (id: number) => minerals[id < 0.42 ? 0 : id < 0.74 ? 1 : id < 0.91 ? 2 : 3];
    const coarse = createCellular(rng.fork('coarse'));
    const fine = createCellular(rng.fork('fine'));
    const light = createNoise(rng.fork('light'));
    const ox = rng.uniform(0, 100),
      oy = rng.uniform(0, 100);
    const tone = rng.uniform(0.95, 1.05);
    paint(canvas, (x, y) => {
      const a = coarse(x / (11 * s) + ox, y / (11 * s) + oy);
      const b = fine(x / (4 * s) + ox, y / (4 * s) + oy);
      const ca = mineral(a.id),
        cb = mineral(b.id);
      const edge = 0.92 + 0.08 * Math.min(1, (a.f2 - a.f1) / 0.15);
      const k = tone * edge * (0.92 + 0.16 * fractal(light, x / (70 * s), y / (70 * s), 2));
      return [(0.55 * ca[0] + 0.45 * cb[0]) * k, (0.55 * ca[1] + 0.45 * cb[1]) * k, (0.55 * ca[2] + 0.45 * cb[2]) * k];
    });
    return { canvas, region: whole(size), background: () => [0.1, 0.1, 0.1] };
  },
});

/** Wood: growth rings around a centre off the image, warped by noise, with a fine grain along them. */
const oak = texture({
  name: 'oak',
  description: 'ring-grained oak (noise-based; like wood)',
  grayscale: false,
  defects: ['scratch', 'spot', 'colour', 'crack'],
  render(rng, size) {
    const canvas = createCanvas(size);
    const s = size / 256;
    const cx = -size * rng.uniform(0.8, 1.6),
      cy = size * rng.uniform(-0.4, 1.4);
    const period = 17 * s * rng.uniform(0.9, 1.1);
    const warp = createNoise(rng.fork('warp'));
    const grain = createNoise(rng.fork('grain'));
    const tone = rng.uniform(0.94, 1.06);
    const early: Rgb = [0.8 * tone, 0.62 * tone, 0.42 * tone];
    const late: Rgb = [0.6 * tone, 0.42 * tone, 0.27 * tone];
    paint(canvas, (x, y) => {
      const r = hypot(x - cx, y - cy) + 26 * s * fractal(warp, x / (70 * s), y / (70 * s), 3);
      const ring = r / period - Math.floor(r / period);
      const t = ring < 0.7 ? ring / 0.7 : (1 - ring) / 0.3; // 0 = late wood, 1 = early wood
      const g = 0.07 * (grain(x / 1.2, y / (24 * s)) - 0.5);
      return [
        late[0] + (early[0] - late[0]) * t + g,
        late[1] + (early[1] - late[1]) * t + g,
        late[2] + (early[2] - late[2]) * t + g,
      ];
    });
    return { canvas, region: whole(size), background: () => [0.12, 0.08, 0.05] };
  },
});

export const STANDARD_TEXTURES: SyntheticCategory[] = [fleece, lattice, suede, granite, oak];
