import { describe, expect, it } from 'vitest';
import { rerunCommand } from './tracking-options';

describe('the command that runs a sweep again', () => {
  it('is npx cfa with the same arguments, without --fresh, without credentials, quoted for a shell', () => {
    expect(
      rerunCommand([
        'node',
        'main.ts',
        'sweep',
        'experiments/ablation-loss.yaml',
        '--fresh',
        '--tracking-uri',
        'http://alice:s3cret@mlflow:5000',
        '--data-root',
        '/data/my mvtec',
      ]),
    ).toBe(
      "npx cfa sweep experiments/ablation-loss.yaml --tracking-uri http://mlflow:5000 --data-root '/data/my mvtec'",
    );
  });
});
