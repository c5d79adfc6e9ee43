/**
 * Convolution and pooling as functions (`nb.nn.functional.conv2d`, ...), composed from ops: the
 * windows of the input (Im2Col) times the weights as one matrix product, and pooling as a
 * reduction over the windows. Their gradients come from those ops', so they run eagerly, in graphs
 * and under nb.jit, and differentiate twice.
 */
import { formatShape, opError } from '../core/errors.js';
import type { PatchAttrs } from '../backends/primitives.js';
import { releasingIntermediates } from '../engine/scope.js';
import * as ops from '../ops/index.js';
import { tensor } from '../tensor/create.js';
import type { Tensor } from '../tensor/tensor.js';

export type Pair = number | readonly [number, number];
export type Padding = Pair | 'same' | 'valid';

export interface Conv2dOptions {
  stride?: Pair;
  padding?: Padding;
  dilation?: Pair;
  groups?: number;
}

function pair(op: string, name: string, value: Pair, min: number): [number, number] {
  const [a, b] = typeof value === 'number' ? [value, value] : value;
  if (![a, b].every((v) => Number.isInteger(v) && v! >= min))
    throw opError(op, `${name} must be whole numbers ≥ ${min}, got ${String(value)}`);
  return [a!, b!];
}

/** [top, bottom, left, right]; 'same' pads as PyTorch does (the extra one at the end). */
function paddingOf(
  op: string,
  padding: Padding,
  kernel: readonly [number, number],
  dilation: readonly [number, number],
  stride: readonly [number, number],
): [number, number, number, number] {
  if (padding === 'valid') return [0, 0, 0, 0];
  if (padding === 'same') {
    if (stride[0] !== 1 || stride[1] !== 1)
      throw opError(op, "padding 'same' needs stride 1, as in PyTorch");
    const [th, tw] = [dilation[0] * (kernel[0] - 1), dilation[1] * (kernel[1] - 1)];
    return [
      Math.floor(th / 2),
      th - Math.floor(th / 2),
      Math.floor(tw / 2),
      tw - Math.floor(tw / 2),
    ];
  }
  const [ph, pw] = pair(op, 'padding', padding, 0);
  return [ph, ph, pw, pw];
}

function checkInput(op: string, x: Tensor, channels: number, what: string): void {
  if (x.ndim !== 4)
    throw opError(op, `expected an [N, C, H, W] input, got ${formatShape(x.shape)}`);
  if (channels >= 0 && x.shape[1] !== channels)
    throw opError(
      op,
      `input ${formatShape(x.shape)} has ${x.shape[1]} channels, ${what} expects ${channels}`,
    );
}

/**
 * 2-D convolution (cross-correlation, as PyTorch's): x [N, C, H, W], weight [O, C/groups, kH, kW],
 * bias [O] → [N, O, outH, outW].
 */
export function conv2d(
  x: Tensor,
  weight: Tensor,
  bias: Tensor | null = null,
  { stride = 1, padding = 0, dilation = 1, groups = 1 }: Conv2dOptions = {},
): Tensor {
  if (weight.ndim !== 4)
    throw opError(
      'conv2d',
      `expected a weight [O, C/groups, kH, kW], got ${formatShape(weight.shape)}`,
    );
  const [out, perGroup, kh, kw] = weight.shape as [number, number, number, number];
  if (!Number.isInteger(groups) || groups < 1 || out % groups !== 0)
    throw opError('conv2d', `groups must divide the ${out} output channels, got ${groups}`);
  checkInput(
    'conv2d',
    x,
    perGroup * groups,
    `weight ${formatShape(weight.shape)} with groups ${groups}`,
  );
  const strides = pair('conv2d', 'stride', stride, 1);
  const dilations = pair('conv2d', 'dilation', dilation, 1);
  const kernel: [number, number] = [kh, kw];
  const attrs: PatchAttrs = {
    kernel,
    stride: strides,
    padding: paddingOf('conv2d', padding, kernel, dilations, strides),
    dilation: dilations,
    padValue: 0,
  };
  if (ops.isExportingOnnx())
    return exportedWindows('Conv', x, attrs, { group: groups }, out, weight, bias);
  return releasingIntermediates(() => {
    const cols = ops.im2col(x, attrs); // [N, C, kH, kW, outH, outW]
    const [n, , , , oh, ow] = cols.shape as number[];
    const patch = perGroup * kh * kw;
    // Per group: [O/g, patch] · [N, patch, outH·outW], all groups as one batched product.
    const product = ops.matmul(
      ops.reshape(weight, [groups, out / groups, patch]),
      ops.reshape(cols, [n!, groups, patch, oh! * ow!]),
    );
    const y = ops.reshape(product, [n!, out, oh!, ow!]);
    return bias ? ops.add(y, ops.reshape(bias, [out, 1, 1])) : y;
  });
}

export interface Conv1dOptions {
  stride?: number;
  padding?: number | 'same' | 'valid';
  dilation?: number;
  groups?: number;
}

/** 1-D convolution: x [N, C, L], weight [O, C/groups, k] → [N, O, outL] (a conv2d of height 1). */
export function conv1d(
  x: Tensor,
  weight: Tensor,
  bias: Tensor | null = null,
  { stride = 1, padding = 0, dilation = 1, groups = 1 }: Conv1dOptions = {},
): Tensor {
  if (x.ndim !== 3)
    throw opError('conv1d', `expected an [N, C, L] input, got ${formatShape(x.shape)}`);
  if (weight.ndim !== 3)
    throw opError('conv1d', `expected a weight [O, C/groups, k], got ${formatShape(weight.shape)}`);
  const y = conv2d(ops.unsqueeze(x, 2), ops.unsqueeze(weight, 2), bias, {
    stride: [1, stride],
    padding: typeof padding === 'number' ? [0, padding] : padding,
    dilation: [1, dilation],
    groups,
  });
  return ops.squeeze(y, 2);
}

export interface Pool2dOptions {
  stride?: Pair;
  padding?: Pair;
  dilation?: Pair;
}

/**
 * The ONNX operator of a windowed layer (Conv, MaxPool, AveragePool), for export: `channels` of
 * output, the window geometry as ONNX attributes, and `extra` ones.
 */
function exportedWindows(
  type: string,
  x: Tensor,
  a: PatchAttrs,
  extra: Record<string, number>,
  channels: number,
  ...params: (Tensor | null)[]
): Tensor {
  const [top, bottom, left, right] = a.padding;
  const size = (d: 0 | 1): number =>
    ops.windowCount(
      type,
      x.shape[2 + d]!,
      a.kernel[d],
      a.stride[d],
      [top, left][d]!,
      [bottom, right][d]!,
      a.dilation[d],
      x,
    );
  const inputs = [x, ...params.filter((p): p is Tensor => p !== null)];
  // AveragePool has no dilations before opset 19.
  const dilations: Record<string, number[]> =
    type === 'AveragePool' ? {} : { dilations: [...a.dilation] };
  return ops.onnxNode(
    type,
    inputs,
    {
      kernel_shape: [...a.kernel],
      strides: [...a.stride],
      pads: [top, left, bottom, right],
      ...dilations,
      ...extra,
    },
    [x.shape[0]!, channels, size(0), size(1)],
  );
}

function poolAttrs(
  op: string,
  x: Tensor,
  kernelSize: Pair,
  { stride, padding = 0, dilation = 1 }: Pool2dOptions,
  padValue: number,
): PatchAttrs {
  checkInput(op, x, -1, '');
  const kernel = pair(op, 'kernelSize', kernelSize, 1);
  const pad = pair(op, 'padding', padding, 0);
  if (pad[0] * 2 > kernel[0] || pad[1] * 2 > kernel[1])
    throw opError(
      op,
      `padding ${String(padding)} must be at most half the kernel ${String(kernelSize)}`,
    );
  return {
    kernel,
    stride: pair(op, 'stride', stride ?? kernel, 1),
    padding: [pad[0], pad[0], pad[1], pad[1]],
    dilation: pair(op, 'dilation', dilation, 1),
    padValue,
  };
}

function poolWindows(
  op: string,
  x: Tensor,
  kernelSize: Pair,
  options: Pool2dOptions,
  padValue: number,
): { windows: Tensor; shape: number[] } {
  const cols = ops.im2col(x, poolAttrs(op, x, kernelSize, options, padValue));
  const [n, c, kh, kw, oh, ow] = cols.shape as number[];
  return { windows: ops.reshape(cols, [n!, c!, kh! * kw!, oh! * ow!]), shape: [n!, c!, oh!, ow!] };
}

/**
 * Max over each window (padding never wins). The gradient goes to the first maximum of each window,
 * as in PyTorch: the maximum is gathered from the plane at its position (WindowArgMax), so the
 * backward pass is a scatter-add of dy to those positions.
 */
export function maxPool2d(x: Tensor, kernelSize: Pair, options: Pool2dOptions = {}): Tensor {
  const attrs = poolAttrs('maxPool2d', x, kernelSize, options, -Infinity);
  if (ops.isExportingOnnx()) return exportedWindows('MaxPool', x, attrs, {}, x.shape[1]!);
  return releasingIntermediates(() => {
    const at = ops.windowArgmax(x, attrs); // [N, C, outH, outW]
    return ops.reshapeAs(ops.gather(ops.flatten(x, 2), 2, ops.flatten(at, 2)), at);
  });
}

/** Mean over each window, padding counted (PyTorch's count_include_pad). */
export function avgPool2d(
  x: Tensor,
  kernelSize: Pair,
  options: Omit<Pool2dOptions, 'dilation'> = {},
): Tensor {
  if (ops.isExportingOnnx())
    return exportedWindows(
      'AveragePool',
      x,
      poolAttrs('avgPool2d', x, kernelSize, options, 0),
      { count_include_pad: 1 },
      x.shape[1]!,
    );
  return releasingIntermediates(() => {
    const { windows, shape } = poolWindows('avgPool2d', x, kernelSize, options, 0);
    return ops.reshape(ops.mean(windows, 2), shape);
  });
}

/** Row i averages input rows ⌊i·n/m⌋ … ⌈(i+1)·n/m⌉ − 1, as PyTorch's adaptive pooling does. */
function averaging(n: number, m: number, like: Tensor): Tensor {
  const rows = new Float64Array(m * n);
  for (let i = 0; i < m; i++) {
    const [start, end] = [Math.floor((i * n) / m), Math.ceil(((i + 1) * n) / m)];
    for (let j = start; j < end; j++) rows[i * n + j] = 1 / (end - start);
  }
  return tensor(rows, { shape: [m, n], dtype: like.dtype, device: like.device });
}

/** Averages [N, C, H, W] down to [N, C, outH, outW] over adaptive windows: A_h · x · A_wᵀ. */
export function adaptiveAvgPool2d(x: Tensor, outputSize: Pair): Tensor {
  checkInput('adaptiveAvgPool2d', x, -1, '');
  const [oh, ow] = pair('adaptiveAvgPool2d', 'outputSize', outputSize, 1);
  const [h, w] = [x.shape[2]!, x.shape[3]!];
  if (ops.isExportingOnnx()) {
    // ONNX has adaptive pooling only to 1×1; windows that divide evenly are an AveragePool.
    if (oh === 1 && ow === 1)
      return ops.onnxNode('GlobalAveragePool', [x], {}, [x.shape[0]!, x.shape[1]!, 1, 1]);
    if (h % oh !== 0 || w % ow !== 0)
      throw opError(
        'adaptiveAvgPool2d',
        `${h}×${w} → ${oh}×${ow} has no ONNX operator (the windows differ in size)`,
      );
    const kernel: [number, number] = [h / oh, w / ow];
    const attrs: PatchAttrs = {
      kernel,
      stride: kernel,
      padding: [0, 0, 0, 0],
      dilation: [1, 1],
      padValue: 0,
    };
    return exportedWindows('AveragePool', x, attrs, { count_include_pad: 1 }, x.shape[1]!);
  }
  return releasingIntermediates(() =>
    ops.matmul(ops.matmul(averaging(h, oh, x), x), ops.transpose(averaging(w, ow, x), 0, 1)),
  );
}

/**
 * Pads the last dimensions with `value`: `pads` lists (before, after) pairs from the last
 * dimension backwards, as `F.pad` does.
 */
export function pad(x: Tensor, pads: readonly number[], value = 0): Tensor {
  if (
    pads.length % 2 !== 0 ||
    pads.length / 2 > x.ndim ||
    !pads.every((p) => Number.isInteger(p) && p >= 0)
  )
    throw opError(
      'pad',
      `pads must be (before, after) pairs of whole numbers ≥ 0 for at most ${x.ndim} dimensions, got [${pads.join(', ')}]`,
    );
  return releasingIntermediates(() => {
    let y = x;
    for (let k = 0; k < pads.length / 2; k++) {
      const dim = x.ndim - 1 - k;
      const block = (size: number): Tensor =>
        ops.expand(
          ops.reshape(
            tensor(value, { dtype: x.dtype, device: x.device }),
            y.shape.map(() => 1),
          ),
          y.shape.map((d, i) => (i === dim ? size : d)),
        );
      const parts = [
        pads[2 * k]! > 0 ? block(pads[2 * k]!) : null,
        y,
        pads[2 * k + 1]! > 0 ? block(pads[2 * k + 1]!) : null,
      ];
      y = ops.cat(
        parts.filter((p): p is Tensor => p !== null),
        dim,
      );
    }
    return y;
  });
}

/** Zeroes each element with probability p (in training), scaling the rest by 1/(1−p). */
export function dropout(x: Tensor, p = 0.5, training = true): Tensor {
  if (!(p >= 0 && p < 1)) throw opError('dropout', `p must be in [0, 1), got ${p}`);
  if (!training || p === 0) return x;
  return releasingIntermediates(() => {
    const keep = ops.lt(ops.randomLike(x), 1 - p); // an op: nb.jit draws a new mask each run
    return ops.mul(x, ops.div(ops.cast(keep, x.dtype), 1 - p));
  });
}
