import { describe, expect, it } from 'vitest';
import { artifactFromWire, experimentFromWire, runFromWire, runToWire } from './wire-format';

/** runs/get as MLflow 3.6 answered it (abridged). */
const REAL_RUN = {
  info: {
    run_uuid: 'c7c1e55321a143ac8095e2dbdd13b35f',
    experiment_id: '248325115491657739',
    run_name: 'yes',
    user_id: 'me',
    status: 'FINISHED',
    start_time: 1700000000000,
    end_time: 1700000005000,
    artifact_uri: 'mlflow-artifacts:/248325115491657739/c7c1e55321a143ac8095e2dbdd13b35f/artifacts',
    lifecycle_stage: 'active',
    run_id: 'c7c1e55321a143ac8095e2dbdd13b35f',
  },
  data: {
    metrics: [
      { key: 'n', value: 'NaN', timestamp: 5, step: 0 },
      { key: 'z', value: 0.0, timestamp: 6 },
    ],
    params: [{ key: 'nov' }],
    tags: [{ key: 'mlflow.runName', value: 'yes' }],
  },
  inputs: {},
  outputs: {},
};

describe('MLflow REST JSON', () => {
  it('reads a run as MLflow sends it: absent fields at their defaults, NaN from its string', () => {
    const run = runFromWire(REAL_RUN);
    expect(run.info).toMatchObject({
      runId: 'c7c1e55321a143ac8095e2dbdd13b35f',
      status: 'FINISHED',
      endTime: 1700000005000,
    });
    expect(run.data.metrics.n.value).toBeNaN();
    expect(run.data.metrics.z).toEqual({ key: 'z', value: 0, timestamp: 6, step: 0 });
    expect(run.data.params).toEqual({ nov: '' });
    expect(runFromWire(runToWire(run))).toEqual(run);
  });

  it('experiments and artifact entries (an empty file has no file_size)', () => {
    expect(
      experimentFromWire({
        experiment_id: '1',
        name: 'e',
        artifact_location: 'a',
        lifecycle_stage: 'active',
        creation_time: 5,
      }),
    ).toEqual({
      experimentId: '1',
      name: 'e',
      artifactLocation: 'a',
      lifecycleStage: 'active',
      creationTime: 5,
      tags: {},
    });
    expect(artifactFromWire({ path: 'empty.txt', is_dir: false }, 'dir')).toEqual({
      path: 'dir/empty.txt',
      isDir: false,
      fileSize: 0,
    });
    expect(artifactFromWire({ path: 'dir/sub', is_dir: true }, 'dir')).toEqual({ path: 'dir/sub', isDir: true });
  });
});
