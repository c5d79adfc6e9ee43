/**
 * W4 in graph mode: the same XOR network (2 → 8 tanh → 1 sigmoid, BCE, SGD lr 0.1, 2,000 steps) as
 * a TF1 program, one sess.run(trainOp) per step. steps/s, to compare with eager W4.
 */
import * as tf1 from '../../src/tf1.js';
import { measure, report } from '../harness.js';
import { XOR_INPUTS, XOR_TARGETS } from '../xor.js';

const STEPS = 2000;
const xs = tf1.tensor(XOR_INPUTS);
const ys = tf1.tensor(XOR_TARGETS);

function train(): number {
  tf1.manualSeed(1);
  const g = new tf1.Graph();
  const X = tf1.placeholder('float32', [null, 2], 'X', g);
  const Y = tf1.placeholder('float32', [null, 1], 'Y', g);
  const v = (t: tf1.Tensor) => new tf1.Variable(t, { graph: g });
  const [w1, b1, w2, b2] = [
    v(tf1.randn([2, 8])),
    v(tf1.zeros([8])),
    v(tf1.randn([8, 1])),
    v(tf1.zeros([1])),
  ];
  const p = tf1.sigmoid(tf1.add(tf1.matmul(tf1.tanh(tf1.add(tf1.matmul(X, w1!), b1!)), w2!), b2!));
  const loss = tf1.nn.functional.bce(p, Y);
  const trainOp = new tf1.train.GradientDescentOptimizer(0.1).minimize(loss);
  const sess = new tf1.Session(g);
  sess.run(tf1.globalVariablesInitializer(g));
  const feeds = new Map([
    [X, xs],
    [Y, ys],
  ]);
  for (let step = 0; step < STEPS - 1; step++) sess.run(trainOp, feeds);
  return sess.run([trainOp, loss], feeds)[1].item();
}

let finalLoss = 0;
const run = measure(
  () => {
    finalLoss = train();
  },
  5,
  1,
);
report({
  workload: 'W4 XOR 2000 steps (tf1 graph)',
  'steps/s': STEPS / (run.median / 1000),
  'final loss': finalLoss,
});
