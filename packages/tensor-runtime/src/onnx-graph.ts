/**
 * An in-memory ONNX graph builder, serialised with the `onnx-proto` package (protobufjs code
 * generated from ONNX's published onnx.proto), so that no protobuf bytes are written by hand.
 *
 * Models defined once in TypeScript are lowered through this builder and run by ONNX Runtime.
 *
 * @example
 * ```ts
 * const g = new OnnxGraphBuilder('matmul');
 * const x = g.input('x', ['n', 4]);
 * const w = g.initializer('w', new Float32Array(12), [4, 3]);
 * g.output(g.node('MatMul', [x, w])[0], ['n', 3]);
 * const bytes = g.toBytes();
 * ```
 */
import onnxProto from 'onnx-proto';

const { onnx } = onnxProto;

/** Opset 13: Resize with half_pixel, TopK with `largest`, ReduceSum with axes as an input. */
export const ONNX_OPSET = 13;
/**
 * Operators that need a later opset than `ONNX_OPSET`: a graph that uses one declares that opset
 * (and the IR version it needs), every other graph keeps 13, so existing exports do not change.
 */
const OPERATOR_OPSETS: Record<string, number> = { GridSample: 16 };
/** IR 7 carries opsets up to 14, IR 8 up to 18 (onnx.helper.VERSION_TABLE). */
const irVersionFor = (opset: number) => (opset <= 14 ? 7 : 8);

type AttrValue =
  | { kind: 'int'; value: number }
  | { kind: 'ints'; value: number[] }
  | { kind: 'float'; value: number }
  | { kind: 'floats'; value: number[] }
  | { kind: 'string'; value: string };

/** Typed attribute constructors: ONNX distinguishes 3 from 3.0, so the type is explicit. */
export const attr = {
  int: (value: number): AttrValue => ({ kind: 'int', value }),
  ints: (value: number[]): AttrValue => ({ kind: 'ints', value }),
  float: (value: number): AttrValue => ({ kind: 'float', value }),
  floats: (value: number[]): AttrValue => ({ kind: 'floats', value }),
  string: (value: string): AttrValue => ({ kind: 'string', value }),
};

export type OnnxDim = number | string;
export type OnnxElementType = 'float' | 'int64';
const ELEMENT_TYPE: Record<OnnxElementType, number> = {
  float: onnx.TensorProto.DataType.FLOAT,
  int64: onnx.TensorProto.DataType.INT64,
};

function valueInfo(name: string, dims: OnnxDim[], type: OnnxElementType, docString?: string) {
  return {
    name,
    ...(docString ? { docString } : {}),
    type: {
      tensorType: {
        elemType: ELEMENT_TYPE[type],
        shape: { dim: dims.map((d) => (typeof d === 'number' ? { dimValue: d } : { dimParam: d })) },
      },
    },
  };
}

function attributeProto(name: string, value: AttrValue) {
  const T = onnx.AttributeProto.AttributeType;
  switch (value.kind) {
    case 'int':
      return { name, type: T.INT, i: value.value };
    case 'ints':
      return { name, type: T.INTS, ints: value.value };
    case 'float':
      return { name, type: T.FLOAT, f: value.value };
    case 'floats':
      return { name, type: T.FLOATS, floats: value.value };
    case 'string':
      return { name, type: T.STRING, s: new TextEncoder().encode(value.value) };
  }
}

export class OnnxGraphBuilder {
  private readonly nodes: object[] = [];
  private readonly initializers: object[] = [];
  private readonly inputs: object[] = [];
  private readonly outputs: object[] = [];
  private readonly names = new Set<string>();
  private counter = 0;
  private opsetVersion = ONNX_OPSET;

  constructor(readonly graphName: string) {}

  /** The opset the graph declares: 13, or the newest its operators need (`GridSample`: 16). */
  get opset(): number {
    return this.opsetVersion;
  }

  /** An unused value name with the given prefix (claimed when a node or initializer defines it). */
  fresh(prefix: string): string {
    let name: string;
    do name = `${prefix}_${this.counter++}`;
    while (this.names.has(name));
    return name;
  }

  private claim(name: string): string {
    if (this.names.has(name)) throw new Error(`OnnxGraphBuilder(${this.graphName}): value '${name}' defined twice`);
    this.names.add(name);
    return name;
  }

  /** A graph input; `docString` says what a caller must feed (shown by Netron and `onnx.helper.printable_graph`). */
  input(name: string, dims: OnnxDim[], type: OnnxElementType = 'float', docString?: string): string {
    this.inputs.push(valueInfo(this.claim(name), dims, type, docString));
    return name;
  }

  output(name: string, dims: OnnxDim[], type: OnnxElementType = 'float', docString?: string): string {
    this.outputs.push(valueInfo(name, dims, type, docString));
    return name;
  }

  /**
   * Makes `value` a graph output under `name` (an Identity node: lowerings return fresh value
   * names, runners read outputs by fixed ones); returns `name`.
   */
  namedOutput(value: string, name: string, dims: OnnxDim[], type: OnnxElementType = 'float'): string {
    this.node('Identity', [value], {}, [name]);
    return this.output(name, dims, type);
  }

  /** A constant tensor stored in the model (weights, shapes, axes). */
  initializer(name: string, data: Float32Array | BigInt64Array | number[], dims: number[]): string {
    const count = dims.reduce((a, b) => a * b, 1);
    if (data.length !== count) {
      throw new Error(
        `OnnxGraphBuilder(${this.graphName}): initializer '${name}' has ${data.length} values, dims [${dims}] need ${count}`,
      );
    }
    const isInt = data instanceof BigInt64Array || Array.isArray(data);
    const typed =
      data instanceof Float32Array
        ? data
        : data instanceof BigInt64Array
          ? data
          : BigInt64Array.from(data.map((v) => BigInt(v)));
    this.initializers.push({
      name: this.claim(name),
      dims,
      dataType: isInt ? onnx.TensorProto.DataType.INT64 : onnx.TensorProto.DataType.FLOAT,
      rawData: new Uint8Array(typed.buffer, typed.byteOffset, typed.byteLength),
    });
    return name;
  }

  /** An int64 constant (shapes, axes, k). */
  ints(prefix: string, values: number[]): string {
    return this.initializer(this.fresh(prefix), values, [values.length]);
  }

  /** A float32 scalar constant (shape []), broadcast against any tensor. */
  scalar(prefix: string, value: number): string {
    return this.initializer(this.fresh(prefix), new Float32Array([value]), []);
  }

  /**
   * Adds a node; returns its output names (fresh ones unless given).
   * `outputs` is a count or explicit names.
   */
  node(
    opType: string,
    inputs: string[],
    attributes: Record<string, AttrValue> = {},
    outputs: number | string[] = 1,
  ): string[] {
    const outNames = (
      typeof outputs === 'number' ? Array.from({ length: outputs }, () => this.fresh(opType.toLowerCase())) : outputs
    ).map((o) => this.claim(o));
    this.opsetVersion = Math.max(this.opsetVersion, OPERATOR_OPSETS[opType] ?? ONNX_OPSET);
    this.nodes.push({
      opType,
      name: this.fresh(`${opType}_node`),
      input: inputs,
      output: outNames,
      attribute: Object.entries(attributes).map(([k, v]) => attributeProto(k, v)),
    });
    return outNames;
  }

  /**
   * Serialised ModelProto. `docString` and `metadata` (the model's `metadata_props`, string
   * key → value) travel in the file, for models that leave the process (an exported model says
   * what it expects and how it was trained).
   */
  toBytes(options: { docString?: string; metadata?: Record<string, string> } = {}): Uint8Array {
    const model = onnx.ModelProto.create({
      irVersion: irVersionFor(this.opsetVersion),
      producerName: 'cfa-toolkit',
      opsetImport: [{ domain: '', version: this.opsetVersion }],
      ...(options.docString ? { docString: options.docString } : {}),
      metadataProps: Object.entries(options.metadata ?? {}).map(([key, value]) => ({ key, value })),
      graph: {
        name: this.graphName,
        node: this.nodes,
        initializer: this.initializers,
        input: this.inputs,
        output: this.outputs,
      },
    });
    return onnx.ModelProto.encode(model).finish();
  }
}
