/**
 * The one HTTP transport every MLflow client here is built on — the tracking store, the spool's
 * replay (through the tracking store), the Model Registry, artifacts (runs' and logged models'),
 * logged models: one place for
 *
 * - credentials and TLS, read as MLflow's clients read them (credentials.ts):
 *   `MLFLOW_TRACKING_USERNAME`/`_PASSWORD` (Basic), `MLFLOW_TRACKING_TOKEN` (Bearer),
 *   `MLFLOW_TRACKING_INSECURE_TLS`, `MLFLOW_TRACKING_SERVER_CERT_PATH`, `MLFLOW_TRACKING_CLIENT_CERT_PATH`.
 *   401 and 403 are not outages: `MlflowUnauthenticatedError` / `MlflowPermissionDeniedError` at
 *   once, never retried, with a message naming the server, the operation and what to set — and no
 *   secret (`location` is the URI without user info; the secrets sit behind a closure).
 * - deadlines: `connectTimeoutMs` for the TCP connect, `requestTimeoutMs` per attempt, `deadlineMs`
 *   for the whole call, retries and recovery included (uploads get 1 s more per MB). A server that
 *   accepts the connection and never answers costs at most `deadlineMs`, then
 *   `MlflowUnavailableError` DEADLINE_EXCEEDED. `until(time)` is a view whose calls all end by then.
 * - the retry policy (retry-policy.ts): 429, 5xx and connection failures, exponential backoff with
 *   full jitter, `Retry-After` honoured, at most `retry.attempts` tries within the deadline. Not
 *   retried: MLflow's deterministic 500s — a changed param (`MlflowParamConflictError`), a missing
 *   proxied artifact (`MlflowResourceNotFoundError`), INVALID_STATE — and anything `noRetryOn5xx`.
 * - recovery after an ambiguous failure (the server may have applied the request and the answer
 *   was lost): a call's `recover` runs before the re-send and may finish the call with what the
 *   server already has (`{ done }`) or change the body (`{ json }`); it gets the call's deadline.
 * - error mapping (errors.ts), Flask's HTML error pages reduced to their text, TLS failures named
 *   with the variable that fixes them.
 *
 * @example
 * ```ts
 * const transport = new RestTransport({ uri: 'http://127.0.0.1:5000', env: process.env });
 * const out = await transport.call('POST', '/api/2.0/mlflow/experiments/search', { json: { max_results: 10 } });
 * const store = new RestTrackingStore({ transport });          // shares connections and credentials
 * const registry = new ModelRegistryClient({ transport });
 * await transport.close();
 * ```
 */
import { Agent, request } from 'undici';
import { z } from 'zod';
import { redactUri, type TrackingCredentials, trackingCredentials } from './credentials';
import {
  type ErrorBody,
  errorFromResponse,
  MlflowError,
  MlflowInvalidParameterError,
  MlflowParamConflictError,
  MlflowPermissionDeniedError,
  MlflowRateLimitError,
  MlflowResourceNotFoundError,
  MlflowServerError,
  MlflowUnauthenticatedError,
  MlflowUnavailableError,
} from './errors';
import {
  backoffDelayMs,
  classifyNetworkError,
  type RetryPolicy,
  RetryPolicySchema,
  retryAfterMs,
} from './retry-policy';

export interface RetryEvent {
  endpoint: string;
  /** The attempt that failed (1-based). */
  attempt: number;
  delayMs: number;
  reason: string;
}

export const RestTransportOptionsSchema = z.strictObject({
  /** The tracking server, e.g. `http://127.0.0.1:5000` (a path prefix is kept; user info becomes Basic auth). */
  uri: z.string().regex(/^https?:\/\/[^/]/i, 'expected an http:// or https:// URL'),
  connectTimeoutMs: z.number().positive().default(5_000),
  /** Per attempt, until the whole answer has arrived. */
  requestTimeoutMs: z.number().positive().default(30_000),
  /** Per call, every attempt, backoff and recovery included: the longest any call takes. */
  deadlineMs: z.number().positive().default(60_000),
  retry: RetryPolicySchema.partial().optional(),
  headers: z.record(z.string(), z.string()).optional(),
  /** Where credentials and TLS settings are read (`MLFLOW_TRACKING_*`); default `process.env`. */
  env: z
    .custom<Record<string, string | undefined>>((v) => typeof v === 'object' && v !== null, 'expected an object')
    .optional(),
  /** Called before each retry, for logs. */
  onRetry: z.custom<(event: RetryEvent) => void>((v) => typeof v === 'function', 'expected a function').optional(),
});
export type RestTransportOptions = z.input<typeof RestTransportOptionsSchema>;

/** What a recovery decides before a re-send: finish with this answer, send this body, or re-send as is. */
export type Recovery = { done: unknown } | { json: unknown } | undefined;

export interface CallOptions {
  query?: Record<string, string | number | undefined>;
  json?: unknown;
  body?: Uint8Array | string;
  /** The answer's bytes instead of its JSON. */
  raw?: boolean;
  /** A GET of a proxied artifact: its 500 "No such file" is a 404. */
  artifactDownload?: boolean;
  /** 5xx answers are final (they are deterministic for this endpoint). */
  noRetryOn5xx?: boolean;
  /**
   * Before re-sending after an ambiguous failure (the server may have applied the request).
   * `deadlineAt` is the call's own: requests made here should end by it (`until`).
   */
  recover?: (deadlineAt: number) => Promise<Recovery>;
}

export type HttpMethod = 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';

type Attempt =
  | { ok: true; value: unknown }
  | { ok: false; error: MlflowError; retryable: boolean; ambiguous: boolean; retryAfterMs?: number };

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** OpenSSL's verdicts on a server certificate (Node's `error.code`), which retrying cannot change. */
const CERTIFICATE_CODES = new Set([
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'SELF_SIGNED_CERT_IN_CHAIN',
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'UNABLE_TO_GET_ISSUER_CERT',
  'CERT_HAS_EXPIRED',
  'CERT_NOT_YET_VALID',
  'CERT_UNTRUSTED',
  'ERR_TLS_CERT_ALTNAME_INVALID',
]);

/** What to do about a TLS failure, or undefined when the error is something else. */
function tlsProblem(error: unknown): string | undefined {
  const e = error as { code?: string; message?: string; cause?: { code?: string; message?: string } };
  const code = e?.code ?? e?.cause?.code;
  const text = `${e?.message ?? ''} ${e?.cause?.message ?? ''}`;
  if (code && CERTIFICATE_CODES.has(code))
    return `its TLS certificate is not trusted (${code}): set MLFLOW_TRACKING_SERVER_CERT_PATH to the CA bundle (PEM) that signed it, or MLFLOW_TRACKING_INSECURE_TLS=true to skip the check`;
  if (/certificate required|alert.*(?:handshake|certificate)|bad certificate/i.test(text))
    return `the TLS handshake failed (${text.trim()}): the server may want a client certificate — set MLFLOW_TRACKING_CLIENT_CERT_PATH to a PEM holding it and its key`;
  return undefined;
}

/** "No usable answer right now": what a recovery may meet while the server is still away. */
export const isTransient = (error: unknown) =>
  error instanceof MlflowUnavailableError ||
  error instanceof MlflowRateLimitError ||
  error instanceof MlflowServerError;

/** Flask's HTML error pages: the text without the markup. */
function errorBody(bytes: Buffer, status: number): ErrorBody {
  try {
    return JSON.parse(bytes.toString('utf8')) as ErrorBody;
  } catch {
    return {
      message:
        bytes
          .toString('utf8')
          .replace(/<[^>]+>/g, ' ')
          .replace(/\s+/g, ' ')
          .trim()
          .slice(0, 300) || `HTTP ${status}`,
    };
  }
}

export class RestTransport {
  private readonly base: string;
  private readonly agent: Agent;
  private readonly retry: RetryPolicy;
  private readonly options: Omit<z.output<typeof RestTransportOptionsSchema>, 'env'>;
  /** Credentials behind a closure, so that printing the transport shows no secret (views share it). */
  private readonly credentials: () => TrackingCredentials;
  /** Set on the views `until` returns: every call of the view ends by then. */
  private deadlineAt?: number;
  private closing?: Promise<void>;

  constructor(options: RestTransportOptions) {
    const parsed = RestTransportOptionsSchema.safeParse(options);
    if (!parsed.success)
      throw new MlflowInvalidParameterError(
        `MLflow client options: ${z.prettifyError(parsed.error)}`,
        'INVALID_PARAMETER_VALUE',
      );
    // the environment (and the URI's user info) are read once and not kept: nothing printable holds a secret
    const { env, ...rest } = parsed.data;
    const credentials = trackingCredentials(env ?? process.env, parsed.data.uri);
    this.credentials = () => credentials;
    this.options = { ...rest, uri: redactUri(rest.uri) };
    this.base = this.options.uri.replace(/\/+$/, '');
    this.agent = new Agent({
      keepAliveTimeout: 4_000,
      connect: { timeout: this.options.connectTimeoutMs, ...credentials.tls },
    });
    this.retry = RetryPolicySchema.parse(this.options.retry ?? {});
  }

  /** The server without user info, for logs and messages. */
  get location(): string {
    return this.base;
  }

  /** How this transport authenticates, for logs: the variables and the user, never a secret. */
  get authentication(): string {
    return this.credentials().description;
  }

  /** The Basic-auth user, when there is one (MLflow's `mlflow.user` then names it). */
  get username(): string | undefined {
    return this.credentials().username;
  }

  /**
   * This transport with every call — attempts, backoff, recovery — ending by `deadlineAt` (ms since
   * the epoch), or earlier by its own `deadlineMs`. It shares this transport's connections.
   */
  until(deadlineAt: number): RestTransport {
    const view = Object.create(this) as RestTransport;
    view.deadlineAt = Math.min(deadlineAt, this.deadlineAt ?? Infinity);
    return view;
  }

  /** The time this transport's calls must end by, if it is a bounded view. */
  get boundedBy(): number | undefined {
    return this.deadlineAt;
  }

  /** The typed error for a 401 or 403, saying what to set: the server, the operation, the variables, no secret. */
  private authError(status: 401 | 403, endpoint: string, serverMessage: string | undefined): MlflowError {
    const creds = this.credentials();
    if (status === 401) {
      const advice =
        creds.kind === 'none'
          ? 'this server needs credentials: set MLFLOW_TRACKING_USERNAME and MLFLOW_TRACKING_PASSWORD (MLflow basic-auth) or MLFLOW_TRACKING_TOKEN (a bearer token)'
          : creds.kind === 'basic'
            ? `it refused ${creds.description}: a wrong password or an unknown user (check MLFLOW_TRACKING_PASSWORD)`
            : `it refused ${creds.description}: a wrong or expired token`;
      return new MlflowUnauthenticatedError(
        `${this.base} answered 401 (not authenticated): ${advice}`,
        'UNAUTHENTICATED',
        401,
        endpoint,
      );
    }
    const said = serverMessage && serverMessage.length < 200 ? ` (server: ${serverMessage})` : '';
    return new MlflowPermissionDeniedError(
      `${this.base} answered 403 (permission denied) for ${creds.description}${said}: these credentials may not do this. MLflow's basic-auth app gives a user READ on experiments it did not create: ask an admin for EDIT on the experiment, or log to an experiment of your own (MLFLOW_EXPERIMENT_NAME)`,
      'PERMISSION_DENIED',
      403,
      endpoint,
    );
  }

  private async attempt(
    method: HttpMethod,
    url: URL,
    endpoint: string,
    body: string | Uint8Array | undefined,
    options: CallOptions,
    timeout: number,
    isJson: boolean,
  ): Promise<Attempt> {
    const headers: Record<string, string> = { ...this.options.headers };
    const { authorization } = this.credentials();
    if (authorization) headers.authorization = authorization;
    if (isJson) headers['content-type'] = 'application/json';
    else if (body !== undefined) headers['content-type'] = 'application/octet-stream';
    try {
      const response = await request(url, {
        method,
        body,
        headers,
        dispatcher: this.agent,
        headersTimeout: timeout,
        bodyTimeout: timeout,
        signal: AbortSignal.timeout(timeout),
      });
      const bytes = Buffer.from(await response.body.arrayBuffer());
      if (response.statusCode < 300)
        return { ok: true, value: options.raw ? bytes : bytes.length ? JSON.parse(bytes.toString('utf8')) : {} };
      const parsed = errorBody(bytes, response.statusCode);
      if (response.statusCode === 401 || response.statusCode === 403)
        return {
          ok: false,
          error: this.authError(response.statusCode, endpoint, parsed.message),
          retryable: false,
          ambiguous: false,
        };
      const error = errorFromResponse(response.statusCode, parsed, endpoint, {
        artifactDownload: options.artifactDownload,
      });
      const deterministic =
        error instanceof MlflowParamConflictError ||
        error instanceof MlflowResourceNotFoundError ||
        error.errorCode === 'INVALID_STATE' ||
        (options.noRetryOn5xx && response.statusCode >= 500);
      const retryable = (response.statusCode === 429 || response.statusCode >= 500) && !deterministic;
      return {
        ok: false,
        error,
        retryable,
        ambiguous: response.statusCode >= 500,
        retryAfterMs: retryAfterMs(response.headers['retry-after'], this.retry.maxDelayMs),
      };
    } catch (error) {
      const tls = tlsProblem(error);
      if (tls)
        return {
          ok: false,
          error: new MlflowError(`${this.base}: ${tls}`, 'TLS_ERROR', undefined, endpoint),
          retryable: false,
          ambiguous: false,
        };
      const failure = classifyNetworkError(error);
      if (!failure.retryable) throw error;
      const message = `${this.base} did not answer: ${(error as Error).message} (${failure.code})`;
      return {
        ok: false,
        error: new MlflowUnavailableError(message, 'UNAVAILABLE', undefined, endpoint),
        retryable: true,
        ambiguous: failure.ambiguous,
      };
    }
  }

  /**
   * One call with retries, within its deadline: the parsed JSON, or the raw bytes with `raw`.
   * `path` starts at the server root (`/api/2.0/mlflow/runs/get`); the error's endpoint is the
   * method and the path after `/api/2.0/` (`GET mlflow/runs/get`).
   */
  async call(method: HttpMethod, path: string, options: CallOptions = {}): Promise<unknown> {
    const url = new URL(`${this.base}${path}`);
    for (const [k, v] of Object.entries(options.query ?? {})) if (v !== undefined) url.searchParams.set(k, String(v));
    const endpoint = `${method} ${path.replace(/^\/api\/2\.0\//, '')}`;
    const isJson = options.json !== undefined;
    let body = isJson ? JSON.stringify(options.json) : options.body;
    // an upload may take its time on a slow link: a second more per megabyte
    const uploadMs = options.body ? Math.ceil(options.body.length / 1_000_000) * 1_000 : 0;
    const start = Date.now();
    const deadlineAt = Math.min(this.deadlineAt ?? Infinity, start + this.options.deadlineMs + uploadMs);
    let last: Extract<Attempt, { ok: false }> | undefined;
    let ambiguous = false;
    for (let attempt = 1; attempt <= this.retry.attempts; attempt++) {
      if (deadlineAt - Date.now() <= 0) throw this.deadlineError(endpoint, deadlineAt - start, last);
      let result: Attempt | undefined;
      if (ambiguous && options.recover) {
        try {
          const recovered = await options.recover(deadlineAt);
          if (recovered && 'done' in recovered) return recovered.done;
          if (recovered && 'json' in recovered) body = JSON.stringify(recovered.json);
        } catch (error) {
          if (!isTransient(error)) throw error;
          // the server is still away: this attempt failed like the last one
          result = { ok: false, error: error as MlflowError, retryable: true, ambiguous: true };
        }
      }
      result ??= await this.attempt(
        method,
        url,
        endpoint,
        body,
        options,
        Math.min(this.options.requestTimeoutMs + uploadMs, Math.max(1, deadlineAt - Date.now())),
        isJson,
      );
      if (result.ok) return result.value;
      if (!result.retryable) throw result.error;
      last = result;
      ambiguous ||= result.ambiguous;
      if (attempt < this.retry.attempts) {
        const delayMs = result.retryAfterMs ?? backoffDelayMs(this.retry, attempt);
        // a wait that would end past the deadline is not worth starting
        if (Date.now() + delayMs >= deadlineAt) throw this.deadlineError(endpoint, deadlineAt - start, last);
        this.options.onRetry?.({ endpoint, attempt, delayMs, reason: result.error.message });
        await sleep(delayMs);
      }
    }
    throw last!.error;
  }

  /** A call to MLflow's API: `api('runs/get')` is `/api/2.0/mlflow/runs/get`. */
  api(method: HttpMethod, path: string, options: CallOptions = {}): Promise<unknown> {
    return this.call(method, `/api/2.0/mlflow/${path}`, options);
  }

  private deadlineError(endpoint: string, budgetMs: number, last: Extract<Attempt, { ok: false }> | undefined) {
    const cause = last ? `; last: ${last.error.message.replace(`${endpoint}: `, '')}` : '';
    // a server that answers for good (4xx) has thrown before; what is left is "no usable answer"
    if (last && !(last.error instanceof MlflowUnavailableError) && last.error.status) return last.error;
    return new MlflowUnavailableError(
      `${this.base} gave no answer within ${(budgetMs / 1000).toFixed(1)} s, the deadline of a tracking request${cause}`,
      'DEADLINE_EXCEEDED',
      undefined,
      endpoint,
    );
  }

  /** Closes the connections (once, whoever asks); a request still waiting for a silent server is cut after 1 s. */
  close(): Promise<void> {
    this.closing ??= (async () => {
      const closed = this.agent.close();
      const idle = await Promise.race([closed.then(() => true), sleep(1_000).then(() => false)]);
      if (!idle) await this.agent.destroy().catch(() => undefined);
    })();
    return this.closing;
  }
}
