import { describe, expect, it } from 'vitest';
import { MlflowInvalidKeyError, MlflowInvalidParameterError, MlflowParamConflictError } from './errors';
import { normalizeBatch, validateExperimentName, validateKey, validateRunId } from './validation';

describe('validateKey', () => {
  it.each(['loss', 'train/loss', 'a b', 'ns:k', 'x.y-z_1', 'k'.repeat(250)])('accepts %j', (key) =>
    expect(() => validateKey('metric', key)).not.toThrow(),
  );
  it.each([
    ['', /resolves to '\.'/],
    ['k'.repeat(251), /251 characters/],
    ['auroc@k', /may only contain/],
    ['a//b', /resolves to 'a\/b'/],
    ['../x', /resolves/],
    ['/abs', /resolves/],
    ['./x', /resolves/],
    ['a/', /resolves/],
  ])('refuses %j with an error naming it', (key, reason) => {
    const error = (() => {
      try {
        validateKey('param', key);
      } catch (e) {
        return e;
      }
    })();
    expect(error).toBeInstanceOf(MlflowInvalidKeyError);
    expect(error).toMatchObject({ kind: 'param', key, errorCode: 'INVALID_PARAMETER_VALUE' });
    expect((error as Error).message).toMatch(reason);
  });
});

describe('ids and names', () => {
  it('run ids as MLflow checks them; experiment names 1-500 characters without a single quote', () => {
    expect(() => validateRunId('0123456789abcdef0123456789abcdef')).not.toThrow();
    expect(() => validateRunId('bad id!')).toThrow(MlflowInvalidParameterError);
    expect(() => validateExperimentName('n'.repeat(500))).not.toThrow();
    expect(() => validateExperimentName('n'.repeat(501))).toThrow(/500/);
    expect(() => validateExperimentName("it's")).toThrow(/single quote/);
  });
});

describe('normalizeBatch', () => {
  it('truncates long values, sends a repeated param once, refuses two values for one param and bad metrics', () => {
    const n = normalizeBatch({
      params: [
        { key: 'p', value: 'x'.repeat(7000) },
        { key: 'p', value: 'x'.repeat(6000) },
      ],
      tags: [{ key: 't', value: 'y'.repeat(9000) }],
    });
    expect(n.params).toEqual([{ key: 'p', value: 'x'.repeat(6000) }]);
    expect(n.tags[0].value).toHaveLength(8000);
    expect(() =>
      normalizeBatch({
        params: [
          { key: 'p', value: '1' },
          { key: 'p', value: '2' },
        ],
      }),
    ).toThrow(MlflowParamConflictError);
    expect(() => normalizeBatch({ metrics: [{ key: 'm', value: '1' as never, timestamp: 1, step: 0 }] })).toThrow(
      /value must be a number/,
    );
    expect(() => normalizeBatch({ metrics: [{ key: 'm', value: 1, timestamp: 1.5, step: 0 }] })).toThrow(/timestamp/);
    expect(() => normalizeBatch({ metrics: [{ key: 'm', value: 1, timestamp: -1, step: 0 }] })).toThrow(/timestamp/);
    expect(() => normalizeBatch({ metrics: [{ key: 'm', value: 1, timestamp: 1, step: 0.5 }] })).toThrow(/step/);
  });
});
