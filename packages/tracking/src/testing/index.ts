/**
 * @cfa/tracking/testing — servers and suites for tests, apart from the production entry.
 *
 * - `startFakeMlflowServer`: an in-process MLflow 3.6 for fast tests, with fault injection and
 *   MLflow's basic-auth behaviour on request.
 * - `startRealMlflow`, `findServeScript`, `freePort`: the real server (serve.sh) for tests that need it.
 * - `startSilentServer`: a socket that accepts and never answers (deadline tests).
 * - `trackingContract`, `serverContract`: the behaviours every store and every server must show.
 * - `processStartTime`: what a spool lock records of its owner, for tests that fake a lock holder.
 */
export { FakeMlflowServerOptionsSchema, startFakeMlflowServer } from './fake-mlflow-server';
export type { FakeMlflowServer, FakeMlflowServerOptions, FakeRequestRecord, FaultOptions } from './fake-mlflow-server';
export { REAL_SERVER_ADMIN, findServeScript, freePort, startRealMlflow } from './real-server';
export type { RealServer } from './real-server';
export { startSilentServer } from './silent-server';
export type { SilentServer } from './silent-server';
export { trackingContract } from './contract-suite';
export type { ContractOptions } from './contract-suite';
export { serverContract } from './server-contract';
export { processStartTime } from '../spool-journal';
