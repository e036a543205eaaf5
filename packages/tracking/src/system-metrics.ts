/**
 * System metrics of a run, as MLflow's own clients log them (`mlflow/system_metrics/`, MLflow 3.6:
 * `SystemMetricsMonitor` with its CPU, disk, network and GPU monitors): every `intervalMs` (MLflow's
 * default 10 s, `MLFLOW_SYSTEM_METRICS_SAMPLING_INTERVAL` in seconds) one sample; every
 * `samplesBeforeLogging` samples (default 1, `MLFLOW_SYSTEM_METRICS_SAMPLES_BEFORE_LOGGING`) their
 * mean, rounded to 0.1, is logged at the next step (0, 1, …) under MLflow's names, which the UI's
 * "System metrics" tab charts:
 *
 *   system/cpu_utilization_percentage        system/system_memory_usage_megabytes
 *   system/system_memory_usage_percentage    system/disk_usage_percentage
 *   system/disk_usage_megabytes              system/disk_available_megabytes
 *   system/network_receive_megabytes         system/network_transmit_megabytes   (since the start)
 *   system/gpu_<i>_utilization_percentage    system/gpu_<i>_memory_usage_megabytes
 *   system/gpu_<i>_memory_usage_percentage   system/gpu_<i>_power_usage_watts
 *   system/gpu_<i>_power_usage_percentage    (where `nvidia-smi` answers; MLflow uses NVML)
 *
 * Sources: CPU from the kernel's per-core times (`os.cpus()`, as psutil's `cpu_percent`: busy share
 * since the previous sample), memory as total − available (`/proc/meminfo`; elsewhere total − free),
 * the disk of `/` (`statfs`), network from `/proc/net/dev`. MLflow's own switch is off by default
 * (`MLFLOW_ENABLE_SYSTEM_METRICS_LOGGING`); `systemMetricsEnabled(env)` reads it. `stop()` logs the
 * samples taken since the last log, so a cell shorter than the interval still has one point.
 *
 * @example
 * ```ts
 * const monitor = startSystemMetrics({ store, runId });   // samples every 10 s
 * await runTheCell();
 * await monitor.stop();                                  // the last aggregate is logged
 * ```
 */
import { execFile } from 'node:child_process';
import { readFile, statfs } from 'node:fs/promises';
import { cpus, freemem, totalmem } from 'node:os';
import { promisify } from 'node:util';
import type { Metric } from './entities';
import type { TrackingStore } from './tracking-store';

const run = promisify(execFile);

/** MLflow's prefix for system metrics. */
export const SYSTEM_METRIC_PREFIX = 'system/';
/** MLflow's default sampling interval. */
export const DEFAULT_SYSTEM_METRICS_INTERVAL_MS = 10_000;

export type SystemSample = Record<string, number>;

/** Whether MLflow's switch asks for system metrics (`MLFLOW_ENABLE_SYSTEM_METRICS_LOGGING`: true/1). */
export function systemMetricsEnabled(env: Record<string, string | undefined> = process.env): boolean {
  return /^(true|1)$/i.test(env.MLFLOW_ENABLE_SYSTEM_METRICS_LOGGING?.trim() ?? '');
}

/** CPU busy share since `before` (percent over all cores), as psutil's `cpu_percent()`. */
function cpuPercent(before: ReturnType<typeof cpus>, after: ReturnType<typeof cpus>): number {
  let busy = 0;
  let total = 0;
  after.forEach((core, i) => {
    const b = before[i]?.times;
    if (!b) return;
    const t = core.times;
    const idle = t.idle - b.idle;
    const all = t.user - b.user + (t.nice - b.nice) + (t.sys - b.sys) + (t.irq - b.irq) + idle;
    busy += all - idle;
    total += all;
  });
  return total > 0 ? (busy / total) * 100 : 0;
}

async function memory(): Promise<{ used: number; total: number }> {
  const info = await readFile('/proc/meminfo', 'utf8').catch(() => '');
  const kb = (key: string) => Number(new RegExp(`^${key}:\\s+(\\d+) kB`, 'm').exec(info)?.[1] ?? NaN) * 1024;
  const total = kb('MemTotal');
  const available = kb('MemAvailable');
  if (Number.isFinite(total) && Number.isFinite(available)) return { used: total - available, total };
  return { used: totalmem() - freemem(), total: totalmem() };
}

/** Bytes received and sent by every interface since boot (`/proc/net/dev`), or undefined where there is none. */
async function network(): Promise<{ received: number; sent: number } | undefined> {
  const text = await readFile('/proc/net/dev', 'utf8').catch(() => undefined);
  if (!text) return undefined;
  let received = 0;
  let sent = 0;
  for (const line of text.split('\n').slice(2)) {
    const fields = line.split(':')[1]?.trim().split(/\s+/).map(Number);
    if (!fields || fields.length < 9) continue;
    received += fields[0];
    sent += fields[8];
  }
  return { received, sent };
}

/** Per-GPU figures from `nvidia-smi` (or `command`), or none where it is absent or fails (MLflow logs none then either). */
export async function gpuSample(command = 'nvidia-smi'): Promise<SystemSample> {
  try {
    const { stdout } = await run(
      command,
      ['--query-gpu=utilization.gpu,memory.used,memory.total,power.draw,power.limit', '--format=csv,noheader,nounits'],
      { timeout: 5_000 },
    );
    const out: SystemSample = {};
    stdout
      .trim()
      .split('\n')
      .filter(Boolean)
      .forEach((line, i) => {
        const [util, usedMiB, totalMiB, watts, limit] = line.split(',').map((v) => Number(v.trim()));
        const put = (key: string, value: number) => Number.isFinite(value) && (out[`gpu_${i}_${key}`] = value);
        put('utilization_percentage', util);
        // nvidia-smi's MiB as MLflow's megabytes (NVML bytes / 1e6)
        put('memory_usage_megabytes', (usedMiB * 1024 * 1024) / 1e6);
        put('memory_usage_percentage', (usedMiB / totalMiB) * 100);
        put('power_usage_watts', watts);
        put('power_usage_percentage', (watts / limit) * 100);
      });
    return out;
  } catch {
    return {};
  }
}

/** A sampler of this machine: each call one sample, CPU measured since the previous call. */
export function machineSampler(options: { gpu?: () => Promise<SystemSample> } = {}): () => Promise<SystemSample> {
  let previousCpu = cpus();
  let startNetwork: { received: number; sent: number } | undefined;
  const gpu = options.gpu ?? (() => gpuSample());
  return async () => {
    const nowCpu = cpus();
    const sample: SystemSample = { cpu_utilization_percentage: cpuPercent(previousCpu, nowCpu) };
    previousCpu = nowCpu;
    const mem = await memory();
    sample.system_memory_usage_megabytes = mem.used / 1e6;
    sample.system_memory_usage_percentage = (mem.used / mem.total) * 100;
    const disk = await statfs('/').catch(() => undefined);
    if (disk) {
      const total = disk.blocks * disk.bsize;
      const free = disk.bavail * disk.bsize;
      const used = total - disk.bfree * disk.bsize;
      sample.disk_usage_percentage = (used / (used + free)) * 100;
      sample.disk_usage_megabytes = used / 1e6;
      sample.disk_available_megabytes = free / 1e6;
    }
    const net = await network();
    if (net) {
      startNetwork ??= net;
      sample.network_receive_megabytes = (net.received - startNetwork.received) / 1e6;
      sample.network_transmit_megabytes = (net.sent - startNetwork.sent) / 1e6;
    }
    return { ...sample, ...(await gpu()) };
  };
}

/** MLflow's aggregate: the mean of each key over the samples, rounded to 0.1; network totals are the last (they count since the start). */
export function aggregateSamples(samples: SystemSample[]): SystemSample {
  const sums = new Map<string, { sum: number; n: number; last: number }>();
  for (const s of samples)
    for (const [k, v] of Object.entries(s)) {
      const e = sums.get(k) ?? { sum: 0, n: 0, last: v };
      sums.set(k, { sum: e.sum + v, n: e.n + 1, last: v });
    }
  return Object.fromEntries(
    [...sums].map(([k, e]) => [k, k.startsWith('network_') ? e.last : Math.round((e.sum / e.n) * 10) / 10]),
  );
}

export interface SystemMetricsOptions {
  store: TrackingStore;
  runId: string;
  /** Between samples; default `MLFLOW_SYSTEM_METRICS_SAMPLING_INTERVAL` (seconds), else 10 s. */
  intervalMs?: number;
  /** Samples per logged point; default `MLFLOW_SYSTEM_METRICS_SAMPLES_BEFORE_LOGGING`, else 1. */
  samplesBeforeLogging?: number;
  /** Where samples come from (tests pass their own); default this machine. */
  sample?: () => Promise<SystemSample>;
  env?: Record<string, string | undefined>;
  /** A failed sample or log, for the caller's log; monitoring goes on. */
  onError?: (error: Error) => void;
}

export interface SystemMetricsMonitor {
  /** Stops sampling and logs what was sampled since the last point. */
  stop(): Promise<void>;
}

export function startSystemMetrics(options: SystemMetricsOptions): SystemMetricsMonitor {
  const env = options.env ?? process.env;
  const intervalMs =
    options.intervalMs ??
    (Number(env.MLFLOW_SYSTEM_METRICS_SAMPLING_INTERVAL) > 0
      ? Number(env.MLFLOW_SYSTEM_METRICS_SAMPLING_INTERVAL) * 1000
      : DEFAULT_SYSTEM_METRICS_INTERVAL_MS);
  const perPoint = options.samplesBeforeLogging ?? (Number(env.MLFLOW_SYSTEM_METRICS_SAMPLES_BEFORE_LOGGING) || 1);
  const sample = options.sample ?? machineSampler();
  let pending: SystemSample[] = [];
  let step = 0;
  let busy: Promise<void> = Promise.resolve();

  const publish = async () => {
    if (!pending.length) return;
    const values = aggregateSamples(pending);
    pending = [];
    const timestamp = Date.now();
    const metrics: Metric[] = Object.entries(values).map(([k, value]) => ({
      key: `${SYSTEM_METRIC_PREFIX}${k}`,
      value,
      timestamp,
      step,
    }));
    step++;
    await options.store.logBatch(options.runId, { metrics });
  };
  const tick = (final: boolean) =>
    (busy = busy.then(async () => {
      try {
        pending.push(await sample());
        if (final || pending.length >= perPoint) await publish();
      } catch (error) {
        options.onError?.(error as Error);
      }
    }));
  const timer = setInterval(() => void tick(false), intervalMs);
  timer.unref();
  return {
    stop: async () => {
      clearInterval(timer);
      await tick(true);
    },
  };
}
