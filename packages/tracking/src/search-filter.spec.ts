import { describe, expect, it } from 'vitest';
import type { Run } from './entities';
import { MlflowInvalidParameterError } from './errors';
import { createPageToken, matchesFilter, paginate, parseFilter, parsePageToken, sortRuns } from './search-filter';

const run = (
  id: string,
  startTime: number,
  extra: {
    tags?: Record<string, string>;
    params?: Record<string, string>;
    metric?: number;
    status?: Run['info']['status'];
  } = {},
): Run => ({
  info: {
    runId: id,
    runName: `run ${id}`,
    experimentId: '1',
    userId: 'u',
    status: extra.status ?? 'RUNNING',
    startTime,
    artifactUri: '',
    lifecycleStage: 'active',
  },
  data: {
    tags: extra.tags ?? {},
    params: extra.params ?? {},
    metrics: extra.metric === undefined ? {} : { auroc: { key: 'auroc', value: extra.metric, timestamp: 1, step: 0 } },
  },
  inputs: { datasetInputs: [] },
  outputs: { modelOutputs: [] },
});

describe('search filter', () => {
  const runs = [
    run('a', 3, { tags: { 'mlflow.parentRunId': 'p', g: 'x' }, metric: 0.9, status: 'FINISHED' }),
    run('b', 2, { tags: { g: 'y' }, params: { lr: '0.1' }, metric: 0.5 }),
    run('c', 1, { tags: { g: 'xy' } }),
  ];
  const names = (filter: string) => runs.filter((r) => matchesFilter(r, parseFilter(filter))).map((r) => r.info.runId);

  it('tags (backticks for dotted keys), params, metrics, attributes, LIKE / ILIKE, AND in either case', () => {
    expect(names("tags.`mlflow.parentRunId` = 'p'")).toEqual(['a']);
    expect(names("params.lr = '0.1'")).toEqual(['b']);
    expect(names("params.lr != '0.2'")).toEqual(['b']); // a missing param matches nothing
    expect(names('metrics.auroc >= 0.5 and metrics.auroc < 0.9')).toEqual(['b']);
    expect(names("attributes.status = 'FINISHED'")).toEqual(['a']);
    expect(names('attributes.start_time = 2')).toEqual(['b']);
    expect(names("attributes.run_name = 'run c'")).toEqual(['c']);
    expect(names("tags.g LIKE 'x%'")).toEqual(['a', 'c']);
    expect(names("tags.g ILIKE 'X_'")).toEqual(['c']);
  });

  it('refuses what it cannot parse, naming the clause', () => {
    expect(() => parseFilter('bogus filter')).toThrow(MlflowInvalidParameterError);
    expect(() => parseFilter("attributes.color = 'red'")).toThrow(/color/);
    expect(() => parseFilter("nothing.x = 'y'")).toThrow(/nothing/);
  });

  it('orders by start time DESC then run id, then by order_by clauses; missing values last', () => {
    expect(sortRuns([runs[2], runs[0], runs[1]], []).map((r) => r.info.runId)).toEqual(['a', 'b', 'c']);
    expect(sortRuns(runs, ['metrics.auroc ASC']).map((r) => r.info.runId)).toEqual(['b', 'a', 'c']);
    expect(sortRuns(runs, ['attributes.start_time ASC']).map((r) => r.info.runId)).toEqual(['c', 'b', 'a']);
  });

  it("pages with MLflow's own tokens (base64 of Python's json.dumps)", () => {
    expect(createPageToken(2)).toBe('eyJvZmZzZXQiOiAyfQ==');
    expect(parsePageToken('eyJvZmZzZXQiOiAyfQ==')).toBe(2);
    const first = paginate([1, 2, 3, 4, 5], 2);
    expect(first).toEqual({ items: [1, 2], nextPageToken: createPageToken(2) });
    expect(paginate([1, 2, 3, 4, 5], 2, createPageToken(4))).toEqual({ items: [5] });
    expect(paginate([1, 2], 0)).toEqual({ items: [], nextPageToken: createPageToken(0) });
    expect(() => parsePageToken('garbage')).toThrow(/could not base64-decode/);
    expect(() => parsePageToken(Buffer.from('nope').toString('base64'))).toThrow(/Invalid page token/);
  });
});
