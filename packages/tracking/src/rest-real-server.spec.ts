/**
 * The tracking contract and the raw server answers against a REAL MLflow server, when
 * `MLFLOW_TEST_TRACKING_URI` points at one — e.g. `../shared/mlflow-server/serve.sh start
 * /tmp/x/mlruns 5011` then `MLFLOW_TEST_TRACKING_URI=http://127.0.0.1:5011 npx vitest run`, or
 * `pip install mlflow && mlflow server --port 5011`. The server must keep its runs in a file store
 * (what `--backend-store-uri <folder>` gives), since some answers differ on SQL stores.
 */
import { describe, it } from 'vitest';
import { RestTrackingStore } from './rest-store';
import { trackingContract } from './testing/contract-suite';
import { serverContract } from './testing/server-contract';

const uri = process.env.MLFLOW_TEST_TRACKING_URI;
const reason =
  'MLFLOW_TEST_TRACKING_URI is not set (start a server with ../shared/mlflow-server/serve.sh start <store> <port>, or pip install mlflow && mlflow server --port <port>, and set it to http://127.0.0.1:<port>)';

if (uri) {
  const make = () => new RestTrackingStore({ uri, retry: { baseDelayMs: 50 }, historyPageSize: 1000 });
  trackingContract(`REST client → real MLflow server at ${uri}`, async () => make(), { reopen: () => make() });
  serverContract(`real MLflow server at ${uri}`, () => uri);
} else {
  process.stderr.write(`[tracking] real-server contract skipped: ${reason}\n`);
  describe('tracking contract: REST client → real MLflow server', () => {
    it.skip(`skipped: ${reason}`, () => undefined);
  });
}
