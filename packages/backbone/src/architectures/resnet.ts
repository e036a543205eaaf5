/**
 * torchvision ResNets (torchvision/models/resnet.py), cut after `layer3`: the CFA reference code
 * taps `layer1..layer3` (strides 4, 8, 16). Parameter names and shapes are torchvision's.
 *
 * The two `taps` differ only in what is tapped, not in what flows on: the reference code's blocks
 * (`cnn/resnet.py` `BasicBlock`/`Bottleneck`) start with `F.relu(x)` and end with the residual
 * sum, so the next block sees the same ReLU'd sum as in torchvision; but `_forward_impl` returns
 * `F.leaky_relu` (slope 0.01) of each layer's last sum — negative values kept, scaled — where
 * torchvision's layer outputs are ReLU'd. Every ResNet number of the paper comes from those maps.
 *
 * @example
 * ```ts
 * const def = resnet18Definition();
 * inferFeatureShapes(def, 224); // [{ name: 'layer1', channels: 64, ... }, ...]
 * ```
 */
import { type BackboneDefinition, type NetBuilder, PLAIN_EMBEDDING, type Taps } from './net-builder';

type BlockKind = 'basic' | 'bottleneck';

interface ResNetSpec {
  name: string;
  block: BlockKind;
  layers: [number, number, number];
  /** Bottleneck width per group (64 for resnet50, 128 for wide_resnet50_2). */
  widthPerGroup: number;
  /**
   * Divides every channel count (tests only): a narrow copy of the same architecture keeps the
   * committed PyTorch parity fixtures small. torchvision's models are `widthDivisor` 1.
   */
  widthDivisor: number;
}

export interface ResNetOptions {
  widthDivisor?: number;
  /** Default 'reference' (the CFA reference code's maps). */
  taps?: Taps;
}

/** `F.leaky_relu`'s default negative slope. */
const REFERENCE_TAP_SLOPE = 0.01;

const EXPANSION: Record<BlockKind, number> = { basic: 1, bottleneck: 4 };

function basicBlock<T>(b: NetBuilder<T>, prefix: string, x: T, inplanes: number, planes: number, stride: number): T {
  let out = b.relu(
    b.convBn(`${prefix}.conv1`, `${prefix}.bn1`, x, {
      inChannels: inplanes,
      outChannels: planes,
      kernel: 3,
      stride,
      padding: 1,
    }),
  );
  out = b.convBn(`${prefix}.conv2`, `${prefix}.bn2`, out, {
    inChannels: planes,
    outChannels: planes,
    kernel: 3,
    padding: 1,
  });
  const identity =
    stride !== 1 || inplanes !== planes
      ? b.convBn(`${prefix}.downsample.0`, `${prefix}.downsample.1`, x, {
          inChannels: inplanes,
          outChannels: planes,
          kernel: 1,
          stride,
        })
      : x;
  return b.add(out, identity);
}

function bottleneck<T>(
  b: NetBuilder<T>,
  prefix: string,
  x: T,
  inplanes: number,
  planes: number,
  stride: number,
  widthPerGroup: number,
): T {
  const width = Math.floor(planes * (widthPerGroup / 64));
  const outC = planes * EXPANSION.bottleneck;
  let out = b.relu(
    b.convBn(`${prefix}.conv1`, `${prefix}.bn1`, x, { inChannels: inplanes, outChannels: width, kernel: 1 }),
  );
  out = b.relu(
    b.convBn(`${prefix}.conv2`, `${prefix}.bn2`, out, {
      inChannels: width,
      outChannels: width,
      kernel: 3,
      stride,
      padding: 1,
    }),
  );
  out = b.convBn(`${prefix}.conv3`, `${prefix}.bn3`, out, { inChannels: width, outChannels: outC, kernel: 1 });
  const identity =
    stride !== 1 || inplanes !== outC
      ? b.convBn(`${prefix}.downsample.0`, `${prefix}.downsample.1`, x, {
          inChannels: inplanes,
          outChannels: outC,
          kernel: 1,
          stride,
        })
      : x;
  return b.add(out, identity);
}

/** Both block kinds return the residual sum before the ReLU; the caller activates it. */
function resnetDefinition(spec: ResNetSpec, taps: Taps): BackboneDefinition {
  return {
    name: spec.name,
    taps,
    featureNames: ['layer1', 'layer2', 'layer3'],
    unusedPrefixes: ['layer4.', 'fc.'],
    bnEps: 1e-5,
    embedding: PLAIN_EMBEDDING,
    forward<T>(b: NetBuilder<T>, input: T): T[] {
      const base = 64 / spec.widthDivisor;
      let x = b.relu(
        b.convBn('conv1', 'bn1', input, { inChannels: 3, outChannels: base, kernel: 7, stride: 2, padding: 3 }),
      );
      x = b.maxPool(x, { kernel: 3, stride: 2, padding: 1 });
      let inplanes = base;
      const features: T[] = [];
      spec.layers.forEach((blocks, i) => {
        const planes = base * 2 ** i;
        let sum = x;
        for (let j = 0; j < blocks; j++) {
          const stride = i > 0 && j === 0 ? 2 : 1;
          const prefix = `layer${i + 1}.${j}`;
          sum =
            spec.block === 'basic'
              ? basicBlock(b, prefix, x, inplanes, planes, stride)
              : bottleneck(b, prefix, x, inplanes, planes, stride, spec.widthPerGroup);
          inplanes = planes * EXPANSION[spec.block];
          const last = i === spec.layers.length - 1 && j === blocks - 1;
          // after the last tap nothing flows on, so its ReLU is not built
          if (!(last && taps === 'reference')) x = b.relu(sum);
        }
        features.push(taps === 'reference' ? b.leakyRelu(sum, REFERENCE_TAP_SLOPE) : x);
      });
      return features;
    },
  };
}

export const resnet18Definition = (options: ResNetOptions = {}): BackboneDefinition =>
  resnetDefinition(
    {
      name: 'resnet18',
      block: 'basic',
      layers: [2, 2, 2],
      widthPerGroup: 64,
      widthDivisor: options.widthDivisor ?? 1,
    },
    options.taps ?? 'reference',
  );

export const wideResnet50Definition = (options: ResNetOptions = {}): BackboneDefinition =>
  resnetDefinition(
    {
      name: 'wide_resnet50_2',
      block: 'bottleneck',
      layers: [3, 4, 6],
      widthPerGroup: 128,
      widthDivisor: options.widthDivisor ?? 1,
    },
    options.taps ?? 'reference',
  );
