/**
 * The training workloads of BENCHMARKS.md, as functions that build a fresh model and run one epoch
 * (W2, W3) or one full run (W4) with a step function that is eager or jitted.
 */
import * as nb from '../../src/index.js';
import { XOR_INPUTS, XOR_TARGETS } from '../xor.js';

export type Mode = 'eager' | 'jit';
type Step = (x: nb.Tensor, y: nb.Tensor) => nb.Tensor;

function stepFor(
  model: nb.nn.Module,
  opt: nb.optim.Optimizer,
  loss: (p: nb.Tensor, y: nb.Tensor) => nb.Tensor,
  mode: Mode,
): Step {
  const eager: Step = (x, y) => {
    const l = loss(model.forward(x), y);
    opt.zeroGrad();
    l.backward();
    opt.step();
    return l;
  };
  return mode === 'jit' ? nb.jit(eager) : eager;
}

function mlp(widths: readonly number[]): nb.nn.Sequential {
  const layers: nb.nn.Module[] = [];
  widths.slice(1).forEach((w, i) => {
    layers.push(new nb.nn.Linear(widths[i]!, w));
    if (i < widths.length - 2) layers.push(new nb.nn.ReLU());
  });
  return new nb.nn.Sequential(...layers);
}

export const MLP_CONFIGS = {
  W2: { widths: [784, 128, 10], batch: 64, samples: 10_000 },
  W3: { widths: [784, 1024, 1024, 10], batch: 256, samples: 2_560 },
} as const;

/**
 * Flops a training sample takes in its products: 3 a layer (forward, and two in backward), of 2
 * flops a multiply-add.
 */
export function flopsPerSample(name: keyof typeof MLP_CONFIGS): number {
  const { widths } = MLP_CONFIGS[name];
  return 3 * 2 * widths.slice(1).reduce((sum, w, i) => sum + widths[i]! * w, 0);
}

/**
 * W2/W3: softmax cross-entropy on int labels, Adam 1e-3, synthetic U[0,1) inputs; runs epochs.
 * Batches are slices of the data (views, no copy), as in bench/pytorch/workloads.py's epochs.
 */
export function mlpWorkload(
  name: keyof typeof MLP_CONFIGS,
  mode: Mode,
  /** A step of another kind (a tf1 Session's), over the same data. */
  custom?: Step,
): { samples: number; label: string; epoch: () => void } {
  const { widths, batch, samples } = MLP_CONFIGS[name];
  nb.manualSeed(0);
  const model = mlp(widths);
  const opt = new nb.optim.Adam(model.parameters(), { lr: 1e-3 });
  const [inputs, labels] = [nb.rand([samples, 784]), nb.randint(0, 10, [samples])];
  const step = custom ?? stepFor(model, opt, (p, y) => nb.nn.functional.crossEntropy(p, y), mode);
  return {
    samples,
    label: `${name} MLP ${widths.join('-')} b${batch} (${mode})`,
    epoch: () => {
      for (let start = 0; start < samples; start += batch) {
        const size = Math.min(batch, samples - start);
        step(inputs.narrow(0, start, size), labels.narrow(0, start, size));
      }
    },
  };
}

export const W4_STEPS = 2000;
const XOR_X = nb.tensor(XOR_INPUTS);
const XOR_Y = nb.tensor(XOR_TARGETS);

/** W4: XOR, 2 → 8 (tanh) → 1 (sigmoid), BCE, SGD lr 0.1, 2,000 steps from a fresh model; final loss. */
export function xorRun(mode: Mode): number {
  nb.manualSeed(1);
  const model = new nb.nn.Sequential(
    new nb.nn.Linear(2, 8),
    new nb.nn.Tanh(),
    new nb.nn.Linear(8, 1),
    new nb.nn.Sigmoid(),
  );
  const step = stepFor(
    model,
    new nb.optim.SGD(model.parameters(), { lr: 0.1 }),
    (p, y) => nb.nn.functional.bce(p, y),
    mode,
  );
  let loss = step(XOR_X, XOR_Y);
  for (let i = 1; i < W4_STEPS; i++) loss = step(XOR_X, XOR_Y);
  return loss.item();
}
