import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, it } from 'vitest';
import { calibrationImages } from '@cfa/data';
import { createTfBackboneRunner } from './execution/tf-runner';
import { loadBackbone } from './backbone-model';
import { randomInitWeights } from './weights/random-init';
import { writeSafetensors } from './weights/safetensors';
import { resnet18Definition } from './architectures/resnet';
import { efficientNetB5Definition } from './architectures/efficientnet';

async function tmp(): Promise<string> {
  return mkdtemp(join(tmpdir(), 'backbone-'));
}

describe('loadBackbone', () => {
  it('defaults to a seeded random init that is reproducible and tagged as random', async () => {
    const a = await loadBackbone({ name: 'resnet18', seed: 3, calibrateBatchNorm: false });
    const b = await loadBackbone({ name: 'resnet18', seed: 3, calibrateBatchNorm: false });
    const c = await loadBackbone({ name: 'resnet18', seed: 4, calibrateBatchNorm: false });
    expect(a.weightsSource).toEqual({ kind: 'random', seed: 3, id: 'random:resnet18:reference:3' });
    expect(a.weights.get('layer2.0.conv1.weight')!.data).toEqual(b.weights.get('layer2.0.conv1.weight')!.data);
    expect(a.weights.get('layer2.0.conv1.weight')!.data).not.toEqual(c.weights.get('layer2.0.conv1.weight')!.data);
    expect(a.features.map((f) => f.channels)).toEqual([64, 128, 256]);
  });

  it('calibrates BatchNorm on the fixed synthetic batch by default: every tapped map has unit-scale activations', async () => {
    const plain = await loadBackbone({ name: 'resnet18', seed: 0, calibrateBatchNorm: false });
    const calibrated = await loadBackbone({ name: 'resnet18', seed: 0 });
    expect(calibrated.weightsSource.id).toBe('random-bn:resnet18:reference:0');
    expect(await loadBackbone({ name: 'resnet18', seed: 0 })).toBe(calibrated); // one calibration per process
    const rms = (model: typeof plain) => {
      const runner = createTfBackboneRunner(model);
      const x = tf.tensor4d(calibrationImages({ count: 2, size: 64, seed: 5 }), [2, 64, 64, 3]);
      const maps = runner.forward(x);
      const out = maps.map((m) => Math.sqrt(tf.mean(tf.square(m)).dataSync()[0]));
      tf.dispose([x, ...maps]);
      runner.dispose();
      return out;
    };
    // before: scale drifts with depth; after: each map is near unit RMS (ReLU of normalised values)
    for (const v of rms(calibrated)) {
      expect(v).toBeGreaterThan(0.5);
      expect(v).toBeLessThan(2);
    }
    expect(calibrated.weights.get('layer3.1.bn2.running_var')!.data).not.toEqual(
      plain.weights.get('layer3.1.bn2.running_var')!.data,
    );
    expect(calibrated.weights.get('layer3.1.conv2.weight')!.data).toEqual(
      plain.weights.get('layer3.1.conv2.weight')!.data,
    );
  });

  it('uses Kaiming-normal fan_out for conv weights (std √(2/fan_out)) and identity BatchNorm', () => {
    const w = randomInitWeights(resnet18Definition(), 0);
    const conv = w.get('layer3.0.conv2.weight')!; // [256, 256, 3, 3]: fan_out = 2304
    const mean = conv.data.reduce((s, v) => s + v, 0) / conv.data.length;
    const std = Math.sqrt(conv.data.reduce((s, v) => s + (v - mean) ** 2, 0) / conv.data.length);
    expect(std).toBeCloseTo(Math.sqrt(2 / 2304), 3);
    expect(Array.from(w.get('bn1.running_var')!.data).every((v) => v === 1)).toBe(true);
    expect(Array.from(w.get('bn1.bias')!.data).every((v) => v === 0)).toBe(true);
  });

  it('loads a .safetensors file with torchvision names, ignoring layer4/fc, and records its hash', async () => {
    const dir = await tmp();
    const weights = randomInitWeights(resnet18Definition(), 9);
    weights.set('fc.weight', { shape: [2, 2], data: new Float32Array(4) });
    weights.set('layer4.0.conv1.weight', { shape: [1], data: new Float32Array(1) });
    await writeSafetensors(join(dir, 'r18.safetensors'), weights);
    const model = await loadBackbone({ name: 'resnet18', weightsPath: join(dir, 'r18.safetensors') });
    expect(model.weightsSource.kind).toBe('file');
    if (model.weightsSource.kind === 'file') {
      expect(model.weightsSource.sha256).toMatch(/^[0-9a-f]{64}$/);
      expect(model.weightsSource.report.unused.sort()).toEqual(['fc.weight', 'layer4.0.conv1.weight']);
    }
    expect(model.weights.get('conv1.weight')!.data).toEqual(weights.get('conv1.weight')!.data);
  });

  it('names missing, unexpected and wrong-shaped keys, and accepts missing ones only with allowPartial', async () => {
    const dir = await tmp();
    const weights = randomInitWeights(resnet18Definition(), 1);
    weights.delete('layer1.0.bn1.running_var');
    weights.set('layer9.conv.weight', { shape: [1], data: new Float32Array(1) });
    weights.set('layer2.0.conv1.weight', { shape: [128, 64, 1, 1], data: new Float32Array(128 * 64) });
    await writeSafetensors(join(dir, 'bad.safetensors'), weights);
    const error = await loadBackbone({ name: 'resnet18', weightsPath: join(dir, 'bad.safetensors') }).catch(
      (e: Error) => e,
    );
    expect(error).toBeInstanceOf(Error);
    expect((error as Error).message).toMatch(
      /bad\.safetensors: missing keys: layer1\.0\.bn1\.running_var; unexpected keys: layer9\.conv\.weight; wrong shapes: layer2\.0\.conv1\.weight expected \[128, 64, 3, 3\] found \[128, 64, 1, 1\]/,
    );

    const partial = randomInitWeights(resnet18Definition(), 1);
    partial.delete('layer1.0.bn1.running_var');
    await writeSafetensors(join(dir, 'partial.safetensors'), partial);
    await expect(loadBackbone({ name: 'resnet18', weightsPath: join(dir, 'partial.safetensors') })).rejects.toThrow(
      /missing keys: layer1\.0\.bn1\.running_var.*--allow-partial/,
    );
    const model = await loadBackbone({
      name: 'resnet18',
      weightsPath: join(dir, 'partial.safetensors'),
      allowPartial: true,
    });
    expect(model.weights.get('layer1.0.bn1.running_var')!.data.every((v) => v === 1)).toBe(true);
  });

  it('taps: the same weights give another featureId (feature caches key on it), the weights id stays', async () => {
    const reference = await loadBackbone({ name: 'resnet18', seed: 2, calibrateBatchNorm: false });
    const torchvision = await loadBackbone({
      name: 'resnet18',
      seed: 2,
      calibrateBatchNorm: false,
      taps: 'torchvision',
    });
    expect(reference.definition.taps).toBe('reference');
    expect(torchvision.definition.taps).toBe('torchvision');
    expect(reference.featureId).not.toBe(torchvision.featureId);
    expect(reference.weights.get('layer1.0.conv1.weight')!.data).toEqual(
      torchvision.weights.get('layer1.0.conv1.weight')!.data,
    );
  });

  it("efficientnet_b5: a file in the other variant's names says which taps it fits", async () => {
    const dir = await tmp();
    const path = join(dir, 'tv-b5.safetensors');
    await writeSafetensors(path, randomInitWeights(efficientNetB5Definition({ taps: 'torchvision' }), 0));
    await expect(loadBackbone({ name: 'efficientnet_b5', weightsPath: path })).rejects.toThrow(
      /tv-b5\.safetensors: missing keys: _conv_stem\.weight.*with taps 'torchvision': set backbone\.taps: torchvision/,
    );
    const model = await loadBackbone({ name: 'efficientnet_b5', weightsPath: path, taps: 'torchvision' });
    expect(model.features.map((f) => f.channels)).toEqual([200, 192, 176]);
  });

  it('suggests --allow-partial only for missing keys, never for wrong shapes, and says when it was given in vain', async () => {
    const dir = await tmp();
    const weights = randomInitWeights(resnet18Definition(), 1);
    weights.set('conv1.weight', { shape: [64, 3, 3, 3], data: new Float32Array(64 * 27) });
    await writeSafetensors(join(dir, 'shape.safetensors'), weights);
    const path = join(dir, 'shape.safetensors');
    const plain = await loadBackbone({ name: 'resnet18', weightsPath: path }).then(
      () => new Error('loaded'),
      (e: Error) => e,
    );
    expect(plain.message).toMatch(
      /conv1\.weight expected \[64, 3, 7, 7\] found \[64, 3, 3, 3\]\. The file does not fit/,
    );
    expect(plain.message).not.toMatch(/Pass --allow-partial/);
    const given = await loadBackbone({ name: 'resnet18', weightsPath: path, allowPartial: true }).then(
      () => new Error('loaded'),
      (e: Error) => e,
    );
    expect(given.message).toMatch(/--allow-partial fills missing parameters only; it cannot use wrong-shaped/);
    expect(given.message).not.toMatch(/Pass --allow-partial/);
  });

  it('refuses NaN and infinite weights at load, naming the tensor, but not in the unused head', async () => {
    const dir = await tmp();
    const weights = randomInitWeights(resnet18Definition(), 2);
    const conv = weights.get('layer1.0.conv1.weight')!;
    const damaged = Float32Array.from(conv.data);
    damaged[5] = NaN;
    damaged[9] = -Infinity;
    weights.set('layer1.0.conv1.weight', { shape: conv.shape, data: damaged });
    await writeSafetensors(join(dir, 'nan.safetensors'), weights);
    // the outcome as text: a resolved model would be too large for the assertion to print
    const outcome = await loadBackbone({ name: 'resnet18', weightsPath: join(dir, 'nan.safetensors') }).then(
      () => 'loaded',
      (e: Error) => e.message,
    );
    expect(outcome).toMatch(
      /nan\.safetensors: 'layer1\.0\.conv1\.weight' holds 2 non-finite value\(s\) \(NaN at flat index 5\): the file is damaged/,
    );
    const head = randomInitWeights(resnet18Definition(), 2);
    head.set('fc.weight', { shape: [1], data: new Float32Array([NaN]) });
    await writeSafetensors(join(dir, 'head.safetensors'), head);
    const model = await loadBackbone({ name: 'resnet18', weightsPath: join(dir, 'head.safetensors') });
    expect(model.weightsSource.kind).toBe('file');
  });

  it('refuses unknown extensions and says which backbones exist', async () => {
    await expect(loadBackbone({ name: 'resnet18', weightsPath: '/tmp/w.onnx' })).rejects.toThrow(
      /cannot read|unknown weight file extension/,
    );
    await expect(loadBackbone({ name: 'alexnet' })).rejects.toThrow(
      /unknown backbone 'alexnet': expected one of resnet18, wide_resnet50_2, vgg19, vgg19_bn, efficientnet_b5/,
    );
  });
});
