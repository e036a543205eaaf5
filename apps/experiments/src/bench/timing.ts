/** What a bench row holds, and how a step is timed: the median of repeated runs after a warm-up. */

export interface BenchRow {
  key: string;
  label: string;
  unit: 'ms/img' | 's' | 'img/s';
  value: number;
}

/** Milliseconds: the median of `repeat` timed runs of `fn` after one untimed run (the reference's `timed`). */
export async function median(fn: () => Promise<unknown>, repeat = 3): Promise<number> {
  await fn();
  const samples: number[] = [];
  for (let i = 0; i < repeat; i++) {
    const t = performance.now();
    await fn();
    samples.push(performance.now() - t);
  }
  return samples.sort((a, b) => a - b)[Math.floor(samples.length / 2)];
}

/**
 * The two inference rows of a method: images/s with the features computed each time (`fromImages`)
 * and from the cached features (`fromCache`), each the median of one timed run after a warm-up.
 */
export async function inferenceThroughputRows(options: {
  key: string;
  label: string;
  count: number;
  fromImages: () => Promise<unknown>;
  fromCache: () => Promise<unknown>;
}): Promise<BenchRow[]> {
  const { key, label, count } = options;
  const images = await median(options.fromImages, 1);
  const cached = await median(options.fromCache, 1);
  return [
    { key: `${key}_throughput`, label, unit: 'img/s', value: count / (images / 1000) },
    { key: `${key}_cached_throughput`, label: '  from cached features', unit: 'img/s', value: count / (cached / 1000) },
  ];
}
