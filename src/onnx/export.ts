/**
 * ONNX export: a model's forward pass (or a tf1 graph's tensor) traced into a graph, as nb.jit
 * traces, and written as an ONNX model (opset 17) that ONNX Runtime loads: parameters and buffers
 * are initializers under their state-dict names, each traced op one or a few ONNX nodes
 * (`ops.ts`), layers that ONNX has as one operator (Conv, MaxPool, BatchNormalization, ...) that
 * operator. An op with no ONNX form is refused with its name. Shapes are the example input's.
 */
import type { DType } from '../core/dtype.js';
import { NablaError, opError } from '../core/errors.js';
import { nodeModule } from '../engine/node.js';
import { noGrad } from '../engine/grad-mode.js';
import { Graph } from '../graph/graph.js';
import type { Module } from '../nn/module.js';
import { tracingForOnnx, type OnnxAttribute } from '../ops/index.js';
import { prune } from '../compile/plan.js';
import { Tensor } from '../tensor/tensor.js';
import { Message } from './protobuf.js';
import { nodesFor, ONNX_TYPES, type Emitted } from './ops.js';

export const OPSET = 17;
/** ONNX's IR version for opset 17. */
const IR_VERSION = 8;

/** A TensorProto: a named constant with its values as little-endian raw bytes. */
export function tensorProto(
  name: string,
  dims: readonly number[],
  type: number,
  raw: Uint8Array,
): Message {
  const m = new Message();
  for (const d of dims) m.int(1, d);
  return m.int(2, type).bytes(8, name).bytes(9, raw);
}

function valueInfo(name: string, dtype: DType, shape: readonly number[]): Message {
  const dims = new Message();
  for (const d of shape) dims.bytes(1, new Message().int(1, d));
  const tensorType = new Message().int(1, ONNX_TYPES[dtype]).bytes(2, dims);
  return new Message().bytes(1, name).bytes(2, new Message().bytes(1, tensorType));
}

/** A tensor's values as the little-endian bytes ONNX's raw_data holds (bool: one byte each). */
async function rawBytes(t: Tensor): Promise<Uint8Array> {
  const data = await t.data();
  return new Uint8Array(data.buffer.slice(data.byteOffset, data.byteOffset + data.byteLength));
}

export interface ExportOptions {
  /** Names of the graph's input and output (default 'input', 'output'). */
  inputName?: string;
  outputName?: string;
  /** Names for captured tensors (a model's parameters and buffers by their state-dict names). */
  names?: ReadonlyMap<Tensor, string>;
  /** A tf1 Session whose variable values are exported (else their initial values). */
  session?: { valueOf(variable: Tensor): Tensor };
  /** Where to write the file (Node). */
  path?: string;
}

/**
 * `output` of a tf1 `graph`, computed from `input` (a placeholder of it with a full shape), as
 * ONNX model bytes; variables take their values in `session`.
 *
 * @example await nb.onnx.exportGraph(graph, X, logits, { session: sess, path: 'model.onnx' });
 */
export async function exportGraph(
  graph: Graph,
  input: Tensor,
  output: Tensor,
  {
    inputName = 'input',
    outputName = 'output',
    names = new Map(),
    session,
    path,
  }: ExportOptions = {},
): Promise<Uint8Array> {
  if (input.shape.some((d) => d < 0) || output.shape.some((d) => d < 0))
    throw opError('onnx', 'export needs every size known: give the placeholder a full shape');
  const { nodes, leaves } = prune(graph, [output]);
  const nameOf = new Map<Tensor, string>();
  const used = new Set<string>();
  const unique = (base: string): string => {
    let name = base;
    for (let k = 1; used.has(name); k++) name = `${base}_${k}`;
    used.add(name);
    return name;
  };
  const graphMessage = new Message();
  const initializers: Message[] = [];
  for (const [t, leaf] of leaves) {
    if (t === input) {
      nameOf.set(t, unique(inputName));
      continue;
    }
    if (leaf.kind === 'placeholder')
      throw opError(
        'onnx',
        `the output also depends on placeholder '${leaf.name}': export takes one input`,
      );
    const value =
      leaf.kind === 'constant' ? leaf.value : session ? session.valueOf(t) : leaf.initialValue;
    const name = unique(names.get(value) ?? leaf.name);
    nameOf.set(t, name);
    initializers.push(
      tensorProto(name, value.shape, ONNX_TYPES[value.dtype], await rawBytes(value)),
    );
  }
  let counter = 0;
  const fresh = (hint: string): string => unique(`${hint}_${counter++}`);
  const emitted: Emitted = {
    constant: (hint, dims, type, raw) => {
      const name = fresh(hint);
      initializers.push(tensorProto(name, dims, type, raw));
      return name;
    },
    node: (type, inputs, outputs, attributes = {}) => {
      const m = new Message();
      for (const i of inputs) m.bytes(1, i);
      for (const o of outputs) m.bytes(2, o);
      m.bytes(3, fresh(type)).bytes(4, type);
      for (const [name, value] of Object.entries(attributes)) m.bytes(5, attribute(name, value));
      graphMessage.bytes(1, m);
    },
    fresh,
  };
  for (const node of nodes) {
    const out = node === output.gradFn ? unique(outputName) : fresh(node.name);
    nodesFor(
      node,
      node.inputs.map((t) => nameOf.get(t)!),
      out,
      emitted,
    );
    nameOf.set(node.output, out);
  }
  if (!nameOf.has(output)) throw opError('onnx', 'the output is not computed from the input');
  if (nameOf.get(output) !== outputName)
    emitted.node('Identity', [nameOf.get(output)!], [unique(outputName)]);
  graphMessage.bytes(2, 'nabla');
  for (const init of initializers) graphMessage.bytes(5, init);
  graphMessage.bytes(11, valueInfo(nameOf.get(input)!, input.dtype, input.shape));
  graphMessage.bytes(12, valueInfo(outputName, output.dtype, output.shape));
  const bytes = new Message()
    .int(1, IR_VERSION)
    .bytes(2, 'nabla')
    .bytes(7, graphMessage)
    .bytes(8, new Message().bytes(1, '').int(2, OPSET))
    .encode();
  if (path !== undefined) nodeModule('node:fs').writeFileSync(path, bytes);
  return bytes;
}

/** Attributes ONNX types as floats; every other number is an int. */
const FLOAT_ATTRIBUTES = new Set(['epsilon', 'momentum', 'alpha', 'beta']);

/** An AttributeProto: ints, floats, strings and lists of ints. */
function attribute(name: string, value: OnnxAttribute): Message {
  const m = new Message().bytes(1, name);
  if (typeof value === 'string') return m.bytes(4, value).int(20, 3);
  if (typeof value === 'number')
    return FLOAT_ATTRIBUTES.has(name) ? m.float(2, value).int(20, 1) : m.int(3, value).int(20, 2);
  for (const v of value) m.int(8, v);
  return m.int(20, 7);
}

/**
 * Exports `model` evaluated on inputs shaped like `exampleInput` (in eval mode, without gradients)
 * as ONNX bytes, and writes them to `path` when one is given.
 *
 * @example await nb.onnx.exportModel(model, nb.zeros([1, 784]), 'model.onnx');
 */
export async function exportModel(
  model: Module,
  exampleInput: Tensor,
  path?: string,
): Promise<Uint8Array> {
  if (!(exampleInput instanceof Tensor) || exampleInput.isSymbolic)
    throw opError(
      'onnx.exportModel',
      "needs an example input tensor (its shape and dtype are the graph input's)",
    );
  const graph = new Graph();
  const input = Tensor.symbolic(
    exampleInput.shape,
    exampleInput.dtype,
    graph,
    exampleInput.backend,
  );
  graph.addLeaf(input, { kind: 'placeholder', name: 'input' });
  const wasTraining = model.training;
  model.eval();
  let output: Tensor;
  try {
    output = noGrad(() => tracingForOnnx(() => model.forward(input)));
  } finally {
    model.train(wasTraining);
  }
  if (!(output instanceof Tensor) || !output.isSymbolic)
    throw new NablaError(
      "onnx.exportModel: the model's forward must return a tensor computed from its input",
    );
  const names = new Map<Tensor, string>();
  for (const [name, t] of Object.entries(model.stateDict())) names.set(t, name);
  // stateDict() detaches (a view): name the tensors the model itself holds too.
  for (const [name, t] of [...model.namedParameters(), ...model.namedBuffers()]) names.set(t, name);
  return exportGraph(graph, input, output, { names, ...(path !== undefined && { path }) });
}
