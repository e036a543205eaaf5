/**
 * Views: how an image becomes the model's input (paper §4.1–4.2; docs/method.md, "Data").
 *
 * - `center-crop` — resize the short side to `resize` (the long side in proportion, as torchvision's
 *   `Resize(int)`; square images become `resize`²), center-crop `crop`² (the CFA standard view);
 * - `resize` — resize to `size`² (the second view of CFA++);
 * - `rd-mvtec` — paper Table 3: rotate by a uniform angle in [−max, +max] about the centre, resize,
 *   random crop. The angle and crop offset of a sample are a pure function of (seed, sample id), so
 *   train and test are deterministic and the mask gets exactly the image's transform.
 *
 * @example
 * ```ts
 * const view = ViewSchema.parse({ kind: 'center-crop' }); // { kind, resize: 256, crop: 224 }
 * viewKey(view);            // 'center-crop:256:224'
 * viewOutputSize(view);     // 224
 * companionView(view);      // { kind: 'resize', size: 224 }: the second view of CFA++
 * ```
 */
import { z } from 'zod';
import { createRng, hashString } from '@cfa/tensor-runtime';

const side = z.number().int().min(8).max(4096);

/** How images are resampled (docs/defaults.md): Pillow's Lanczos as the reference code, or bilinear. */
export const ResizeFilterSchema = z.enum(['lanczos', 'bilinear']);
export type ResizeFilter = z.infer<typeof ResizeFilterSchema>;
const filter = ResizeFilterSchema.default('lanczos');

export const ViewSchema = z
  .discriminatedUnion('kind', [
    z.strictObject({ kind: z.literal('center-crop'), resize: side.default(256), crop: side.default(224), filter }),
    z.strictObject({ kind: z.literal('resize'), size: side.default(224), filter }),
    z.strictObject({
      kind: z.literal('rd-mvtec'),
      resize: side.default(256),
      crop: side.default(224),
      maxRotationDeg: z.number().min(0).max(180).default(10),
      seed: z.number().int().nonnegative().default(0),
      filter,
    }),
  ])
  .refine((v) => v.kind === 'resize' || v.crop <= v.resize, { message: 'crop must not exceed resize', path: ['crop'] });

export type View = z.infer<typeof ViewSchema>;

/**
 * A method's `view` field: absent, it is `defaults`; given with the same kind (or none), its unset
 * fields come from `defaults`, not from ViewSchema's — `{ size: 128 }` on CRAD's default view keeps
 * its bilinear filter. A view of another kind takes ViewSchema's defaults. (Setting `view.size`
 * alone, as crad.yaml did, used to give ViewSchema's Lanczos filter instead of the method's.)
 */
export function viewDefaultingTo(defaults: View) {
  return z.preprocess((value) => {
    if (value === undefined) return defaults;
    if (typeof value !== 'object' || value === null || Array.isArray(value)) return value;
    const kind = (value as { kind?: unknown }).kind ?? defaults.kind;
    return kind === defaults.kind ? { ...defaults, ...value, kind } : value;
  }, ViewSchema);
}

/**
 * Canonical text of a view, for cache keys and logs. The default filter (lanczos) is not spelled
 * out, so the keys of default views stay short; 'bilinear' is.
 */
export function viewKey(view: View): string {
  const suffix = view.filter === 'bilinear' ? ':bilinear' : '';
  switch (view.kind) {
    case 'center-crop':
      return `center-crop:${view.resize}:${view.crop}${suffix}`;
    case 'resize':
      return `resize:${view.size}${suffix}`;
    case 'rd-mvtec':
      return `rd-mvtec:${view.resize}:${view.crop}:${view.maxRotationDeg}:${view.seed}${suffix}`;
  }
}

/** Side of the square the view produces. */
export function viewOutputSize(view: View): number {
  return view.kind === 'resize' ? view.size : view.crop;
}

export interface Placement {
  /** Rotation in degrees (counter-clockwise). */
  angleDeg: number;
  /** Size of the resized (rotated) image. */
  resizeHeight: number;
  resizeWidth: number;
  /** Crop offset (top, left) in the resized image. */
  top: number;
  left: number;
  size: number;
}

/** Pixel size of a source image, when it is known (non-square sources resize differently). */
export interface SourceSize {
  width: number;
  height: number;
}

/** torchvision CenterCrop's offset: int(round(d / 2)), Python rounding half to even. */
function centreOffset(d: number): number {
  const half = Math.floor(d / 2);
  return d % 2 === 0 || half % 2 === 0 ? half : half + 1;
}

/**
 * Where one sample's pixels come from under a view. For a center-crop view of a non-square source
 * the short side becomes `resize` and the long side ⌊resize · long / short⌋ (torchvision
 * `Resize(int)`, which the reference code and anomalib use); without `source` it is taken as square.
 */
export function viewPlacement(view: View, sampleId: string, source?: SourceSize): Placement {
  switch (view.kind) {
    case 'center-crop': {
      let [h, w] = [view.resize, view.resize];
      if (source && source.width !== source.height) {
        const short = Math.min(source.width, source.height);
        const long = Math.floor((view.resize * Math.max(source.width, source.height)) / short);
        [h, w] = source.height < source.width ? [view.resize, long] : [long, view.resize];
      }
      const top = centreOffset(h - view.crop);
      const left = centreOffset(w - view.crop);
      return { angleDeg: 0, resizeHeight: h, resizeWidth: w, top, left, size: view.crop };
    }
    case 'resize':
      return { angleDeg: 0, resizeHeight: view.size, resizeWidth: view.size, top: 0, left: 0, size: view.size };
    case 'rd-mvtec': {
      const rng = createRng(view.seed).fork(`rd-mvtec:${hashString(sampleId)}`);
      const angleDeg = rng.uniform(-view.maxRotationDeg, view.maxRotationDeg);
      const span = view.resize - view.crop;
      const [top, left] = [rng.int(span + 1), rng.int(span + 1)];
      return { angleDeg, resizeHeight: view.resize, resizeWidth: view.resize, top, left, size: view.crop };
    }
  }
}

/**
 * The deterministic view under which a trained model scores new images (predict, ONNX export).
 * `center-crop` and `resize` are deterministic already; `rd-mvtec`'s random rotation and crop are
 * the RD-MVTec benchmark's perturbation of its test set (paper Table 3), not part of the model, so
 * a model trained on it scores the centre crop of the same sizes (its CFA++ companion, with
 * resize = crop, the whole image resized to the crop).
 */
export function inferenceView(view: View): View {
  return view.kind === 'rd-mvtec'
    ? { kind: 'center-crop', resize: view.resize, crop: view.crop, filter: view.filter }
    : view;
}

/**
 * The resize-only companion of a view: CFA++ (docs/method.md, "Data") averages the anomaly maps of
 * the standard view (resize 256 + center-crop 224) and of resize-only to 224.
 *
 * - `center-crop {resize, crop}` → `resize {size: crop}`;
 * - `rd-mvtec {resize, crop, maxRotationDeg, seed}` → `rd-mvtec` with `resize = crop`: the same
 *   per-sample rotation (the angle is the first draw of the sample's stream, so it does not depend
 *   on the sizes), then the whole rotated image resized to the crop size, with no crop (the crop
 *   span is 0, so the offset is 0).
 *
 * Both views produce `viewOutputSize(view)`-sided inputs, so one backbone embedder serves both.
 *
 * @param view - the primary view.
 * @returns the companion view, whose output covers the whole (rotated) image.
 * @throws Error for a `resize` view: it is already resize-only and has no companion.
 */
export function companionView(view: View): View {
  switch (view.kind) {
    case 'center-crop':
      return { kind: 'resize', size: view.crop, filter: view.filter };
    case 'rd-mvtec':
      return { ...view, resize: view.crop, crop: view.crop };
    case 'resize':
      throw new Error(
        `companionView: the view ${viewKey(view)} is already resize-only and has no companion (CFA++ needs a center-crop or rd-mvtec primary view)`,
      );
  }
}
