/**
 * `predict`'s work: a saved model scores images that have no ground truth — one file or a whole
 * folder, any size and any PNG/JPEG/… the loader decodes — and writes, into one output folder:
 *
 *   scores.csv, scores.json    image scores (JSON: also sizes, the region of the image the map
 *                              covers, the thresholds used, the model's identity)
 *   maps/<name>.npy            the raw anomaly map, float32 [S, S] (`np.load`)
 *   masks/<name>.png           the binary segmentation mask, map > pixel threshold (255 = anomalous),
 *                              when a threshold is known: calibrated in the model, or given
 *   heatmaps/<name>.png        input | mask | map over the input, colours on one range for the run
 *
 * Everything that can be checked is checked before the long work: `--out` apart from what is read
 * (the model, its run folder, the input), the model bundle and its backbone weights (`loadModel`),
 * the inputs (an empty folder, a file that is not an image). The folder is written through
 * @cfa/io's staged folder under its lock: a second predict into it is refused at once, naming the
 * first, and an error — an image whose body turns out to be truncated — or Ctrl-C leaves the
 * previous outputs as they were, never a mix of two runs.
 *
 * @example
 * ```ts
 * const summary = await predictFolder({ modelDir: 'runs/x/model', input: 'shots/', out: 'runs/predict/1', engine });
 * summary.images[0].score;
 * ```
 */
import { readFile, stat } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import type { EngineSelection } from '@cfa/tensor-runtime';
import {
  decodeImage,
  inferenceView,
  normalizeImageNet,
  readImageHeader,
  type View,
  viewKey,
  viewPlacement,
  viewRasters,
  writePngAtomic,
} from '@cfa/data';
import { createImagePredictor, loadModel, MODEL_MANIFEST_FILE, type ModelManifest } from '@cfa/method-kit';
import { METHODS } from '../methods/registry';
import { checkOutputApart, openStagedFolder, writeFileAtomic } from '@cfa/io';
import { decodeNpy, encodeNpy } from '../export/npy';
import { heatmapRasters, sideBySide } from '../report/heatmap-panel';
import { type InputImage, listImages } from './list-images';

export interface PredictFolderOptions {
  /** A model bundle folder, or a run folder holding one in `model/`. */
  modelDir: string;
  /** An image file or a folder of images. */
  input: string;
  out: string;
  engine: EngineSelection;
  /** Pixel threshold for the masks; default the model's calibrated one. */
  threshold?: number;
  /** Image threshold for `anomalous`; default the model's calibrated one. */
  imageThreshold?: number;
  /** The backbone weight file when it moved since the fit. */
  weightsPath?: string;
  /** Images decoded and scored at a time (memory: ≈ 1.5 MB each for resnet18 at 224). */
  chunk?: number;
  heatmaps?: boolean;
  log?: (line: string) => void;
  onProgress?: (phase: string, done: number, total: number) => void;
}

export interface PredictedImage {
  file: string;
  name: string;
  score: number;
  /** score > image threshold; null without one. */
  anomalous: boolean | null;
  width: number;
  height: number;
  /** The part of the image (its pixels) that the map's S×S grid covers. */
  region: { left: number; top: number; width: number; height: number };
  map: string;
  mask: string | null;
  heatmap: string | null;
}

export interface PredictSummary {
  model: {
    dir: string;
    method: string;
    backbone: string;
    ensemble: string;
    views: string[];
    calibratedThresholds: ModelManifest['thresholds'];
  };
  size: number;
  thresholds: {
    image: number | null;
    pixel: number | null;
    source: { image: 'calibrated' | 'option' | null; pixel: 'calibrated' | 'option' | null };
  };
  images: PredictedImage[];
}

/** A bundle folder, or the `model/` folder of a run folder. */
export async function resolveModelDir(dir: string): Promise<string> {
  const has = (d: string) =>
    stat(join(d, MODEL_MANIFEST_FILE)).then(
      (s) => s.isFile(),
      () => false,
    );
  if (!(await has(dir)) && (await has(join(dir, 'model')))) return join(dir, 'model');
  return dir;
}

/** Where the view's S×S output lies in the original image's pixels. */
function coveredRegion(view: View, width: number, height: number) {
  const place = viewPlacement(view, '', { width, height });
  const sx = width / place.resizeWidth,
    sy = height / place.resizeHeight;
  const round = (v: number) => Math.round(v * 100) / 100;
  return {
    left: round(place.left * sx),
    top: round(place.top * sy),
    width: round(place.size * sx),
    height: round(place.size * sy),
  };
}

const csvField = (s: string) => (/[",\n]/.test(s) ? `"${s.replaceAll('"', '""')}"` : s);

/** What predict writes at the top of its folder; a folder holding anything else is not replaced. */
export const PREDICT_OUTPUTS = ['scores.csv', 'scores.json', 'maps', 'masks', 'heatmaps'] as const;

/**
 * The folders `--out` must keep out of: the model, the run folder it came from (`<run>/model`),
 * the input. Its outputs replace the whole folder, so `--out <run folder>` would destroy the run's
 * own scores.csv, and `--out` inside `--input` would have the next predict score its own masks.
 */
function foldersRead(options: PredictFolderOptions, modelDir: string): { what: string; path: string }[] {
  return [
    { what: '--model', path: options.modelDir },
    ...(basename(modelDir) === 'model' ? [{ what: 'the run folder of --model', path: dirname(modelDir) }] : []),
    { what: '--input', path: options.input },
  ];
}

export async function predictFolder(options: PredictFolderOptions): Promise<PredictSummary> {
  const log = options.log ?? (() => undefined);
  const chunk = options.chunk ?? 16;
  const inputs = await listImages(options.input, log);
  const modelDir = await resolveModelDir(options.modelDir);
  await checkOutputApart({ what: '--out', path: options.out }, foldersRead(options, modelDir));
  // one predict at a time into a folder (its lock, taken now), all its files or none
  const folder = await openStagedFolder(options.out, { what: '--out', outputs: PREDICT_OUTPUTS });
  try {
    const summary = await predictInto(folder.path, options, { inputs, modelDir, log, chunk });
    await folder.commit();
    return summary;
  } catch (error) {
    // a write that failed names the output folder the user gave, not the staging folder
    if (error instanceof Error) error.message = folder.explain(error);
    throw error;
  } finally {
    await folder.discard();
  }
}

async function predictInto(
  stage: string,
  options: PredictFolderOptions,
  {
    inputs,
    modelDir,
    log,
    chunk,
  }: { inputs: InputImage[]; modelDir: string; log: (line: string) => void; chunk: number },
): Promise<PredictSummary> {
  const { model, manifest } = await loadModel(modelDir, {
    engine: options.engine,
    methods: METHODS,
    weightsPath: options.weightsPath,
  });
  const sizes = new Map<string, { width: number; height: number }>();
  for (const [i, input] of inputs.entries()) {
    sizes.set(input.path, await readImageHeader(input.path));
    options.onProgress?.('check inputs', i + 1, inputs.length);
  }
  const pixelThreshold = options.threshold ?? model.thresholds?.pixel;
  const imageThreshold = options.imageThreshold ?? model.thresholds?.image;
  if (pixelThreshold === undefined)
    log(
      `${modelDir}: no calibrated threshold (it was fitted with calibration.holdout 0) and no --threshold: writing maps and scores, no masks`,
    );
  const primaryView = inferenceView(model.members[0].view);
  const summary: PredictSummary = {
    model: {
      dir: modelDir,
      method: manifest.method,
      backbone: manifest.backbone.name,
      ensemble: manifest.config.ensemble,
      views: model.members.map((m) => viewKey(inferenceView(m.view))),
      calibratedThresholds: manifest.thresholds,
    },
    size: 0,
    thresholds: {
      image: imageThreshold ?? null,
      pixel: pixelThreshold ?? null,
      source: {
        image: options.imageThreshold !== undefined ? 'option' : imageThreshold !== undefined ? 'calibrated' : null,
        pixel: options.threshold !== undefined ? 'option' : pixelThreshold !== undefined ? 'calibrated' : null,
      },
    },
    images: [],
  };
  {
    const predictor = await createImagePredictor(model, options.engine);
    const size = predictor.size;
    summary.size = size;
    let lo = Infinity,
      hi = -Infinity;
    try {
      for (let start = 0; start < inputs.length; start += chunk) {
        const batch = inputs.slice(start, start + chunk);
        const images = await Promise.all(batch.map(async (x) => ({ id: x.name, image: await decodeImage(x.path) })));
        const out = await predictor.predict(images);
        for (const [i, input] of batch.entries()) {
          const map = out.maps.subarray(i * size * size, (i + 1) * size * size);
          for (const v of map) {
            if (v < lo) lo = v;
            if (v > hi) hi = v;
          }
          await writeFileAtomic(join(stage, 'maps', `${input.name}.npy`), encodeNpy(map, [size, size]));
          if (pixelThreshold !== undefined) {
            await writePngAtomic(join(stage, 'masks', `${input.name}.png`), {
              data: Uint8Array.from(map, (v) => (v > pixelThreshold ? 255 : 0)),
              width: size,
              height: size,
              channels: 1,
            });
          }
          const { width, height } = sizes.get(input.path)!;
          const score = out.imageScores[i];
          summary.images.push({
            file: input.path,
            name: input.name,
            score,
            anomalous: imageThreshold === undefined ? null : score > imageThreshold,
            width,
            height,
            region: coveredRegion(primaryView, width, height),
            map: `maps/${input.name}.npy`,
            mask: pixelThreshold === undefined ? null : `masks/${input.name}.png`,
            heatmap: options.heatmaps === false ? null : `heatmaps/${input.name}.png`,
          });
        }
        options.onProgress?.('predict', Math.min(start + chunk, inputs.length), inputs.length);
      }
    } finally {
      await predictor.release();
    }
    // panels after all maps: one colour range for the whole run, as the evaluation's panels
    if (options.heatmaps !== false)
      await writeHeatmaps(stage, inputs, primaryView, size, [lo, hi], pixelThreshold, options);
    const csv = [
      'file,score,anomalous',
      ...summary.images.map((p) => `${csvField(p.file)},${p.score},${p.anomalous === null ? '' : Number(p.anomalous)}`),
    ];
    await writeFileAtomic(join(stage, 'scores.csv'), `${csv.join('\n')}\n`);
    await writeFileAtomic(join(stage, 'scores.json'), `${JSON.stringify(summary, null, 2)}\n`);
  }
  return summary;
}

async function writeHeatmaps(
  stage: string,
  inputs: InputImage[],
  view: View,
  size: number,
  range: [number, number],
  pixelThreshold: number | undefined,
  options: PredictFolderOptions,
): Promise<void> {
  for (const [i, input] of inputs.entries()) {
    const viewed = viewRasters({ image: await decodeImage(input.path), view, sampleId: input.name });
    const { data: map } = decodeNpy(await readFile(join(stage, 'maps', `${input.name}.npy`)));
    // no ground truth: input | map over it | the segmentation at the threshold (when there is one)
    const rasters = heatmapRasters({
      image: normalizeImageNet(viewed.image.data),
      mask: new Uint8Array(size * size),
      map,
      size,
      range,
      threshold: pixelThreshold,
    });
    const panels = [rasters.image, rasters.overlay, ...(rasters.segmentation ? [rasters.segmentation] : [])];
    await writePngAtomic(join(stage, 'heatmaps', `${input.name}.png`), {
      data: sideBySide(panels, size),
      width: panels.length * size,
      height: size,
      channels: 3,
    });
    options.onProgress?.('heatmaps', i + 1, inputs.length);
  }
}
