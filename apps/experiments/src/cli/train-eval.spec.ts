import { describe, expect, it } from 'vitest';
import { RunConfigSchema } from '../run/run-config';
import { DEFAULT_CATEGORY, QUICK_EPOCHS, trainEvalConfig } from './train-eval';

const engine = { engine: 'auto', tracking: false };

describe('train-eval: a config file and the flags', () => {
  it("a config file's fields are not overridden by flags that were not given", () => {
    const file = {
      dataset: { category: 'carpet' },
      cfa: { training: { epochs: 7 }, backbone: { name: 'wide_resnet50_2' } },
    };
    const c = RunConfigSchema.parse(trainEvalConfig({ ...engine }, file));
    expect(c.dataset.category).toBe('carpet');
    expect(c.training.epochs).toBe(7);
    expect(c.backbone.name).toBe('wide_resnet50_2');
  });

  it('flags that were given override the file', () => {
    const file = { dataset: { category: 'carpet' }, cfa: { training: { epochs: 7 } } };
    const c = RunConfigSchema.parse(
      trainEvalConfig({ ...engine, category: 'grid', epochs: 2, taps: 'torchvision', selection: 'best-on-test' }, file),
    );
    expect(c.dataset.category).toBe('grid');
    expect(c.training.epochs).toBe(2);
    expect(c.backbone.taps).toBe('torchvision');
    expect(c.evaluation.selection).toBe('best-on-test');
  });

  it('without a file: the default category and the quick epochs; --preset paper applies the paper preset', () => {
    const c = RunConfigSchema.parse(trainEvalConfig({ ...engine }));
    expect(c.dataset.category).toBe(DEFAULT_CATEGORY);
    expect(c.training.epochs).toBe(QUICK_EPOCHS);
    const paper = RunConfigSchema.parse(trainEvalConfig({ ...engine, preset: 'paper' }));
    expect(paper.method === 'cfa' && paper.preset).toBe('paper');
    expect(paper.backbone.taps).toBe('torchvision');
  });

  it('a file without a dataset section still gets the default category', () => {
    const c = RunConfigSchema.parse(trainEvalConfig({ ...engine }, { cfa: { seed: 3 } } as never));
    expect(c.dataset.category).toBe(DEFAULT_CATEGORY);
    expect(c.seed).toBe(3);
  });
});
