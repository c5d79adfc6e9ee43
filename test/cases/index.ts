/** Every case of the table: ops and losses. */
import { LOSS_CASES } from './losses.js';
import { NN_CASES } from './nn.js';
import { OP_CASES } from './ops.js';

export const ALL_CASES = [...OP_CASES, ...LOSS_CASES, ...NN_CASES];
