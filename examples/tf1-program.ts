/**
 * The lecture's TensorFlow-1.x program, line for line in nabla/tf1: first build the graph
 * (placeholders X and Y, Variables from random normals, a sigmoid hidden layer, MSE as
 * reduceMean(square(subtract)), AdamOptimizer.minimize) — nothing is computed yet — then run it in
 * a Session, feeding one mini-batch per sess.run([trainOp, lossOp], feeds).
 */
import * as tf1 from '../src/tf1.js';
import { runIfMain, type ExampleOptions } from './run.js';

export function main(options: ExampleOptions = {}) {
  const log = options.log ?? console.log;
  tf1.manualSeed(0);
  tf1.resetDefaultGraph();
  // XOR: the smallest problem a hidden layer is needed for.
  const inputs = [
    [0, 0],
    [0, 1],
    [1, 0],
    [1, 1],
  ];
  const targets = [[0], [1], [1], [0]];
  const [nInput, nHidden, nOutput, learningRate, batchSize] = [2, 4, 1, 0.1, 2];

  // 1. Build the graph.
  const X = tf1.placeholder('float32', [null, nInput]);
  const Y = tf1.placeholder('float32', [null, nOutput]);
  const w1 = new tf1.Variable(tf1.randomNormal([nInput, nHidden]));
  const w2 = new tf1.Variable(tf1.randomNormal([nHidden, nOutput]));
  const b1 = new tf1.Variable(tf1.randomNormal([nHidden]));
  const b2 = new tf1.Variable(tf1.randomNormal([nOutput]));
  const layer1 = tf1.sigmoid(tf1.add(tf1.matmul(X, w1), b1));
  const layer2 = tf1.sigmoid(tf1.add(tf1.matmul(layer1, w2), b2));
  const lossOp = tf1.reduceMean(tf1.square(tf1.subtract(layer2, Y)));
  const trainOp = new tf1.train.AdamOptimizer(learningRate).minimize(lossOp);
  log(`built ${tf1.getDefaultGraph().nodes.length} graph nodes; nothing has been computed yet`);

  // 2. Run it.
  const sess = new tf1.Session();
  sess.run(tf1.globalVariablesInitializer());
  let loss = NaN;
  for (let epoch = 1; epoch <= (options.quick ? 300 : 1000); epoch++) {
    for (let start = 0; start < inputs.length; start += batchSize) {
      const feeds = new Map([
        [X, inputs.slice(start, start + batchSize)],
        [Y, targets.slice(start, start + batchSize)],
      ]);
      const [, lossValue] = sess.run([trainOp, lossOp], feeds);
      loss = lossValue.item();
    }
    if (epoch % 100 === 0) log(`epoch ${epoch}: loss ${loss.toFixed(5)}`);
  }
  const predictions = (sess.run(layer2, new Map([[X, inputs]])).toArray() as number[][]).map(
    (r) => r[0]!,
  );
  log(
    `predictions for ${JSON.stringify(inputs)}: ${predictions.map((p) => p.toFixed(3)).join(', ')}`,
  );
  return { loss, predictions, outputShape: layer2.shape };
}

runIfMain(import.meta.url, main);
