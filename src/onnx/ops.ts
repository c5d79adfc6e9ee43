/**
 * Each traced op as ONNX nodes (opset 17). Shapes are static (the example input's), so views
 * become Reshape/Expand to the shape the trace recorded. Ops with no ONNX form are refused by name.
 */
import { opError } from '../core/errors.js';
import type { DType } from '../core/dtype.js';
import type { TapeNode } from '../ops/define.js';
import type { OnnxAttribute, OnnxNodeAttrs } from '../ops/index.js';

/** What a mapping may add to the graph. */
export interface Emitted {
  /** An initializer holding `raw` bytes; returns its name. */
  constant(hint: string, dims: readonly number[], type: number, raw: Uint8Array): string;
  node(
    type: string,
    inputs: readonly string[],
    outputs: readonly string[],
    attributes?: Readonly<Record<string, OnnxAttribute>>,
  ): void;
  /** A new intermediate name. */
  fresh(hint: string): string;
}

const INT64 = 7;
/** TensorProto.DataType of each dtype. */
export const ONNX_TYPES: Record<DType, number> = { float32: 1, int32: 6, bool: 9, float64: 11 };

const UNARY: Record<string, string> = {
  Neg: 'Neg',
  Exp: 'Exp',
  Log: 'Log',
  Sqrt: 'Sqrt',
  Abs: 'Abs',
  Sign: 'Sign',
  Round: 'Round',
  Tanh: 'Tanh',
  Sigmoid: 'Sigmoid',
  Relu: 'Relu',
  Contiguous: 'Identity',
  StopGradient: 'Identity',
};
const BINARY: Record<string, string> = {
  Add: 'Add',
  Sub: 'Sub',
  Mul: 'Mul',
  Div: 'Div',
  Pow: 'Pow',
  Maximum: 'Max',
  Minimum: 'Min',
  Equal: 'Equal',
  Less: 'Less',
  LessEqual: 'LessOrEqual',
  Greater: 'Greater',
  GreaterEqual: 'GreaterOrEqual',
  MatMul: 'MatMul',
};
/** View ops, all a Reshape to the recorded shape (or an Expand, which repeats). */
const RESHAPES = new Set(['Reshape', 'ReshapeAs', 'Squeeze', 'Unsqueeze', 'Flatten']);
const EXPANDS = new Set(['Expand', 'ExpandAs']);

function int64s(e: Emitted, hint: string, values: readonly number[]): string {
  const raw = new Uint8Array(BigInt64Array.from(values.map((v) => BigInt(v))).buffer);
  return e.constant(hint, [values.length], INT64, raw);
}

/** Writes the nodes computing `node` from ONNX values `inputs` into ONNX value `out`. */
export function nodesFor(node: TapeNode, inputs: readonly string[], out: string, e: Emitted): void {
  const name = node.name;
  const attrs = node.attrs as Record<string, unknown>;
  const shape = node.output.shape;
  const [x] = inputs as [string];
  if (name in UNARY) return e.node(UNARY[name]!, [x], [out]);
  if (name in BINARY) return e.node(BINARY[name]!, inputs.slice(0, 2), [out]);
  switch (name) {
    case 'Square':
      return e.node('Mul', [x, x], [out]);
    case 'NotEqual': {
      const equal = e.fresh('equal');
      e.node('Equal', inputs, [equal]);
      return e.node('Not', [equal], [out]);
    }
    case 'Where':
      return e.node('Where', inputs, [out]);
    case 'Cast':
      return e.node('Cast', [x], [out], { to: ONNX_TYPES[attrs['dtype'] as DType] });
    case 'Sum': {
      const axes = attrs['dims'] as number[];
      return e.node('ReduceSum', [x, int64s(e, 'axes', axes)], [out], {
        keepdims: attrs['keepdim'] ? 1 : 0,
      });
    }
    case 'Max':
    case 'Min':
      return e.node(`Reduce${name}`, [x], [out], {
        axes: attrs['dims'] as number[],
        keepdims: attrs['keepdim'] ? 1 : 0,
      });
    case 'ArgMax':
    case 'ArgMin': {
      const dims = attrs['dims'] as number[];
      if (dims.length !== 1)
        throw opError('onnx', `${name} over ${dims.length} dimensions has no ONNX operator`);
      const indices = e.fresh('indices');
      e.node(name, [x], [indices], { axis: dims[0]!, keepdims: attrs['keepdim'] ? 1 : 0 });
      return e.node('Cast', [indices], [out], { to: ONNX_TYPES.int32 }); // ONNX gives int64
    }
    case 'Permute':
      return e.node('Transpose', [x], [out], { perm: attrs['dims'] as number[] });
    case 'Slice': {
      const { dim, start, end, step } = attrs as Record<string, number>;
      const args = [[start!], [end!], [dim!], [step!]].map((v, k) =>
        int64s(e, ['starts', 'ends', 'axes', 'steps'][k]!, v),
      );
      return e.node('Slice', [x, ...args], [out]);
    }
    case 'Cat':
      return e.node('Concat', inputs, [out], { axis: attrs['dim'] as number });
    case 'Gather':
      return e.node('GatherElements', inputs, [out], { axis: attrs['dim'] as number });
    case 'OnnxNode': {
      const { type, attributes } = node.attrs as OnnxNodeAttrs;
      return e.node(type, inputs, [out], attributes);
    }
  }
  if (RESHAPES.has(name)) return e.node('Reshape', [x, int64s(e, 'shape', shape)], [out]);
  if (EXPANDS.has(name)) return e.node('Expand', [x, int64s(e, 'shape', shape)], [out]);
  throw opError('onnx', `the op ${name} has no ONNX mapping, so this model cannot be exported`);
}
