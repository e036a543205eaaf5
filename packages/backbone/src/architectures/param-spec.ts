/**
 * Interprets a definition symbolically: which parameters it needs (torchvision names and shapes),
 * which convolution each BatchNorm follows, and the shape of every feature map for an input size.
 * Feature dimensions are derived here from the model, never typed into a table.
 */
import { type BackboneDefinition, type ConvSpec, type NetBuilder, paddingPair, type PoolSpec } from './net-builder';

export interface ParamInfo {
  name: string;
  shape: number[];
  role:
    | 'conv.weight'
    | 'conv.bias'
    | 'bn.weight'
    | 'bn.bias'
    | 'bn.running_mean'
    | 'bn.running_var'
    | 'bn.num_batches_tracked';
  /** `num_batches_tracked` is bookkeeping: accepted when present, not required. */
  optional: boolean;
}

export interface ConvInfo {
  conv: string;
  bn: string | null;
  spec: Required<ConvSpec>;
}

export interface FeatureShape {
  name: string;
  channels: number;
  height: number;
  width: number;
  stride: number;
}

interface SymbolicMap {
  channels: number;
  height: number;
  width: number;
}

const outSize = (size: number, kernel: number, stride: number, padding: ConvSpec['padding']): number => {
  const [begin, end] = paddingPair(padding);
  return Math.floor((size + begin + end - kernel) / stride) + 1;
};

class SymbolicBuilder implements NetBuilder<SymbolicMap> {
  readonly params: ParamInfo[] = [];
  readonly convs: ConvInfo[] = [];

  convBn(conv: string, bn: string | null, x: SymbolicMap, s: ConvSpec): SymbolicMap {
    const spec: Required<ConvSpec> = { stride: 1, padding: 0, groups: 1, bias: false, ...s };
    if (x.channels !== spec.inChannels) {
      throw new Error(
        `definition error at ${conv}: input has ${x.channels} channels, the conv expects ${spec.inChannels}`,
      );
    }
    this.convs.push({ conv, bn, spec });
    this.params.push({
      name: `${conv}.weight`,
      shape: [spec.outChannels, spec.inChannels / spec.groups, spec.kernel, spec.kernel],
      role: 'conv.weight',
      optional: false,
    });
    if (spec.bias)
      this.params.push({ name: `${conv}.bias`, shape: [spec.outChannels], role: 'conv.bias', optional: false });
    if (bn) {
      for (const role of ['weight', 'bias', 'running_mean', 'running_var'] as const) {
        this.params.push({ name: `${bn}.${role}`, shape: [spec.outChannels], role: `bn.${role}`, optional: false });
      }
      this.params.push({
        name: `${bn}.num_batches_tracked`,
        shape: [],
        role: 'bn.num_batches_tracked',
        optional: true,
      });
    }
    return {
      channels: spec.outChannels,
      height: outSize(x.height, spec.kernel, spec.stride, spec.padding),
      width: outSize(x.width, spec.kernel, spec.stride, spec.padding),
    };
  }

  relu(x: SymbolicMap): SymbolicMap {
    return x;
  }

  leakyRelu(x: SymbolicMap): SymbolicMap {
    return x;
  }

  silu(x: SymbolicMap): SymbolicMap {
    return x;
  }

  sigmoid(x: SymbolicMap): SymbolicMap {
    return x;
  }

  globalAvgPool(x: SymbolicMap): SymbolicMap {
    return { channels: x.channels, height: 1, width: 1 };
  }

  mul(a: SymbolicMap, b: SymbolicMap): SymbolicMap {
    const broadcast = b.height === 1 && b.width === 1;
    if (a.channels !== b.channels || (!broadcast && (a.height !== b.height || a.width !== b.width))) {
      throw new Error(
        `definition error: mul of [${a.channels}, ${a.height}, ${a.width}] and [${b.channels}, ${b.height}, ${b.width}]`,
      );
    }
    return a;
  }

  concat(xs: SymbolicMap[]): SymbolicMap {
    const [first] = xs;
    if (xs.some((x) => x.height !== first.height || x.width !== first.width)) {
      throw new Error(
        `definition error: concat of maps with different sizes ${xs.map((x) => `${x.height}×${x.width}`).join(', ')}`,
      );
    }
    return { channels: xs.reduce((s, x) => s + x.channels, 0), height: first.height, width: first.width };
  }

  maxPool(x: SymbolicMap, p: PoolSpec): SymbolicMap {
    return {
      channels: x.channels,
      height: outSize(x.height, p.kernel, p.stride, p.padding),
      width: outSize(x.width, p.kernel, p.stride, p.padding),
    };
  }

  add(a: SymbolicMap, b: SymbolicMap): SymbolicMap {
    if (a.channels !== b.channels || a.height !== b.height || a.width !== b.width) {
      throw new Error(
        `definition error: add of [${a.channels}, ${a.height}, ${a.width}] and [${b.channels}, ${b.height}, ${b.width}]`,
      );
    }
    return a;
  }
}

export interface DefinitionSummary {
  params: ParamInfo[];
  convs: ConvInfo[];
  features: FeatureShape[];
}

/** Parameters, convolutions and feature shapes of a definition for a square input of `inputSize`. */
export function summarizeDefinition(def: BackboneDefinition, inputSize = 224): DefinitionSummary {
  const b = new SymbolicBuilder();
  const maps = def.forward(b, { channels: 3, height: inputSize, width: inputSize });
  return {
    params: b.params,
    convs: b.convs,
    features: maps.map((m, i) => ({ name: def.featureNames[i], ...m, stride: inputSize / m.height })),
  };
}

export function inferFeatureShapes(def: BackboneDefinition, inputSize = 224): FeatureShape[] {
  return summarizeDefinition(def, inputSize).features;
}
