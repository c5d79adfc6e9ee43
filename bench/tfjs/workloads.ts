/**
 * The BENCHMARKS.md workloads in TensorFlow.js 4.22 on its WebAssembly backend (XNNPACK, SIMD), for
 * `npm run bench -- --compare`: same definitions as bench/workloads/ and bench/pytorch/. Prints
 * one JSON line with the same keys as the PyTorch script.
 */
import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-wasm';
import { measure } from '../harness.js';
import { XOR_INPUTS, XOR_TARGETS } from '../xor.js';

await tf.setBackend('wasm');
await tf.ready();

/** A dense layer's variables with PyTorch's nn.Linear initialisation, U(±1/√fanIn). */
function linear(fanIn: number, fanOut: number): [tf.Variable, tf.Variable] {
  const bound = 1 / Math.sqrt(fanIn);
  return [
    tf.variable(tf.randomUniform([fanIn, fanOut], -bound, bound)),
    tf.variable(tf.randomUniform([fanOut], -bound, bound)),
  ];
}

/** W2/W3: an MLP trained for one epoch (Adam 1e-3, softmax cross-entropy on int labels). */
function mlpEpoch(widths: readonly number[], batch: number, samples: number, reps: number): number {
  const layers = widths.slice(1).map((w, i) => linear(widths[i]!, w));
  const optimizer = tf.train.adam(1e-3, 0.9, 0.999, 1e-8);
  const x = tf.randomUniform([samples, 784]);
  const y = tf.oneHot(tf.randomUniform([samples], 0, 10, 'int32'), 10);
  const epoch = (): void => {
    for (let start = 0; start < samples; start += batch) {
      tf.tidy(() => {
        const xb = x.slice([start, 0], [batch, 784]);
        const yb = y.slice([start, 0], [batch, 10]);
        optimizer.minimize(() => {
          let h: tf.Tensor = xb;
          layers.forEach(([w, b], i) => {
            h = tf.add(tf.matMul(h, w), b);
            if (i < layers.length - 1) h = tf.relu(h);
          });
          return tf.losses.softmaxCrossEntropy(yb, h) as tf.Scalar;
        });
      });
    }
  };
  return samples / (measure(epoch, reps, 1).median / 1000);
}

/** W4: XOR, 2 → 8 (tanh) → 1 (sigmoid), BCE, SGD lr 0.1, 2,000 steps. */
function xorRun(): void {
  const [[w1, b1], [w2, b2]] = [linear(2, 8), linear(8, 1)];
  const optimizer = tf.train.sgd(0.1);
  const [x, y] = [tf.tensor2d(XOR_INPUTS), tf.tensor2d(XOR_TARGETS)];
  for (let i = 0; i < 2000; i++) {
    tf.tidy(() => {
      optimizer.minimize(() => {
        const p = tf.sigmoid(tf.add(tf.matMul(tf.tanh(tf.add(tf.matMul(x, w1), b1)), w2), b2));
        return tf.metrics.binaryCrossentropy(y, p).mean() as tf.Scalar;
      });
    });
  }
  [w1, b1, w2, b2].forEach((v) => v.dispose());
}

/**
 * One W7 training step (conv 1→32 3×3 on 28×28, batch 64), or why it cannot run: the wasm
 * backend has no Conv2DBackpropFilter kernel (tfjs issue #8474), so convolutions cannot train.
 */
function cnnStep(): string {
  const x = tf.randomUniform([64, 28, 28, 1]) as tf.Tensor4D;
  const filter = tf.variable(tf.randomNormal([3, 3, 1, 32]) as tf.Tensor4D);
  try {
    tf.train
      .adam(1e-3)
      .minimize(() => tf.conv2d(x, filter, 1, 'valid').square().mean() as tf.Scalar);
    return 'trains';
  } catch (error) {
    return `cannot train: ${(error as Error).message.split('\n')[0]}`;
  } finally {
    x.dispose();
    filter.dispose();
  }
}

const out: Record<string, number | string> = {
  workload: `TensorFlow.js ${tf.version.tfjs} (${tf.getBackend()})`,
};
for (const n of [64, 256, 1024]) {
  const [a, b] = [tf.randomNormal([n, n]), tf.randomNormal([n, n])];
  const product = (transposeA: boolean, transposeB: boolean) => (): void =>
    tf.matMul(a, b, transposeA, transposeB).dispose();
  const gflops = (fn: () => void): number =>
    (2 * n ** 3) / (measure(fn, n < 1024 ? 15 : 5, 2).median * 1e6);
  out[`W1 N=${n} GFLOPS`] = gflops(product(false, false));
  if (n === 1024) {
    out['W1 Aᵀ·B GFLOPS'] = gflops(product(true, false));
    out['W1 A·Bᵀ GFLOPS'] = gflops(product(false, true));
  }
}
out['W2 samples/s'] = mlpEpoch([784, 128, 10], 64, 10_000, 3);
out['W7 samples/s'] = cnnStep();
out['W3 samples/s'] = mlpEpoch([784, 1024, 1024, 10], 256, 2_560, 1);
out['W4 steps/s'] = 2000 / (measure(xorRun, 3, 1).median / 1000);
const n = 4_000_000;
const [a, b, c] = [tf.randomNormal([n]), tf.randomNormal([n]), tf.randomNormal([n])];
const w5 = measure(() => tf.tidy(() => tf.add(tf.mul(a, b), c)).dispose(), 21, 5);
out['W5 GB/s'] = (16 * n) / (w5.median * 1e6);
console.log(JSON.stringify(out));
