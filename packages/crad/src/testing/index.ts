/**
 * Test support of @cfa/crad (specs and tools/torch-reference only; eslint refuses it in production
 * code): the regenerable inputs of the fixtures the CRAD reference code computes.
 */
export { cradParityInputs } from './parity-inputs';
export type { CradParitySpec } from './parity-inputs';
