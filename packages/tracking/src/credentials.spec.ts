import { mkdir, mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { redactUri, redactUrls, trackingCredentials } from './credentials';
import { MlflowInvalidParameterError } from './errors';

const noHome = join(tmpdir(), 'no-such-home-for-credentials');

describe('credentials as MLflow reads them', () => {
  it('Basic from MLFLOW_TRACKING_USERNAME/_PASSWORD; Bearer from MLFLOW_TRACKING_TOKEN; Basic wins when both are set', () => {
    const basic = trackingCredentials(
      { MLFLOW_TRACKING_USERNAME: 'alice', MLFLOW_TRACKING_PASSWORD: 'pw:1' },
      undefined,
      noHome,
    );
    expect(basic.kind).toBe('basic');
    expect(basic.authorization).toBe(`Basic ${Buffer.from('alice:pw:1').toString('base64')}`);
    const bearer = trackingCredentials({ MLFLOW_TRACKING_TOKEN: 'tok' }, undefined, noHome);
    expect(bearer.authorization).toBe('Bearer tok');
    const both = trackingCredentials(
      { MLFLOW_TRACKING_USERNAME: 'a', MLFLOW_TRACKING_PASSWORD: 'b', MLFLOW_TRACKING_TOKEN: 't' },
      undefined,
      noHome,
    );
    expect(both.kind).toBe('basic');
    expect(trackingCredentials({}, undefined, noHome)).toMatchObject({
      kind: 'none',
      tls: { rejectUnauthorized: true },
    });
  });

  it('the description names the variables and the user, never the password or the token', () => {
    const basic = trackingCredentials(
      { MLFLOW_TRACKING_USERNAME: 'alice', MLFLOW_TRACKING_PASSWORD: 'hunter2' },
      undefined,
      noHome,
    );
    expect(basic.description).toContain('alice');
    expect(basic.description).toContain('MLFLOW_TRACKING_PASSWORD');
    expect(basic.description).not.toContain('hunter2');
    const bearer = trackingCredentials({ MLFLOW_TRACKING_TOKEN: 'sekrit-token' }, undefined, noHome);
    expect(bearer.description).not.toContain('sekrit');
  });

  it('~/.mlflow/credentials when the environment has none; the environment wins', async () => {
    const home = await mkdtemp(join(tmpdir(), 'home-'));
    await mkdir(join(home, '.mlflow'));
    await writeFile(
      join(home, '.mlflow', 'credentials'),
      '[mlflow]\nmlflow_tracking_username = bob\nmlflow_tracking_password = filepw\n',
    );
    expect(trackingCredentials({}, undefined, home)).toMatchObject({ kind: 'basic', username: 'bob' });
    expect(trackingCredentials({ MLFLOW_TRACKING_USERNAME: 'env' }, undefined, home).username).toBe('env');
  });

  it('user info in the URI is Basic auth when the environment has none, and is redacted everywhere else', () => {
    const c = trackingCredentials({}, 'http://carol:pa%40ss@host:5000/prefix', noHome);
    expect(c.authorization).toBe(`Basic ${Buffer.from('carol:pa@ss').toString('base64')}`);
    expect(redactUri('http://carol:pa%40ss@host:5000/prefix')).toBe('http://host:5000/prefix');
    expect(redactUri('http://host:5000')).toBe('http://host:5000');
    expect(redactUrls('cfa sweep x.yaml --tracking-uri https://u:p@h/ --redis redis://:pw@r:6379')).toBe(
      'cfa sweep x.yaml --tracking-uri https://h/ --redis redis://r:6379',
    );
  });

  it('refuses what MLflow refuses, naming the variables: insecure TLS with a CA, half a Basic pair, unreadable PEMs, bad booleans', () => {
    const refused = (env: Record<string, string>) => {
      try {
        trackingCredentials(env, undefined, noHome);
      } catch (error) {
        expect(error).toBeInstanceOf(MlflowInvalidParameterError);
        return (error as Error).message;
      }
      return 'accepted';
    };
    expect(refused({ MLFLOW_TRACKING_INSECURE_TLS: 'true', MLFLOW_TRACKING_SERVER_CERT_PATH: '/x.pem' })).toMatch(
      /MLFLOW_TRACKING_INSECURE_TLS and MLFLOW_TRACKING_SERVER_CERT_PATH are both set/,
    );
    expect(refused({ MLFLOW_TRACKING_USERNAME: 'a' })).toMatch(/MLFLOW_TRACKING_PASSWORD is not/);
    expect(refused({ MLFLOW_TRACKING_SERVER_CERT_PATH: '/nope/ca.pem' })).toMatch(
      /MLFLOW_TRACKING_SERVER_CERT_PATH=\/nope\/ca.pem/,
    );
    expect(refused({ MLFLOW_TRACKING_INSECURE_TLS: 'maybe' })).toMatch(/MLFLOW_TRACKING_INSECURE_TLS='maybe'/);
    expect(trackingCredentials({ MLFLOW_TRACKING_INSECURE_TLS: '1' }, undefined, noHome).tls.rejectUnauthorized).toBe(
      false,
    );
  });
});
