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
