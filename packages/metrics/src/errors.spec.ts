import { describe, expect, it } from 'vitest';
import { MetricUndefinedError } from './errors';

describe('MetricUndefinedError', () => {
  it('is an Error carrying the metric and the reason, with both in the message', () => {
    const error = new MetricUndefinedError('I-AUROC', 'all 30 image labels are 0 (need both classes)');
    expect(error).toBeInstanceOf(Error);
    expect(error.name).toBe('MetricUndefinedError');
    expect(error.metric).toBe('I-AUROC');
    expect(error.reason).toBe('all 30 image labels are 0 (need both classes)');
    expect(error.message).toBe('I-AUROC is undefined: all 30 image labels are 0 (need both classes)');
  });
});
