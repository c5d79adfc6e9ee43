/** Loss functions in the case table: PyTorch goldens and gradchecks, like every op. */
import * as nb from '../../src/index.js';
import { float, given, index, type OpCase } from './case.js';

const F = nb.nn.functional;
const unit: [number, number] = [0.05, 0.95];

export const LOSS_CASES: readonly OpCase[] = [
  {
    id: 'mse/mean',
    op: 'mse',
    inputs: [float([4, 2]), float([4, 2])],
    nb: (p, y) => F.mse(p!, y!),
    torch: 'F.mse_loss(a, b)',
    gradOrder: 2,
  },
  {
    id: 'mse/sum',
    op: 'mse',
    inputs: [float([3]), float([3])],
    nb: (p, y) => F.mse(p!, y!, { reduction: 'sum' }),
    torch: "F.mse_loss(a, b, reduction='sum')",
    gradOrder: 2,
  },
  {
    id: 'mse/none',
    op: 'mse',
    inputs: [float([2, 2]), float([2, 2])],
    nb: (p, y) => F.mse(p!, y!, { reduction: 'none' }),
    torch: "F.mse_loss(a, b, reduction='none')",
    gradOrder: 2,
  },
  {
    id: 'bce/mean',
    op: 'bce',
    inputs: [float([5, 1], unit), float([5, 1], [0, 1])],
    nb: (p, y) => F.bce(p!, y!),
    torch: 'F.binary_cross_entropy(a, b)',
    gradOrder: 2,
  },
  {
    id: 'bce/saturated',
    op: 'bce',
    inputs: [given([3], [1e-30, 0.5, 1]), given([3], [1, 0, 0])],
    nb: (p, y) => F.bce(p!, y!),
    torch: 'F.binary_cross_entropy(a, b)',
    gradOrder: 0,
  },
  {
    id: 'bceWithLogits/mean',
    op: 'bceWithLogits',
    inputs: [float([6], [-5, 5]), float([6], [0, 1])],
    nb: (z, y) => F.bceWithLogits(z!, y!),
    torch: 'F.binary_cross_entropy_with_logits(a, b)',
    gradOrder: 2,
  },
  {
    id: 'bceWithLogits/large',
    op: 'bceWithLogits',
    inputs: [given([4], [-1000, -30, 30, 1000]), given([4], [1, 0, 1, 0])],
    nb: (z, y) => F.bceWithLogits(z!, y!, { reduction: 'none' }),
    torch: "F.binary_cross_entropy_with_logits(a, b, reduction='none')",
    gradOrder: 0,
  },
  {
    id: 'crossEntropy/indices',
    op: 'crossEntropy',
    inputs: [float([4, 3], [-3, 3]), index([4], [0, 2, 1, 2])],
    nb: (z, y) => F.crossEntropy(z!, y!),
    torch: 'F.cross_entropy(a, b)',
    gradOrder: 2,
  },
  {
    id: 'crossEntropy/sum',
    op: 'crossEntropy',
    inputs: [float([3, 5], [-3, 3]), index([3], [4, 0, 0])],
    nb: (z, y) => F.crossEntropy(z!, y!, { reduction: 'sum' }),
    torch: "F.cross_entropy(a, b, reduction='sum')",
    gradOrder: 2,
  },
  {
    id: 'crossEntropy/probabilities',
    op: 'crossEntropy',
    inputs: [
      float([3, 4], [-3, 3]),
      given([3, 4], [0.1, 0.2, 0.3, 0.4, 1, 0, 0, 0, 0, 0.5, 0.5, 0]),
    ],
    nb: (z, y) => F.crossEntropy(z!, y!),
    torch: 'F.cross_entropy(a, b)',
    gradOrder: 2,
  },
  {
    id: 'crossEntropy/large-logits',
    op: 'crossEntropy',
    inputs: [given([2, 3], [1000, 0, -1000, 500, 1000, 999]), index([2], [2, 1])],
    nb: (z, y) => F.crossEntropy(z!, y!, { reduction: 'none' }),
    torch: "F.cross_entropy(a, b, reduction='none')",
    gradOrder: 0,
  },
];
