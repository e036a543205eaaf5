import { mkdir, mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { type FidelityEpoch, type OfficialResults, officialEpochs } from './fidelity-files';
import { RunConfigSchema } from '../run/run-config';
import { folderDigest } from './fidelity-inputs';
import { finishedRun } from './finished-run';
import { allAgree, compareEpochs, compareMetric, fidelityTable, perSeedTable, spread } from './fidelity-report';

const epoch = (e: number, v: number, radius: number): FidelityEpoch => ({
  epoch: e,
  imageAuroc: v,
  pixelAuroc: v,
  pixelAupro: v,
  pixelProReference: v,
  radius,
});

function official(values: number[][], radii: number[]): OfficialResults {
  return {
    official: { repository: 'sungwool/CFA_for_anomaly_localization', commit: '0'.repeat(40), patches: [] },
    torch: '1.13.1',
    settings: { category: 'c', cnn: 'res18', epochs: radii.length, seeds: values.map((_, i) => i) },
    weights: { file: 'w', sha256: 'a'.repeat(64) },
    data: { category: 'c', sha256: 'b'.repeat(64) },
    runs: values.map((run, seed) => ({ seed, epochs: run.map((v, e) => epoch(e + 1, v, radii[e])) })),
  };
}

describe('fidelity comparison', () => {
  it('sample std over seeds; inside = |our mean − theirs| ≤ 2 std', () => {
    expect(spread([0.8, 0.82, 0.84])).toMatchObject({ mean: 0.82, min: 0.8, max: 0.84 });
    expect(spread([0.8, 0.82, 0.84]).std).toBeCloseTo(0.02, 12);
    const theirs = official([[0.8], [0.82], [0.84]], [0.0092274]);
    const inside = compareEpochs(theirs, [[epoch(1, 0.855, 0.0092274)], [epoch(1, 0.861, 0.0092274)]]);
    expect(inside[0].metrics.imageAuroc.inside).toBe(true); // 0.858 − 0.82 = 0.038 ≤ 0.04
    const outside = compareEpochs(theirs, [[epoch(1, 0.865, 0.0092274)]]);
    expect(outside[0].metrics.imageAuroc.inside).toBe(false); // 0.045 > 0.04
    // one seed of ours: of the 4 splits only the observed one reaches |Δ| = 0.045 → p = 1/4; but 1 + 3
    // seeds could never give p < 0.05, so the band alone decides
    expect(outside[0].metrics.imageAuroc.pValue).toBeCloseTo(1 / 4, 12);
    expect(allAgree(outside)).toBe(false);
    // 3 + 3 seeds could never reach p < 0.05 (2 of 20 splits at best); 5 + 3 can (1 of 56: no mirror split)
    const far = compareEpochs(
      theirs,
      [0.9, 0.91, 0.92, 0.93, 0.94].map((v) => [epoch(1, v, 0.0092274)]),
    );
    expect(far[0].metrics.imageAuroc.pValue).toBeCloseTo(1 / 56, 12);
    expect(allAgree(far)).toBe(false);
  });

  it('r must equal the reference code’s to 1e-6 on every epoch and seed', () => {
    const theirs = official(
      [
        [0.8, 0.9],
        [0.82, 0.91],
      ],
      [0.0092274, 0.0200668],
    );
    const same = compareEpochs(theirs, [
      [epoch(1, 0.81, 0.0092279), epoch(2, 0.905, 0.0200668)],
      [epoch(1, 0.825, 0.0092274), epoch(2, 0.91, 0.0200668)],
    ]);
    expect(same.map((r) => r.radius?.equal)).toEqual([true, true]);
    expect(allAgree(same)).toBe(true);
    const off = compareEpochs(theirs, [[epoch(1, 0.81, 0.009229), epoch(2, 0.905, 0.0200668)]]);
    expect(off[0].radius?.equal).toBe(false);
    expect(fidelityTable(off)).toMatch(/DIFFERENT/);
  });

  it('a method without a radius (PatchCore) is compared on its metrics alone; a radius on one side only is a mismatch', () => {
    const withoutRadius = (e: FidelityEpoch): FidelityEpoch => ({ ...e, radius: undefined });
    const base = official([[0.8], [0.82], [0.84]], [0.01]);
    const theirs = { ...base, runs: base.runs.map((r) => ({ ...r, epochs: r.epochs.map(withoutRadius) })) };
    const rows = compareEpochs(theirs, [[withoutRadius(epoch(1, 0.83, 0))], [withoutRadius(epoch(1, 0.81, 0))]]);
    expect(rows[0].radius).toBeUndefined();
    expect(allAgree(rows)).toBe(true);
    expect(fidelityTable(rows)).not.toMatch(/^ *1 +r /m);
    expect(allAgree(compareEpochs(theirs, [[withoutRadius(epoch(1, 0.9, 0))]]))).toBe(false);
    const mixed = compareEpochs(theirs, [[epoch(1, 0.83, 0.01)]]);
    expect(mixed[0].radius?.equal).toBe(false);
    expect(allAgree(mixed)).toBe(false);
  });

  it('a zero spread leaves only rounding room in the band; the permutation test decides whether that matters', () => {
    const theirs = official([[1], [1], [1], [1], [1]], [0.01]);
    expect(compareEpochs(theirs, [[epoch(1, 1, 0.01)]])[0].metrics.pixelAuroc.inside).toBe(true);
    const oneBelow = compareEpochs(
      theirs,
      [1, 1, 1, 1, 0.979].map((v) => [epoch(1, v, 0.01)]),
    )[0].metrics.pixelAuroc;
    expect(oneBelow.inside).toBe(false);
    // whichever group 0.979 falls in, |Δ mean| is 0.021 / 5: every split is as extreme
    expect(oneBelow.pValue).toBe(1);
    expect(oneBelow.agrees).toBe(true);
    const allBelow = compareEpochs(
      theirs,
      [0.97, 0.98, 0.975, 0.99, 0.979].map((v) => [epoch(1, v, 0.01)]),
    )[0].metrics.pixelAuroc;
    expect(allBelow.pValue).toBeCloseTo(2 / 252, 12);
    expect(allBelow.agrees).toBe(false);
    expect(
      fidelityTable(
        compareEpochs(
          theirs,
          [0.97, 0.98].map((v) => [epoch(1, v, 0.01)]),
        ),
      ),
    ).toMatch(/NO/);
  });
});

describe('the spread verdict (issue #26)', () => {
  // ten reference seeds around 0.82 with std ≈ 0.01
  const reference = [0.821, 0.841, 0.822, 0.833, 0.815, 0.81, 0.829, 0.836, 0.818, 0.825];
  const scaled = (k: number) => reference.map((v) => 0.825 + k * (v - 0.825));

  it('our std within 2× the reference’s agrees; 4× with 10 + 10 seeds does not, though the means agree', () => {
    const close = compareMetric(reference, scaled(1.5));
    expect(close.spread.ratio).toBeCloseTo(1.5, 9);
    expect(close.spread.within).toBe(true);
    expect(close.agrees).toBe(true);
    const wide = compareMetric(reference, scaled(4));
    expect(wide.inside).toBe(true);
    expect(wide.spread.within).toBe(false);
    expect(wide.spread.pValue).toBeLessThan(0.05);
    expect(wide.agrees).toBe(false);
    // a spread 4× smaller is as much a difference
    expect(compareMetric(reference, scaled(0.25)).spread.agrees).toBe(false);
    const five = (v: number[]) => v.slice(0, 5).map((x) => [epoch(1, x, 0.01)]);
    expect(
      fidelityTable(
        compareEpochs(
          official(
            reference.slice(0, 5).map((v) => [v]),
            [0.01],
          ),
          five(scaled(4)),
        ),
      ),
    ).toMatch(/4\.00× !/);
  });

  it('outside 2× but p ≥ 0.05 agrees only where the seed counts could have rejected', () => {
    const theirs = [0.82, 0.83, 0.84];
    const ours = [0.8, 0.83, 0.86]; // 3× the std, 3 + 3 seeds: the test can never reject
    const c = compareMetric(theirs, ours);
    expect(c.spread.within).toBe(false);
    expect(c.spread.pValue).toBeGreaterThanOrEqual(0.05);
    expect(c.spread.agrees).toBe(false);
    // every reference seed the same: ratio ∞, and the same for ours: 1
    expect(compareMetric([1, 1, 1], [1, 0.99, 1]).spread.ratio).toBe(Infinity);
    expect(compareMetric([1, 1, 1], [1, 1]).spread.ratio).toBe(1);
  });

  it('the per-seed table lists every seed of both sides in seed order', () => {
    const rows = compareEpochs(official([[0.8], [0.82]], [0.01]), [[epoch(1, 0.81, 0.01)], [epoch(1, 0.835, 0.01)]]);
    expect(perSeedTable(rows)).toMatch(/^ *1 +P-AUROC +80\.0 82\.0 +81\.0 83\.5/m);
  });
});

describe('the untrained evaluation (official_run.py --untrained)', () => {
  it('is epoch 0 when every reference run has one, labelled "untrained"; ignored when one lacks it', () => {
    const theirs = official(
      [
        [0.8, 0.9],
        [0.82, 0.91],
      ],
      [0.01, 0.02],
    );
    const untrained = { imageAuroc: 0.5, pixelAuroc: 0.6, pixelAupro: 0.3, pixelProReference: 0.4, radius: 1e-5 };
    const both = { ...theirs, runs: theirs.runs.map((r) => ({ ...r, untrained })) };
    expect(officialEpochs(both)[0].epochs.map((e) => e.epoch)).toEqual([0, 1, 2]);
    const ours = [[{ epoch: 0, ...untrained }, epoch(1, 0.81, 0.01), epoch(2, 0.905, 0.02)]];
    const rows = compareEpochs(both, ours);
    expect(rows.map((r) => r.epoch)).toEqual([0, 1, 2]);
    expect(rows[0].metrics.imageAuroc.official.mean).toBe(0.5);
    expect(fidelityTable(rows)).toMatch(/^ *untrained +I-AUROC/m);
    const oneLacks = { ...theirs, runs: [both.runs[0], theirs.runs[1]] };
    expect(officialEpochs(oneLacks)[0].epochs.map((e) => e.epoch)).toEqual([1, 2]);
  });
});

describe('folderDigest', () => {
  it("equals official_run.py's data_digest (os.walk order: folders sorted by path, files sorted within)", async () => {
    const root = await mkdtemp(join(tmpdir(), 'digest-'));
    const dir = join(root, 'cat');
    await mkdir(join(dir, 'a', 'b'), { recursive: true });
    await mkdir(join(dir, 'ground_truth'), { recursive: true });
    await writeFile(join(dir, 'a', 'x.txt'), '1');
    await writeFile(join(dir, 'a', 'b', 'y.txt'), '22');
    await writeFile(join(dir, 'z.txt'), '333');
    await writeFile(join(dir, 'ground_truth', 'm.png'), '4444');
    // python3 -c "import official_run as o; print(o.data_digest(root, 'cat'))" on the same files
    expect(await folderDigest(dir)).toBe('65f2c7c9b9bf86d3d6e63cacc7adae27777e1ac15f49efa8d671310c68ee2f2d');
  });
});

describe('finishedRun (fidelity --resume)', () => {
  it("reuses a seed's result.json only for the same config and engine; a folder without one is run again", async () => {
    const folder = await mkdtemp(join(tmpdir(), 'fidelity-resume-'));
    const config = RunConfigSchema.parse({ dataset: { category: 'lattice' }, cfa: { seed: 3 } });
    expect(await finishedRun(folder, config, 'ort')).toBeUndefined(); // stopped before result.json
    await writeFile(join(folder, 'result.json'), JSON.stringify({ config, engine: { name: 'ort' }, metrics: {} }));
    expect((await finishedRun(folder, config, 'ort'))?.config).toEqual(config);
    expect(await finishedRun(folder, config, 'tfjs')).toBeUndefined();
    const otherSeed = RunConfigSchema.parse({ dataset: { category: 'lattice' }, cfa: { seed: 4 } });
    expect(await finishedRun(folder, otherSeed, 'ort')).toBeUndefined();
    // the same settings written before the methods moved out of `cfa:` still count
    const legacy = { dataset: { category: 'lattice' }, cfa: { seed: 3 } };
    await writeFile(
      join(folder, 'result.json'),
      JSON.stringify({ config: legacy, engine: { name: 'ort' }, metrics: {} }),
    );
    expect((await finishedRun(folder, config, 'ort'))?.config).toEqual(config);
  });
});
