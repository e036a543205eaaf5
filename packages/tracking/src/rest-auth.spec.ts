/**
 * The REST client on authenticated and TLS servers, without Python: the fake server behaving like
 * MLflow's basic-auth app (401 / 403), and an https server with certificates made by openssl for
 * the test (skipped, with the reason, where openssl is missing). The real basic-auth server is in
 * `auth-real-server.spec.ts`.
 */
import { execFileSync } from 'node:child_process';
import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:https';
import type { TLSSocket } from 'node:tls';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { inspect } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MlflowError, MlflowPermissionDeniedError, MlflowUnauthenticatedError } from './errors';
import { RestTrackingStore } from './rest-store';
import { SpoolingTrackingStore } from './spooling-store';
import { type FakeMlflowServer, startFakeMlflowServer } from './testing/fake-mlflow-server';

const PASSWORD = 'pw-that-must-not-leak';
const TOKEN = 'token-that-must-not-leak';

describe('REST client on a server that wants credentials (fake basic-auth)', () => {
  let server: FakeMlflowServer;
  const store = (env: Record<string, string>, uri = server.url) =>
    new RestTrackingStore({ uri, env, retry: { attempts: 4, baseDelayMs: 5 } });
  beforeAll(async () => {
    server = await startFakeMlflowServer({
      auth: { users: { admin: PASSWORD, reader: 'readerpw' }, readOnly: ['reader'], tokens: [TOKEN] },
    });
  });
  afterAll(() => server.close());

  it('Basic (env), Bearer (env) and user info in the URI all get in; the URI is logged without it', async () => {
    const admin = store({ MLFLOW_TRACKING_USERNAME: 'admin', MLFLOW_TRACKING_PASSWORD: PASSWORD });
    const experimentId = await admin.getOrCreateExperiment('auth');
    const run = await admin.createRun({ experimentId, runName: 'r' });
    expect(run.info.userId).toBe('admin');
    await admin.close();
    const bearer = store({ MLFLOW_TRACKING_TOKEN: TOKEN });
    expect((await bearer.getRun(run.info.runId)).info.runName).toBe('r');
    await bearer.close();
    const inUri = store({}, server.url.replace('http://', `http://admin:${PASSWORD}@`));
    expect(inUri.location).toBe(server.url);
    expect((await inUri.getRun(run.info.runId)).info.runId).toBe(run.info.runId);
    await inUri.close();
  });

  it('no credentials: a 401 at once (not retried) naming the server, the operation and the variables to set', async () => {
    const anonymous = store({});
    const before = server.requests.length;
    const error = (await anonymous.getOrCreateExperiment('auth').catch((e: unknown) => e)) as MlflowError;
    expect(error).toBeInstanceOf(MlflowUnauthenticatedError);
    expect(error.message).toContain(server.url);
    expect(error.message).toMatch(/experiments\/search/);
    expect(error.message).toMatch(/MLFLOW_TRACKING_USERNAME and MLFLOW_TRACKING_PASSWORD/);
    expect(server.requests.length - before).toBe(1);
    await anonymous.close();
  });

  it('a wrong password: a 401 naming the user and the variable, never a password', async () => {
    const wrong = store({ MLFLOW_TRACKING_USERNAME: 'admin', MLFLOW_TRACKING_PASSWORD: 'not-it' });
    const error = (await wrong.getOrCreateExperiment('auth').catch((e: unknown) => e)) as MlflowError;
    expect(error).toBeInstanceOf(MlflowUnauthenticatedError);
    expect(error.message).toMatch(/'admin'.*wrong password.*MLFLOW_TRACKING_PASSWORD/);
    expect(error.message).not.toContain('not-it');
    expect(inspect(wrong, { depth: 5 })).not.toContain('not-it');
    await wrong.close();
  });

  it('a READ-only user writing: a 403 (permission denied) that says what to ask for', async () => {
    const admin = store({ MLFLOW_TRACKING_USERNAME: 'admin', MLFLOW_TRACKING_PASSWORD: PASSWORD });
    const experimentId = await admin.getOrCreateExperiment('auth');
    await admin.close();
    const reader = store({ MLFLOW_TRACKING_USERNAME: 'reader', MLFLOW_TRACKING_PASSWORD: 'readerpw' });
    const error = (await reader.createRun({ experimentId, runName: 'x' }).catch((e: unknown) => e)) as MlflowError;
    expect(error).toBeInstanceOf(MlflowPermissionDeniedError);
    expect(error.message).toMatch(/403.*'reader'.*EDIT/);
    await reader.close();
  });

  it('the spool does not take 401/403: the write fails at once and nothing is spooled', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'auth-spool-'));
    const spoolPath = join(dir, 'spool.jsonl');
    const admin = store({ MLFLOW_TRACKING_USERNAME: 'admin', MLFLOW_TRACKING_PASSWORD: PASSWORD });
    const experimentId = await admin.getOrCreateExperiment('auth');
    const runId = (await admin.createRun({ experimentId, runName: 'spool' })).info.runId;
    await admin.close();
    const spooling = new SpoolingTrackingStore(
      store({ MLFLOW_TRACKING_USERNAME: 'admin', MLFLOW_TRACKING_PASSWORD: 'wrong-again' }),
      spoolPath,
    );
    await expect(spooling.logMetric(runId, 'loss', 1)).rejects.toBeInstanceOf(MlflowUnauthenticatedError);
    expect(spooling.backlog).toBe(0);
    await spooling.close();
    expect(await readFile(spoolPath, 'utf8').catch(() => '')).not.toContain('wrong-again');
  });
});

function openssl(args: string[], cwd: string): void {
  execFileSync('openssl', args, { cwd, stdio: 'ignore' });
}

/** A CA, a server certificate for 127.0.0.1 and a client certificate, all signed by the CA. */
async function certificates(): Promise<string | undefined> {
  try {
    const dir = await mkdtemp(join(tmpdir(), 'tls-'));
    openssl(
      [
        'req',
        '-x509',
        '-newkey',
        'rsa:2048',
        '-nodes',
        '-keyout',
        'ca.key',
        '-out',
        'ca.pem',
        '-days',
        '2',
        '-subj',
        '/CN=test-ca',
      ],
      dir,
    );
    await writeFile(join(dir, 'san.ext'), 'subjectAltName=IP:127.0.0.1\n');
    for (const name of ['server', 'client']) {
      openssl(
        [
          'req',
          '-newkey',
          'rsa:2048',
          '-nodes',
          '-keyout',
          `${name}.key`,
          '-out',
          `${name}.csr`,
          '-subj',
          `/CN=${name}`,
        ],
        dir,
      );
      openssl(
        [
          'x509',
          '-req',
          '-in',
          `${name}.csr`,
          '-CA',
          'ca.pem',
          '-CAkey',
          'ca.key',
          '-CAcreateserial',
          '-out',
          `${name}.pem`,
          '-days',
          '2',
          ...(name === 'server' ? ['-extfile', 'san.ext'] : []),
        ],
        dir,
      );
    }
    // MLflow's MLFLOW_TRACKING_CLIENT_CERT_PATH: one PEM with the certificate and its key
    await writeFile(
      join(dir, 'client-bundle.pem'),
      `${await readFile(join(dir, 'client.pem'), 'utf8')}${await readFile(join(dir, 'client.key'), 'utf8')}`,
    );
    return dir;
  } catch (error) {
    process.stderr.write(
      `[tracking] TLS tests skipped: openssl could not make certificates (${(error as Error).message.split('\n')[0]})\n`,
    );
    return undefined;
  }
}

const certs = await certificates();

describe.skipIf(!certs)(
  'REST client over TLS (MLFLOW_TRACKING_SERVER_CERT_PATH, _INSECURE_TLS, _CLIENT_CERT_PATH)',
  () => {
    let server: Server;
    let url: string;
    beforeAll(async () => {
      const read = (f: string) => readFile(join(certs!, f));
      server = createServer(
        {
          key: await read('server.key'),
          cert: await read('server.pem'),
          ca: await read('ca.pem'),
          requestCert: true,
          rejectUnauthorized: false,
        },
        (req, res) => {
          const client = (req.socket as TLSSocket).getPeerCertificate();
          const ok = Boolean(client?.subject) && (req.socket as TLSSocket).authorized;
          res.writeHead(200, { 'content-type': 'application/json' });
          // the experiment's name says whether a trusted client certificate came with the request
          res.end(
            JSON.stringify({ experiments: [{ experiment_id: '1', name: ok ? 'with-client-cert' : 'no-client-cert' }] }),
          );
        },
      );
      await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
      url = `https://127.0.0.1:${(server.address() as { port: number }).port}`;
    });
    afterAll(() => new Promise<void>((r) => server.close(() => r())));
    const names = async (env: Record<string, string>) => {
      const store = new RestTrackingStore({ uri: url, env, retry: { attempts: 2, baseDelayMs: 5 } });
      try {
        return (await store.getExperimentByName('with-client-cert'))
          ? 'with'
          : (await store.getExperimentByName('no-client-cert'))
            ? 'without'
            : '?';
      } finally {
        await store.close();
      }
    };

    it('an untrusted certificate is a TLS error at once, saying which variable to set', async () => {
      const error = (await names({}).catch((e: unknown) => e)) as MlflowError;
      expect(error).toBeInstanceOf(MlflowError);
      expect(error.errorCode).toBe('TLS_ERROR');
      expect(error.message).toMatch(/MLFLOW_TRACKING_SERVER_CERT_PATH/);
    });

    it('the CA from MLFLOW_TRACKING_SERVER_CERT_PATH verifies it; MLFLOW_TRACKING_INSECURE_TLS skips the check', async () => {
      expect(await names({ MLFLOW_TRACKING_SERVER_CERT_PATH: join(certs!, 'ca.pem') })).toBe('without');
      expect(await names({ MLFLOW_TRACKING_INSECURE_TLS: 'true' })).toBe('without');
    });

    it('MLFLOW_TRACKING_CLIENT_CERT_PATH presents the client certificate (one PEM with the key)', async () => {
      expect(
        await names({
          MLFLOW_TRACKING_SERVER_CERT_PATH: join(certs!, 'ca.pem'),
          MLFLOW_TRACKING_CLIENT_CERT_PATH: join(certs!, 'client-bundle.pem'),
        }),
      ).toBe('with');
    });
  },
);
