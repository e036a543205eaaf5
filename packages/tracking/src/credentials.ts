/**
 * How the REST client authenticates, read as MLflow's own clients read it
 * (`mlflow/utils/credentials.py`, `mlflow/utils/rest_utils.py`):
 *
 * | variable                            | effect                                                           |
 * | ----------------------------------- | ---------------------------------------------------------------- |
 * | `MLFLOW_TRACKING_USERNAME` + `_PASSWORD` | HTTP Basic (MLflow's basic-auth app); also `~/.mlflow/credentials` |
 * | `MLFLOW_TRACKING_TOKEN`             | `Authorization: Bearer <token>` (Databricks, managed MLflow, proxies); Basic wins when both are set |
 * | `MLFLOW_TRACKING_INSECURE_TLS`      | `true`/`1`: do not verify the server's certificate               |
 * | `MLFLOW_TRACKING_SERVER_CERT_PATH`  | a CA bundle (PEM) to verify the server with                      |
 * | `MLFLOW_TRACKING_CLIENT_CERT_PATH`  | a PEM holding the client certificate and its key (mutual TLS)   |
 *
 * The secrets stay inside the object this returns (`authorization`, `tls`): `description`, the
 * only text meant for messages, names the variables and the user, never a password or a token.
 * User info in a tracking URI (`http://user:pass@host`) is taken out of the URI (`redactUri`) and
 * used as Basic credentials when the environment has none.
 *
 * @example
 * ```ts
 * const creds = trackingCredentials({ MLFLOW_TRACKING_USERNAME: 'alice', MLFLOW_TRACKING_PASSWORD: 's3cret' });
 * creds.description;          // "Basic auth as 'alice' (MLFLOW_TRACKING_USERNAME / MLFLOW_TRACKING_PASSWORD)"
 * redactUri('http://a:b@h:5000/x'); // 'http://h:5000/x'
 * ```
 */
import { readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { MlflowInvalidParameterError } from './errors';

/** The environment variables MLflow's clients read for credentials and TLS. */
export const TRACKING_ENV = {
  username: 'MLFLOW_TRACKING_USERNAME',
  password: 'MLFLOW_TRACKING_PASSWORD',
  token: 'MLFLOW_TRACKING_TOKEN',
  insecureTls: 'MLFLOW_TRACKING_INSECURE_TLS',
  serverCertPath: 'MLFLOW_TRACKING_SERVER_CERT_PATH',
  clientCertPath: 'MLFLOW_TRACKING_CLIENT_CERT_PATH',
} as const;

export interface TrackingTls {
  rejectUnauthorized: boolean;
  ca?: Buffer;
  cert?: Buffer;
  key?: Buffer;
}

export interface TrackingCredentials {
  kind: 'none' | 'basic' | 'bearer';
  /** The Basic user, for messages and `mlflow.user` (not a secret). */
  username?: string;
  /** How this client authenticates, for messages: variables and user, never a secret. */
  description: string;
  /** The `Authorization` header value; never printed. */
  authorization?: string;
  tls: TrackingTls;
}

type Env = Record<string, string | undefined>;

/** MLflow's `_BooleanEnvironmentVariable`: `true`/`1` (any case) are true, `false`/`0`/empty false. */
function booleanVar(env: Env, name: string): boolean {
  const raw = env[name]?.trim().toLowerCase();
  if (!raw || raw === 'false' || raw === '0') return false;
  if (raw === 'true' || raw === '1') return true;
  throw new MlflowInvalidParameterError(
    `${name}='${env[name]}': expected true, false, 1 or 0`,
    'INVALID_PARAMETER_VALUE',
  );
}

function readPem(env: Env, name: string): Buffer {
  const path = env[name]!;
  try {
    return readFileSync(path);
  } catch (error) {
    throw new MlflowInvalidParameterError(
      `${name}=${path}: cannot read it (${(error as NodeJS.ErrnoException).code ?? error}); expected a PEM file`,
      'INVALID_PARAMETER_VALUE',
    );
  }
}

/** `~/.mlflow/credentials` (`[mlflow]` with `mlflow_tracking_username` / `mlflow_tracking_password`), as MLflow reads it. */
function credentialsFile(home: string): { username?: string; password?: string } {
  let text: string;
  try {
    text = readFileSync(join(home, '.mlflow', 'credentials'), 'utf8');
  } catch {
    return {};
  }
  let section = '';
  const out: { username?: string; password?: string } = {};
  for (const raw of text.split(/\r?\n/)) {
    const line = raw.trim();
    if (!line || line.startsWith('#') || line.startsWith(';')) continue;
    const header = /^\[(.+)\]$/.exec(line);
    if (header) {
      section = header[1].trim();
      continue;
    }
    const kv = /^([^=:]+)[=:](.*)$/.exec(line);
    if (section !== 'mlflow' || !kv) continue;
    const key = kv[1].trim().toLowerCase();
    if (key === 'mlflow_tracking_username') out.username = kv[2].trim();
    if (key === 'mlflow_tracking_password') out.password = kv[2].trim();
  }
  return out;
}

/** The URI without user info (`http://user:pass@host` → `http://host`), for logs, tags and job data. */
export function redactUri(uri: string): string {
  try {
    const url = new URL(uri);
    if (!url.username && !url.password) return uri;
    url.username = '';
    url.password = '';
    return url.href.replace(/\/$/, uri.endsWith('/') ? '/' : '');
  } catch {
    return uri.replace(/\/\/[^/@]*@/, '//');
  }
}

/** Any URL in a text (a command line, a message) with its user info taken out. */
export function redactUrls(text: string): string {
  return text.replace(/\b([a-z][\w+.-]*:\/\/)[^/\s@]*@/gi, '$1');
}

/**
 * The credentials and TLS settings for a tracking URI, from `env` (default `process.env`) and
 * `~/.mlflow/credentials`. Throws `MlflowInvalidParameterError` naming the variable for a setting
 * MLflow would refuse too (both an insecure and a verified TLS, a password without a user, an
 * unreadable PEM file).
 */
export function trackingCredentials(env: Env = process.env, uri?: string, home = homedir()): TrackingCredentials {
  const file = credentialsFile(home);
  let username = env[TRACKING_ENV.username] || file.username;
  let password = env[TRACKING_ENV.password] || file.password;
  const token = env[TRACKING_ENV.token] || undefined;
  let fromUri = false;
  if (!username && !password && uri) {
    try {
      const url = new URL(uri);
      if (url.username) {
        username = decodeURIComponent(url.username);
        password = decodeURIComponent(url.password);
        fromUri = true;
      }
    } catch {
      // not a URL: nothing to take
    }
  }
  if (Boolean(username) !== Boolean(password) && !token) {
    const missing = username ? TRACKING_ENV.password : TRACKING_ENV.username;
    throw new MlflowInvalidParameterError(
      `${username ? TRACKING_ENV.username : TRACKING_ENV.password} is set but ${missing} is not: MLflow's Basic auth needs both`,
      'INVALID_PARAMETER_VALUE',
    );
  }
  const insecure = booleanVar(env, TRACKING_ENV.insecureTls);
  if (insecure && env[TRACKING_ENV.serverCertPath])
    throw new MlflowInvalidParameterError(
      `${TRACKING_ENV.insecureTls} and ${TRACKING_ENV.serverCertPath} are both set: either skip verifying the server's certificate or verify it with that CA, not both (MLflow refuses this too)`,
      'INVALID_PARAMETER_VALUE',
    );
  const tls: TrackingTls = { rejectUnauthorized: !insecure };
  if (env[TRACKING_ENV.serverCertPath]) tls.ca = readPem(env, TRACKING_ENV.serverCertPath);
  if (env[TRACKING_ENV.clientCertPath]) {
    // MLflow hands the path to requests as `cert=`: one PEM with the certificate and its key
    tls.cert = tls.key = readPem(env, TRACKING_ENV.clientCertPath);
  }
  if (username && password) {
    const where = fromUri
      ? 'the user info of the tracking URI'
      : env[TRACKING_ENV.username]
        ? `${TRACKING_ENV.username} / ${TRACKING_ENV.password}`
        : '~/.mlflow/credentials';
    return {
      kind: 'basic',
      username,
      description: `Basic auth as '${username}' (${where})`,
      authorization: `Basic ${Buffer.from(`${username}:${password}`).toString('base64')}`,
      tls,
    };
  }
  if (token)
    return {
      kind: 'bearer',
      description: `a bearer token (${TRACKING_ENV.token})`,
      authorization: `Bearer ${token}`,
      tls,
    };
  return { kind: 'none', description: 'no credentials', tls };
}
