/**
 * @cfa/tracking/testing/contract — the vitest suites every tracking store and every MLflow server
 * must pass (`trackingContract`, `serverContract`); for spec files only, as they define tests.
 *
 * @example
 * ```ts
 * trackingContract('my store', async () => new MyStore());
 * ```
 */
export { trackingContract } from './contract-suite';
export type { ContractOptions } from './contract-suite';
export { serverContract } from './server-contract';
