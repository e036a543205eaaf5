import { describe, expect, it } from 'vitest';
import {
  BatchSchema,
  CreateRunRequestSchema,
  MetricSchema,
  RUN_STATUS_CODE,
  RUN_STATUSES,
  SearchRunsRequestSchema,
} from './entities';

describe('entity schemas', () => {
  it('metrics carry NaN and ±Infinity; timestamps are integers ≥ 0', () => {
    for (const value of [NaN, Infinity, -Infinity, 0.5])
      expect(MetricSchema.safeParse({ key: 'm', value, timestamp: 1, step: 0 }).success).toBe(true);
    expect(MetricSchema.safeParse({ key: 'm', value: '1', timestamp: 1, step: 0 }).success).toBe(false);
    expect(MetricSchema.safeParse({ key: 'm', value: 1, timestamp: -1, step: 0 }).success).toBe(false);
  });

  it('requests are strict: a misspelt field fails, with its path', () => {
    const bad = CreateRunRequestSchema.safeParse({ experimentId: '1', runname: 'x' });
    expect(bad.success).toBe(false);
    expect(JSON.stringify(bad.error?.issues)).toMatch(/runname/);
    expect(BatchSchema.safeParse({ metric: [] }).success).toBe(false);
    expect(SearchRunsRequestSchema.safeParse({ experimentIds: ['1'], maxResults: 50_001 }).success).toBe(false);
  });

  it("statuses and the file store's status ints", () => {
    expect(RUN_STATUSES.map((s) => RUN_STATUS_CODE[s])).toEqual([1, 2, 3, 4, 5]);
  });
});
