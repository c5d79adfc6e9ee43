/**
 * The GPU workloads of BENCHMARKS.md on the WebGPU device (`npm run bench -- --device webgpu`):
 * W1 matmul at N = 1024 and 4096, a*b+c on 64M floats, the cost of a dispatch, and training (W2
 * and W3 as on the CPU, W6 with batch 4096) with nb.jit. Every timing ends with a read, so it
 * counts the GPU's work, not just its recording. `small` (argument) shrinks the sizes for
 * software adapters (lavapipe), where the figures check that the workloads run, nothing more.
 */
import * as nb from '../../src/index.js';
import type { WebGpuBackend } from '../../src/backends/webgpu/index.js';
import { report } from '../harness.js';
import { MLP_CONFIGS } from './training.js';

const small = process.argv[2] === 'small';
const backend = (await nb.startDevice('webgpu')) as unknown as WebGpuBackend;
await nb.useDevice('webgpu');

/** Milliseconds per call of `fn`, whose last result is read back before the clock stops. */
async function msPerCall(fn: () => nb.Tensor, reps: number, warmup = 2): Promise<number> {
  const finish = async (t: nb.Tensor): Promise<void> =>
    void (await t.flatten().narrow(0, 0, 1).data());
  for (let i = 0; i < warmup; i++) await finish(fn());
  const start = performance.now();
  let last = fn();
  for (let i = 1; i < reps; i++) {
    last.dispose();
    last = fn();
  }
  await finish(last);
  return (performance.now() - start) / reps;
}

const figures: Record<string, number | string> = {
  workload: `WebGPU (${backend.context.adapterName})${small ? ', small sizes' : ''}`,
};
nb.manualSeed(0);

// A GPU raises its clocks under load: the first shapes timed on an idle H200 measured up to 4×
// slower than the same kernels a second later.
{
  const n = small ? 128 : 4096;
  const [a, b] = [nb.randn([n, n]), nb.randn([n, n])];
  const until = performance.now() + (small ? 100 : 1500);
  while (performance.now() < until) await msPerCall(() => nb.noGrad(() => a.matmul(b)), 4, 0);
  a.dispose();
  b.dispose();
}

for (const n of small ? [256, 1024] : [1024, 4096]) {
  const [a, b] = [nb.randn([n, n]), nb.randn([n, n])];
  const ms = await msPerCall(() => nb.noGrad(() => a.matmul(b)), small ? 3 : 20);
  figures[`W1 N=${n} TFLOP/s`] = (2 * n ** 3) / (ms * 1e9);
}

// W6's products, forward (x·Wᵀ) and backward (dY·W, dYᵀ·x): a backward pass reads transposed views.
const [batch, inputs, hidden] = small ? [256, 96, 128] : [4096, 784, 1024];
const x = nb.randn([batch, inputs]);
const w = nb.randn([hidden, inputs]);
const dy = nb.randn([batch, hidden]);
const products: [string, () => nb.Tensor, number][] = [
  [`x·Wᵀ ${batch}×${inputs}·${inputs}×${hidden}`, () => x.matmul(w.T), batch * inputs * hidden],
  [`dY·W ${batch}×${hidden}·${hidden}×${inputs}`, () => dy.matmul(w), batch * inputs * hidden],
  [`dYᵀ·x ${hidden}×${batch}·${batch}×${inputs}`, () => dy.T.matmul(x), batch * inputs * hidden],
];
for (const [name, product, madds] of products) {
  const ms = await msPerCall(() => nb.noGrad(product), small ? 3 : 20);
  figures[`${name} TFLOP/s`] = (2 * madds) / (ms * 1e9);
}
[x, w, dy].forEach((t) => t.dispose());

const elements = small ? 4 * 2 ** 20 : 64 * 2 ** 20;
const [a, b, c] = [nb.rand([elements]), nb.rand([elements]), nb.rand([elements])];
const fmaMs = await msPerCall(() => nb.noGrad(() => a.mul(b).add(c)), small ? 3 : 20);
// Two kernels: a·b is written and read back once more than a fused a*b+c would.
figures[`a*b+c ${elements / 2 ** 20}M GB/s`] = (24 * elements) / (fmaMs * 1e6);
const fused = nb.jit((x: nb.Tensor, y: nb.Tensor, z: nb.Tensor) => x.mul(y).add(z));
const fusedMs = await msPerCall(() => fused(a, b, c), small ? 3 : 20);
figures[`a*b+c ${elements / 2 ** 20}M jit GB/s`] = (16 * elements) / (fusedMs * 1e6);

// A dispatch: a chain of 1,000 tiny adds recorded and submitted in batches, read once.
const tiny = nb.ones([64]);
figures['µs per dispatch'] =
  (1000 *
    (await msPerCall(() => {
      let t = tiny;
      for (let i = 0; i < 1000; i++) t = t.add(1);
      return t;
    }, 3))) /
  1000;
figures['µs per submit + read'] = 1000 * (await msPerCall(() => tiny.add(1), 50));

/** samples/s of `epochs` epochs of jit-compiled Adam steps on data resident on the GPU. */
async function training(
  widths: readonly number[],
  batch: number,
  samples: number,
): Promise<number> {
  nb.manualSeed(0);
  const layers: nb.nn.Module[] = [];
  widths.slice(1).forEach((w, i) => {
    layers.push(new nb.nn.Linear(widths[i]!, w));
    if (i < widths.length - 2) layers.push(new nb.nn.ReLU());
  });
  const model = new nb.nn.Sequential(...layers);
  const opt = new nb.optim.Adam(model.parameters(), { lr: 1e-3 });
  const x = nb.rand([samples, widths[0]!]);
  const y = nb.randint(0, widths.at(-1)!, [samples]);
  const step = nb.jit((xb: nb.Tensor, yb: nb.Tensor) => {
    const loss = nb.nn.functional.crossEntropy(model.forward(xb), yb);
    opt.zeroGrad();
    loss.backward();
    opt.step();
    return loss;
  });
  const epoch = (): nb.Tensor => {
    let loss = x;
    for (let start = 0; start + batch <= samples; start += batch)
      loss = step(x.narrow(0, start, batch), y.narrow(0, start, batch));
    return loss;
  };
  return samples / ((await msPerCall(epoch, small ? 1 : 3, 1)) / 1000);
}

const w2 = MLP_CONFIGS.W2;
figures['W2 jit samples/s'] = await training(w2.widths, w2.batch, small ? 2048 : w2.samples);
const w3 = MLP_CONFIGS.W3;
figures['W3 jit samples/s'] = await training(w3.widths, w3.batch, small ? 512 : w3.samples);
figures['W6 jit samples/s'] = await training(
  w3.widths,
  small ? 512 : 4096,
  small ? 1024 : 8 * 4096,
);
report(figures);
