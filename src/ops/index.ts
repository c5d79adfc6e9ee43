/** Every op function, for the public API and for gradient rules (which use public ops only). */
export * from './primitives/elementwise.js';
export * from './primitives/reduce.js';
export * from './primitives/matmul.js';
export * from './primitives/views.js';
export * from './primitives/indexing.js';
export * from './primitives/patches.js';
export * from './composite/math.js';
export * from './composite/shape.js';
export * from './composite/random.js';
export { zerosLike, onesLike } from '../tensor/create.js';
export * from './composite/onnx-node.js';
