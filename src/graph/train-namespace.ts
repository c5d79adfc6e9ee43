/** tf1.train: the optimizers. */
export { GradientDescentOptimizer, MomentumOptimizer, AdamOptimizer } from './train.js';
