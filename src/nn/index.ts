/** nb.nn: modules, layers, losses, initialisers and functional losses. */
export { Module, parameter, type StateDict } from './module.js';
export {
  Linear,
  Sequential,
  ReLU,
  Sigmoid,
  Tanh,
  LeakyReLU,
  Softmax,
  Identity,
  Flatten,
  Dropout,
} from './layers.js';
export { MSELoss, BCELoss, BCEWithLogitsLoss, CrossEntropyLoss } from './losses.js';
export * as functional from './functional.js';
export * as init from './init.js';
