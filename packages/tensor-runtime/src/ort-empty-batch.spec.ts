/**
 * ONNX Runtime and empty batches. Upstream: a session whose graph holds a TopK (every CFA graph
 * does: the nearest memory-bank centres) kills the whole process with SIGFPE when fed a batch of
 * 0 (onnxruntime-node 1.30; a division by the row count). That is pinned here in a child process,
 * so the day ONNX Runtime raises an error instead, this test says so and the guard can be revisited.
 * Ours: `createOrtRunner` refuses an empty feed with an error naming it, before the session runs.
 */
import { spawnSync } from 'node:child_process';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { selectEngine } from './engine';
import { attr, OnnxGraphBuilder } from './onnx-graph';
import { createOrtRunner } from './ort-session';

/** x [n, 4] → the smallest value of each row (TopK k=1), as the nearest-centre search does. */
function topKGraph(): Uint8Array {
  const g = new OnnxGraphBuilder('topk');
  const x = g.input('x', ['n', 4]);
  const [values] = g.node('TopK', [x, g.ints('k', [1])], { axis: attr.int(-1), largest: attr.int(0) }, 2);
  g.namedOutput(values, 'v', ['n', 1]);
  return g.toBytes();
}

/** Runs the graph on `rows` rows in a fresh node process; how it ended. */
async function runInChild(rows: number): Promise<{ status: number | null; signal: NodeJS.Signals | null }> {
  const file = join(await mkdtemp(join(tmpdir(), 'ort-empty-')), 'topk.onnx');
  await writeFile(file, topKGraph());
  const script = `import ort from 'onnxruntime-node';
    const s = await ort.InferenceSession.create(${JSON.stringify(file)});
    await s.run({ x: new ort.Tensor('float32', new Float32Array(${rows * 4}), [${rows}, 4]) });`;
  const child = spawnSync(process.execPath, ['--input-type=module', '-e', script], {
    cwd: fileURLToPath(new URL('..', import.meta.url)),
    stdio: 'ignore',
    timeout: 60_000,
  });
  return { status: child.status, signal: child.signal };
}

describe('ONNX Runtime on an empty batch', () => {
  it('upstream: TopK on a batch of 0 kills the process with SIGFPE (a batch of 1 runs)', async () => {
    expect(await runInChild(1)).toEqual({ status: 0, signal: null });
    // if this fails, ONNX Runtime no longer crashes here: see whether the guard below is still needed
    expect(await runInChild(0)).toEqual({ status: null, signal: 'SIGFPE' });
  });

  it('ours: createOrtRunner refuses an empty feed before the session runs, naming it', async () => {
    const engine = await selectEngine({ requested: 'ort', threads: 1 });
    const runner = await createOrtRunner(engine, topKGraph(), 'nearest centres');
    await expect(runner.run({ x: { data: new Float32Array(0), dims: [0, 4] } })).rejects.toThrow(
      /^'nearest centres': input 'x' is empty \(\[0, 4\]\); at least one image \(row\) is needed/,
    );
    const out = await runner.run({ x: { data: new Float32Array([3, 1, 2, 4]), dims: [1, 4] } });
    expect(Array.from(out.v.data as Float32Array)).toEqual([1]);
    await runner.release();
  });
});
