/**
 * Layers that ONNX has as one operator (Conv, MaxPool, BatchNormalization, ...) are composed from
 * several nabla ops. While `nb.onnx.exportModel` traces a model, those layers record one node of
 * this op instead, carrying the ONNX operator's name and attributes, so the file gets the operator
 * ONNX Runtime runs fast rather than its decomposition. It never runs: it exists only in the
 * traced graph.
 */
import type { DType } from '../../core/dtype.js';
import { opError } from '../../core/errors.js';
import type { Shape } from '../../core/shape.js';
import type { Tensor } from '../../tensor/tensor.js';
import { bind, defineFunctionOp } from '../define.js';

export type OnnxAttribute = number | string | readonly number[];

export interface OnnxNodeAttrs {
  readonly type: string;
  readonly attributes: Readonly<Record<string, OnnxAttribute>>;
  readonly shape: Shape;
  readonly dtype: DType;
}

const onnxNodeOp = defineFunctionOp<OnnxNodeAttrs>({
  name: 'OnnxNode',
  infer: (_, { shape, dtype }) => ({ shape, dtype }),
  forward: (_, { type }) => {
    throw opError(type, 'an ONNX node recorded for export cannot run');
  },
});

let exporting = 0;

/** Whether a model is being traced for ONNX export (layers then record their ONNX operator). */
export function isExportingOnnx(): boolean {
  return exporting > 0;
}

/** Runs `trace` with layers recording ONNX operators. */
export function tracingForOnnx<T>(trace: () => T): T {
  exporting++;
  try {
    return trace();
  } finally {
    exporting--;
  }
}

/** One node of ONNX operator `type` over `inputs` (symbolic), with its output's shape and dtype. */
export function onnxNode(
  type: string,
  inputs: readonly Tensor[],
  attributes: Record<string, OnnxAttribute>,
  shape: Shape,
  dtype: DType = inputs[0]!.dtype,
): Tensor {
  return bind(onnxNodeOp, inputs, { type, attributes, shape, dtype });
}
