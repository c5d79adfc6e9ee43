/** Convolution, pooling, normalization and padding in the case table, like every op. */
import * as nb from '../../src/index.js';
import { float, type InputSpec, type OpCase } from './case.js';

const F = nb.nn.functional;

const cases: OpCase[] = [];
function add(
  op: string,
  what: string,
  inputs: InputSpec[],
  fn: OpCase['nb'],
  torch: string,
  gradOrder: 0 | 1 | 2 = 2,
): void {
  cases.push({ id: `${op}/${what}`, op, inputs, nb: fn, torch, gradOrder });
}

add(
  'conv2d',
  'bias',
  [float([2, 3, 6, 5]), float([4, 3, 3, 3]), float([4])],
  (x, w, b) => F.conv2d(x!, w!, b!),
  'F.conv2d(a, b, c)',
);
add(
  'conv2d',
  'stride-padding',
  [float([1, 2, 7, 6]), float([3, 2, 3, 2])],
  (x, w) => F.conv2d(x!, w!, null, { stride: 2, padding: 1 }),
  'F.conv2d(a, b, stride=2, padding=1)',
);
add(
  'conv2d',
  'same-dilation',
  [float([1, 2, 6, 7]), float([2, 2, 3, 2])],
  (x, w) => F.conv2d(x!, w!, null, { padding: 'same', dilation: 2 }),
  "F.conv2d(a, b, padding='same', dilation=2)",
);
add(
  'conv2d',
  'groups',
  [float([2, 4, 5, 5]), float([6, 2, 3, 3]), float([6])],
  (x, w, b) => F.conv2d(x!, w!, b!, { groups: 2, stride: [2, 1] }),
  'F.conv2d(a, b, c, groups=2, stride=(2, 1))',
);
add(
  'conv1d',
  'stride-padding',
  [float([2, 3, 9]), float([2, 3, 3]), float([2])],
  (x, w, b) => F.conv1d(x!, w!, b!, { stride: 2, padding: 1 }),
  'F.conv1d(a, b, c, stride=2, padding=1)',
);
add(
  'maxPool2d',
  'kernel-2',
  [float([2, 2, 6, 6])],
  (x) => F.maxPool2d(x!, 2),
  'F.max_pool2d(a, 2)',
);
add(
  'maxPool2d',
  'stride-padding',
  [float([1, 3, 7, 5])],
  (x) => F.maxPool2d(x!, 3, { stride: 2, padding: 1 }),
  'F.max_pool2d(a, 3, stride=2, padding=1)',
);
add(
  'maxPool2d',
  'dilation',
  [float([2, 2, 6, 7])],
  (x) => F.maxPool2d(x!, [2, 3], { stride: 1, dilation: [2, 1] }),
  'F.max_pool2d(a, (2, 3), stride=1, dilation=(2, 1))',
);
// Integer inputs tie inside windows: the gradient goes to the first maximum, as in PyTorch (no
// finite differences where the function has a kink).
add(
  'maxPool2d',
  'ties-padding',
  [float([1, 2, 5, 6], [-1.4, 1.4], true)],
  (x) => F.maxPool2d(x!, 2, { padding: 1 }),
  'F.max_pool2d(a, 2, padding=1)',
  0,
);
add(
  'avgPool2d',
  'kernel-2',
  [float([2, 2, 6, 4])],
  (x) => F.avgPool2d(x!, 2),
  'F.avg_pool2d(a, 2)',
);
add(
  'avgPool2d',
  'stride-padding',
  [float([1, 2, 7, 5])],
  (x) => F.avgPool2d(x!, 3, { stride: 2, padding: 1 }),
  'F.avg_pool2d(a, 3, stride=2, padding=1)',
);
add(
  'adaptiveAvgPool2d',
  'uneven',
  [float([2, 2, 7, 5])],
  (x) => F.adaptiveAvgPool2d(x!, [3, 2]),
  'F.adaptive_avg_pool2d(a, (3, 2))',
);
add(
  'batchNorm',
  'training-affine',
  [float([4, 3, 2, 2]), float([3]), float([3])],
  (x, w, b) => F.batchNorm(x!, null, null, w!, b!, { training: true }),
  'F.batch_norm(a, None, None, b, c, training=True)',
);
// Running estimates are buffers, not inputs: constants of the case, with no gradient.
add(
  'batchNorm',
  'eval-running',
  [float([5, 3])],
  (x) =>
    F.batchNorm(
      x!,
      nb.tensor([0.5, -1, 0.25], { dtype: x!.dtype }),
      nb.tensor([2, 0.5, 1.5], { dtype: x!.dtype }),
    ),
  'F.batch_norm(a, torch.tensor([0.5, -1, 0.25], dtype=a.dtype), torch.tensor([2, 0.5, 1.5], dtype=a.dtype), training=False)',
);
add(
  'layerNorm',
  'affine',
  [float([2, 3, 4]), float([3, 4]), float([3, 4])],
  (x, w, b) => F.layerNorm(x!, [3, 4], w!, b!),
  'F.layer_norm(a, [3, 4], b, c)',
);
add(
  'pad',
  'value',
  [float([2, 3, 4])],
  (x) => F.pad(x!, [1, 2, 0, 1], 0.5),
  'F.pad(a, (1, 2, 0, 1), value=0.5)',
);
add(
  'dropout',
  'eval',
  [float([3, 4])],
  (x) => F.dropout(x!, 0.5, false),
  'F.dropout(a, 0.5, training=False)',
);

export const NN_CASES: readonly OpCase[] = cases;
