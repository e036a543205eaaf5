/**
 * The unified setting through the kit (`runMethodOnCategory`'s `trainCategories`, `SharedFits`):
 * one model fitted on several categories' train images together, evaluated on each; the cells of a
 * sweep that differ only in the evaluated category fit once; a list without the evaluated
 * category is refused before any work.
 */
import { cp } from 'node:fs/promises';
import { join } from 'node:path';
import { type EngineSelection, selectEngine } from '@cfa/tensor-runtime';
import { beforeAll, describe, expect, it } from 'vitest';
import type { AnomalyMethod } from './method';
import { runMethodOnCategory, SharedFits } from './run-category';
import { positionMeanMethod, tinyDiscCategory } from './testing';

let root: string;
let engine: EngineSelection;
const config = positionMeanMethod.configSchema.parse({ view: { kind: 'center-crop', resize: 64, crop: 56 } });

beforeAll(async () => {
  root = await tinyDiscCategory('kit-unified-', 2);
  // a second category: the same pictures under another name (what is fitted is counted, not seen)
  await cp(join(root, 'disc'), join(root, 'plate'), { recursive: true });
  engine = await selectEngine({ requested: 'ort', tfBackend: 'wasm', threads: 1 });
});

describe('the unified setting', () => {
  it('fits one model on every listed category and shares it between the categories it evaluates', async () => {
    let fits = 0;
    const counted: AnomalyMethod<typeof config, unknown> = {
      ...positionMeanMethod,
      fit: (context) => {
        fits++;
        return positionMeanMethod.fit(context);
      },
    } as AnomalyMethod<typeof config, unknown>;
    const sharedFits = new SharedFits(2);
    const trainCategories = ['disc', 'plate'];
    const disc = await runMethodOnCategory({
      method: counted,
      config,
      root,
      category: 'disc',
      engine,
      trainCategories,
      sharedFits,
    });
    expect(disc.trainCount).toBe(8);
    const plate = await runMethodOnCategory({
      method: counted,
      config,
      root,
      category: 'plate',
      engine,
      trainCategories,
      sharedFits,
    });
    expect(fits).toBe(1);
    expect(plate.model.members[0].fitted).toBe(disc.model.members[0].fitted);
    // the reused fit cost the second run nothing
    expect([plate.timings.embedTrainSeconds, plate.timings.trainSeconds]).toEqual([0, 0]);
    // another config fits again
    await runMethodOnCategory({
      method: counted,
      config: { ...config, seed: 1 },
      root,
      category: 'plate',
      engine,
      trainCategories,
      sharedFits,
    });
    expect(fits).toBe(2);
  });

  it('refuses train categories that leave out the evaluated one', async () => {
    await expect(
      runMethodOnCategory({
        method: positionMeanMethod,
        config,
        root,
        category: 'disc',
        engine,
        trainCategories: ['plate'],
      }),
    ).rejects.toThrow(/must include the evaluated category 'disc'/);
  });
});
