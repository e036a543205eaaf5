/**
 * Thin strokes for the synthetic categories: fibres of a fleece, scratches, cracks and stray
 * threads. A stroke visits the pixels within width/2 of a polyline (only inside its bounding
 * box, so thousands of short fibres stay cheap); a wandering path gives the polyline a natural,
 * slightly curved course.
 *
 * @example
 * ```ts
 * const path = wanderingPath(rng, { start: [40, 40], heading: 0.3, segments: 6, step: 5, turn: 0.4 });
 * strokePolyline(256, path, 1.5, (i) => (mask[i] = 1));
 * ```
 */
import type { Rng } from '@cfa/tensor-runtime';

export type Point = [number, number];

/** Calls `visit(index)` once for every pixel whose centre lies within width/2 of the polyline. */
export function strokePolyline(size: number, points: Point[], width: number, visit: (index: number) => void): void {
  const r = width / 2;
  let minX = Infinity,
    maxX = -Infinity,
    minY = Infinity,
    maxY = -Infinity;
  for (const [x, y] of points) {
    minX = Math.min(minX, x);
    maxX = Math.max(maxX, x);
    minY = Math.min(minY, y);
    maxY = Math.max(maxY, y);
  }
  const x0 = Math.max(0, Math.floor(minX - r - 1)),
    x1 = Math.min(size - 1, Math.ceil(maxX + r + 1));
  const y0 = Math.max(0, Math.floor(minY - r - 1)),
    y1 = Math.min(size - 1, Math.ceil(maxY + r + 1));
  for (let y = y0; y <= y1; y++) {
    for (let x = x0; x <= x1; x++) {
      const px = x + 0.5,
        py = y + 0.5;
      for (let s = 0; s + 1 < points.length; s++) {
        const [ax, ay] = points[s],
          [bx, by] = points[s + 1];
        const lx = bx - ax,
          ly = by - ay;
        const t = Math.max(0, Math.min(1, ((px - ax) * lx + (py - ay) * ly) / (lx * lx + ly * ly || 1)));
        const dx = px - ax - t * lx,
          dy = py - ay - t * ly;
        if (dx * dx + dy * dy <= r * r) {
          visit(y * size + x);
          break;
        }
      }
    }
  }
}

export interface WanderingPathOptions {
  start: Point;
  /** Initial direction, radians. */
  heading: number;
  segments: number;
  /** Length of each segment, pixels. */
  step: number;
  /** Largest heading change per segment, radians. */
  turn: number;
}

/** A polyline that starts at `start` and turns a little at each of its `segments` joints. */
export function wanderingPath(rng: Rng, { start, heading, segments, step, turn }: WanderingPathOptions): Point[] {
  const points: Point[] = [start];
  let [x, y] = start;
  let h = heading;
  for (let s = 0; s < segments; s++) {
    h += rng.uniform(-turn, turn);
    x += step * Math.cos(h);
    y += step * Math.sin(h);
    points.push([x, y]);
  }
  return points;
}
