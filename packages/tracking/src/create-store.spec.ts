import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { describe, expect, it } from 'vitest';
import { createTrackingStore, DEFAULT_LOCAL_STORE } from './create-store';
import { MlflowInvalidParameterError } from './errors';
import { FileTrackingStore } from './file-store';
import { RestTrackingStore } from './rest-store';

describe('createTrackingStore', () => {
  it('REST for an http(s) URI, given or from MLFLOW_TRACKING_URI', async () => {
    const given = createTrackingStore({ uri: 'http://127.0.0.1:5000/' });
    expect(given).toBeInstanceOf(RestTrackingStore);
    expect(given.location).toBe('http://127.0.0.1:5000');
    const fromEnv = createTrackingStore({ env: { MLFLOW_TRACKING_URI: 'https://mlflow.example.org' } });
    expect(fromEnv.location).toBe('https://mlflow.example.org');
    await Promise.all([given.close(), fromEnv.close()]);
  });

  it('the file store in ./mlruns when nothing is set (an empty variable counts as unset), or in localDir', async () => {
    const local = createTrackingStore({ env: {} });
    expect(local).toBeInstanceOf(FileTrackingStore);
    expect(local.location).toBe(join(process.cwd(), DEFAULT_LOCAL_STORE));
    expect(createTrackingStore({ env: { MLFLOW_TRACKING_URI: '  ' }, localDir: '/tmp/x' }).location).toBe('/tmp/x');
  });

  it('file: URIs and plain paths are file stores', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'uri-'));
    expect(createTrackingStore({ uri: pathToFileURL(join(dir, 'a b')).href }).location).toBe(join(dir, 'a b'));
    expect(createTrackingStore({ uri: 'file:relative/runs' }).location).toBe(join(process.cwd(), 'relative/runs'));
    expect(createTrackingStore({ uri: join(dir, 'plain') }).location).toBe(join(dir, 'plain'));
  });

  it('refuses schemes it cannot speak, and misspelt options, saying what to do', () => {
    expect(() => createTrackingStore({ uri: 'sqlite:///mlflow.db' })).toThrow(
      /mlflow server --backend-store-uri sqlite:\/\/\/mlflow.db/,
    );
    expect(() => createTrackingStore({ localdir: 'x' } as never)).toThrow(MlflowInvalidParameterError);
  });
});
