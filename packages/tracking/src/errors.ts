/**
 * MLflow errors as types: the REST `{error_code, message}` bodies, and the file store's own
 * failures, become the same classes so callers can branch on them on either store.
 */

export class MlflowError extends Error {
  constructor(message: string, readonly errorCode: string, readonly status?: number, readonly endpoint?: string) {
    super(endpoint ? `${endpoint}: ${message}` : message);
    this.name = 'MlflowError';
  }
}

/** 404 RESOURCE_DOES_NOT_EXIST: unknown run or experiment. */
export class MlflowResourceNotFoundError extends MlflowError {
  override name = 'MlflowResourceNotFoundError';
}
/** 400 RESOURCE_ALREADY_EXISTS: e.g. an experiment name taken. */
export class MlflowResourceAlreadyExistsError extends MlflowError {
  override name = 'MlflowResourceAlreadyExistsError';
}
/** 400 INVALID_PARAMETER_VALUE: a bad key, value or a limit exceeded. */
export class MlflowInvalidParameterError extends MlflowError {
  override name = 'MlflowInvalidParameterError';
}
/** A param re-logged with a different value (400 on SQLite, 500 on the file store). */
export class MlflowParamConflictError extends MlflowError {
  override name = 'MlflowParamConflictError';
}
/** 429 REQUEST_LIMIT_EXCEEDED, after the retries. */
export class MlflowRateLimitError extends MlflowError {
  override name = 'MlflowRateLimitError';
}
/** 5xx, after the retries. */
export class MlflowServerError extends MlflowError {
  override name = 'MlflowServerError';
}
/** No answer: connection refused / reset, timeouts — after the retries. */
export class MlflowUnavailableError extends MlflowError {
  override name = 'MlflowUnavailableError';
}

const PARAM_CONFLICT = /Changing param values is not allowed/;

/** Maps an HTTP status and MLflow error body to the typed error. */
export function errorFromResponse(status: number, body: { error_code?: string; message?: string } | undefined, endpoint: string): MlflowError {
  const code = body?.error_code ?? (status === 404 ? 'RESOURCE_DOES_NOT_EXIST' : status === 429 ? 'REQUEST_LIMIT_EXCEEDED' : status >= 500 ? 'INTERNAL_ERROR' : 'BAD_REQUEST');
  const message = body?.message ?? `HTTP ${status}`;
  if (PARAM_CONFLICT.test(message)) return new MlflowParamConflictError(message, code, status, endpoint);
  if (code === 'RESOURCE_DOES_NOT_EXIST' || status === 404) return new MlflowResourceNotFoundError(message, code, status, endpoint);
  if (code === 'RESOURCE_ALREADY_EXISTS') return new MlflowResourceAlreadyExistsError(message, code, status, endpoint);
  if (code === 'INVALID_PARAMETER_VALUE' || status === 400) return new MlflowInvalidParameterError(message, code, status, endpoint);
  if (status === 429) return new MlflowRateLimitError(message, code, status, endpoint);
  if (status >= 500) return new MlflowServerError(message, code, status, endpoint);
  return new MlflowError(message, code, status, endpoint);
}

/** The error body a server (or our fake) sends for a typed error. */
export function errorToResponse(error: unknown): { status: number; body: { error_code: string; message: string } } {
  if (error instanceof MlflowParamConflictError) return { status: 500, body: { error_code: 'INTERNAL_ERROR', message: error.message } };
  if (error instanceof MlflowResourceNotFoundError) return { status: 404, body: { error_code: 'RESOURCE_DOES_NOT_EXIST', message: error.message } };
  if (error instanceof MlflowResourceAlreadyExistsError) return { status: 400, body: { error_code: 'RESOURCE_ALREADY_EXISTS', message: error.message } };
  if (error instanceof MlflowInvalidParameterError) return { status: 400, body: { error_code: 'INVALID_PARAMETER_VALUE', message: error.message } };
  return { status: 500, body: { error_code: 'INTERNAL_ERROR', message: error instanceof Error ? error.message : String(error) } };
}
