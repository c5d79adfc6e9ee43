/** The op case table: every op of API.md, with broadcasting, size-1 and size-0 edges. */
import * as nb from '../../src/index.js';
import { float, given, index, type InputSpec, type OpCase } from './case.js';

type Fn = OpCase['nb'];
const cases: OpCase[] = [];
function add(
  op: string,
  what: string,
  inputs: InputSpec[],
  fn: Fn,
  torch: string,
  gradOrder: 0 | 1 | 2 = 2,
): void {
  cases.push({ id: `${op}/${what}`, op, inputs, nb: fn, torch, gradOrder });
}

const positive: [number, number] = [0.5, 2];

// ---- elementwise binary ----
add('add', 'same-shape', [float([2, 3]), float([2, 3])], (a, b) => nb.add(a!, b!), 'a + b');
add('add', 'broadcast-row', [float([2, 3]), float([3])], (a, b) => a!.add(b!), 'a + b');
add('add', 'broadcast-both', [float([3, 1]), float([1, 4])], (a, b) => a!.add(b!), 'a + b');
add('add', 'scalar-number', [float([2, 2])], (a) => a!.add(1.5), 'a + 1.5');
add('add', 'size-0', [float([0, 3]), float([3])], (a, b) => a!.add(b!), 'a + b');
add('sub', 'broadcast', [float([2, 1, 3]), float([4, 1])], (a, b) => nb.sub(a!, b!), 'a - b');
add('sub', 'number-first', [float([3])], (a) => nb.sub(2, a!), '2 - a');
add('mul', 'broadcast', [float([2, 3]), float([2, 1])], (a, b) => nb.mul(a!, b!), 'a * b');
add('mul', 'size-1', [float([1]), float([3, 2])], (a, b) => a!.mul(b!), 'a * b');
add('div', 'broadcast', [float([2, 3]), float([3], positive)], (a, b) => nb.div(a!, b!), 'a / b');
add('div', 'number', [float([4])], (a) => a!.div(4), 'a / 4');
add(
  'pow',
  'tensor-exponent',
  [float([2, 3], positive), float([2, 3], [-2, 2])],
  (a, b) => nb.pow(a!, b!),
  'torch.pow(a, b)',
);
add('pow', 'number-exponent', [float([5])], (a) => a!.pow(3), 'torch.pow(a, 3)');
add(
  'maximum',
  'broadcast',
  [float([2, 3]), float([3])],
  (a, b) => nb.maximum(a!, b!),
  'torch.maximum(a, b)',
);
add(
  'minimum',
  'broadcast',
  [float([2, 3]), float([2, 1])],
  (a, b) => nb.minimum(a!, b!),
  'torch.minimum(a, b)',
);

// ---- elementwise unary ----
add('neg', 'basic', [float([2, 3])], (a) => nb.neg(a!), '-a');
add('square', 'basic', [float([2, 3])], (a) => nb.square(a!), 'torch.square(a)');
add('sqrt', 'basic', [float([2, 3], positive)], (a) => nb.sqrt(a!), 'torch.sqrt(a)');
add('exp', 'basic', [float([2, 3])], (a) => nb.exp(a!), 'torch.exp(a)');
add('log', 'basic', [float([2, 3], positive)], (a) => nb.log(a!), 'torch.log(a)');
add('abs', 'basic', [float([2, 3])], (a) => nb.abs(a!), 'torch.abs(a)');
// Piecewise constant: the edge cases sit on the jumps, where finite differences mean nothing.
add('sign', 'zero', [given([5], [-2, -0.5, 0, 0.25, 3])], (a) => nb.sign(a!), 'torch.sign(a)', 0);
add('sign', 'basic', [float([2, 3])], (a) => nb.sign(a!), 'torch.sign(a)');
add(
  'round',
  'half-to-even',
  [given([6], [-2.5, -1.5, 0.5, 1.5, 2.5, 0.7])],
  (a) => nb.round(a!),
  'torch.round(a)',
  0,
);
add('round', 'basic', [float([2, 3], [-3, 3])], (a) => nb.round(a!), 'torch.round(a)');
add('clamp', 'both', [float([3, 4])], (a) => nb.clamp(a!, -0.5, 0.8), 'torch.clamp(a, -0.5, 0.8)');
add('clamp', 'min-only', [float([5])], (a) => a!.clamp(0), 'torch.clamp(a, min=0)');
add('sigmoid', 'basic', [float([2, 3], [-4, 4])], (a) => nb.sigmoid(a!), 'torch.sigmoid(a)');
add(
  'sigmoid',
  'saturated',
  [given([4], [-60, -20, 20, 60])],
  (a) => nb.sigmoid(a!),
  'torch.sigmoid(a)',
);
add('tanh', 'basic', [float([2, 3])], (a) => nb.tanh(a!), 'torch.tanh(a)');
add('relu', 'basic', [float([2, 4])], (a) => nb.relu(a!), 'torch.relu(a)');
add('leakyRelu', 'slope', [float([2, 4])], (a) => nb.leakyRelu(a!, 0.1), 'F.leaky_relu(a, 0.1)');
add('leakyRelu', 'default', [float([5])], (a) => a!.leakyRelu(), 'F.leaky_relu(a)');

// ---- softmax family ----
add(
  'softmax',
  'last-dim',
  [float([2, 4], [-3, 3])],
  (a) => nb.softmax(a!, -1),
  'torch.softmax(a, -1)',
);
add('softmax', 'dim-0', [float([3, 2], [-3, 3])], (a) => a!.softmax(0), 'torch.softmax(a, 0)');
add(
  'softmax',
  'large-logits',
  [given([2, 3], [1000, 999, 998, -1000, 0, 1000])],
  (a) => a!.softmax(1),
  'torch.softmax(a, 1)',
);
add(
  'logSoftmax',
  'last-dim',
  [float([2, 5], [-3, 3])],
  (a) => nb.logSoftmax(a!, 1),
  'torch.log_softmax(a, 1)',
);
add(
  'logSoftmax',
  'large-logits',
  [given([1, 3], [1000, 0, -1000])],
  (a) => a!.logSoftmax(-1),
  'torch.log_softmax(a, -1)',
);
// The LogSoftmax kernel walks rows by strides: a leading and a middle dimension, a transposed view.
add(
  'logSoftmax',
  'dim-0',
  [float([3, 4], [-3, 3])],
  (a) => nb.logSoftmax(a!, 0),
  'torch.log_softmax(a, 0)',
);
add(
  'logSoftmax',
  'middle-dim',
  [float([2, 3, 4], [-3, 3])],
  (a) => a!.logSoftmax(1),
  'torch.log_softmax(a, 1)',
);
add(
  'logSoftmax',
  'transposed',
  [float([4, 3], [-3, 3])],
  (a) => nb.logSoftmax(a!.T, 1),
  'torch.log_softmax(a.T, 1)',
);
add('logSoftmax', 'scalar', [float([])], (a) => a!.logSoftmax(0), 'torch.log_softmax(a, 0)');

// ---- matmul ----
add('matmul', '2d', [float([3, 4]), float([4, 2])], (a, b) => nb.matmul(a!, b!), 'a @ b');
add(
  'matmul',
  'batched-broadcast',
  [float([2, 3, 4]), float([4, 5])],
  (a, b) => a!.matmul(b!),
  'a @ b',
);
add(
  'matmul',
  'batch-both',
  [float([2, 1, 2, 3]), float([3, 3, 2])],
  (a, b) => a!.matmul(b!),
  'a @ b',
);
add('matmul', 'vector-matrix', [float([3]), float([3, 2])], (a, b) => a!.matmul(b!), 'a @ b');
add('matmul', 'matrix-vector', [float([2, 3]), float([3])], (a, b) => a!.matmul(b!), 'a @ b');
add('matmul', 'dot', [float([4]), float([4])], (a, b) => a!.matmul(b!), 'a @ b');
add(
  'matmul',
  'transposed-view',
  [float([4, 3]), float([2, 4])],
  (a, b) => a!.T.matmul(b!.T),
  'a.T @ b.T',
);
add('matmul', 'size-0', [float([0, 3]), float([3, 2])], (a, b) => a!.matmul(b!), 'a @ b');

// ---- shape ----
add(
  'transpose',
  'dims',
  [float([2, 3, 4])],
  (a) => nb.transpose(a!, 0, 2),
  'torch.transpose(a, 0, 2)',
);
add('T', '2d', [float([2, 3])], (a) => a!.T, 'a.T');
add('permute', 'basic', [float([2, 3, 4])], (a) => nb.permute(a!, [1, 2, 0]), 'a.permute(1, 2, 0)');
add('reshape', 'infer', [float([2, 6])], (a) => nb.reshape(a!, [3, -1]), 'a.reshape(3, -1)');
add('reshape', 'non-contiguous', [float([3, 4])], (a) => a!.T.reshape([2, 6]), 'a.T.reshape(2, 6)');
add('flatten', 'all', [float([2, 3, 2])], (a) => nb.flatten(a!), 'torch.flatten(a)');
add('flatten', 'from-1', [float([2, 3, 2])], (a) => a!.flatten(1), 'torch.flatten(a, 1)');
add('squeeze', 'all', [float([1, 3, 1])], (a) => nb.squeeze(a!), 'torch.squeeze(a)');
add('squeeze', 'dim', [float([1, 3, 1])], (a) => a!.squeeze(-1), 'a.squeeze(-1)');
add('unsqueeze', 'middle', [float([2, 3])], (a) => nb.unsqueeze(a!, 1), 'a.unsqueeze(1)');
add('expand', 'broadcast', [float([3, 1])], (a) => nb.expand(a!, [2, 3, 4]), 'a.expand(2, 3, 4)');
add('expand', 'keep', [float([1, 3])], (a) => a!.expand([4, -1]), 'a.expand(4, -1)');
add(
  'cat',
  'dim-1',
  [float([2, 2]), float([2, 3]), float([2, 1])],
  (a, b, c) => nb.cat([a!, b!, c!], 1),
  'torch.cat([a, b, c], 1)',
);
add(
  'cat',
  'dim-0',
  [float([1, 3]), float([2, 3])],
  (a, b) => nb.cat([a!, b!]),
  'torch.cat([a, b])',
);
add(
  'cat',
  'size-0',
  [float([0, 3]), float([2, 3])],
  (a, b) => nb.cat([a!, b!], 0),
  'torch.cat([a, b], 0)',
);
add(
  'stack',
  'dim-1',
  [float([2, 3]), float([2, 3])],
  (a, b) => nb.stack([a!, b!], 1),
  'torch.stack([a, b], 1)',
);
add('slice', 'step', [float([3, 6])], (a) => nb.slice(a!, 1, 1, 5, 2), 'a[:, 1:5:2]');
add('slice', 'negative', [float([5, 2])], (a) => a!.slice(0, -3), 'a[-3:]');
add('narrow', 'basic', [float([3, 4])], (a) => nb.narrow(a!, 1, 1, 2), 'torch.narrow(a, 1, 1, 2)');

// ---- indexing ----
add(
  'gather',
  'dim-1',
  [float([3, 4]), index([3, 2], [0, 3, 1, 1, 2, 0])],
  (a, i) => nb.gather(a!, 1, i!),
  'torch.gather(a, 1, b)',
);
add(
  'gather',
  'dim-0',
  [float([3, 2]), index([2, 2], [2, 0, 1, 1])],
  (a, i) => a!.gather(0, i!),
  'torch.gather(a, 0, b)',
);
add(
  'indexSelect',
  'rows',
  [float([4, 3]), index([3], [3, 0, 3])],
  (a, i) => nb.indexSelect(a!, 0, i!),
  'torch.index_select(a, 0, b)',
);
add(
  'indexSelect',
  'columns',
  [float([2, 4]), index([2], [1, 2])],
  (a, i) => a!.indexSelect(1, i!),
  'torch.index_select(a, 1, b)',
);
add(
  'scatterAdd',
  'dim-0',
  [float([2, 3]), index([2, 3], [0, 1, 3, 3, 1, 0])],
  (s, i) => nb.scatterAdd([4, 3], 0, i!, s!),
  'torch.zeros(4, 3, dtype=a.dtype).scatter_add(0, b, a)',
);
add(
  'where',
  'broadcast',
  [float([2, 3]), float([2, 3]), float([3])],
  (c, a, b) => nb.where(c!.gt(0), a!, b!),
  'torch.where(a > 0, b, c)',
);
add(
  'where',
  'number',
  [float([4])],
  (a) => nb.where(a!.lt(0), 0, a!),
  'torch.where(a < 0, 0.0, a)',
);

// ---- comparisons (ties made by integer values) ----
for (const [op, sym] of [
  ['eq', '=='],
  ['ne', '!='],
  ['lt', '<'],
  ['le', '<='],
  ['gt', '>'],
  ['ge', '>='],
] as const) {
  add(
    op,
    'broadcast',
    [float([3, 4], [-2, 2], true), float([4], [-2, 2], true)],
    (a, b) => a![op](b!),
    `a ${sym} b`,
    0,
  );
}
add('eq', 'number', [float([5], [-2, 2], true)], (a) => nb.eq(a!, 1), 'a == 1', 0);

// ---- reductions ----
add('sum', 'all', [float([2, 3])], (a) => nb.sum(a!), 'torch.sum(a)');
add('sum', 'dim', [float([2, 3, 4])], (a) => a!.sum(1), 'torch.sum(a, 1)');
add(
  'sum',
  'dims-keepdim',
  [float([2, 3, 4])],
  (a) => a!.sum([0, -1], true),
  'torch.sum(a, (0, -1), keepdim=True)',
);
add('sum', 'size-0', [float([0, 3])], (a) => a!.sum(0), 'torch.sum(a, 0)');
add('mean', 'all', [float([3, 4])], (a) => nb.mean(a!), 'torch.mean(a)');
add(
  'mean',
  'dim-keepdim',
  [float([3, 4])],
  (a) => a!.mean(0, true),
  'torch.mean(a, 0, keepdim=True)',
);
add('max', 'all', [float([3, 4])], (a) => nb.max(a!), 'torch.max(a)');
add('max', 'dim', [float([3, 4])], (a) => a!.max(1), 'torch.max(a, 1).values');
add(
  'max',
  'dim-keepdim',
  [float([2, 3, 2])],
  (a) => a!.max(-2, true),
  'torch.max(a, -2, keepdim=True).values',
);
add('min', 'all', [float([3, 4])], (a) => nb.min(a!), 'torch.min(a)');
add('min', 'dim', [float([3, 4])], (a) => a!.min(0), 'torch.min(a, 0).values');
add('argmax', 'all', [float([3, 4])], (a) => nb.argmax(a!), 'torch.argmax(a)', 0);
add('argmax', 'dim', [float([3, 4])], (a) => a!.argmax(1), 'torch.argmax(a, 1)', 0);
add(
  'argmin',
  'dim-keepdim',
  [float([3, 4])],
  (a) => nb.argmin(a!, 0, true),
  'torch.argmin(a, 0, keepdim=True)',
  0,
);

// ---- dtype ----
add('cast', 'to-int32', [float([5], [-3, 3])], (a) => nb.cast(a!, 'int32'), 'a.to(torch.int32)', 0);
add('cast', 'to-float64', [float([2, 2])], (a) => a!.cast('float64'), 'a.double()');

export const OP_CASES: readonly OpCase[] = cases;
