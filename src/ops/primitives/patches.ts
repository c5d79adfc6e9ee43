/**
 * Sliding windows, the primitives under convolution and pooling: Im2Col lays every window of an
 * [N, C, H, W] input out as [N, C, kH, kW, outH, outW] (so a convolution is one matrix product
 * and a pooling one reduction), and Col2Im, its adjoint, adds window elements back into place.
 * Each is the other's gradient.
 */
import { isFloat } from '../../core/dtype.js';
import { formatShape, opError } from '../../core/errors.js';
import { UNKNOWN } from '../../core/shape.js';
import type { PatchAttrs } from '../../backends/primitives.js';
import type { Tensor } from '../../tensor/tensor.js';
import { bind, defineOp, type TensorMeta } from '../define.js';
import { checkTensor } from '../operands.js';

/** Windows along one dimension of `size` (-1 when unknown; an error when there are none). */
export function windowCount(
  op: string,
  size: number,
  kernel: number,
  stride: number,
  padBefore: number,
  padAfter: number,
  dilation: number,
  input: TensorMeta,
): number {
  if (size === UNKNOWN) return UNKNOWN;
  const span = dilation * (kernel - 1) + 1;
  const count = Math.floor((size + padBefore + padAfter - span) / stride) + 1;
  if (count < 1) {
    throw opError(
      op,
      `a window of ${span} (kernel ${kernel}, dilation ${dilation}) does not fit input ${formatShape(input.shape)} padded by ${padBefore}+${padAfter}`,
    );
  }
  return count;
}

function patchShape(op: string, x: TensorMeta, a: PatchAttrs): number[] {
  if (x.shape.length !== 4)
    throw opError(op, `expected an [N, C, H, W] input, got ${formatShape(x.shape)}`);
  const [n, c, h, w] = x.shape as [number, number, number, number];
  const [top, bottom, left, right] = a.padding;
  const oh = windowCount(op, h, a.kernel[0], a.stride[0], top, bottom, a.dilation[0], x);
  const ow = windowCount(op, w, a.kernel[1], a.stride[1], left, right, a.dilation[1], x);
  return [n, c, a.kernel[0], a.kernel[1], oh, ow];
}

const im2colOp = defineOp<'Im2Col'>({
  name: 'Im2Col',
  infer: ([x], attrs) => {
    if (!isFloat(x!.dtype)) throw opError('Im2Col', `expected a float input, got ${x!.dtype}`);
    return { shape: patchShape('Im2Col', x!, attrs), dtype: x!.dtype };
  },
  vjp: ({ inputs: [x], attrs }, dy) => [
    col2im(dy, { ...attrs, padValue: 0 }, [x!.shape[2]!, x!.shape[3]!]),
  ],
});

const col2imOp = defineOp<'Col2Im'>({
  name: 'Col2Im',
  infer: ([cols], { size }) => {
    if (cols!.shape.length !== 6)
      throw opError(
        'Col2Im',
        `expected [N, C, kH, kW, outH, outW], got ${formatShape(cols!.shape)}`,
      );
    return { shape: [cols!.shape[0]!, cols!.shape[1]!, size[0], size[1]], dtype: cols!.dtype };
  },
  vjp: ({ attrs }, dy) => [im2col(dy, { ...attrs, padValue: 0 })],
});

const windowArgmaxOp = defineOp<'WindowArgMax'>({
  name: 'WindowArgMax',
  infer: ([x], attrs) => {
    if (!isFloat(x!.dtype))
      throw opError('WindowArgMax', `expected a float input, got ${x!.dtype}`);
    const [n, c, , , oh, ow] = patchShape('WindowArgMax', x!, attrs);
    return { shape: [n!, c!, oh!, ow!], dtype: 'int32' };
  },
});

/** Every window of `x` ([N, C, H, W]) as [N, C, kH, kW, outH, outW]. */
export function im2col(x: Tensor, attrs: PatchAttrs): Tensor {
  return bind(im2colOp, [checkTensor('Im2Col', x)], attrs);
}

/** Windows [N, C, kH, kW, outH, outW] added back into an [N, C, ...size] tensor. */
export function col2im(cols: Tensor, attrs: PatchAttrs, size: readonly [number, number]): Tensor {
  return bind(col2imOp, [checkTensor('Col2Im', cols)], { ...attrs, size });
}

/**
 * For every window of `x` ([N, C, H, W]), the position y·W + x of its first maximum in its plane,
 * as [N, C, outH, outW] int32: the index max pooling gathers (an integer result, no gradient).
 */
export function windowArgmax(x: Tensor, attrs: PatchAttrs): Tensor {
  return bind(windowArgmaxOp, [checkTensor('WindowArgMax', x)], attrs);
}
