/**
 * A state dict: parameter name → float32 tensor in PyTorch layout (conv weights OIHW), keyed by
 * torchvision's names so that a user's weight file loads without renaming.
 */

export interface WeightTensor {
  shape: number[];
  data: Float32Array;
}

export type StateDict = Map<string, WeightTensor>;

export function weightTensor(shape: number[], data?: Float32Array): WeightTensor {
  const size = shape.reduce((a, b) => a * b, 1);
  if (data && data.length !== size)
    throw new Error(`weight of shape [${shape}] needs ${size} values, got ${data.length}`);
  return { shape, data: data ?? new Float32Array(size) };
}

/** Shape as `[a, b, c]` for messages. */
export function formatShape(shape: readonly number[]): string {
  return `[${shape.join(', ')}]`;
}

/** Looks a parameter up, failing with the parameter's name when it is absent. */
export function requireWeight(weights: StateDict, name: string): WeightTensor {
  const w = weights.get(name);
  if (!w) throw new Error(`weights have no parameter '${name}'`);
  return w;
}
