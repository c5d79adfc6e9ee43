/** W4's data, shared by the nabla (eager, jit, graph) and TensorFlow.js versions. */
export const XOR_INPUTS = [
  [0, 0],
  [0, 1],
  [1, 0],
  [1, 1],
];
export const XOR_TARGETS = [[0], [1], [1], [0]];
