/**
 * @cfa/tracking/testing — servers for tests, apart from the production entry; importable from any
 * process (tools too). The vitest suites every store and server must pass are in
 * `@cfa/tracking/testing/contract`.
 *
 * - `startFakeMlflowServer`: an in-process MLflow 3.6 for fast tests, with fault injection and
 *   MLflow's basic-auth behaviour on request.
 * - `startRealMlflow`, `findServeScript`, `freePort`: the real server (serve.sh) for tests that need it.
 * - `startSilentServer`: a socket that accepts and never answers (deadline tests).
 */
export { FakeMlflowServerOptionsSchema, startFakeMlflowServer } from './fake-mlflow-server';
export type { FakeMlflowServer, FakeMlflowServerOptions, FakeRequestRecord, FaultOptions } from './fake-mlflow-server';
export { REAL_SERVER_ADMIN, findServeScript, freePort, startRealMlflow } from './real-server';
export type { RealServer } from './real-server';
export { startSilentServer } from './silent-server';
export type { SilentServer } from './silent-server';
