import { describe, expect, it } from 'vitest';
import { RunConfigSchema } from '../run/run-config';
import { configOf } from '../testing/config-of';
import { DEFAULT_CATEGORY, QUICK_EPOCHS, QUICK_SETTINGS, trainEvalConfig } from './train-eval';

const engine = { engine: 'auto', tracking: false };

describe('train-eval: a config file and the flags', () => {
  it("a config file's fields are not overridden by flags that were not given", () => {
    const file = {
      dataset: { category: 'carpet' },
      cfa: { training: { epochs: 7 }, backbone: { name: 'wide_resnet50_2' } },
    };
    const c = configOf('cfa', RunConfigSchema.parse(trainEvalConfig({ ...engine }, file)));
    expect(c.dataset.category).toBe('carpet');
    expect(c.training.epochs).toBe(7);
    expect(c.backbone.name).toBe('wide_resnet50_2');
  });

  it('flags that were given override the file', () => {
    const file = { dataset: { category: 'carpet' }, cfa: { training: { epochs: 7 } } };
    const c = configOf(
      'cfa',
      RunConfigSchema.parse(
        trainEvalConfig(
          { ...engine, category: 'grid', epochs: 2, taps: 'torchvision', selection: 'best-on-test' },
          file,
        ),
      ),
    );
    expect(c.dataset.category).toBe('grid');
    expect(c.training.epochs).toBe(2);
    expect(c.backbone.taps).toBe('torchvision');
    expect(c.evaluation.selection).toBe('best-on-test');
  });

  it('without a file: the default category and the quick epochs; --preset paper applies the paper preset', () => {
    const c = configOf('cfa', RunConfigSchema.parse(trainEvalConfig({ ...engine })));
    expect(c.dataset.category).toBe(DEFAULT_CATEGORY);
    expect(c.training.epochs).toBe(QUICK_EPOCHS);
    const paper = configOf('cfa', RunConfigSchema.parse(trainEvalConfig({ ...engine, preset: 'paper' })));
    expect(paper.preset).toBe('paper');
    expect(paper.backbone.taps).toBe('torchvision');
  });

  it('a file without a dataset section still gets the default category', () => {
    const c = RunConfigSchema.parse(trainEvalConfig({ ...engine }, { cfa: { seed: 3 } } as never));
    expect(c.dataset.category).toBe(DEFAULT_CATEGORY);
    expect(c.seed).toBe(3);
  });

  it("CRAD: the crad sweep's size unless --full (the authors' full size); flags and --set still win", () => {
    const quick = configOf('crad', RunConfigSchema.parse(trainEvalConfig({ ...engine, method: 'crad' })));
    expect(quick.view).toEqual({ kind: 'resize', size: 128, filter: 'bilinear' });
    expect([quick.decoder.layers, quick.decoder.expansion, quick.training.epochs]).toEqual([4, 216, 2]);
    expect(QUICK_SETTINGS.crad).toBeDefined();
    const full = configOf('crad', RunConfigSchema.parse(trainEvalConfig({ ...engine, method: 'crad', full: true })));
    expect(full.view).toEqual({ kind: 'resize', size: 224, filter: 'bilinear' });
    expect([full.decoder.layers, full.decoder.expansion, full.training.epochs]).toEqual([11, 864, 50]);
    const given = configOf(
      'crad',
      RunConfigSchema.parse(
        trainEvalConfig({
          ...engine,
          method: 'crad',
          epochs: 3,
          set: [
            ['view.kind', 'center-crop'],
            ['decoder.layers', 2],
          ],
        }),
      ),
    );
    expect(given.view.kind).toBe('center-crop');
    expect([given.decoder.layers, given.decoder.expansion, given.training.epochs]).toEqual([2, 216, 3]);
    // CFA's quick epochs, and its own 30 with --full
    expect(configOf('cfa', RunConfigSchema.parse(trainEvalConfig({ ...engine, full: true }))).training.epochs).toBe(30);
  });
});
