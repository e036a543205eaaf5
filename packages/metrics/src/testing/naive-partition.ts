/**
 * A deliberately simple connected-component labelling for the property tests, independent of
 * `connectedComponents`: every foreground pixel starts with its own label and takes its smallest
 * neighbour's label until nothing changes. Labels are not consecutive; compare partitions.
 *
 * @example
 * ```ts
 * import { naivePartition } from './testing/naive-partition';
 * naivePartition([1, 0, 0, 1], 2, 2, 8); // [1, 0, 0, 1]  (one region)
 * naivePartition([1, 0, 0, 1], 2, 2, 4); // [1, 0, 0, 4]  (two regions)
 * ```
 */
export function naivePartition(mask: ArrayLike<number>, height: number, width: number, connectivity: 4 | 8): number[] {
  const label = Array.from(mask, (v, i) => (v ? i + 1 : 0));
  let changed = true;
  while (changed) {
    changed = false;
    for (let y = 0; y < height; y++) {
      for (let x = 0; x < width; x++) {
        const p = y * width + x;
        if (!label[p]) continue;
        for (let dy = -1; dy <= 1; dy++) {
          for (let dx = -1; dx <= 1; dx++) {
            if (connectivity === 4 && dy !== 0 && dx !== 0) continue;
            const yy = y + dy;
            const xx = x + dx;
            if (yy < 0 || xx < 0 || yy >= height || xx >= width) continue;
            const q = yy * width + xx;
            if (label[q] && label[q] < label[p]) {
              label[p] = label[q];
              changed = true;
            }
          }
        }
      }
    }
  }
  return label;
}
