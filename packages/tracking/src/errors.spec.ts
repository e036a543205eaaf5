import { describe, expect, it } from 'vitest';
import {
  errorFromResponse,
  errorToResponse,
  MlflowError,
  MlflowInvalidKeyError,
  MlflowInvalidParameterError,
  MlflowParamConflictError,
  MlflowRateLimitError,
  MlflowResourceAlreadyExistsError,
  MlflowResourceNotFoundError,
  MlflowServerError,
} from './errors';

describe('MLflow error bodies → typed errors', () => {
  const endpoint = 'POST mlflow/runs/log-batch';
  it.each([
    [404, 'RESOURCE_DOES_NOT_EXIST', "Run 'x' not found", MlflowResourceNotFoundError],
    [400, 'RESOURCE_ALREADY_EXISTS', "Experiment 'e' already exists.", MlflowResourceAlreadyExistsError],
    [400, 'INVALID_PARAMETER_VALUE', 'Invalid value', MlflowInvalidParameterError],
    [429, 'REQUEST_LIMIT_EXCEEDED', 'slow down', MlflowRateLimitError],
    [503, 'TEMPORARILY_UNAVAILABLE', 'later', MlflowServerError],
    [500, 'INTERNAL_ERROR', "Changing param values is not allowed. Param with key='lr'…", MlflowParamConflictError],
    [
      400,
      'INVALID_PARAMETER_VALUE',
      "Changing param values is not allowed. Param with key='lr'…",
      MlflowParamConflictError,
    ],
  ])('%i %s', (status, code, message, type) => {
    const error = errorFromResponse(status, { error_code: code, message }, endpoint);
    expect(error).toBeInstanceOf(type);
    expect(error).toMatchObject({ errorCode: code, status, endpoint });
    expect(error.message).toBe(`${endpoint}: ${message}`);
  });

  it("a proxied artifact's 500 'No such file' is a 404 only for artifact downloads; bodies without JSON get codes from the status", () => {
    const body = { error_code: 'INTERNAL_ERROR', message: '[Errno 2] No such file or directory' };
    expect(errorFromResponse(500, body, 'GET mlflow-artifacts/artifacts/x', { artifactDownload: true })).toBeInstanceOf(
      MlflowResourceNotFoundError,
    );
    expect(errorFromResponse(500, body, 'GET mlflow/runs/get')).toBeInstanceOf(MlflowServerError);
    expect(errorFromResponse(404, undefined, 'GET x')).toMatchObject({ errorCode: 'RESOURCE_DOES_NOT_EXIST' });
    expect(errorFromResponse(502, undefined, 'GET x')).toMatchObject({ errorCode: 'INTERNAL_ERROR', status: 502 });
  });

  it('typed errors → the answers MLflow 3.6 gives (for the fake server)', () => {
    const conflict = new MlflowParamConflictError('Changing param values is not allowed.', 'INVALID_PARAMETER_VALUE');
    expect(errorToResponse(conflict, '/api/2.0/mlflow/runs/log-batch')).toEqual({
      status: 500,
      body: { error_code: 'INTERNAL_ERROR', message: conflict.message },
    });
    expect(errorToResponse(conflict, '/api/2.0/mlflow/runs/log-parameter').status).toBe(400);
    expect(errorToResponse(new MlflowInvalidKeyError('metric', 'a@b', 'bad')).body.error_code).toBe(
      'INVALID_PARAMETER_VALUE',
    );
    expect(errorToResponse(new MlflowError('x', 'INVALID_STATE')).status).toBe(500);
    expect(errorToResponse(new Error('boom'))).toEqual({
      status: 500,
      body: { error_code: 'INTERNAL_ERROR', message: 'boom' },
    });
  });
});
