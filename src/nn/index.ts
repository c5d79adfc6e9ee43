/** nb.nn: modules, layers, losses, initialisers and functional losses. */
export { Module, parameter, buffer, type StateDict } from './module.js';
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
  Unflatten,
  Dropout,
} from './layers.js';
export {
  Conv2d,
  Conv1d,
  MaxPool2d,
  AvgPool2d,
  AdaptiveAvgPool2d,
  BatchNorm1d,
  BatchNorm2d,
  LayerNorm,
  type ConvOptions,
  type BatchNormLayerOptions,
} from './conv-layers.js';
export { MSELoss, BCELoss, BCEWithLogitsLoss, CrossEntropyLoss } from './losses.js';
export * as functional from './functional.js';
export * as init from './init.js';
