/**
 * Natural pose jitter for synthetic objects (MVTec AD's objects are placed by hand or by a feeder:
 * a few pixels off centre and a few degrees turned; screws, nuts and hazelnuts lie at any angle).
 * An object is drawn in its own frame — units of the image size, origin at its centre — and each
 * image pixel is mapped into that frame.
 *
 * @example
 * ```ts
 * const pose = samplePose(rng, size, { shift: 0.02, rotation: Math.PI / 60 });
 * const [u, v] = toObjectFrame(pose, x + 0.5, y + 0.5);
 * ```
 */
import type { Rng } from '@cfa/tensor-runtime';

export interface Pose {
  /** Centre in pixels. */
  cx: number;
  cy: number;
  /** Turn in radians. */
  angle: number;
  /** Pixels per object unit (the image size, times a small scale jitter). */
  scale: number;
}

export interface PoseJitter {
  /** Largest shift of the centre, as a fraction of the image size. */
  shift: number;
  /** Largest turn in radians (π: any angle). */
  rotation: number;
  /** Largest relative change of size; default 0.02. */
  scale?: number;
}

export function samplePose(rng: Rng, size: number, { shift, rotation, scale = 0.02 }: PoseJitter): Pose {
  return {
    cx: size / 2 + size * rng.uniform(-shift, shift),
    cy: size / 2 + size * rng.uniform(-shift, shift),
    angle: rng.uniform(-rotation, rotation),
    scale: size * rng.uniform(1 - scale, 1 + scale),
  };
}

/** Image point (pixels) → object frame (u along the object's x axis, v along its y axis). */
export function toObjectFrame(pose: Pose, x: number, y: number): [number, number] {
  const dx = x - pose.cx,
    dy = y - pose.cy;
  const c = Math.cos(pose.angle),
    s = Math.sin(pose.angle);
  return [(c * dx + s * dy) / pose.scale, (-s * dx + c * dy) / pose.scale];
}
