/**
 * A curve with up to millions of points (a pixel ROC or PRO curve: one point per distinct score)
 * → at most a few hundred for a chart: a point is kept when it moved at least `step` along either
 * axis since the last kept one, and the first and last points always stay. Both axes lie in
 * [0, 1], so the kept polyline is within `step` of the full one everywhere.
 *
 * @example
 * ```ts
 * curvePoints({ x: roc.fpr, y: roc.tpr, step: 0.004 }); // [{ x: 0, y: 0 }, …, { x: 1, y: 1 }]
 * ```
 */

export interface CurvePointsParams {
  x: ArrayLike<number>;
  y: ArrayLike<number>;
  /** Smallest move on either axis between kept points; default 1/250. */
  step?: number;
  /** Keep points up to the first with x ≥ this; default all. */
  maxX?: number;
}

export function curvePoints({ x, y, step = 1 / 250, maxX = Infinity }: CurvePointsParams): { x: number; y: number }[] {
  if (x.length !== y.length) throw new Error(`curvePoints: x has ${x.length} points, y ${y.length}`);
  const out: { x: number; y: number }[] = [];
  let end = x.length;
  for (let i = 0; i < x.length; i++)
    if (x[i] >= maxX) {
      end = i + 1;
      break;
    }
  for (let i = 0; i < end; i++) {
    const last = out.at(-1);
    if (!last || i === end - 1 || Math.abs(x[i] - last.x) >= step || Math.abs(y[i] - last.y) >= step)
      out.push({ x: x[i], y: y[i] });
  }
  return out;
}
