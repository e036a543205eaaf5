/**
 * The standard set's ten objects, in the spirit of MVTec AD's (bottle, cable, capsule, hazelnut,
 * metal nut, pill, screw, toothbrush, transistor, zipper) with names of our own. Each object is
 * drawn in its own frame (`pose.ts`) with natural pose jitter — a few pixels and degrees for
 * objects placed by a feeder, any angle for the bolt, the chestnut and the washer, which lie
 * loose — and the bolt and the fastener are grayscale. Every random choice of an image is made
 * before drawing, so leaving a part out (`RenderOptions.omit`, the "missing" defect) changes
 * nothing else.
 */
import type { Rng } from '@cfa/tensor-runtime';
import { createCanvas } from './canvas';
import type { DefectType, NormalImage, RenderOptions, SyntheticCategory } from './category-types';
import { createCellular, createNoise, fractal, hypot } from './noise';
import { type Pose, type PoseJitter, samplePose, toObjectFrame } from './pose';
import { subtleDefective } from './subtle-defects';

type Rgb = [number, number, number];

interface Look {
  pose: Pose;
  background(x: number, y: number): Rgb;
  /** The object's colour at frame point (u, v) (image pixel (x, y)), or undefined off the object. */
  body(u: number, v: number, x: number, y: number, omit: string | undefined): Rgb | undefined;
  parts?: string[];
}

interface ObjectDefinition {
  name: string;
  description: string;
  grayscale: boolean;
  defects: DefectType[];
  jitter: PoseJitter;
  /** Every random choice of one image; returns how to draw it. */
  look(rng: Rng, size: number, pose: Pose): Look;
}

const gray = (v: number): Rgb => [v, v, v];
const scale = (c: Rgb, k: number): Rgb => [c[0] * k, c[1] * k, c[2] * k];
const mix = (a: Rgb, b: Rgb, t: number): Rgb => [
  a[0] + (b[0] - a[0]) * t,
  a[1] + (b[1] - a[1]) * t,
  a[2] + (b[2] - a[2]) * t,
];

function objectCategory(definition: ObjectDefinition): SyntheticCategory {
  const poseOf = (rng: Rng, size: number): Pose => samplePose(rng.fork('pose'), size, definition.jitter);
  const render = (rng: Rng, size: number, options: RenderOptions = {}): NormalImage => {
    const pose = poseOf(rng, size);
    const look = definition.look(rng, size, pose);
    const canvas = createCanvas(size);
    const region = new Uint8Array(size * size);
    for (let y = 0; y < size; y++)
      for (let x = 0; x < size; x++) {
        const i = y * size + x;
        const [u, v] = toObjectFrame(pose, x + 0.5, y + 0.5);
        const body = look.body(u, v, x, y, options.omit);
        if (body) region[i] = 1;
        canvas.rgb.set(body ?? look.background(x, y), i * 3);
      }
    return { canvas, region, background: look.background, parts: look.parts };
  };
  const category: SyntheticCategory = {
    name: definition.name,
    kind: 'object',
    grayscale: definition.grayscale,
    description: definition.description,
    defects: definition.defects,
    render,
    pose: poseOf,
    defective: (rng, size, defect) => subtleDefective(category, rng, size, defect),
  };
  return category;
}

/** A background with fine grain and a slow light falloff. */
function surface(rng: Rng, size: number, colour: Rgb, grain: number): (x: number, y: number) => Rgb {
  const fine = createNoise(rng.fork('surface-fine'));
  const slow = createNoise(rng.fork('surface-slow'));
  const s = size / 256;
  return (x, y) => {
    const k = 1 + grain * (fine(x / (1.5 * s), y / (1.5 * s)) - 0.5) + 0.08 * (slow(x / (90 * s), y / (90 * s)) - 0.5);
    return scale(colour, k);
  };
}

/** Bottle-like, seen from above: a brown glass bottle's mouth, shoulder and rim on black. */
const vial = objectCategory({
  name: 'vial',
  description: 'glass vial from above (like bottle)',
  grayscale: false,
  defects: ['missing', 'spot', 'colour', 'scratch'],
  jitter: { shift: 0.012, rotation: Math.PI },
  look(rng, size, pose) {
    const glass: Rgb = scale([0.42, 0.3, 0.14], rng.uniform(0.93, 1.07));
    const texture = createNoise(rng.fork('glass'));
    const glint = rng.uniform(-0.15, 0.15) - 2.3; // light from the upper left, in image coordinates
    return {
      pose,
      background: surface(rng, size, [0.05, 0.05, 0.05], 0.4),
      body(u, v, x, y) {
        const r = hypot(u, v);
        if (r > 0.36) return undefined;
        const n = 0.06 * (texture(u * 120, v * 120) - 0.5);
        if (r > 0.33) return scale(glass, 1.45 + n);
        if (r < 0.1) return scale(glass, 0.18 + n);
        if (r < 0.14) return scale(glass, 1.5 + n);
        const a = Math.atan2(y + 0.5 - pose.cy, x + 0.5 - pose.cx);
        const highlight =
          0.55 * Math.exp(-((Math.cos(a - glint) - 1) ** 2) / 0.02) * Math.exp(-((r - 0.25) ** 2) / 0.002);
        return scale(glass, 0.55 + (0.6 * (r - 0.14)) / 0.19 + highlight + n);
      },
    };
  },
});

/** Cable-like: a cut cable's sheath with three coloured cores of copper strands. */
const cord = objectCategory({
  name: 'cord',
  description: 'cut three-core cord (like cable)',
  grayscale: false,
  defects: ['colour', 'spot', 'scratch', 'missing'],
  jitter: { shift: 0.01, rotation: 0.12 },
  look(rng, size, pose) {
    const sheath = createNoise(rng.fork('sheath'));
    const strands = createCellular(rng.fork('strands'));
    const insulation: Rgb[] = [
      [0.25, 0.55, 0.3],
      [0.2, 0.35, 0.7],
      [0.5, 0.32, 0.18],
    ];
    const cores = insulation.map((colour, k) => {
      const a = -Math.PI / 2 + (k * 2 * Math.PI) / 3;
      return { colour, u: 0.19 * Math.cos(a), v: 0.19 * Math.sin(a) };
    });
    return {
      pose,
      parts: ['core:0', 'core:1', 'core:2'],
      background: surface(rng, size, [0.8, 0.76, 0.68], 0.1),
      body(u, v, _x, _y, omit) {
        const r = hypot(u, v);
        if (r > 0.4) return undefined;
        for (const [k, core] of cores.entries()) {
          if (omit === `core:${k}`) continue;
          const d = hypot(u - core.u, v - core.v);
          if (d < 0.12) {
            const { f1, f2 } = strands(u * 90, v * 90);
            return scale([0.8, 0.52, 0.3], 0.7 + 0.4 * Math.min(1, (f2 - f1) * 3) - 0.2 * f1);
          }
          if (d < 0.145) return scale(core.colour, 0.85 + 0.3 * ((0.145 - d) / 0.025));
        }
        const k = r > 0.37 ? 1.25 : 1;
        return scale([0.28, 0.3, 0.34], k * (0.9 + 0.2 * sheath(u * 60, v * 60)));
      },
    };
  },
});

/** Three print marks of the gelcap, as 3×5 bitmaps (rows top to bottom). */
const GLYPHS = [
  ['111', '100', '111', '001', '111'],
  ['111', '001', '010', '010', '010'],
  ['010', '101', '111', '101', '101'],
];

/** Capsule-like: a two-tone capsule with a printed code on its light half. */
const gelcap = objectCategory({
  name: 'gelcap',
  description: 'two-tone printed gelcap (like capsule)',
  grayscale: false,
  defects: ['crack', 'spot', 'scratch', 'missing'],
  jitter: { shift: 0.012, rotation: 0.03 },
  look(rng, size, pose) {
    const dark: Rgb = scale([0.16, 0.15, 0.19], rng.uniform(0.95, 1.05));
    const light: Rgb = scale([0.92, 0.85, 0.68], rng.uniform(0.97, 1.03));
    const gloss = createNoise(rng.fork('gloss'));
    const half = 0.3,
      radius = 0.105;
    return {
      pose,
      parts: ['print:0', 'print:1', 'print:2'],
      background: surface(rng, size, [0.84, 0.84, 0.82], 0.08),
      body(u, v, _x, _y, omit) {
        const inside = (Math.abs(u) < half && Math.abs(v) < radius) || hypot(Math.abs(u) - half, v) < radius;
        if (!inside) return undefined;
        const shade =
          0.72 + 0.35 * Math.sqrt(Math.max(0, 1 - (v / radius) ** 2)) + 0.25 * Math.exp(-((v + 0.045) ** 2) / 0.0003);
        const n = 0.03 * (gloss(u * 150, v * 150) - 0.5);
        if (u < 0) return scale(dark, shade + n);
        // the code: three glyphs of 3×5 cells, 0.014 wide, centred on the light half
        const gx = Math.floor((u - 0.06) / 0.014),
          gy = Math.floor((v + 0.035) / 0.014);
        const glyph = Math.floor(gx / 4);
        if (gy >= 0 && gy < 5 && gx >= 0 && gx % 4 < 3 && glyph < 3 && omit !== `print:${glyph}`) {
          if (GLYPHS[glyph][gy][gx % 4] === '1') return scale([0.28, 0.22, 0.2], shade);
        }
        return scale(light, shade + n);
      },
    };
  },
});

/** Hazelnut-like: a striped brown nut with a pale base, lying at any angle. */
const chestnut = objectCategory({
  name: 'chestnut',
  description: 'chestnut at any angle (like hazelnut)',
  grayscale: false,
  defects: ['crack', 'spot', 'colour', 'missing'],
  jitter: { shift: 0.03, rotation: Math.PI, scale: 0.05 },
  look(rng, size, pose) {
    const shell: Rgb = scale([0.55, 0.33, 0.16], rng.uniform(0.92, 1.08));
    const stripes = createNoise(rng.fork('stripes'));
    const pores = createNoise(rng.fork('pores'));
    const c = Math.cos(pose.angle),
      s = Math.sin(pose.angle);
    return {
      pose,
      background: surface(rng, size, [0.06, 0.06, 0.07], 0.3),
      body(u, v) {
        const phi = Math.atan2(v / 0.25, u / 0.3);
        const tip = 1 + 0.12 * Math.max(0, Math.cos(phi)) ** 3;
        const r = hypot(u / 0.3, v / 0.25) / tip;
        if (r > 1) return undefined;
        // light from the upper left of the image, whatever the nut's angle
        const ix = c * u - s * v,
          iy = s * u + c * v;
        const light = 0.6 + 0.45 * Math.sqrt(1 - r * r) - 0.35 * (ix + iy);
        const base = hypot((u + 0.26) / 0.08, v / 0.11);
        if (base < 1) return scale([0.78, 0.64, 0.45], light * (0.85 + 0.3 * pores(u * 200, v * 200)));
        const streak = fractal(stripes, u * 12, v * 70, 3);
        return scale(shell, light * (0.7 + 0.55 * streak));
      },
    };
  },
});

/** Metal-nut-like: a steel washer with four tabs, lying at any angle. */
const washer = objectCategory({
  name: 'washer',
  description: 'four-tab steel washer at any angle (like metal nut)',
  grayscale: false,
  defects: ['scratch', 'colour', 'spot', 'missing'],
  jitter: { shift: 0.02, rotation: Math.PI },
  look(rng, size, pose) {
    const steel: Rgb = scale([0.55, 0.6, 0.68], rng.uniform(0.93, 1.07));
    const brushed = createNoise(rng.fork('brushed'));
    return {
      pose,
      parts: ['tab:0', 'tab:1', 'tab:2', 'tab:3'],
      background: surface(rng, size, [0.04, 0.04, 0.05], 0.3),
      body(u, v, _x, _y, omit) {
        const r = hypot(u, v);
        if (r < 0.13) return undefined;
        const a = Math.atan2(v, u);
        const ring = r < 0.3;
        let onTab = false;
        for (let k = 0; k < 4 && !ring && !onTab; k++) {
          if (omit === `tab:${k}`) continue;
          const ta = (k * Math.PI) / 2;
          const along = u * Math.cos(ta) + v * Math.sin(ta),
            across = -u * Math.sin(ta) + v * Math.cos(ta);
          // tab 0 is narrower, so the washer has one way up
          if (along > 0.2 && along < 0.37 && Math.abs(across) < (k === 0 ? 0.035 : 0.05)) onTab = true;
        }
        if (!ring && !onTab) return undefined;
        const rim = r > 0.28 || r < 0.15 ? 0.8 : 1;
        const k = rim * (0.8 + 0.25 * Math.cos(a - 2.4) + 0.12 * (brushed(r * 160, 0.5) - 0.5));
        return scale(steel, k);
      },
    };
  },
});

/** Pill-like: a white oval tablet with red speckles (a different pattern on every tablet) and a score line. */
const tablet = objectCategory({
  name: 'tablet',
  description: 'speckled scored tablet (like pill)',
  grayscale: false,
  defects: ['crack', 'spot', 'colour', 'scratch'],
  jitter: { shift: 0.01, rotation: 0.03 },
  look(rng, size, pose) {
    const speckles = Array.from({ length: 25 + rng.int(20) }, () => {
      const a = rng.uniform(0, 2 * Math.PI),
        r = Math.sqrt(rng.next()) * 0.9;
      return { u: 0.36 * r * Math.cos(a), v: 0.2 * r * Math.sin(a), radius: rng.uniform(0.003, 0.007) };
    });
    const chalk = createNoise(rng.fork('chalk'));
    return {
      pose,
      background: surface(rng, size, [0.12, 0.12, 0.13], 0.2),
      body(u, v) {
        const e = (Math.abs(u) / 0.36) ** 2.4 + (Math.abs(v) / 0.2) ** 2.4;
        if (e > 1) return undefined;
        const shade = 0.78 + 0.22 * Math.sqrt(1 - e) - 0.1 * v;
        let colour: Rgb = scale([0.93, 0.91, 0.87], shade + 0.04 * (chalk(u * 180, v * 180) - 0.5));
        if (Math.abs(u) < 0.004 && Math.abs(v) < 0.17) colour = scale(colour, 0.8);
        else if (u > 0.004 && u < 0.008 && Math.abs(v) < 0.17) colour = scale(colour, 1.06);
        for (const p of speckles) if (hypot(u - p.u, v - p.v) < p.radius) return mix(colour, [0.72, 0.28, 0.26], 0.8);
        return colour;
      },
    };
  },
});

/** Screw-like, grayscale: a threaded bolt lying anywhere on a plate, at any angle. */
const bolt = objectCategory({
  name: 'bolt',
  description: 'threaded bolt anywhere at any angle, grayscale (like screw)',
  grayscale: true,
  defects: ['scratch', 'spot', 'colour', 'missing'],
  jitter: { shift: 0.1, rotation: Math.PI },
  look(rng, size, pose) {
    const metal = rng.uniform(0.42, 0.5);
    const grain = createNoise(rng.fork('grain'));
    return {
      pose,
      parts: ['tip'],
      background: surface(rng, size, gray(0.74), 0.12),
      body(u, v, _x, _y, omit) {
        const n = 0.05 * (grain(u * 200, v * 200) - 0.5);
        const round = (w: number) => 0.75 + 0.35 * Math.sqrt(Math.max(0, 1 - (v / w) ** 2));
        if (u > -0.3 && u < -0.22 && Math.abs(v) < 0.075 - 0.3 * Math.max(0, -0.28 - u)) {
          // the head, with its slot
          if (Math.abs(v) < 0.008 && u < -0.235) return gray(metal * 0.45);
          return gray(metal * (round(0.075) + 0.1) + n);
        }
        const end = omit === 'tip' ? 0.2 : 0.28;
        const width = u < 0.2 ? 0.035 : (0.035 * (0.28 - u)) / 0.08;
        if (u >= -0.22 && u < end && Math.abs(v) < width) {
          const thread = 0.5 + 0.5 * Math.sin((2 * Math.PI * (u + 0.3 * v)) / 0.022);
          return gray(metal * round(width) * (0.8 + 0.35 * thread) + n);
        }
        return undefined;
      },
    };
  },
});

/** Toothbrush-like: a brush head's tufts of white and blue bristles, seen from above. */
const brush = objectCategory({
  name: 'brush',
  description: 'brush head with bristle tufts (like toothbrush)',
  grayscale: false,
  defects: ['spot', 'colour', 'thread', 'missing'],
  jitter: { shift: 0.012, rotation: 0.03 },
  look(rng, size, pose) {
    const bristles = createNoise(rng.fork('bristles'));
    const tufts: { u: number; v: number; row: number; id: string }[] = [];
    for (let row = 0; row < 3; row++)
      for (let col = 0; col < 10; col++)
        tufts.push({
          u: -0.32 + col * 0.071 + rng.uniform(-0.002, 0.002),
          v: -0.08 + row * 0.08 + rng.uniform(-0.002, 0.002),
          row,
          id: `tuft:${row}:${col}`,
        });
    return {
      pose,
      parts: tufts.map((t) => t.id),
      background: surface(rng, size, [0.88, 0.88, 0.9], 0.06),
      body(u, v, x, y, omit) {
        if (Math.abs(u) > 0.37 || Math.abs(v) > 0.125) return undefined;
        for (const t of tufts) {
          if (omit === t.id) continue;
          const d = hypot(u - t.u, v - t.v);
          if (d < 0.029) {
            const colour: Rgb = t.row === 1 ? [0.45, 0.65, 0.92] : [0.94, 0.94, 0.96];
            return scale(colour, 0.78 + 0.3 * bristles(x / 1.1, y / 1.1) - 2.5 * d);
          }
        }
        return scale([0.3, 0.48, 0.8], 0.8 + 0.2 * Math.sqrt(Math.max(0, 1 - (v / 0.125) ** 2)));
      },
    };
  },
});

/** Transistor-like: a black package with a metal tab and three legs on a circuit board. */
const chip = objectCategory({
  name: 'chip',
  description: 'three-leg power transistor on a board (like transistor)',
  grayscale: false,
  defects: ['scratch', 'spot', 'colour', 'missing'],
  jitter: { shift: 0.012, rotation: 0.035 },
  look(rng, size, pose) {
    const board = surface(rng, size, [0.12, 0.34, 0.22], 0.25);
    const pads = createNoise(rng.fork('pads'));
    const mould = createNoise(rng.fork('mould'));
    const legs = [-0.12, 0, 0.12];
    return {
      pose,
      parts: ['leg:0', 'leg:1', 'leg:2'],
      background: board,
      body(u, v, _x, _y, omit) {
        if (Math.abs(u) < 0.17 && v > -0.36 && v < -0.26 && hypot(u, v + 0.32) > 0.025) {
          return scale([0.72, 0.72, 0.74], 0.85 + 0.3 * (v + 0.36) * 5 + 0.05 * (pads(u * 150, v * 150) - 0.5));
        }
        if (Math.abs(u) < 0.2 && v >= -0.26 && v < 0.02) {
          // two rows of printed marks, the same on every part (like MVTec AD's transistor)
          const row = Math.floor((v + 0.2) / 0.05),
            col = Math.floor((u + 0.12) / 0.04);
          if ((row === 0 || row === 1) && col >= 0 && col < 6 && (v + 0.2) % 0.05 < 0.025 && (u + 0.12) % 0.04 < 0.028)
            if ((col + row) % 4 !== 0) return [0.75, 0.75, 0.73];
          return scale([0.1, 0.1, 0.11], 0.9 + 0.5 * (0.02 - v) + 0.2 * mould(u * 120, v * 120));
        }
        for (const [k, lu] of legs.entries()) {
          if (omit === `leg:${k}`) continue;
          if (Math.abs(u - lu) < 0.018 && v >= 0.02 && v < 0.32)
            return scale([0.8, 0.76, 0.62], 0.8 + 0.3 * Math.sqrt(1 - ((u - lu) / 0.018) ** 2));
        }
        return undefined;
      },
    };
  },
});

/** Zipper-like, grayscale: interlocking teeth down the middle of a woven tape. */
const fastener = objectCategory({
  name: 'fastener',
  description: 'closed fastener chain on woven tape, grayscale (like zipper)',
  grayscale: true,
  defects: ['scratch', 'spot', 'thread', 'missing'],
  jitter: { shift: 0.012, rotation: 0.02 },
  look(rng, size, pose) {
    const s = size / 256;
    const weave = createNoise(rng.fork('tape'));
    const tape = rng.uniform(0.3, 0.36);
    const period = 0.036;
    const phase = rng.uniform(0, period);
    const background = (x: number, y: number): Rgb => {
      const threads = 0.5 + 0.5 * Math.sin((2 * Math.PI * x) / (2.6 * s)) * Math.sin((2 * Math.PI * y) / (2.6 * s));
      return gray(tape * (0.85 + 0.15 * threads + 0.15 * (weave(x / 3, y / 3) - 0.5)));
    };
    return {
      pose,
      parts: Array.from({ length: 9 }, (_, k) => `tooth:${k - 4}`),
      background,
      // the object is the chain and the tape beside it (defects of zippers lie on both)
      body(u, v, x, y, omit) {
        if (Math.abs(u) > 0.22) return undefined;
        const k = Math.floor((v - phase) / period);
        const t = (v - phase) / period - k;
        const left = (k & 1) === 0;
        const inTooth = t <= 0.78 && (left ? u > -0.065 && u < 0.018 : u > -0.018 && u < 0.065);
        if (!inTooth || (Math.abs(k) <= 4 && omit === `tooth:${k}`))
          return scale(background(x, y), Math.abs(u) < 0.09 ? 0.75 : 1);
        const across = Math.sin((Math.PI * t) / 0.78);
        return gray(0.55 + 0.3 * across + (left ? 0.04 : -0.04));
      },
    };
  },
});

export const STANDARD_OBJECTS: SyntheticCategory[] = [
  vial,
  cord,
  gelcap,
  chestnut,
  washer,
  tablet,
  bolt,
  brush,
  chip,
  fastener,
];
