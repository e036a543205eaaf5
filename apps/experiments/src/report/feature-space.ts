/**
 * Paper Fig. 3 for one run of a method that adapts features (`AnomalyMethod.featureSpace`; CFA:
 * where the test patches' features φ(p) lie relative to the memory bank C, before adaptation — the
 * descriptor's initial parameters, a pure function of the config seed — and after): one 2-D PCA
 * basis fitted on the method's reference points (C does not move while φ trains, so both panels
 * share axes and only the patches move). Normal patches come from good test images and from the
 * unmarked part of defective ones; a patch is abnormal when at least half of its receptive cell
 * (input pixels per grid cell) is in the mask.
 *
 * @example
 * ```ts
 * const points = await featureSpacePoints({ run, engine });
 * await writeChart('plots/feature-space.png', featureSpaceChartSpec({ points, subtitle }));
 * ```
 */
import { createRng, type EngineSelection } from '@cfa/tensor-runtime';
import type { CategoryRun, FeatureSpaceProjector } from '@cfa/method-kit';
import { principalAxes, projectRows } from './pca';
import type { TopLevelSpec } from './render-chart';

export type FeaturePointKind = 'normal patch' | 'abnormal patch' | 'memory bank centre';
export type FeaturePanel = 'before adaptation' | 'after adaptation';

export interface FeaturePoint {
  x: number;
  y: number;
  kind: FeaturePointKind;
  panel: FeaturePanel;
}

export interface FeatureSpaceParams {
  run: Pick<CategoryRun, 'model' | 'testEmbeddings' | 'test' | 'inputSize'>;
  engine: EngineSelection;
  /** Test images whose patches are drawn: the defective ones with the largest masks, then good ones. */
  defectiveImages?: number;
  goodImages?: number;
  /** Points per kind at most (a seeded sample). */
  maxPoints?: number;
}

function sample<T>(items: T[], max: number, seed: number, label: string): T[] {
  if (items.length <= max) return items;
  return createRng(seed)
    .fork(label)
    .permutation(items.length)
    .slice(0, max)
    .sort((a, b) => a - b)
    .map((i) => items[i]);
}

export async function featureSpacePoints({
  run,
  engine,
  defectiveImages = 4,
  goodImages = 2,
  maxPoints = 300,
}: FeatureSpaceParams): Promise<FeaturePoint[]> {
  const { method, config, backbone } = run.model;
  if (!method.featureSpace) throw new Error(`featureSpacePoints: ${method.label} does not adapt features`);
  const set = run.testEmbeddings;
  // the primary member: its adapted features and its reference points
  const projector = await method.featureSpace({
    model: run.model.members[0].fitted,
    config,
    backbone,
    engine,
    levels: set.levels,
  });
  try {
    return await projectedPoints(run, projector, { config, defectiveImages, goodImages, maxPoints });
  } finally {
    await projector.release();
  }
}

async function projectedPoints(
  run: FeatureSpaceParams['run'],
  projector: FeatureSpaceProjector,
  options: { config: { seed: number }; defectiveImages: number; goodImages: number; maxPoints: number },
): Promise<FeaturePoint[]> {
  const { config, defectiveImages, goodImages, maxPoints } = options;
  const set = run.testEmbeddings;
  const { dim } = projector.centres;
  const area = (i: number) => run.test[i].mask.reduce((a, b) => a + b, 0);
  const indices = run.test.map((_, i) => i);
  const defective = indices
    .filter((i) => run.test[i].ref.label === 1)
    .sort((a, b) => area(b) - area(a))
    .slice(0, defectiveImages);
  const good = indices.filter((i) => run.test[i].ref.label === 0).slice(0, goodImages);
  const { height, width } = set;
  const cell = run.inputSize / height;

  // which grid cells of each chosen image are abnormal
  const patches: { image: number; cell: number; abnormal: boolean }[] = [];
  for (const i of [...defective, ...good]) {
    const { mask } = run.test[i];
    for (let gy = 0; gy < height; gy++)
      for (let gx = 0; gx < width; gx++) {
        let on = 0,
          all = 0;
        for (let y = Math.floor(gy * cell); y < Math.floor((gy + 1) * cell); y++)
          for (let x = Math.floor(gx * cell); x < Math.floor((gx + 1) * cell); x++) {
            on += mask[y * run.inputSize + x];
            all++;
          }
        patches.push({ image: i, cell: gy * width + gx, abnormal: all > 0 && on / all >= 0.5 });
      }
  }
  const chosen = [
    ...sample(
      patches.filter((p) => p.abnormal),
      maxPoints,
      config.seed,
      'feature-space:abnormal',
    ),
    ...sample(
      patches.filter((p) => !p.abnormal),
      maxPoints,
      config.seed,
      'feature-space:normal',
    ),
  ];
  const centreRows = sample(
    Array.from({ length: projector.centres.count }, (_, m) => m),
    maxPoints,
    config.seed,
    'feature-space:centres',
  );
  const centres = new Float32Array(centreRows.length * dim);
  centreRows.forEach((m, r) => centres.set(projector.centres.rows.subarray(m * dim, (m + 1) * dim), r * dim));
  const basis = principalAxes({ rows: centres, count: centreRows.length, dim });
  const centreXy = projectRows({ rows: centres, count: centreRows.length, dim, basis });
  const points: FeaturePoint[] = [];
  for (const [panel, project] of [
    ['before adaptation', projector.before],
    ['after adaptation', projector.after],
  ] as const) {
    for (let r = 0; r < centreRows.length; r++)
      points.push({ x: centreXy[2 * r], y: centreXy[2 * r + 1], kind: 'memory bank centre', panel });
    const rows = new Float32Array(chosen.length * dim);
    const featuresOf = new Map<number, Float32Array>();
    for (const image of new Set(chosen.map((c) => c.image)))
      featuresOf.set(image, await project(await set.pyramid(image)));
    chosen.forEach((c, r) => rows.set(featuresOf.get(c.image)!.subarray(c.cell * dim, (c.cell + 1) * dim), r * dim));
    const xy = projectRows({ rows, count: chosen.length, dim, basis });
    chosen.forEach((c, r) =>
      points.push({ x: xy[2 * r], y: xy[2 * r + 1], kind: c.abnormal ? 'abnormal patch' : 'normal patch', panel }),
    );
  }
  return points;
}

export function featureSpaceChartSpec({
  points,
  subtitle,
}: {
  points: FeaturePoint[];
  subtitle: string[];
}): TopLevelSpec {
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    title: {
      text: 'Patch features φ(p) and the memory bank C, before and after adaptation',
      subtitle: [...subtitle, 'a 2-D PCA fitted on C (C is fixed while φ trains, so both panels share the axes)'],
    },
    data: { values: points },
    // centres below, abnormal patches on top
    transform: [
      { calculate: "indexof(['memory bank centre', 'normal patch', 'abnormal patch'], datum.kind)", as: 'layer' },
    ],
    facet: {
      column: { field: 'panel', type: 'nominal', title: null, sort: ['before adaptation', 'after adaptation'] },
    },
    spec: {
      width: 300,
      height: 300,
      mark: { type: 'point', filled: true, size: 14, opacity: 0.55 },
      encoding: {
        x: { field: 'x', type: 'quantitative', title: 'PC 1 of C', scale: { zero: false } },
        y: { field: 'y', type: 'quantitative', title: 'PC 2 of C', scale: { zero: false } },
        color: {
          field: 'kind',
          type: 'nominal',
          title: null,
          scale: {
            domain: ['memory bank centre', 'normal patch', 'abnormal patch'],
            range: ['#9a9a9a', '#4c78a8', '#e45756'],
          },
          legend: { orient: 'bottom', direction: 'horizontal' },
        },
        order: { field: 'layer', type: 'quantitative' },
      },
    },
    resolve: { scale: { x: 'shared', y: 'shared' } },
  };
}
