/**
 * @cfa/descriptor/testing — oracles and inputs of the descriptor's specs (tests, test helpers and
 * tools only; the lint rule keeps production code off it).
 *
 * - `descriptorForwardTf`: φ as differentiable TensorFlow.js ops, through which the specs take
 *   autograd as the independent check of the closed-form weight gradient.
 * - `parityInputs`, `parityInputsDigest`: the regenerable inputs of the fixtures computed by the
 *   CFA reference code's own modules (tools/torch-reference/official_fixtures.py).
 */
export { descriptorForwardTf } from '../descriptor-tf';
export type { DescriptorForwardTfParams } from '../descriptor-tf';
export { parityInputs, parityInputsDigest } from './parity-inputs';
export type { ParityInputsSpec } from './parity-inputs';
