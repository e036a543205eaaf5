/**
 * The same contract against a real MLflow server, when `MLFLOW_TEST_TRACKING_URI` points at one
 * (`.ci/run` starts MLflow 3.6 from ../shared/mlflow-server and sets it).
 */
import { describe, it } from 'vitest';
import { RestTrackingStore } from './rest-store';
import { trackingContract } from './testing/contract-suite';
import { serverContract } from './testing/server-contract';

const uri = process.env.MLFLOW_TEST_TRACKING_URI;

if (uri) {
  trackingContract(`REST client → real MLflow server at ${uri}`, async () => new RestTrackingStore({ uri, retry: { baseDelayMs: 50 } }));
  serverContract(`real MLflow server at ${uri}`, () => uri);
} else {
  describe('tracking contract: REST client → real MLflow server', () => {
    it.skip('skipped: MLFLOW_TEST_TRACKING_URI is not set (start one with ../shared/mlflow-server/serve.sh start <store> <port>, or pip install mlflow && mlflow server)', () => undefined);
  });
  process.stderr.write('[tracking] real-server contract tests skipped: MLFLOW_TEST_TRACKING_URI is not set\n');
}
