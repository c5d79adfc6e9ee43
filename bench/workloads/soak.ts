/**
 * The soak (`npm run bench -- --soak`): W2 training steps that dispose nothing, in plain
 * synchronous epochs — eager, under nb.jit, or as a tf1 Session — with the process's resident
 * memory sampled after each epoch. Memory that a user never frees must plateau, not grow with the
 * steps. Arguments: mode (eager | jit | tf1), steps (default 100,000).
 */
import * as nb from '../../src/index.js';
import * as tf1 from '../../src/tf1.js';
import { report } from '../harness.js';
import { MLP_CONFIGS, mlpWorkload } from './training.js';

const mode = process.argv[2] ?? 'eager';
const steps = Number(process.argv[3] ?? 100_000);

/** A tf1 program of W2: the same network and loss, one sess.run([trainOp, loss]) per step. */
function sessionStep(): (x: nb.Tensor, y: nb.Tensor) => nb.Tensor {
  const g = new tf1.Graph();
  const X = tf1.placeholder('float32', [null, 784], 'X', g);
  const Y = tf1.placeholder('int32', [null], 'Y', g);
  const v = (t: nb.Tensor) => new tf1.Variable(t, { graph: g });
  const [w1, b1] = [v(tf1.randn([784, 128]).mul(0.05)), v(tf1.zeros([128]))];
  const [w2, b2] = [v(tf1.randn([128, 10]).mul(0.05)), v(tf1.zeros([10]))];
  const logits = tf1.add(tf1.matmul(tf1.relu(tf1.add(tf1.matmul(X, w1), b1)), w2), b2);
  const loss = tf1.nn.functional.crossEntropy(logits, Y);
  const trainOp = new tf1.train.AdamOptimizer(1e-3).minimize(loss);
  const sess = new tf1.Session(g);
  sess.run(tf1.globalVariablesInitializer(g));
  return (x, y) =>
    sess.run(
      [trainOp, loss],
      new Map([
        [X, x],
        [Y, y],
      ]),
    )[1];
}

const workload = mlpWorkload(
  'W2',
  mode === 'jit' ? 'jit' : 'eager',
  mode === 'tf1' ? sessionStep() : undefined,
);
const { batch, samples } = MLP_CONFIGS.W2;
const stepsPerEpoch = Math.ceil(samples / batch);
const mib = (bytes: number): number => bytes / 2 ** 20;
const start = process.memoryUsage().rss;
let peak = start;
/** The peak over the first and over the second half of the run: equal when memory plateaus. */
const halves = [start, start];
let done = 0;
const began = performance.now();
while (done < steps) {
  workload.epoch();
  done += stepsPerEpoch;
  const rss = process.memoryUsage().rss;
  peak = Math.max(peak, rss);
  const half = done <= steps / 2 ? 0 : 1;
  halves[half] = Math.max(halves[half]!, rss);
}
report({
  workload: `soak: ${done} W2 steps, ${mode}, nothing disposed`,
  'RSS start MiB': mib(start),
  'RSS peak MiB': mib(peak),
  'RSS end MiB': mib(process.memoryUsage().rss),
  'peak 1st half MiB': mib(halves[0]!),
  'peak 2nd half MiB': mib(halves[1]!),
  'steps/s': done / ((performance.now() - began) / 1000),
});
