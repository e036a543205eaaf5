/**
 * A CRAD state dict as tfjs tensors (the lookup the forward pass reads), and back: one place for
 * the conversions the trainer, the predictor and the specs share.
 */
import * as tf from '@tensorflow/tfjs-core';
import type { StateDict } from '@cfa/backbone';

/** Every entry of `state` (or only `names`) as a tensor, by name; the caller disposes them. */
export function stateTensors(state: StateDict, names: readonly string[] = [...state.keys()]): Map<string, tf.Tensor> {
  return new Map(
    names.map((n) => {
      const t = state.get(n);
      if (!t) throw new Error(`CRAD state has no entry '${n}'`);
      return [n, tf.tensor(t.data, t.shape)];
    }),
  );
}
