/**
 * MLflow's failures as types. The REST `{error_code, message}` bodies, connection failures and the
 * local stores' own checks all become the same classes, so callers branch on `instanceof` whatever
 * the store. Every error carries `errorCode` (MLflow's code, or `UNAVAILABLE` for no answer),
 * `status` (HTTP, when there was a response) and `endpoint` (e.g. `POST mlflow/runs/log-batch`, or
 * the local file for the file store).
 *
 * Three MLflow 3.6 answers are 500 INTERNAL_ERROR yet deterministic, so they are not retried and get
 * their own types: a param re-logged with another value through log-batch on the file store
 * ("Changing param values is not allowed") → `MlflowParamConflictError`, a proxied artifact that
 * does not exist ("No such file or directory") and a model version whose `models:/<id>` source
 * names no logged model ("Unable to fetch model from model URI source") → `MlflowResourceNotFoundError`.
 *
 * @example
 * ```ts
 * try {
 *   await store.logParam(runId, 'lr', '0.01');
 * } catch (error) {
 *   if (error instanceof MlflowParamConflictError) console.warn(error.message); // logged before with another value
 *   else throw error;
 * }
 * ```
 */

export class MlflowError extends Error {
  override name = 'MlflowError';

  constructor(
    message: string,
    /** MLflow's error code (`RESOURCE_DOES_NOT_EXIST`, …), or `UNAVAILABLE` when nothing answered. */
    readonly errorCode: string,
    /** The HTTP status, when a server answered. */
    readonly status?: number,
    /** What failed: `METHOD path` for REST, the file for the file store. */
    readonly endpoint?: string,
  ) {
    super(endpoint ? `${endpoint}: ${message}` : message);
  }
}

/** 404 RESOURCE_DOES_NOT_EXIST: an unknown run, experiment or artifact. */
export class MlflowResourceNotFoundError extends MlflowError {
  override name = 'MlflowResourceNotFoundError';
}

/** 400 RESOURCE_ALREADY_EXISTS: e.g. an experiment name that is taken. */
export class MlflowResourceAlreadyExistsError extends MlflowError {
  override name = 'MlflowResourceAlreadyExistsError';
}

/** 400 INVALID_PARAMETER_VALUE: a bad key, id, value, filter, or a limit exceeded. */
export class MlflowInvalidParameterError extends MlflowError {
  override name = 'MlflowInvalidParameterError';
}

/** A metric, param or tag key MLflow would refuse, caught before anything is sent. */
export class MlflowInvalidKeyError extends MlflowInvalidParameterError {
  override name = 'MlflowInvalidKeyError';

  constructor(
    readonly kind: 'metric' | 'param' | 'tag',
    readonly key: string,
    reason: string,
  ) {
    super(
      `invalid ${kind} key ${JSON.stringify(key.length > 80 ? `${key.slice(0, 80)}…` : key)}: ${reason}`,
      'INVALID_PARAMETER_VALUE',
    );
  }
}

/** A param re-logged with a different value: 400 from log-parameter, 500 from log-batch on the file store. */
export class MlflowParamConflictError extends MlflowError {
  override name = 'MlflowParamConflictError';
}

/** 429 REQUEST_LIMIT_EXCEEDED, still after the retries. */
export class MlflowRateLimitError extends MlflowError {
  override name = 'MlflowRateLimitError';
}

/** A 5xx, still after the retries (or at once when it is deterministic, like INVALID_STATE). */
export class MlflowServerError extends MlflowError {
  override name = 'MlflowServerError';
}

/**
 * No answer — connection refused or reset, socket hang-up, timeouts — still after the retries, or
 * none before the call's deadline (`errorCode` DEADLINE_EXCEEDED).
 */
export class MlflowUnavailableError extends MlflowError {
  override name = 'MlflowUnavailableError';
}

/**
 * 401: the server wants credentials, or refused the ones sent. Not an outage: never retried, never
 * spooled; the message names the server, the operation and the variables to set — never a secret.
 */
export class MlflowUnauthenticatedError extends MlflowError {
  override name = 'MlflowUnauthenticatedError';
}

/** 403: the credentials are good but may not do this (MLflow's basic-auth permissions). Not an outage either. */
export class MlflowPermissionDeniedError extends MlflowError {
  override name = 'MlflowPermissionDeniedError';
}

/** 401 or 403: a problem of credentials or permissions, which waiting or retrying cannot fix. */
export function isAuthError(error: unknown): error is MlflowUnauthenticatedError | MlflowPermissionDeniedError {
  return error instanceof MlflowUnauthenticatedError || error instanceof MlflowPermissionDeniedError;
}

/**
 * A file of a local store — a meta.yaml, a metric file, a spool journal — that is not what MLflow
 * (or this package) writes there. `file` names it; the store it belongs to is otherwise readable.
 */
export class MlflowCorruptStoreError extends MlflowError {
  override name = 'MlflowCorruptStoreError';

  constructor(
    readonly file: string,
    reason: string,
  ) {
    super(reason, 'CORRUPT_STORE', undefined, file);
  }
}

const PARAM_CONFLICT = /Changing param values is not allowed/;
const MISSING_ARTIFACT = /No such file or directory|failures occurred while downloading/;
/** model-versions/create of a `models:/<id>` source whose logged model does not exist: a 500, but for good. */
const MISSING_SOURCE_MODEL = /Unable to fetch model from model URI source/;

export interface ErrorBody {
  error_code?: string;
  message?: string;
}

/**
 * The typed error for an HTTP answer. `artifactDownload` marks a GET of a proxied artifact, whose
 * 500 for a missing file is really a 404.
 */
export function errorFromResponse(
  status: number,
  body: ErrorBody | undefined,
  endpoint: string,
  context: { artifactDownload?: boolean } = {},
): MlflowError {
  const code =
    body?.error_code ??
    (status === 404
      ? 'RESOURCE_DOES_NOT_EXIST'
      : status === 429
        ? 'REQUEST_LIMIT_EXCEEDED'
        : status >= 500
          ? 'INTERNAL_ERROR'
          : 'BAD_REQUEST');
  const message = body?.message ?? `HTTP ${status}`;
  if (PARAM_CONFLICT.test(message)) return new MlflowParamConflictError(message, code, status, endpoint);
  if (context.artifactDownload && status === 500 && MISSING_ARTIFACT.test(message))
    return new MlflowResourceNotFoundError(message, code, status, endpoint);
  if (status === 500 && MISSING_SOURCE_MODEL.test(message))
    return new MlflowResourceNotFoundError(message, code, status, endpoint);
  if (status === 401)
    return new MlflowUnauthenticatedError(message, body?.error_code ?? 'UNAUTHENTICATED', status, endpoint);
  if (status === 403)
    return new MlflowPermissionDeniedError(message, body?.error_code ?? 'PERMISSION_DENIED', status, endpoint);
  if (code === 'RESOURCE_DOES_NOT_EXIST' || status === 404)
    return new MlflowResourceNotFoundError(message, code, status, endpoint);
  if (code === 'RESOURCE_ALREADY_EXISTS') return new MlflowResourceAlreadyExistsError(message, code, status, endpoint);
  if (status === 429 || code === 'REQUEST_LIMIT_EXCEEDED')
    return new MlflowRateLimitError(message, code, status, endpoint);
  if (status >= 500) return new MlflowServerError(message, code, status, endpoint);
  if (code === 'INVALID_PARAMETER_VALUE' || status === 400)
    return new MlflowInvalidParameterError(message, code, status, endpoint);
  return new MlflowError(message, code, status, endpoint);
}

/**
 * The answer MLflow 3.6 gives for a typed error, for the fake server. `via` is the endpoint, since a
 * changed param is 400 through log-parameter but 500 through log-batch on the file store.
 */
export function errorToResponse(
  error: unknown,
  via = '',
): { status: number; body: { error_code: string; message: string } } {
  const message =
    error instanceof MlflowError && error.endpoint
      ? error.message.slice(error.endpoint.length + 2)
      : error instanceof Error
        ? error.message
        : String(error);
  if (error instanceof MlflowParamConflictError) {
    return via.endsWith('log-batch')
      ? { status: 500, body: { error_code: 'INTERNAL_ERROR', message } }
      : { status: 400, body: { error_code: 'INVALID_PARAMETER_VALUE', message } };
  }
  if (error instanceof MlflowResourceNotFoundError)
    return { status: 404, body: { error_code: 'RESOURCE_DOES_NOT_EXIST', message } };
  if (error instanceof MlflowResourceAlreadyExistsError)
    return { status: 400, body: { error_code: 'RESOURCE_ALREADY_EXISTS', message } };
  if (error instanceof MlflowInvalidParameterError)
    return { status: 400, body: { error_code: 'INVALID_PARAMETER_VALUE', message } };
  if (error instanceof MlflowError && error.errorCode === 'INVALID_STATE')
    return { status: 500, body: { error_code: 'INVALID_STATE', message } };
  return { status: 500, body: { error_code: 'INTERNAL_ERROR', message } };
}
