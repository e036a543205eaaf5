/**
 * The reference code's training protocol as config choices: the presets, drop_last batches and
 * the bank over that loader, and per-epoch evaluation snapshots.
 */
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { selectEngine } from '@cfa/tensor-runtime';
import { generateSyntheticDataset } from '@cfa/data';
import { beforeAll, describe, expect, it } from 'vitest';
import { CfaConfigSchema } from './config';
import { bankImages, epochBatches, epochOrders } from './fit';
import { runCfaOnCategory } from './run-cfa';

describe('presets', () => {
  it("the default is the reference code's: reference taps, torch init, reference bank and negatives, learnt r, drop_last, Lanczos", () => {
    const c = CfaConfigSchema.parse({});
    expect(c.preset).toBe('reference');
    expect(c.backbone.taps).toBe('reference');
    expect(c.descriptor.init).toBe('torch-default');
    expect(c.memoryBank.kind).toBe('reference');
    expect(c.loss.negatives).toBe('reference');
    expect([c.training.learnRadius, c.training.dropLast]).toEqual([true, true]);
    expect(c.view).toMatchObject({ kind: 'center-crop', resize: 256, crop: 224, filter: 'lanczos' });
    expect(c.evaluation).toEqual({ selection: 'last', everyEpoch: false });
  });

  it("'paper' sets every point where the paper's text differs, and explicit fields still win", () => {
    const c = CfaConfigSchema.parse({ preset: 'paper' });
    expect(c.backbone.taps).toBe('torchvision');
    expect(c.descriptor.init).toBe('he-normal');
    expect(c.memoryBank.kind).toBe('paper');
    expect(c.loss.negatives).toBe('paper');
    expect([c.training.learnRadius, c.training.dropLast]).toEqual([false, false]);
    expect(c.view).toMatchObject({ kind: 'center-crop', filter: 'bilinear' });
    const mixed = CfaConfigSchema.parse({
      preset: 'paper',
      backbone: { name: 'wide_resnet50_2', taps: 'reference' },
      memoryBank: { gammaC: 4 },
      view: { kind: 'resize', size: 128 },
    });
    expect(mixed.backbone).toMatchObject({ name: 'wide_resnet50_2', taps: 'reference' });
    expect(mixed.memoryBank).toMatchObject({ kind: 'paper', gammaC: 4 });
    expect(mixed.view).toEqual({ kind: 'resize', size: 128, filter: 'bilinear' });
  });

  it('rejects an unknown preset and per-epoch evaluation of CFA++, naming the field', () => {
    const bad = CfaConfigSchema.safeParse({ preset: 'anomalib' });
    expect(bad.success).toBe(false);
    expect(bad.error!.issues[0].path).toEqual(['preset']);
    const plus = CfaConfigSchema.safeParse({ ensemble: 'cfa++', evaluation: { selection: 'best-on-test' } });
    expect(plus.success).toBe(false);
    expect(plus.error!.issues[0].path).toEqual(['evaluation']);
  });
});

describe('drop_last', () => {
  const training = (over: object) => CfaConfigSchema.parse({ training: over }).training;

  it('cuts an epoch into ⌊n/b⌋ full batches, or ⌈n/b⌉ with the short one kept', () => {
    const order = [4, 0, 9, 2, 7, 1, 3, 8, 6, 5];
    expect(epochBatches(order, training({ batchSize: 4 }))).toEqual([
      [4, 0, 9, 2],
      [7, 1, 3, 8],
    ]);
    expect(epochBatches(order, training({ batchSize: 4, dropLast: false }))).toEqual([
      [4, 0, 9, 2],
      [7, 1, 3, 8],
      [6, 5],
    ]);
  });

  it('the bank averages the images of the first ⌊n/b⌋ shuffled batches (all of them, in order, when b divides n)', () => {
    const kept = bankImages(10, training({ batchSize: 4 }), 3);
    expect(kept).toHaveLength(8);
    expect(new Set(kept).size).toBe(8);
    expect(bankImages(10, training({ batchSize: 4 }), 3)).toEqual(kept); // seeded
    expect(bankImages(10, training({ batchSize: 4 }), 4)).not.toEqual(kept);
    expect(bankImages(12, training({ batchSize: 4 }), 3)).toEqual([...Array(12).keys()]);
    expect(bankImages(10, training({ batchSize: 4, dropLast: false }), 3)).toEqual([...Array(10).keys()]);
  });
});

describe('epoch orders', () => {
  const training = (over: object) => CfaConfigSchema.parse({ training: over }).training;

  it('a fresh seeded permutation per epoch (the DataLoader reshuffles), 0..n-1 without shuffle', () => {
    const next = epochOrders(10, training({}), 3);
    const [first, second] = [next(), next()];
    expect([...first].sort((a, b) => a - b)).toEqual([...Array(10).keys()]);
    expect(second).not.toEqual(first);
    const again = epochOrders(10, training({}), 3);
    expect([again(), again()]).toEqual([first, second]);
    expect(epochOrders(10, training({}), 4)()).not.toEqual(first);
    expect(epochOrders(10, training({ shuffle: false }), 3)()).toEqual([...Array(10).keys()]);
  });

  it("over 400 seeds the orders are the DataLoader's uniform shuffles: where an image lands, which images share a batch (χ², 99.9 %)", () => {
    // issue #26: the batch composition the seed picks must vary as torch's RandomSampler's does
    const n = 40;
    const seeds = 400;
    const positionBins = new Array(8).fill(0); // image 0's epoch-1 position, in 8 bins of 5
    let shareBatch = 0; // images 0 and 1 in one batch of 4: probability 3/39
    let sameSecondEpoch = 0; // image 0 at the same position in epochs 1 and 2: probability 1/40
    for (let seed = 0; seed < seeds; seed++) {
      const next = epochOrders(n, training({}), seed);
      const [first, second] = [next(), next()];
      const at0 = first.indexOf(0);
      positionBins[Math.floor(at0 / 5)]++;
      if (Math.floor(at0 / 4) === Math.floor(first.indexOf(1) / 4)) shareBatch++;
      if (second.indexOf(0) === at0) sameSecondEpoch++;
    }
    const expected = seeds / 8;
    const chi2 = positionBins.reduce((sum, count) => sum + (count - expected) ** 2 / expected, 0);
    expect(chi2).toBeLessThan(24.32); // χ²(7) at 99.9 %
    const binomialZ = (count: number, p: number) => (count - seeds * p) / Math.sqrt(seeds * p * (1 - p));
    expect(Math.abs(binomialZ(shareBatch, 3 / 39))).toBeLessThan(3.29);
    expect(Math.abs(binomialZ(sameSecondEpoch, 1 / 40))).toBeLessThan(3.29);
  });
});

describe('per-epoch evaluation', () => {
  let root: string;
  beforeAll(async () => {
    root = await mkdtemp(join(tmpdir(), 'cfa-protocol-'));
    await generateSyntheticDataset({
      root,
      categories: ['disc'],
      imageSize: 64,
      trainCount: 6,
      testGoodCount: 2,
      testDefectCount: 2,
    });
  });

  it('predicts the test set after every epoch from a snapshot; the last one equals the final prediction', async () => {
    const engine = await selectEngine({ requested: 'ort', threads: 1 });
    const config = CfaConfigSchema.parse({
      view: { kind: 'center-crop', resize: 64, crop: 56 },
      training: { epochs: 3, batchSize: 4 },
      descriptor: { gammaD: 4 },
      scoring: { sigma: 1 },
      evaluation: { everyEpoch: true },
    });
    const seen: { epoch: number; radius: number; scores: Float32Array; masks: number }[] = [];
    const run = await runCfaOnCategory({
      config,
      root,
      category: 'disc',
      engine,
      onEpochPrediction: async ({ record, prediction, test }) => {
        seen.push({ epoch: record.epoch, radius: record.radius, scores: prediction.imageScores, masks: test.length });
      },
    });
    expect(seen.map((s) => s.epoch)).toEqual([1, 2, 3]);
    expect(seen.map((s) => s.masks)).toEqual([run.test.length, run.test.length, run.test.length]);
    // 6 images, batch 4, drop_last: one step per epoch, so r grows every epoch
    expect(run.history.map((h) => h.radius)).toEqual(seen.map((s) => s.radius));
    expect(seen[0].scores).not.toEqual(seen[2].scores);
    expect(Array.from(seen[2].scores)).toEqual(Array.from(run.prediction.imageScores));
  });
});
