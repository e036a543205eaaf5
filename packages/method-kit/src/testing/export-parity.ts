/**
 * The export check every method's spec runs: a trained model scored by `createImagePredictor` and
 * by ONNX Runtime on its one-graph export (`buildOnnxModel`) over the same viewed images, and ONNX's
 * own checker on the exported bytes where a Python with `onnx` is at hand (Debian `python3-onnx`).
 * Returns the numbers; the spec asserts them.
 */
import { execFileSync } from 'node:child_process';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createOrtRunner, type EngineSelection } from '@cfa/tensor-runtime';
import { maxRelativeError } from '@cfa/tensor-runtime/testing';
import { buildOnnxModel, type OnnxExport } from '../export-onnx';
import { createImagePredictor, type ImageInput, type ImagePrediction } from '../predict-images';
import type { TrainedModel } from '../trained-model';

export interface ExportParity {
  onnx: OnnxExport;
  /** What `createImagePredictor` gave. */
  expected: ImagePrediction;
  /** ONNX Runtime's `anomaly_map` dims. */
  dims: number[];
  /** Largest error of ONNX Runtime's maps and scores relative to the largest expected value. */
  mapsError: number;
  scoresError: number;
}

export async function exportParity(
  model: TrainedModel,
  images: ImageInput[],
  engine: EngineSelection,
): Promise<ExportParity> {
  const predictor = await createImagePredictor(model, engine);
  const expected = await predictor.predict(images);
  await predictor.release();
  const onnx = buildOnnxModel(model);
  const runner = await createOrtRunner(engine, onnx.bytes, 'exported model');
  const size = expected.size;
  const feed = (viewed: Float32Array[]) => {
    const data = new Float32Array(viewed.length * size * size * 3);
    viewed.forEach((v, i) => data.set(v, i * size * size * 3));
    return { data, dims: [viewed.length, size, size, 3] };
  };
  try {
    const out = await runner.run({
      image: feed(expected.viewed),
      ...(expected.companionViewed ? { companion_image: feed(expected.companionViewed) } : {}),
    });
    return {
      onnx,
      expected,
      dims: out.anomaly_map.dims as number[],
      mapsError: maxRelativeError(out.anomaly_map.data as Float32Array, expected.maps),
      scoresError: maxRelativeError(out.image_score.data as Float32Array, expected.imageScores),
    };
  } finally {
    await runner.release();
  }
}

/** A Python whose `onnx` imports, or why there is none. */
function pythonWithOnnx(): { python?: string; reason: string } {
  const candidates = [process.env.CFA_PYTHON, '/usr/bin/python3', 'python3'].filter(Boolean) as string[];
  for (const python of candidates) {
    try {
      execFileSync(python, ['-c', 'import onnx'], { stdio: 'ignore', timeout: 60_000 });
      return { python, reason: '' };
    } catch {
      // next candidate
    }
  }
  return { reason: `none of ${candidates.join(', ')} imports onnx (apt-get install python3-onnx)` };
}

/**
 * ONNX's `checker.check_model(full_check=True)` on the bytes: `checked <nodes>` when it accepts
 * them, or `{ skipped }` with the reason when no Python with `onnx` is at hand; throws what the
 * checker says when it refuses them.
 */
export async function onnxChecker(bytes: Uint8Array): Promise<{ checked?: string; skipped?: string }> {
  const { python, reason } = pythonWithOnnx();
  if (!python) return { skipped: reason };
  const file = join(await mkdtemp(join(tmpdir(), 'onnx-check-')), 'model.onnx');
  await writeFile(file, bytes);
  const checked = execFileSync(
    python,
    [
      '-c',
      'import onnx, sys; m = onnx.load(sys.argv[1]); onnx.checker.check_model(m, full_check=True); print("checked", len(m.graph.node))',
      file,
    ],
    { encoding: 'utf8', timeout: 120_000 },
  );
  return { checked: checked.trim() };
}
