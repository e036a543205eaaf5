/**
 * @cfa/patchcore/testing — the inputs of PatchCore's parity specs (tests and tools only; the lint
 * rule keeps production code off it): `patchCoreParityInputs`, `PATCHCORE_PARITY_SETTINGS`, the
 * regenerable inputs of the fixtures computed by the reference code's own modules
 * (tools/torch-reference/patchcore_fixtures.py).
 */
export { PATCHCORE_PARITY_SETTINGS, patchCoreParityInputs } from './parity-inputs';
export type { PatchCoreParitySpec } from './parity-inputs';
