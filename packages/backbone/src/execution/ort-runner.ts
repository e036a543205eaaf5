/**
 * Runs a backbone on ONNX Runtime: the definition lowered to ONNX once, one session reused for
 * every batch (batch size is a dynamic dimension). Input and outputs are NHWC like the rest of
 * the project; the transposes live inside the graph.
 *
 * @example
 * ```ts
 * const runner = await createOrtBackboneRunner(engine, model, 224);
 * const maps = await runner.forward(images, 4); // images: Float32Array [4, 224, 224, 3]
 * ```
 */
import { attr, createOrtRunner, type EngineSelection, OnnxGraphBuilder, type OrtRunner } from '@cfa/tensor-runtime';
import type { BackboneModel } from '../backbone-model';
import { featureShapesFor } from '../backbone-model';
import { assertImageBatch } from './image-batch';
import { lowerBackboneToOnnx } from './onnx-lowering';

export interface FeatureMap {
  /** [N, h, w, C] row-major (NHWC). */
  data: Float32Array;
  dims: [number, number, number, number];
}

export interface OrtBackboneRunner {
  forward(images: Float32Array, batch: number): Promise<FeatureMap[]>;
  release(): Promise<void>;
}

/** Adds the input [n, size, size, 3] and a `Transpose` NHWC → NCHW; returns the NCHW value name. */
export function nhwcInputToNchw(g: OnnxGraphBuilder, name: string, size: number, docString?: string): string {
  const input = g.input(name, ['n', size, size, 3], 'float', docString);
  return g.node('Transpose', [input], { perm: attr.ints([0, 3, 1, 2]) })[0];
}

export async function createOrtBackboneRunner(
  engine: EngineSelection,
  model: BackboneModel,
  inputSize: number,
): Promise<OrtBackboneRunner> {
  const g = new OnnxGraphBuilder(model.definition.name);
  const maps = lowerBackboneToOnnx(g, model, nhwcInputToNchw(g, 'images', inputSize));
  const shapes = featureShapesFor(model, inputSize);
  maps.forEach((m, i) => {
    g.node('Transpose', [m], { perm: attr.ints([0, 2, 3, 1]) }, [shapes[i].name]);
    g.output(shapes[i].name, ['n', shapes[i].height, shapes[i].width, shapes[i].channels]);
  });
  const runner: OrtRunner = await createOrtRunner(engine, g.toBytes(), `${model.definition.name} backbone`);
  return {
    async forward(images, batch) {
      assertImageBatch(`${model.definition.name}.forward`, images, batch, inputSize);
      const out = await runner.run({ images: { data: images, dims: [batch, inputSize, inputSize, 3] } });
      return shapes.map((s) => ({
        data: out[s.name].data as Float32Array,
        dims: [batch, s.height, s.width, s.channels],
      }));
    },
    release: () => runner.release(),
  };
}
