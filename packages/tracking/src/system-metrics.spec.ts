/**
 * System metrics as MLflow's monitor logs them: MLflow's names under `system/`, one point per
 * `samplesBeforeLogging` samples (their mean, to 0.1) at steps 0, 1, …, a last point on stop, the
 * switch read from `MLFLOW_ENABLE_SYSTEM_METRICS_LOGGING`, and this machine's sampler giving
 * plausible values (no GPU asked for here).
 */
import { chmod, mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { FileTrackingStore } from './file-store';
import {
  aggregateSamples,
  gpuSample,
  machineSampler,
  startSystemMetrics,
  systemMetricsEnabled,
} from './system-metrics';

describe('system metrics', () => {
  afterEach(() => vi.useRealTimers());

  it('logs the mean of every 2 samples at steps 0, 1, … under system/…, and what is left on stop', async () => {
    vi.useFakeTimers();
    const store = new FileTrackingStore(join(await mkdtemp(join(tmpdir(), 'sysmetrics-')), 'mlruns'));
    const experimentId = await store.getOrCreateExperiment('sys');
    const { runId } = (await store.createRun({ experimentId, runName: 'cell' })).info;
    const cpu = [10, 20, 31, 40, 50];
    let i = 0;
    const monitor = startSystemMetrics({
      store,
      runId,
      intervalMs: 1_000,
      samplesBeforeLogging: 2,
      sample: async () => ({ cpu_utilization_percentage: cpu[i++], network_receive_megabytes: i }),
    });
    await vi.advanceTimersByTimeAsync(4_000); // samples 10, 20 | 31, 40
    await monitor.stop(); // sample 50, logged alone
    const history = await store.getMetricHistory(runId, 'system/cpu_utilization_percentage');
    expect(history.map((m) => [m.step, m.value])).toEqual([
      [0, 15],
      [1, 35.5],
      [2, 50],
    ]);
    // network counts since the start: the last value of each point, not a mean
    expect((await store.getMetricHistory(runId, 'system/network_receive_megabytes')).map((m) => m.value)).toEqual([
      2, 4, 5,
    ]);
  });

  it('a failed sample is reported and monitoring goes on', async () => {
    vi.useFakeTimers();
    const store = new FileTrackingStore(join(await mkdtemp(join(tmpdir(), 'sysmetrics-')), 'mlruns'));
    const { runId } = (await store.createRun({ experimentId: '0', runName: 'cell' })).info;
    const errors: string[] = [];
    let n = 0;
    const monitor = startSystemMetrics({
      store,
      runId,
      intervalMs: 1_000,
      sample: async () => {
        if (n++ === 0) throw new Error('no /proc');
        return { cpu_utilization_percentage: 5 };
      },
      onError: (e) => errors.push(e.message),
    });
    await vi.advanceTimersByTimeAsync(2_000);
    await monitor.stop();
    expect(errors).toEqual(['no /proc']);
    expect((await store.getMetricHistory(runId, 'system/cpu_utilization_percentage')).map((m) => m.step)).toEqual([
      0, 1,
    ]);
  });

  it("this machine's sampler: CPU and memory percentages in [0, 100], megabytes above 0", async () => {
    const sample = machineSampler({ gpu: async () => ({}) });
    await sample();
    const s = await sample();
    for (const key of ['cpu_utilization_percentage', 'system_memory_usage_percentage', 'disk_usage_percentage']) {
      expect(s[key], key).toBeGreaterThanOrEqual(0);
      expect(s[key], key).toBeLessThanOrEqual(100);
    }
    expect(s.system_memory_usage_megabytes).toBeGreaterThan(0);
    expect(s.disk_available_megabytes).toBeGreaterThan(0);
  });

  it("GPUs from nvidia-smi's CSV (a stand-in script prints two), as MLflow's NVML names; none when it is missing", async () => {
    const dir = await mkdtemp(join(tmpdir(), 'fake-smi-'));
    const smi = join(dir, 'nvidia-smi');
    await writeFile(smi, '#!/bin/sh\necho "37, 1024, 81920, 120.5, 700.00"\necho "0, 0, 81920, [N/A], 700.00"\n');
    await chmod(smi, 0o755);
    const g = await gpuSample(smi);
    expect(g).toMatchObject({
      gpu_0_utilization_percentage: 37,
      gpu_0_memory_usage_megabytes: (1024 * 1024 * 1024) / 1e6,
      gpu_0_memory_usage_percentage: 1.25,
      gpu_0_power_usage_watts: 120.5,
      gpu_1_utilization_percentage: 0,
    });
    expect(g.gpu_0_power_usage_percentage).toBeCloseTo(17.214, 3);
    expect(g).not.toHaveProperty('gpu_1_power_usage_watts');
    expect(await gpuSample(join(dir, 'absent'))).toEqual({});
  });

  it("aggregates as MLflow (mean to 0.1); the switch is MLflow's variable, off unless true or 1", () => {
    expect(aggregateSamples([{ a: 1 }, { a: 2 }, { a: 2 }])).toEqual({ a: 1.7 });
    expect(systemMetricsEnabled({})).toBe(false);
    expect(systemMetricsEnabled({ MLFLOW_ENABLE_SYSTEM_METRICS_LOGGING: 'true' })).toBe(true);
    expect(systemMetricsEnabled({ MLFLOW_ENABLE_SYSTEM_METRICS_LOGGING: '1' })).toBe(true);
    expect(systemMetricsEnabled({ MLFLOW_ENABLE_SYSTEM_METRICS_LOGGING: 'no' })).toBe(false);
  });
});
