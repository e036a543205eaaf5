import { describe, expect, it } from 'vitest';
import { backoffDelayMs, classifyNetworkError, RetryPolicySchema, retryAfterMs } from './retry-policy';

describe('retry policy', () => {
  const policy = RetryPolicySchema.parse({ attempts: 6, baseDelayMs: 100, maxDelayMs: 1000 });

  it('full jitter: uniform in [0, min(max, base·2^(n-1))]', () => {
    expect([1, 2, 3, 4, 5].map((n) => backoffDelayMs(policy, n, () => 1))).toEqual([100, 200, 400, 800, 1000]);
    expect(backoffDelayMs(policy, 3, () => 0)).toBe(0);
    expect(backoffDelayMs(policy, 3, () => 0.5)).toBe(200);
  });

  it('Retry-After in seconds or as an HTTP date, capped; nothing when absent or unreadable', () => {
    expect(retryAfterMs('2', 10_000)).toBe(2000);
    expect(retryAfterMs('120', 10_000)).toBe(10_000);
    expect(retryAfterMs(new Date(Date.now() + 60_000).toUTCString(), 5_000)).toBe(5_000);
    expect(retryAfterMs(undefined, 1000)).toBeUndefined();
    expect(retryAfterMs('soon', 1000)).toBeUndefined();
  });

  it('connection failures are retried; refused ones are known not to have reached the server', () => {
    expect(classifyNetworkError(Object.assign(new Error('x'), { code: 'ECONNREFUSED' }))).toEqual({
      retryable: true,
      ambiguous: false,
      code: 'ECONNREFUSED',
    });
    expect(
      classifyNetworkError(Object.assign(new Error('other side closed'), { code: 'UND_ERR_SOCKET' })),
    ).toMatchObject({ retryable: true, ambiguous: true });
    expect(classifyNetworkError(Object.assign(new Error('t'), { name: 'TimeoutError' }))).toMatchObject({
      retryable: true,
      ambiguous: true,
      code: 'TIMEOUT',
    });
    expect(classifyNetworkError(new TypeError('a bug'))).toMatchObject({ retryable: false });
  });

  it('options are strict', () => {
    expect(() => RetryPolicySchema.parse({ attemps: 3 })).toThrow(/attemps/);
    expect(RetryPolicySchema.parse({})).toEqual({ attempts: 5, baseDelayMs: 250, maxDelayMs: 8000 });
  });
});
