/**
 * Random draws as an op, so that a compiled graph (nb.jit, a Session) draws fresh values at every
 * run instead of replaying the values drawn while it was built: dropout masks, rand() in a step.
 */
import { isFloat } from '../../core/dtype.js';
import { opError } from '../../core/errors.js';
import { rand, randn } from '../../tensor/create.js';
import type { Tensor } from '../../tensor/tensor.js';
import { bind, defineFunctionOp } from '../define.js';
import { checkTensor } from '../operands.js';

export type Distribution = 'uniform' | 'normal';

const randomLikeOp = defineFunctionOp<{ distribution: Distribution }>({
  name: 'RandomLike',
  random: true,
  infer: ([like]) => {
    if (!isFloat(like!.dtype))
      throw opError('randomLike', `draws floats; got a ${like!.dtype} tensor to take the shape of`);
    return { shape: like!.shape, dtype: like!.dtype };
  },
  forward: ([like], { distribution }) =>
    (distribution === 'uniform' ? rand : randn)(like!.shape, {
      dtype: like!.dtype,
      device: like!.device,
    }),
});

/**
 * Samples of `like`'s shape and dtype from the seeded generator: uniform in [0, 1) or standard
 * normal. Its values are never those of `like`; only its shape (known when the op runs) is used.
 */
export function randomLike(like: Tensor, distribution: Distribution = 'uniform'): Tensor {
  return bind(randomLikeOp, [checkTensor('randomLike', like)], { distribution });
}
