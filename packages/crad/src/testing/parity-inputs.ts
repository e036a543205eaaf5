/**
 * The inputs of the parity fixtures computed by the CRAD reference code's own modules
 * (tools/torch-reference/crad_fixtures.py): a CRAD state dict in the reference module's names with
 * lively values (unit-scale grids, weights N(0, 1/fan_in), non-trivial BatchNorm), and features —
 * a pure function of the settings, so a spec regenerates exactly what the fixture was computed from
 * (checked by `parityInputsDigest`) instead of storing it. The reference's own initialisation
 * (weights N(0, 0.01²)) would leave every output near zero and compare nothing.
 *
 * @example
 * ```ts
 * const inputs = cradParityInputs({ seed: 3, channels: 8, height: 4, width: 4, batch: 3, layers: 2, expansion: 16, localResolution: 8, globalResolution: 4 });
 * ```
 */
import type { StateDict } from '@cfa/backbone';
import { createRng } from '@cfa/tensor-runtime';
import { initCradState } from '../crad-state';

export interface CradParitySpec {
  seed: number;
  channels: number;
  height: number;
  width: number;
  batch: number;
  layers: number;
  expansion: number;
  localResolution: number;
  globalResolution: number;
  /** Scale of the features (N(0, scale²)): sets where the blend's rounded MSE term falls. */
  featureScale: number;
}

/** `crad.<name>` for every state entry and `features` [B, h, w, C] (NHWC). */
export function cradParityInputs(spec: CradParitySpec): StateDict {
  const { channels, height, width, batch, seed } = spec;
  const state = initCradState(
    {
      seed,
      memory: { localResolution: spec.localResolution, globalResolution: spec.globalResolution },
      decoder: { layers: spec.layers, expansion: spec.expansion },
    },
    { channels, height, width },
  );
  const rng = createRng(seed).fork('crad-parity');
  const out: StateDict = new Map();
  for (const [name, t] of state) {
    const n = t.data.length;
    const draw = (f: () => number) => Float32Array.from({ length: n }, f);
    let data: Float32Array;
    if (name.startsWith('query.')) data = draw(() => rng.normal());
    else if (name.endsWith('running_var')) data = draw(() => 0.5 + rng.next());
    else if (name.endsWith('running_mean')) data = draw(() => 0.1 * rng.normal());
    else if (t.shape.length === 1 && name.endsWith('.weight')) data = draw(() => 1 + 0.1 * rng.normal());
    else if (name.endsWith('.bias')) data = draw(() => 0.1 * rng.normal());
    else {
      const fanIn = t.shape.slice(1).reduce((a, b) => a * b, 1);
      data = draw(() => rng.normal() / Math.sqrt(fanIn));
    }
    out.set(`crad.${name}`, { shape: t.shape, data });
  }
  out.set('features', {
    shape: [batch, height, width, channels],
    data: Float32Array.from({ length: batch * height * width * channels }, () => spec.featureScale * rng.normal()),
  });
  return out;
}
